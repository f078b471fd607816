//! `offhours apply`: acting on a real (emulated) fleet, and the faults moto cannot
//! produce by itself, injected by the test server around it.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::Account;

const TWO_REGIONS: &str = r#"
timezone = "Europe/Berlin"
regions = ["eu-west-1", "eu-central-1"]
verify_timeout = "20s"
capacity_retries = 2
capacity_retry_delay = "1s"
[schedules.office]
start = "0 8 * * MON-FRI"
stop = "0 19 * * MON-FRI"
"#;

/// id -> outcome of an `apply --output json` run.
fn outcomes(json: &Value) -> BTreeMap<String, String> {
    json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r["outcome"].as_str().unwrap().to_string()))
        .collect()
}

fn result<'a>(json: &'a Value, id: &str) -> &'a Value {
    json["results"].as_array().unwrap().iter().find(|r| r["id"] == id).expect("instance in results")
}

async fn all_states(account: &Account) -> BTreeMap<String, String> {
    let mut states = account.states("eu-west-1").await;
    states.extend(account.states("eu-central-1").await);
    states.extend(account.states("us-east-1").await);
    states
}

#[tokio::test]
async fn stop_then_start_acts_on_exactly_the_right_instances() {
    let account = Account::new().await;
    let web = account.launch("eu-west-1", &[("Schedule", "office"), ("Name", "web")]).await;
    let db = account.launch("eu-central-1", &[("Schedule", "office"), ("Name", "db")]).await;
    let cold = account.launch("eu-central-1", &[("Schedule", "office")]).await;
    account.stop("eu-central-1", std::slice::from_ref(&cold)).await;
    let asg = account.launch("eu-west-1", &[("Schedule", "office"), ("aws:autoscaling:groupName", "g")]).await;
    let pinned = account.launch("eu-west-1", &[("Schedule", "office"), ("offhours:skip", "true")]).await;
    let later = account.launch("eu-west-1", &[("Schedule", "office"), ("offhours:skip", "2999-01-01")]).await;
    let expired = account.launch("eu-west-1", &[("Schedule", "office"), ("offhours:skip", "2001-01-01")]).await;
    let garbage = account.launch("eu-west-1", &[("Schedule", "office"), ("offhours:skip", "soon")]).await;
    let other = account.launch("eu-west-1", &[("Schedule", "other")]).await;
    let untagged = account.launch("eu-central-1", &[]).await;
    let far = account.launch("us-east-1", &[("Schedule", "office")]).await;
    let config = account.write_config(TWO_REGIONS);
    let path = config.to_str().unwrap();
    let before = all_states(&account).await;

    // Dry run: nothing changes, and the would-be actions are listed.
    let run = account.run(&["apply", "office", "stop", "--config", path, "--dry-run", "--output", "json"]);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["dry_run"], true);
    let o = outcomes(&json);
    assert_eq!((o[&web].as_str(), o[&db].as_str(), o[&expired].as_str()), ("would-stop", "would-stop", "would-stop"));
    assert_eq!(all_states(&account).await, before, "dry run changed something");

    let run = account.run(&["apply", "office", "stop", "--config", path, "--output", "json"]);
    run.expect_code(0);
    let json = run.json();
    let o = outcomes(&json);
    let expect: BTreeMap<String, String> = [
        (&web, "stopped"),
        (&db, "stopped"),
        (&expired, "stopped"),
        (&cold, "unchanged"),
        (&asg, "skipped"),
        (&pinned, "skipped"),
        (&later, "skipped"),
        (&garbage, "skipped"),
    ]
    .into_iter()
    .map(|(k, v)| (k.clone(), v.to_string()))
    .collect();
    assert_eq!(o, expect);
    assert_eq!(result(&json, &web)["before"], "running");
    assert_eq!(result(&json, &web)["after"], "stopped");
    assert_eq!(result(&json, &web)["name"], "web");
    assert_eq!(result(&json, &web)["region"], "eu-west-1");
    assert_eq!(result(&json, &asg)["reason"], "member of auto scaling group g");
    assert!(result(&json, &garbage)["reason"].as_str().unwrap().starts_with("bad override tag value offhours:skip=\"soon\""));

    let after = all_states(&account).await;
    for id in [&web, &db, &expired, &cold] {
        assert_eq!(after[id], "stopped", "{id}");
    }
    for id in [&asg, &pinned, &later, &garbage, &other, &untagged, &far] {
        assert_eq!(after[id], before[id], "{id} must be left as it was");
    }

    // Start brings back exactly those it governs, including the one that was stopped before.
    let run = account.run(&["apply", "office", "start", "--config", path, "--output", "json"]);
    run.expect_code(0);
    let o = outcomes(&run.json());
    for id in [&web, &db, &expired, &cold] {
        assert_eq!(o[id], "started", "{id}");
    }
    let after = all_states(&account).await;
    for id in [&web, &db, &expired, &cold] {
        assert_eq!(after[id], "running", "{id}");
    }
    // Again: nothing left to do.
    let run = account.run(&["apply", "office", "start", "--config", path, "--output", "json"]);
    run.expect_code(0);
    let o = outcomes(&run.json());
    for id in [&web, &db, &expired, &cold] {
        assert_eq!(o[id], "unchanged", "{id}");
    }
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk() {
    let account = Account::new().await;
    let ids = account.launch_many("eu-west-1", 3, &[("Schedule", "office")]).await;
    account.fault(
        json!({"action": "StopInstances", "status": 503, "code": "RequestLimitExceeded", "message": "Request limit exceeded.", "count": 2}),
    );
    let config = account.write_config(TWO_REGIONS);
    let run = account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(0);
    let o = outcomes(&run.json());
    assert!(ids.iter().all(|id| o[id] == "stopped"), "{o:?}");
    assert_eq!(account.calls()["StopInstances"], 3, "two throttled attempts, then success");
}

