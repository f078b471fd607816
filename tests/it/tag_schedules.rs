//! Schedules set on the resources themselves (`[tag_schedules]`): `check --tags` reads
//! and checks every such tag, `plan` shows them, and the daemon fires each resource's
//! own times, leaving a malformed one alone (told at each look) and following a tag
//! that changes between looks.

use std::time::{Duration, Instant};

use chrono::{Timelike, Utc};

use crate::daemon::{Daemon, HEADER};
use crate::support::Account;

#[tokio::test]
async fn check_tags_reads_every_self_scheduled_resource_and_names_what_is_wrong() {
    let account = Account::new().await;
    let web = account
        .launch(
            "eu-west-1",
            &[("offhours:stop", "19:00 mon-fri"), ("offhours:start", "07:30 mon-fri"), ("offhours:timezone", "America/New_York")],
        )
        .await;
    let bad = account.launch("eu-west-1", &[("offhours:stop", "7pm weekdays")]).await;
    account.launch("eu-west-1", &[("Name", "not scheduled")]).await;
    account.db_instance("eu-west-1", "reports", &[("offhours:stop", "20:00 daily")]).await;
    let config = account.write_config(&format!(
        "{HEADER}kinds = [\"ec2\", \"rds\"]\n[tag_schedules]\nenabled = true\n[schedules.office]\nstop = \"0 19 * * *\"\n"
    ));
    let config = config.to_str().unwrap();
    let run = account.run(&["check", "--config", config, "--tags", "--from", "2026-12-04T12:00:00Z", "--output", "json"]);
    let json = run.expect_code(1).json();
    let found: Vec<(&str, &str, Option<&str>, &str)> = json["tag_schedules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["schedule"].as_str().unwrap(), s["stop"].as_str().unwrap(), s["next_stop"].as_str(), s["timezone"].as_str().unwrap()))
        .collect();
    let web_name = format!("tag:{web}");
    assert_eq!(
        found,
        [
            (web_name.as_str(), "0 19 * * MON-FRI", Some("2026-12-04T19:00:00-05:00"), "America/New_York"),
            ("tag:reports", "0 20 * * *", Some("2026-12-04T20:00:00+00:00"), "UTC"),
        ]
    );
    let errors = json["tag_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{json}");
    assert_eq!(errors[0]["id"], bad.as_str());
    assert_eq!(errors[0]["error"], "offhours:stop=\"7pm weekdays\": `7pm` is not a time of day (HH:MM, 00:00 to 23:59)");
    let text = account.run(&["check", "--config", config, "--tags", "--from", "2026-12-04T12:00:00Z"]).expect_code(1).stdout();
    assert!(text.contains("self-scheduled resources: 2"), "{text}");
    assert!(
        text.contains(&format!("  error: ec2 {bad} (eu-west-1, account ")) && text.contains("): offhours:stop=\"7pm weekdays\""),
        "{text}"
    );

    let plan = account.run(&["plan", "--config", config]).expect_code(0).stdout();
    assert!(plan.contains(&format!("schedule tag:{web} (America/New_York)")) && plan.contains("schedule tag:reports (UTC)"), "{plan}");
}

#[tokio::test]
async fn the_daemon_fires_a_resources_own_times_and_follows_its_tags() {
    let account = Account::new().await;
    // The next whole minute at least 15 s away: the daemon has found the tag by then.
    let now = Utc::now();
    let at = now + chrono::TimeDelta::seconds(if now.second() < 45 { 60 } else { 120 });
    let stop = format!("{:02}:{:02} daily", at.hour(), at.minute());
    let id = account.launch("eu-west-1", &[("offhours:stop", stop.as_str())]).await;
    let other = account.launch("eu-west-1", &[("offhours:stop", "25:00 daily")]).await;
    let config = account
        .write_config(&format!("{HEADER}[tag_schedules]\nenabled = true\nrefresh = \"10s\"\n[schedules.office]\nstop = \"0 19 * * *\"\n"));
    let daemon = Daemon::start(&account, &config, "1");
    let found = daemon.wait_for_event("the first look", |e| e["message"] == "Self-scheduled resources found.");
    assert_eq!((found["schedules"].as_u64(), found["left_alone"].as_u64()), (Some(1), Some(1)));
    let left = daemon.wait_for_event("the malformed tag", |e| e["message"] == "Self-scheduled resource left alone.");
    assert_eq!(left["id"], other.as_str());
    // The stop is up to 75 s away.
    let deadline = Instant::now() + Duration::from_secs(150);
    while account.states("eu-west-1").await[&id] != "stopped" {
        assert!(Instant::now() < deadline, "{id} not stopped by its own time {stop}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let acted = daemon.wait_for_event("the stop", |e| e["message"] == "Resource acted on." && e["id"] == id.as_str());
    assert_eq!(acted["schedule"], format!("tag:{id}"));
    assert_eq!(account.states("eu-west-1").await[&other], "running", "a malformed tag is left alone");

    // Its owner fixes the tag: the next look finds it (told again at each look until then).
    let ec2 = account.ec2("eu-west-1");
    let tag = aws_sdk_ec2::types::Tag::builder().key("offhours:stop").value("03:00 daily").build();
    ec2.create_tags().resources(&other).tags(tag).send().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let looks: Vec<_> = daemon.events().into_iter().filter(|e| e["message"] == "Self-scheduled resources found.").collect();
        if looks.last().is_some_and(|e| e["schedules"] == 2 && e["left_alone"] == 0) {
            break;
        }
        assert!(Instant::now() < deadline, "the fixed tag was not found within 30 s: {looks:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let told = daemon.events().iter().filter(|e| e["message"] == "Self-scheduled resource left alone.").count();
    assert!(told >= 1);
}
