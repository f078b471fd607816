//! `offhours plan`: what each schedule governs, from real DescribeInstances answers.

use std::net::TcpListener;

use crate::support::Account;

#[tokio::test]
async fn plan_lists_exactly_the_matching_instances_in_two_regions() {
    let account = Account::new().await;
    let web = account.launch("eu-west-1", &[("Schedule", "office"), ("Name", "web")]).await;
    let db = account.launch("eu-central-1", &[("Schedule", "office"), ("Name", "db")]).await;
    let stopped = account.launch("eu-central-1", &[("Schedule", "office"), ("Name", "cold")]).await;
    account.stop("eu-central-1", std::slice::from_ref(&stopped)).await;
    let asg = account.launch("eu-west-1", &[("Schedule", "office"), ("aws:autoscaling:groupName", "web-asg")]).await;
    // Not governed by `office`: another schedule's tag, no tag, and a region not listed.
    account.launch("eu-west-1", &[("Schedule", "other"), ("Name", "elsewhere")]).await;
    account.launch("eu-west-1", &[("Name", "untagged")]).await;
    account.launch("us-east-1", &[("Schedule", "office")]).await;
    // `lab` needs Schedule=lab and Team=ml.
    let lab = account.launch("eu-west-1", &[("Schedule", "lab"), ("Team", "ml")]).await;
    account.launch("eu-west-1", &[("Schedule", "lab"), ("Team", "web")]).await;

    let config = account.write_config(
        r#"
timezone = "Europe/Berlin"
regions = ["eu-west-1", "eu-central-1"]
[schedules.office]
start = "0 8 * * MON-FRI"
stop = "0 19 * * MON-FRI"
[schedules.lab]
stop = "0 20 * * *"
tags = { Team = "ml" }
"#,
    );
    // Monday 2026-11-23 19:30 Berlin: the last fire was office's stop at 19:00.
    let run = account.run(&["plan", "--config", config.to_str().unwrap(), "--at", "2026-11-23T19:30:00+01:00", "--output", "json"]);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["at"], "2026-11-23T19:30:00+01:00");
    let schedules = json["schedules"].as_array().unwrap();
    assert_eq!(schedules.len(), 2);

    let lab_plan = &schedules[0];
    assert_eq!(lab_plan["schedule"], "lab");
    assert_eq!(lab_plan["last_fire"], serde_json::json!({"action": "stop", "at": "2026-11-22T20:00:00+01:00"}));
    assert_eq!(lab_plan["next_fire"], serde_json::json!({"action": "stop", "at": "2026-11-23T20:00:00+01:00"}));
    let lab_ids: Vec<&str> = lab_plan["resources"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(lab_ids, vec![lab.as_str()]);

    let office = &schedules[1];
    assert_eq!(office["schedule"], "office");
    assert_eq!(office["timezone"], "Europe/Berlin");
    assert_eq!(office["last_fire"], serde_json::json!({"action": "stop", "at": "2026-11-23T19:00:00+01:00"}));
    assert_eq!(office["next_fire"], serde_json::json!({"action": "start", "at": "2026-11-24T08:00:00+01:00"}));
    let mut rows: Vec<(String, String, String, String, String)> = office["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["region"].as_str().unwrap().to_string(),
                i["state"].as_str().unwrap().to_string(),
                i["decision"].as_str().unwrap().to_string(),
                i["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    rows.sort();
    let row = |id: &str, region: &str, state: &str, decision: &str, reason: &str| {
        (id.to_string(), region.to_string(), state.to_string(), decision.to_string(), reason.to_string())
    };
    let mut expected = vec![
        row(&web, "eu-west-1", "running", "stop", ""),
        row(&db, "eu-central-1", "running", "stop", ""),
        row(&stopped, "eu-central-1", "stopped", "none", "already stopped"),
        row(&asg, "eu-west-1", "running", "skip", "member of auto scaling group web-asg"),
    ];
    expected.sort();
    assert_eq!(rows, expected);
    // Read-only: nothing changed, no Start/Stop sent (the one stop is the test's own).
    assert_eq!(account.states("eu-west-1").await[&web], "running");
    assert_eq!(account.calls().get("StopInstances"), Some(&1));
    assert_eq!(account.calls().get("StartInstances"), None);
}

#[tokio::test]
async fn plan_text_output_is_a_table() {
    let account = Account::new().await;
    let id = account.launch("eu-west-1", &[("Schedule", "office"), ("Name", "web-1")]).await;
    let config = account.write_config("timezone = \"UTC\"\n[schedules.office]\nstart = \"0 8 * * *\"\n");
    let run = account.run(&["plan", "--config", config.to_str().unwrap(), "--at", "2026-11-23T09:00:00Z"]);
    run.expect_code(0);
    let out = run.stdout();
    assert!(out.contains("schedule office (UTC)"), "{out}");
    assert!(out.contains("last fire: start at 2026-11-23T08:00:00+00:00"), "{out}");
    let line = out.lines().find(|l| l.contains(&id)).expect("instance row");
    assert!(line.contains("eu-west-1") && line.contains("web-1") && line.contains("running") && line.contains("already running"), "{line}");
}

fn config_with_timeouts(account: &Account) -> std::path::PathBuf {
    account.write_config(
        "regions = [\"eu-west-1\"]\n[aws]\nattempt_timeout = \"2s\"\noperation_timeout = \"4s\"\nmax_attempts = 2\n[schedules.office]\nstart = \"0 8 * * *\"\n",
    )
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_fast_with_exit_1() {
    let account = Account::new().await;
    let config = config_with_timeouts(&account);
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let run = {
        let mut cmd = account.offhours(&["plan", "--config", config.to_str().unwrap()]);
        cmd.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"));
        let started = std::time::Instant::now();
        let output = cmd.output().unwrap();
        crate::support::Run { output, elapsed: started.elapsed() }
    };
    run.expect_code(1);
    let err = run.stderr();
    assert!(err.contains("in eu-west-1: cannot reach the endpoint"), "{err}");
    assert!(err.contains("Connection refused"), "{err}");
    assert!(run.elapsed.as_secs() < 20, "took {:?}", run.elapsed);
}

#[tokio::test]
async fn a_peer_that_never_answers_is_bounded_by_the_timeout() {
    let account = Account::new().await;
    let config = config_with_timeouts(&account);
    // Accepts connections and never says a word.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().take(4) {
            held.push(conn);
        }
        std::thread::sleep(std::time::Duration::from_secs(15));
    });
    let mut cmd = account.offhours(&["plan", "--config", config.to_str().unwrap()]);
    cmd.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"));
    let started = std::time::Instant::now();
    let output = cmd.output().unwrap();
    let run = crate::support::Run { output, elapsed: started.elapsed() };
    run.expect_code(1);
    assert!(run.stderr().contains("in eu-west-1: no answer within the timeout"), "{}", run.stderr());
    assert!(run.elapsed.as_secs() < 15, "took {:?}", run.elapsed);
    drop(holder);
}