#[tokio::test]
async fn a_batch_with_one_bad_instance_isolates_it_and_the_rest_act() {
    let account = Account::new().await;
    let ids = account.launch_many("eu-west-1", 20, &[("Schedule", "office")]).await;
    let bad = ids[7].clone();
    account.fault(json!({"action": "StopInstances", "if_instance": bad, "status": 400, "code": "UnsupportedOperation", "message": format!("The instance '{bad}' does not support this operation."), "count": -1}));
    let config = account.write_config(TWO_REGIONS);
    let run = account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(1);
    let json = run.json();
    let o = outcomes(&json);
    for id in &ids {
        let want = if *id == bad { "failed" } else { "stopped" };
        assert_eq!(o[id], want, "{id}");
    }
    let reason = result(&json, &bad)["reason"].as_str().unwrap();
    assert!(reason.contains("UnsupportedOperation") && reason.contains("offhours-injected-fault"), "{reason}");
    // 20 ids, one bad: 1 + 2 per halving (20 -> 10 -> 5 -> 3 -> 2 -> 1), not 20 calls.
    let stops = account.calls()["StopInstances"];
    assert!(stops <= 11, "{stops} StopInstances calls");
}

#[tokio::test]
async fn a_start_that_falls_back_to_stopped_is_a_failure_with_its_reason() {
    let account = Account::new().await;
    let ids = account.launch_many("eu-west-1", 2, &[("Schedule", "office")]).await;
    account.stop("eu-west-1", &ids).await;
    account.falls_back(&ids[0], "Client.InternalError", "Client.InternalError: Client error on launch");
    let config = account.write_config(TWO_REGIONS);
    let run = account.run(&["apply", "office", "start", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(1);
    let json = run.json();
    let failed = result(&json, &ids[0]);
    assert_eq!(failed["outcome"], "failed");
    assert_eq!(failed["after"], "stopped");
    assert_eq!(failed["reason"], "did not start: fell back to stopped (Client.InternalError: Client error on launch)");
    assert_eq!(result(&json, &ids[1])["outcome"], "started");
    // States were read with the light call; only the instance that fell back was read in
    // full, for its reason (one DescribeInstances per region for the listing, plus one).
    let calls = account.calls();
    assert_eq!(calls.get("DescribeInstanceStatus"), Some(&1), "{calls:?}");
    assert_eq!(calls.get("DescribeInstances"), Some(&3), "{calls:?}");
}

#[tokio::test]
async fn capacity_errors_are_retried_then_reported() {
    let account = Account::new().await;
    let ids = account.launch_many("eu-west-1", 4, &[("Schedule", "office")]).await;
    account.stop("eu-west-1", &ids).await;
    let scarce = ids[2].clone();
    account.fault(json!({"action": "StartInstances", "if_instance": scarce, "status": 400, "code": "InsufficientInstanceCapacity", "message": "We currently do not have sufficient t3.micro capacity in the Availability Zone you requested.", "count": -1}));
    let config = account.write_config(TWO_REGIONS);
    let run = account.run(&["apply", "office", "start", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(1);
    let json = run.json();
    let o = outcomes(&json);
    for id in &ids {
        assert_eq!(o[id], if *id == scarce { "failed" } else { "started" }, "{id}");
    }
    let reason = result(&json, &scarce)["reason"].as_str().unwrap();
    assert!(reason.contains("InsufficientInstanceCapacity") && reason.ends_with("(gave up after 2 retries)"), "{reason}");
    assert!(run.stderr().contains("Insufficient capacity, retrying later."), "{}", run.stderr());
}

#[tokio::test]
async fn a_missing_permission_is_named_in_dry_run() {
    let account = Account::new().await;
    let id = account.launch("eu-west-1", &[("Schedule", "office")]).await;
    account.fault(json!({"action": "StopInstances", "status": 403, "code": "UnauthorizedOperation", "message": "You are not authorized to perform this operation.", "count": -1}));
    let config = account.write_config(TWO_REGIONS);
    let run = account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap(), "--dry-run", "--output", "json"]);
    run.expect_code(1);
    let json = run.json();
    assert_eq!(result(&json, &id)["outcome"], "failed");
    assert_eq!(result(&json, &id)["reason"], "not authorized: the credentials lack ec2:StopInstances (UnauthorizedOperation)");
    assert_eq!(result(&json, &id)["request_id"], "offhours-injected-fault");
    assert_eq!(account.states("eu-west-1").await[&id], "running");
}

#[tokio::test]
async fn the_safety_brake_touches_nothing() {
    let account = Account::new().await;
    let ids = account.launch_many("eu-west-1", 3, &[("Schedule", "office")]).await;
    let config = account.write_config(&format!("max_instances_per_action = 2\n{TWO_REGIONS}"));
    let run = account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap()]);
    run.expect_code(1);
    assert!(
        run.stderr().contains("schedule office: stop would touch 3 instances, more than max_instances_per_action = 2; nothing was touched"),
        "{}",
        run.stderr()
    );
    let states = account.states("eu-west-1").await;
    assert!(ids.iter().all(|id| states[id] == "running"));
    assert_eq!(account.calls().get("StopInstances"), None);
}

