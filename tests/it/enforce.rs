//! Enforce between fires, against moto: a box running in off hours is stopped at the
//! next tick, one with the override tag is not, the grace is honoured, and nothing
//! happens while the state is as wanted.

use chrono::DateTime;
use serde_json::Value;

use crate::daemon::{Daemon, HEADER, wait_for_state};
use crate::support::Account;

fn time_of(event: &Value) -> DateTime<chrono::Utc> {
    DateTime::parse_from_rfc3339(event["timestamp"].as_str().expect("a timestamp")).unwrap().with_timezone(&chrono::Utc)
}

#[tokio::test]
async fn enforce_stops_what_runs_in_off_hours_after_the_grace_and_leaves_overrides_and_what_is_as_wanted() {
    let account = Account::new().await;
    // Both schedules last fired a stop (at midnight): every instance should be stopped.
    let late = account.launch("eu-west-1", &[("Schedule", "night"), ("Name", "started by hand")]).await;
    let pinned = account.launch("eu-west-1", &[("Schedule", "night"), ("offhours:skip", "true")]).await;
    let graceful = account.launch("eu-west-1", &[("Schedule", "grace")]).await;
    let config = account.write_config(&format!(
        "{HEADER}[schedules.night]\nstop = \"0 0 * * *\"\nenforce = \"2s\"\n\
         [schedules.grace]\nstop = \"0 0 * * *\"\nenforce = \"2s\"\nenforce_grace = \"6s\"\n"
    ));
    let daemon = Daemon::start(&account, &config, "1");

    wait_for_state(&account, &late, "stopped").await;
    let stopped = daemon.wait_for_event("the enforce stop", |e| e["id"] == late.as_str() && e["outcome"] == "stopped");
    assert_eq!((stopped["job"].as_str(), stopped["before"].as_str()), (Some("enforce"), Some("running")), "{stopped}");

    // The grace: left running for 6 s from when enforce first found it out of step.
    wait_for_state(&account, &graceful, "stopped").await;
    let first_tick = daemon.wait_for_event("the first tick", |e| e["message"] == "Fire started." && e["schedule"] == "grace");
    let grace_stop = daemon.wait_for_event("the stop after the grace", |e| e["id"] == graceful.as_str() && e["outcome"] == "stopped");
    let waited = time_of(&grace_stop) - time_of(&first_tick);
    assert!(waited >= chrono::TimeDelta::seconds(6), "stopped {waited} after the first tick, before the grace was over");

    // Nothing more happens while every instance is as wanted (the pinned one included).
    let stops = account.calls().get("StopInstances").copied().unwrap_or(0);
    let ticks_now = daemon.events().iter().filter(|e| e["message"] == "Fire started." && e["action"] == "enforce").count();
    daemon.wait_for_event("three more ticks", |_| {
        daemon.events().iter().filter(|e| e["message"] == "Fire started." && e["action"] == "enforce").count() >= ticks_now + 3
    });
    assert_eq!(account.calls().get("StopInstances").copied().unwrap_or(0), stops, "no call while the state is as wanted");
    assert_eq!(account.states("eu-west-1").await[&pinned], "running", "the override tag holds between fires too");
    assert!(
        !daemon.events().iter().any(|e| e["id"] == pinned.as_str() && e["job"] == "enforce"),
        "a resource left alone is not logged at every tick"
    );
}
