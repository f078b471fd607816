//! `change_calendar`: the emulator does not serve GetCalendarState, which is what a
//! calendar that cannot be read looks like: it is taken as CLOSED, so the starts it
//! holds back (`skip-starts`) are not carried out and the stops still are. The OPEN
//! and CLOSED answers are covered with the SDK's mocks (src/aws/ssm.rs).

use std::time::{Duration, Instant};

use crate::daemon::{Daemon, HEADER, wait_for_state};
use crate::support::Account;

#[tokio::test]
async fn a_calendar_that_cannot_be_read_holds_back_starts_and_lets_stops_happen() {
    let account = Account::new().await;
    let up = account.launch("eu-west-1", &[("Schedule", "up")]).await;
    account.stop("eu-west-1", std::slice::from_ref(&up)).await;
    let down = account.launch("eu-west-1", &[("Schedule", "down")]).await;
    let config = account.write_config(&format!(
        "{HEADER}[aws]\nmax_attempts = 1\n[schedules.up]\nstart = \"*/2 * * * * *\"\nchange_calendar = \"freeze\"\n\
         [schedules.down]\nstop = \"*/2 * * * * *\"\nchange_calendar = \"freeze\"\n"
    ));
    let policy = account.run(&["policy", "--config", config.to_str().unwrap()]).expect_code(0).stdout();
    assert!(policy.contains("\"ssm:GetCalendarState\"") && policy.contains("arn:aws:ssm:eu-west-1:*:document/freeze"), "{policy}");
    let daemon = Daemon::start(&account, &config, "1");
    wait_for_state(&account, &down, "stopped").await;
    let held = daemon.wait_for_event("the held start", |e| e["message"] == "Change calendar cannot be read." && e["schedule"] == "up");
    assert_eq!((held["held_back"].as_bool(), held["action"].as_str()), (Some(true), Some("start")));
    let read = daemon.wait_for_event("the stop's read", |e| e["message"] == "Change calendar cannot be read." && e["schedule"] == "down");
    assert_eq!(read["held_back"], false, "a stop goes ahead under skip-starts");
    let since = Instant::now();
    while since.elapsed() < Duration::from_secs(4) {
        assert_eq!(account.states("eu-west-1").await[&up], "stopped", "started while its calendar could not be read");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