#[tokio::test]
async fn every_action_is_one_json_log_event_without_secrets() {
    let account = Account::new().await;
    let web = account.launch("eu-west-1", &[("Schedule", "office"), ("Name", "web")]).await;
    let asg = account.launch("eu-west-1", &[("Schedule", "office"), ("aws:autoscaling:groupName", "g")]).await;
    let config = account.write_config(TWO_REGIONS);
    let run = account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap(), "--log-format", "json"]);
    run.expect_code(0);
    let stderr = run.stderr();
    let events: Vec<Value> = stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    let for_instance = |id: &str| -> Vec<&Value> { events.iter().filter(|e| e["instance_id"] == id).collect() };
    let stopped = for_instance(&web);
    assert_eq!(stopped.len(), 1, "{stderr}");
    let e = stopped[0];
    for (field, value) in [
        ("job", "apply"),
        ("schedule", "office"),
        ("action", "stop"),
        ("kind", "ec2"),
        ("id", web.as_str()),
        ("region", "eu-west-1"),
        ("name", "web"),
        ("before", "running"),
        ("after", "stopped"),
        ("outcome", "stopped"),
        ("level", "INFO"),
    ] {
        assert_eq!(e[field], value, "{field} in {e}");
    }
    assert_eq!(e["dry_run"], false);
    let skipped = for_instance(&asg);
    assert_eq!(skipped.len(), 1);
    assert_eq!((skipped[0]["outcome"].as_str(), skipped[0]["level"].as_str()), (Some("skipped"), Some("WARN")));
    let summary: Vec<&Value> = events.iter().filter(|e| e["message"] == "Action finished.").collect();
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0]["outcomes"], r#"{"skipped":1,"stopped":1}"#);
    assert!(!stderr.contains(account.creds.secret_access_key()));
    assert!(!stderr.contains(account.creds.session_token().unwrap()));
}

