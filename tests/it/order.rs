//! A schedule's `order` against moto: the groups act one after the other (in reverse at
//! a stop), and a group that fails holds the later ones unless told to continue.

use aws_sdk_rds::types::Tag as RdsTag;
use serde_json::Value;

use crate::support::Account;

const WEST: &str = "eu-west-1";

fn config(on_failure: &str) -> String {
    format!(
        r#"
regions = ["eu-west-1"]
verify_timeout = "20s"
db_verify_timeout = "60s"
[schedules.office]
start = "0 8 * * MON-FRI"
stop = "0 19 * * MON-FRI"
kinds = ["ec2", "rds"]
order = [["ec2"], ["rds"]]
order_on_failure = "{on_failure}"
"#
    )
}

async fn database(account: &Account, id: &str) {
    account
        .rds(WEST)
        .create_db_instance()
        .db_instance_identifier(id)
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("not-a-secret-1")
        .tags(RdsTag::builder().key("Schedule").value("office").build())
        .send()
        .await
        .expect("CreateDBInstance");
}

async fn db_status(account: &Account, id: &str) -> String {
    let out = account.rds(WEST).describe_db_instances().db_instance_identifier(id).send().await.expect("DescribeDBInstances");
    out.db_instances()[0].db_instance_status().unwrap().to_string()
}

fn result<'a>(json: &'a Value, id: &str) -> &'a Value {
    json["results"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no result for {id}: {json}"))
}

/// Both stopped; the instance's start will fall back to stopped.
async fn stopped_pair(account: &Account) -> (String, &'static str) {
    let id = account.launch(WEST, &[("Schedule", "office")]).await;
    database(account, "orders").await;
    let config = account.write_config(&config("halt"));
    account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap()]).expect_code(0);
    assert_eq!((account.states(WEST).await[&id].as_str(), db_status(account, "orders").await.as_str()), ("stopped", "stopped"));
    account.falls_back(&id, "Client.InternalError", "Client.InternalError: Client error on launch");
    (id, "orders")
}

#[tokio::test]
async fn a_group_that_fails_to_start_holds_the_next_group() {
    let account = Account::new().await;
    let (instance, db) = stopped_pair(&account).await;
    let config = account.write_config(&config("halt"));
    let run = account.run(&["apply", "office", "start", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(1);
    let json = run.json();
    assert_eq!(result(&json, &instance)["outcome"], "failed");
    let held = result(&json, db);
    assert_eq!((held["outcome"].as_str(), held["after"].as_str()), (Some("held"), Some("stopped")), "{json}");
    assert_eq!(
        held["reason"],
        "not started: the group before it in the order (ec2) failed or is not there yet, and order_on_failure is halt"
    );
    assert_eq!(db_status(&account, db).await, "stopped", "the held database was left alone");
    assert_eq!(account.calls().get("StartDBInstance"), None);
    let log = run.stderr();
    assert!(log.contains("Order halted") && log.contains(r#"failed="ec2" held="rds""#), "{log}");
}

#[tokio::test]
async fn continue_acts_on_later_groups_and_a_stop_runs_the_groups_in_reverse() {
    let account = Account::new().await;
    let (instance, db) = stopped_pair(&account).await;
    let config = account.write_config(&config("continue"));
    let c = config.to_str().unwrap();
    let run = account.run(&["apply", "office", "start", "--config", c, "--output", "json"]);
    run.expect_code(1);
    let json = run.json();
    assert_eq!((result(&json, &instance)["outcome"].as_str(), result(&json, db)["outcome"].as_str()), (Some("failed"), Some("started")));
    assert_eq!(db_status(&account, db).await, "available");

    // At a stop the database (the last group) goes first and is verified stopped before
    // the instance is acted on; its stop takes a second to answer, so acting at once
    // would send StopInstances meanwhile.
    // (The first instance falls back at every start: a second one, running, is stopped.)
    let running = account.launch(WEST, &[("Schedule", "office")]).await;
    let key = account.creds.access_key_id().to_string();
    crate::support::control_json("/_offhours/hang", serde_json::json!({"access_key_id": key, "action": "StopDBInstance", "seconds": 1}));
    let since = log_len(&account);
    account.run(&["apply", "office", "stop", "--config", c]).expect_code(0);
    let log: Vec<String> = account.call_log().split_off(since);
    let at = |action: &str| log.iter().position(|a| a == action).unwrap_or_else(|| panic!("no {action} in {log:?}"));
    let verified = log.iter().enumerate().skip(at("StopDBInstance")).find(|(_, a)| *a == "DescribeDBInstances").map(|(i, _)| i);
    assert!(verified.is_some_and(|v| v < at("StopInstances")), "{log:?}");
    assert_eq!((account.states(WEST).await[&running].as_str(), db_status(&account, db).await.as_str()), ("stopped", "stopped"));
}

fn log_len(account: &Account) -> usize {
    account.call_log().len()
}
