//! The savings ledger in the shared state table: a daemon on `[state] backend =
//! "dynamodb"` records its stops and starts as items of the table (with their time to
//! live), and `offhours report` counts them from there.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, TimeDelta, Timelike, Utc};
use serde_json::json;

use crate::daemon::{Daemon, HEADER, http_get, wait_for_state};
use crate::support::Account;

fn dynamodb(account: &Account) -> aws_sdk_dynamodb::Client {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-1"))
        .endpoint_url(&account.endpoint)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(account.creds.clone()))
        .build();
    aws_sdk_dynamodb::Client::new(&config)
}

fn text(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> String {
    item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_daemon_on_the_shared_table_records_its_stops_and_starts_there_and_the_report_counts_them() {
    let account = Account::new().await;
    let id = account.launch("eu-west-1", &[("Schedule", "blink")]).await;
    // Stop, start, stop, 3 s apart, all in one minute of the hour (so that the hour
    // before holds nothing to catch up): this minute if it has room, else the next.
    let now = Utc::now();
    let (minute, first) = if now.second() <= 46 { (now.minute(), now.second() + 5) } else { ((now.minute() + 1) % 60, 5) };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = account.write_config(&format!(
        "{HEADER}max_lateness = \"10m\"\n[state]\nbackend = \"dynamodb\"\ntable = \"offhours-state\"\nlease = \"2s\"\n\
         [http]\nlisten = \"127.0.0.1:{port}\"\n\
         [schedules.blink]\nstop = \"{first},{} {minute} * * * *\"\nstart = \"{} {minute} * * * *\"\n\
         [savings]\nretention = \"30d\"\n[savings.prices]\n\"t3.micro\" = 0.5\n",
        first + 6,
        first + 3,
    ));
    account.run(&["init-state", "--config", config.to_str().unwrap()]).expect_code(0);
    let mut daemon = Daemon::start(&account, &config, "1");
    wait_for_state(&account, &id, "stopped").await;
    wait_for_state(&account, &id, "running").await;
    wait_for_state(&account, &id, "stopped").await;
    // The second stop's action has finished (and handed its entry to the writer).
    let stops = |d: &Daemon| {
        d.events()
            .iter()
            .filter(|e| e["message"] == "Action finished." && e["outcomes"].as_str().is_some_and(|o| o.contains("\"stopped\":1")))
            .count()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while stops(&daemon) < 2 {
        assert!(std::time::Instant::now() < deadline, "no second stop: {:?}", daemon.events());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The daemon's savings figures are counted from the table a moment after its
    // writes: the 3 s between the first stop and the start, and the time since the
    // second stop.
    let off_seconds = || {
        let metrics = http_get(port, "/metrics").1;
        metrics
            .lines()
            .find(|l| l.starts_with(r#"offhours_resource_off_seconds{schedule="blink"}"#))
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while off_seconds().is_none_or(|s| s < 3.0) {
        assert!(std::time::Instant::now() < deadline, "no savings figures from the table: {:?}", off_seconds());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A clean stop flushes the writer.
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(), 0);
    let log: String = daemon.events().iter().map(|e| format!("{e}\n")).collect();
    assert!(!log.contains("Ledger write failed") && !log.contains("still pending"), "{log}");
    assert!(!account.dir.path().join("state/ledger.sqlite3").exists(), "no ledger in the state directory");

    // The items: one per start and stop, in the month's partition, with every field and
    // their time to live.
    let items = dynamodb(&account).scan().table_name("offhours-state").send().await.expect("Scan").items.unwrap_or_default();
    let mut rows: Vec<_> = items.iter().filter(|i| text(i, "pk").starts_with("ledger#")).collect();
    rows.sort_by_key(|i| text(i, "sk"));
    let seen: Vec<(String, String, String)> = rows.iter().map(|i| (text(i, "action"), text(i, "outcome"), text(i, "resource"))).collect();
    let want = |a: &str, o: &str| (a.to_string(), o.to_string(), id.clone());
    assert_eq!(seen, [want("stop", "stopped"), want("start", "started"), want("stop", "stopped")], "{rows:?}");
    let mut ats = Vec::new();
    for item in &rows {
        let at: DateTime<Utc> = text(item, "at").parse().expect("at");
        assert_eq!(text(item, "pk"), format!("ledger#{}", at.format("%Y-%m")));
        assert_eq!(text(item, "sk"), format!("{}#{}#eu-west-1#ec2#{id}#{}", text(item, "at"), account.id, text(item, "action")));
        assert_eq!((text(item, "schedule"), text(item, "job"), text(item, "size")), ("blink".into(), "schedule".into(), "t3.micro".into()));
        let expires: i64 = item["expires_at"].as_n().expect("expires_at").parse().unwrap();
        assert_eq!(expires, at.timestamp() + 30 * 86_400, "the instant plus retention");
        ats.push(at);
    }

    // The report reads the table: 3 s off, then off from the second stop to --until (2 h).
    let until = ats[2] + TimeDelta::hours(2);
    let run = account.run(&[
        "report",
        "--config",
        config.to_str().unwrap(),
        "--since",
        &(ats[0] - TimeDelta::hours(1)).to_rfc3339(),
        "--until",
        &until.to_rfc3339(),
        "--output",
        "json",
    ]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["ledger"], "dynamodb table offhours-state in eu-west-1");
    let off = (ats[1] - ats[0]).num_seconds() + 7200;
    let hours = (off * 100 + 1800) / 3600;
    assert_eq!(hours, 200, "{off} s");
    let rows: Vec<_> = report["rows"].as_array().unwrap().iter().map(|r| (r["key"].clone(), r["resource_hours_off"].clone())).collect();
    assert_eq!(rows, [(json!("blink"), json!(2.0))], "{report}");
    assert_eq!(report["total"]["resource_hours_off"], json!(2.0));
    assert_eq!(report["total"]["estimated_savings"], json!(1.0), "2 h x 0.5");
    // The text names the table too.
    let text_run =
        account.run(&["report", "--config", config.to_str().unwrap(), "--since", &ats[0].to_rfc3339(), "--until", &until.to_rfc3339()]);
    assert!(text_run.expect_code(0).stdout().contains("ledger: dynamodb table offhours-state in eu-west-1"), "{}", text_run.stdout());
}