#[tokio::test]
async fn hibernate_where_configured_and_warn_where_not() {
    let account = Account::new().await;
    let plain = account.launch("eu-west-1", &[("Schedule", "office")]).await;
    let out = account
        .ec2("eu-west-1")
        .run_instances()
        .image_id("ami-12c6146b")
        .min_count(1)
        .max_count(1)
        .hibernation_options(aws_sdk_ec2::types::HibernationOptionsRequest::builder().configured(true).build())
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
                .tags(aws_sdk_ec2::types::Tag::builder().key("Schedule").value("office").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let sleeper = out.instances()[0].instance_id().unwrap().to_string();
    let config = account.write_config(&TWO_REGIONS.replace("stop = \"0 19 * * MON-FRI\"", "stop = \"0 19 * * MON-FRI\"\nhibernate = true"));
    let run = account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(0);
    let o = outcomes(&run.json());
    assert_eq!((o[&sleeper].as_str(), o[&plain].as_str()), ("hibernated", "stopped"));
    assert!(run.stderr().contains("hibernation is not configured on this instance: a normal stop instead"), "{}", run.stderr());
}

#[tokio::test]
async fn an_incorrect_state_answer_is_a_race_read_again_and_decided_again() {
    let account = Account::new().await;
    let ids = account.launch_many("eu-west-1", 3, &[("Schedule", "office")]).await;
    let raced = ids[1].clone();
    account.fault(json!({"action": "StopInstances", "if_instance": raced, "status": 400, "code": "IncorrectInstanceState", "message": "The instance is not in a state from which it can be stopped.", "count": 2}));
    let config = account.write_config(TWO_REGIONS);
    let run = account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(0);
    let o = outcomes(&run.json());
    assert!(ids.iter().all(|id| o[id] == "stopped"), "{o:?}");
    assert!(account.states("eu-west-1").await.values().all(|s| s == "stopped"));
}

/// Arrival times (s) of `action` calls at moto, in order.
fn arrivals(account: &Account, action: &str) -> Vec<f64> {
    let path = format!("/_offhours/call-log?access_key_id={}", account.creds.access_key_id());
    let log: Vec<(f64, String)> = serde_json::from_str(&crate::support::control(&account.endpoint, "GET", &path, "")).unwrap();
    log.into_iter().filter(|(_, a)| a == action).map(|(t, _)| t).collect()
}

#[tokio::test]
async fn a_fleet_is_acted_on_in_a_few_calls_sent_together_within_the_regions_bound() {
    let account = Account::new().await;
    let ids = account.launch_many("eu-west-1", 250, &[("Schedule", "office")]).await;
    // Every StopInstances takes 2 s to answer, so calls in flight together arrive together.
    crate::support::control_json(
        "/_offhours/hang",
        json!({"access_key_id": account.creds.access_key_id(), "action": "StopInstances", "seconds": 2}),
    );
    let config = account.write_config(
        "regions = [\"eu-west-1\"]\nmax_instances_per_action = 0\nverify_timeout = \"20s\"\n[aws]\nmax_concurrent_calls = 2\n[schedules.office]\nstop = \"0 19 * * *\"\n",
    );
    let run = account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(0);
    let o = outcomes(&run.json());
    assert!(ids.iter().all(|id| o[id] == "stopped"), "{o:?}");
    // The listing, batches of 100, and the state read-back with the light call (100 ids
    // a call); no full DescribeInstances once every instance is where it should be.
    let calls = account.calls();
    let count = |op: &str| calls.get(op).copied().unwrap_or(0);
    assert_eq!(
        (count("DescribeRegions"), count("DescribeInstances"), count("StopInstances"), count("DescribeInstanceStatus")),
        (1, 1, 3, 3),
        "{calls:?}"
    );
    // Two of the three batches were in flight together; the third waited for a slot.
    let stops = arrivals(&account, "StopInstances");
    assert_eq!(stops.len(), 3);
    assert!(stops[1] - stops[0] < 1.0, "the first two batches were sent together: {stops:?}");
    assert!(stops[2] - stops[0] > 1.5, "the third waited for one of them (max_concurrent_calls = 2): {stops:?}");
}
