//! Holiday calendars: an ICS file's dates skipped by `check` across a year boundary, and
//! a feed served over local HTTP whose last good copy keeps the schedule skipping after
//! the server is gone.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{Days, Utc};

use crate::daemon::{Daemon, wait_for_state};
use crate::support::Account;

fn fixture() -> String {
    format!("{}/tests/fixtures/holidays.ics", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn check_lists_the_dates_a_calendar_skips_and_the_fires_left_across_the_new_year() {
    let account = Account::new().await;
    let config = account.write_config(&format!(
        "timezone = \"Europe/Berlin\"\nregions = [\"eu-west-1\"]\n[calendars.company]\nfile = \"{}\"\n\
         [schedules.office]\nstart = \"0 8 * * *\"\nstop = \"0 19 * * *\"\nskip_calendars = [\"company\"]\n",
        fixture()
    ));
    let config = config.to_str().unwrap();
    let state = account.dir.path().join("state");
    let args = ["check", "--config", config, "--state-dir", state.to_str().unwrap(), "--from", "2026-12-27T12:00:00Z", "--next", "5"];
    let json = account.run(&[&args[..], &["--output", "json"]].concat()).expect_code(0).json();
    let start = &json["jobs"][0];
    assert_eq!(start["action"], "start");
    let next: Vec<&str> = start["next"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(
        next,
        [
            "2026-12-31T08:00:00+01:00",
            "2027-01-02T08:00:00+01:00",
            "2027-01-03T08:00:00+01:00",
            "2027-01-04T08:00:00+01:00",
            "2027-01-05T08:00:00+01:00"
        ],
        "the shutdown (28-30 Dec) and New Year's Day are skipped"
    );
    let skipped: Vec<(&str, &str)> =
        start["skipped"].as_array().unwrap().iter().map(|v| (v["date"].as_str().unwrap(), v["reason"].as_str().unwrap())).collect();
    assert_eq!(
        skipped,
        [
            ("2026-12-28", "company: Company shutdown"),
            ("2026-12-29", "company: Company shutdown"),
            ("2026-12-30", "company: Company shutdown"),
            ("2027-01-01", "company: New Year's Day"),
            ("2027-01-06", "company: Maintenance window"),
        ]
    );
    let text = account.run(&args).expect_code(0).stdout();
    assert!(text.contains("  skips 2027-01-01 (company: New Year's Day)\n"), "{text}");

    std::fs::write(account.dir.path().join("broken.ics"), "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:No start\nEND:VEVENT\nEND:VCALENDAR\n")
        .unwrap();
    let broken = account.write_config(&format!(
        "timezone = \"UTC\"\nregions = [\"eu-west-1\"]\n[calendars.broken]\nfile = \"{}\"\n[schedules.office]\nstop = \"0 19 * * *\"\nskip_calendars = [\"broken\"]\n",
        account.dir.path().join("broken.ics").display()
    ));
    let run = account.run(&["check", "--config", broken.to_str().unwrap(), "--state-dir", state.to_str().unwrap()]);
    let said =
        format!("offhours: calendars.broken: {}: missing DTSTART in event \"No start\"", account.dir.path().join("broken.ics").display());
    assert_eq!(run.expect_code(1).stderr().lines().last(), Some(said.as_str()), "{}", run.stderr());
}

/// An HTTP server on 127.0.0.1 answering every request with `body`, until `stop`.
struct Feed {
    port: u16,
    up: Arc<AtomicBool>,
}

impl Feed {
    fn serve(body: String) -> Feed {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let running = up.clone();
        std::thread::spawn(move || {
            while running.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        conn.set_nonblocking(false).unwrap();
                        let mut request = [0u8; 4096];
                        let _ = conn.read(&mut request);
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = conn.write_all(head.as_bytes()).and_then(|()| conn.write_all(body.as_bytes()));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
            // The listener is dropped here: connections are refused from now on.
        });
        Feed { port, up }
    }

    fn stop(&self) {
        self.up.store(false, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "the feed on port {} still answers", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[tokio::test]
async fn a_feed_that_goes_away_keeps_skipping_with_its_last_good_copy() {
    let account = Account::new().await;
    let id = account.launch("eu-west-1", &[("Schedule", "office")]).await;
    let today = Utc::now().date_naive();
    // Two days, so that the test does not care when midnight comes.
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:offsite@test\r\nSUMMARY:Offsite\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        today.format("%Y%m%d"),
        (today + Days::new(2)).format("%Y%m%d")
    );
    let feed = Feed::serve(ics);
    let config = account.write_config(&format!(
        "timezone = \"UTC\"\nregions = [\"eu-west-1\"]\nverify_timeout = \"10s\"\n[calendars.company]\nurl = \"http://127.0.0.1:{}/holidays.ics?token=s3cret\"\n\
         [schedules.office]\nstop = \"*/2 * * * * *\"\nskip_calendars = [\"company\"]\n[schedules.canary]\nstop = \"*/2 * * * * *\"\n",
        feed.port
    ));
    let canary = account.launch("eu-west-1", &[("Schedule", "canary")]).await;
    let mut daemon = Daemon::start(&account, &config, "1");
    let read = daemon.wait_for_event("the calendar read", |e| e["message"] == "Calendar read.");
    assert_eq!((read["calendar"].as_str(), read["outcome"].as_str()), (Some("company"), Some("fetched")));
    assert_eq!(read["source"], "http://127.0.0.1/...", "never the URL: it may carry a token");
    // The canary's schedule stops every 2 s; the office's is on a skip date.
    wait_for_state(&account, &canary, "stopped").await;
    let stopped_canary = daemon.events().iter().filter(|e| e["message"] == "Fire started." && e["schedule"] == "canary").count();
    assert!(stopped_canary >= 1);
    assert!(daemon.events().iter().all(|e| !(e["message"] == "Fire started." && e["schedule"] == "office")), "office fired on its holiday");
    assert_eq!(account.states("eu-west-1").await[&id], "running");

    // The feed goes away; a reload reads the calendar again: the last good copy is used.
    feed.stop();
    daemon.signal("HUP");
    let cached = daemon.wait_for_event("the fallback", |e| e["outcome"] == "cached");
    assert_eq!(cached["message"], "Calendar fetch failed; the last good copy is used.");
    assert!(cached["error"].as_str().is_some_and(|e| e.starts_with("cannot connect") && !e.contains("s3cret")), "{cached}");
    daemon.wait_for_event("the reload", |e| e["message"] == "Reload applied.");
    let reload_at = Instant::now();
    while reload_at.elapsed() < Duration::from_secs(5) {
        assert_eq!(account.states("eu-west-1").await[&id], "running", "stopped on its holiday after the feed went away");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let state = account.dir.path().join("state");
    let check = account.run(&["check", "--config", config.to_str().unwrap(), "--state-dir", state.to_str().unwrap()]);
    assert!(check.expect_code(0).stdout().contains(&format!("  skips {today} (company: Offsite)")), "{}", check.stdout());
    let log = std::fs::read_to_string(account.dir.path().join("daemon-1.log")).unwrap();
    assert!(!log.contains("s3cret"), "the feed's URL reached the log");

    // Another feed never fetched: the file is refused, naming it and why.
    let other = account.write_config(&format!(
        "timezone = \"UTC\"\nregions = [\"eu-west-1\"]\n[calendars.other]\nurl = \"http://127.0.0.1:{}/other.ics\"\n[schedules.office]\nstop = \"0 19 * * *\"\nskip_calendars = [\"other\"]\n",
        feed.port
    ));
    let refused = account.run(&["check", "--config", other.to_str().unwrap(), "--state-dir", state.to_str().unwrap()]);
    let said = refused.expect_code(1).stderr().lines().last().unwrap_or_default().to_string();
    assert!(said.starts_with("offhours: calendars.other: http://127.0.0.1/...: cannot connect"), "{said}");
    assert!(said.contains("no copy was ever fetched"), "{said}");
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(), 0);
}