#[tokio::test]
async fn an_unknown_region_is_a_clear_error() {
    let account = Account::new().await;
    let config = account.write_config("regions = [\"eu-west-1\", \"eu-nowhere-1\"]\n[schedules.office]\nstart = \"0 8 * * *\"\n");
    let run = account.run(&["plan", "--config", config.to_str().unwrap()]);
    run.expect_code(1);
    let err = run.stderr();
    assert!(err.starts_with("offhours: region eu-nowhere-1 does not exist or is not enabled for this account (enabled: "), "{err}");
    assert!(err.contains("eu-central-1, "), "lists the enabled regions: {err}");
    assert!(run.elapsed.as_secs() < 10);
}

#[tokio::test]
async fn role_arn_assumes_a_role_in_another_account() {
    let home = Account::new().await;
    let target = Account::new().await;
    let id = target.launch("eu-west-1", &[("Schedule", "office")]).await;
    home.launch("eu-west-1", &[("Schedule", "office")]).await;
    let config = home.write_config(&format!(
        "regions = [\"eu-west-1\"]\n[aws]\nrole_arn = \"arn:aws:iam::{}:role/offhours\"\nexternal_id = \"x-1\"\n[schedules.office]\nstart = \"0 8 * * *\"\n",
        target.id
    ));
    let run = home.run(&["plan", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(0);
    let ids: Vec<String> =
        run.json()["schedules"][0]["resources"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, vec![id], "the instances of the assumed role's account, not the caller's");
}

#[tokio::test]
async fn a_named_profile_supplies_the_credentials() {
    let account = Account::new().await;
    let id = account.launch("eu-west-1", &[("Schedule", "office")]).await;
    let config = account.write_config("regions = [\"eu-west-1\"]\n[aws]\nprofile = \"ops\"\n[schedules.office]\nstart = \"0 8 * * *\"\n");
    let mut cmd = account.offhours(&["plan", "--config", config.to_str().unwrap(), "--output", "json"]);
    let credentials = account.dir.path().join("aws-credentials");
    std::fs::write(
        &credentials,
        format!(
            "[ops]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            account.creds.access_key_id(),
            account.creds.secret_access_key(),
            account.creds.session_token().unwrap()
        ),
    )
    .unwrap();
    cmd.env_remove("AWS_ACCESS_KEY_ID").env_remove("AWS_SECRET_ACCESS_KEY").env_remove("AWS_SESSION_TOKEN");
    let output = cmd.output().unwrap();
    let run = crate::support::Run { output, elapsed: std::time::Duration::ZERO };
    run.expect_code(0);
    assert_eq!(run.json()["schedules"][0]["resources"][0]["id"], id.as_str());
}
