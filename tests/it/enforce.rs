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

#[tokio::test]
async fn a_resource_in_its_grace_holds_the_next_group_of_the_order_quietly() {
    let account = Account::new().await;
    // The last fire was a stop; at a stop the order takes instances first, then
    // databases. The database is out of step from the start, the instance from when it
    // is started by hand just after: while the instance has its grace, the database
    // waits, even once its own grace is over.
    let instance = account.launch("eu-west-1", &[("Schedule", "night")]).await;
    account.stop("eu-west-1", std::slice::from_ref(&instance)).await;
    wait_for_state(&account, &instance, "stopped").await;
    account
        .rds("eu-west-1")
        .create_db_instance()
        .db_instance_identifier("night-db")
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("not-a-secret-1")
        .tags(aws_sdk_rds::types::Tag::builder().key("Schedule").value("night").build())
        .send()
        .await
        .expect("CreateDBInstance");
    let config = account.write_config(&format!(
        "{HEADER}[schedules.night]\nstop = \"0 0 * * *\"\nkinds = [\"rds\", \"ec2\"]\norder = [[\"rds\"], [\"ec2\"]]\n\
         enforce = \"2s\"\nenforce_grace = \"8s\"\n"
    ));
    let daemon = Daemon::start(&account, &config, "1");
    daemon.wait_for_event("the first tick", |e| e["message"] == "Fire started." && e["action"] == "enforce");
    account.ec2("eu-west-1").start_instances().instance_ids(&instance).send().await.expect("StartInstances by hand");

    let db_stop = daemon.wait_for_event("the database's stop", |e| e["id"] == "night-db" && e["outcome"] == "stopped");
    let instance_stop = daemon.wait_for_event("the instance's stop", |e| e["id"] == instance.as_str() && e["outcome"] == "stopped");
    assert!(
        time_of(&db_stop) >= time_of(&instance_stop),
        "the database stopped at {} before the instances' group at {}",
        time_of(&db_stop),
        time_of(&instance_stop)
    );
    let held: Vec<Value> = daemon
        .events()
        .into_iter()
        .filter(|e| e["outcome"] == "held" || e["message"] == "Order halted: a group failed, the later groups are held.")
        .collect();
    assert!(held.is_empty(), "enforce holds quietly, not at every tick: {held:?}");
}

#[tokio::test]
async fn enforce_keeps_resources_on_inside_an_exception_kept_on() {
    let account = Account::new().await;
    // Without the exception the last fire is today's stop at midnight: stopped. Kept on
    // from today, that stop does not fire and the start fires at midnight instead.
    let id = account.launch("eu-west-1", &[("Schedule", "qa")]).await;
    account.stop("eu-west-1", std::slice::from_ref(&id)).await;
    wait_for_state(&account, &id, "stopped").await;
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let config = account.write_config(&format!(
        "{HEADER}[schedules.qa]\nstart = \"0 0 1 1 *\"\nstop = \"0 0 * * *\"\nenforce = \"2s\"\n\
         [[schedules.qa.exceptions]]\nfrom = {today}\nto = {tomorrow}\nkeep = \"on\"\n"
    ));
    let daemon = Daemon::start(&account, &config, "1");
    wait_for_state(&account, &id, "running").await;
    let started = daemon.wait_for_event("the start", |e| e["id"] == id.as_str() && e["outcome"] == "started");
    assert_eq!(started["action"], "start", "{started}");
}
