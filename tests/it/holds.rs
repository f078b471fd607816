//! `offhours hold`: a schedule kept on from the command line, followed by the running
//! daemon within seconds (a start at once, no stops), listed, planned and cleared.

use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};

use crate::daemon::{Daemon, HEADER, wait_for_state};
use crate::support::Account;

#[tokio::test]
async fn a_hold_from_the_command_keeps_a_schedule_on_until_it_is_cleared() {
    let account = Account::new().await;
    let id = account.launch("eu-west-1", &[("Schedule", "qa")]).await;
    let config = account.write_config(&format!(
        "{HEADER}[schedules.qa]\nstop = \"*/2 * * * * *\"\nstart = \"0 0 8 1 1 *\"\n[schedules.nightly]\nstop = \"0 0 22 * * *\"\n"
    ));
    let state = account.dir.path().join("state");
    let (config, state) = (config.to_str().unwrap(), state.to_str().unwrap());
    let daemon = Daemon::start(&account, std::path::Path::new(config), "1");
    wait_for_state(&account, &id, "stopped").await;

    let until = (Utc::now() + chrono::TimeDelta::hours(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let refused = [
        (vec!["hold", "nope", "--on", "--until", &until], "offhours: schedule nope is not in the file (it has: nightly, qa)"),
        (vec!["hold", "nightly", "--off", "--until", &until], "offhours: schedules.nightly has no `start`"),
        (vec!["hold", "qa", "--on", "--until", "2020-01-01T00:00:00Z"], "offhours: --until: `2020-01-01T00:00:00Z` is in the past"),
    ];
    for (args, said) in refused {
        let run = account.run(&[&args[..], &["--config", config, "--state-dir", state]].concat());
        assert!(run.expect_code(2).stderr().starts_with(said), "{args:?}: {}", run.stderr());
    }
    assert!(!std::path::Path::new(state).join("holds.json").exists(), "a refused hold writes nothing");

    let set = account.run(&[
        "hold",
        "qa",
        "--on",
        "--until",
        &until,
        "--reason",
        "release week",
        "--config",
        config,
        "--state-dir",
        state,
        "--output",
        "json",
    ]);
    let set = set.expect_code(0).json();
    assert_eq!((set["hold"]["keep"].as_str(), set["hold"]["reason"].as_str()), (Some("on"), Some("release week")));
    assert!(set["replaced"].is_null());
    let told = daemon.wait_for_event("the hold", |e| e["message"] == "Hold set.");
    assert_eq!((told["schedule"].as_str(), told["keep"].as_str(), told["reason"].as_str()), (Some("qa"), Some("on"), Some("release week")));
    wait_for_state(&account, &id, "running").await;
    let start = daemon.wait_for_event("the hold's start", |e| e["message"] == "Fire started." && e["job"] == "hold");
    assert_eq!(start["action"], "start");

    // Three stop instants pass while held: none acts.
    let stops = account.calls().get("StopInstances").copied();
    let deadline = Instant::now() + Duration::from_secs(6);
    while Instant::now() < deadline {
        assert_eq!(account.states("eu-west-1").await[&id], "running", "stopped while held");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(account.calls().get("StopInstances").copied(), stops, "no stop call while held");

    let list = account.run(&["hold", "--list", "--config", config, "--state-dir", state, "--output", "json"]);
    let list = list.expect_code(0).json();
    assert_eq!(list["holds"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["holds"][0]["schedule"], "qa");
    assert!(list["holds"][0]["set_by"].as_str().is_some_and(|b| b.contains('@')), "{list}");
    let plan = account.run(&["plan", "--config", config, "--state-dir", state]);
    assert!(plan.expect_code(0).stdout().contains("  hold: on from "), "{}", plan.stdout());
    assert!(plan.stdout().contains("(release week), set by "), "{}", plan.stdout());

    let again = account.run(&["hold", "qa", "--on", "--until", &until, "--config", config, "--state-dir", state]);
    assert!(again.expect_code(0).stdout().contains("; replaces the hold on from "), "{}", again.stdout());
    daemon.wait_for_event("the replaced hold", |e| e["message"] == "Hold replaced.");

    let cleared = account.run(&["hold", "qa", "--clear", "--config", config, "--state-dir", state]);
    assert!(cleared.expect_code(0).stdout().starts_with("qa: hold cleared (was on from "), "{}", cleared.stdout());
    daemon.wait_for_event("the cleared hold", |e| e["message"] == "Hold cleared.");
    wait_for_state(&account, &id, "stopped").await;
    let none = account.run(&["hold", "qa", "--clear", "--config", config, "--state-dir", state]);
    assert_eq!(none.expect_code(0).stdout().trim(), "qa: no hold to clear");
    let empty = account.run(&["hold", "--list", "--config", config, "--state-dir", state]);
    assert_eq!(empty.expect_code(0).stdout().trim(), "no holds in force");
}
