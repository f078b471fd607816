//! `offhours report`: hours kept off and money saved, from the ledger, to the cent.

use chrono::{DateTime, Utc};
use offhours::model::Action;
use offhours::store::{Entry, LEDGER_FILE, Ledger};
use serde_json::json;

use crate::daemon::{Daemon, HEADER, wait_for_state};
use crate::support::Account;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn entry(when: &str, id: &str, size: &str, action: Action, outcome: &str) -> Entry {
    Entry {
        at: at(when),
        account: "111111111111".into(),
        region: "eu-west-1".into(),
        kind: offhours::kinds::ec2::KIND,
        id: id.into(),
        size: Some(size.into()),
        engine: None,
        deployment: None,
        schedule: "office".into(),
        job: "schedule".into(),
        action,
        outcome: outcome.into(),
    }
}

#[tokio::test]
async fn a_fixture_ledger_is_reported_to_the_cent_with_the_file_s_prices() {
    let account = Account::new().await;
    // Governed now, for the projection: two t3.micro (one snoozed for now: still its
    // schedule's), not one with the override tag nor another schedule's.
    account.launch_many("eu-west-1", 1, &[("Schedule", "office")]).await;
    account.launch("eu-west-1", &[("Schedule", "office"), ("offhours:skip", "2099-01-01")]).await;
    account.launch("eu-west-1", &[("Schedule", "office"), ("offhours:skip", "true")]).await;
    account.launch("eu-west-1", &[("Schedule", "other")]).await;
    let state = account.dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let mut ledger = Ledger::open(state.join(LEDGER_FILE)).unwrap();
    ledger
        .append(&[
            // A small box off for 12 h, then started by offhours.
            entry("2026-11-20T19:00:00Z", "i-small", "t3.micro", Action::Stop, "stopped"),
            entry("2026-11-21T07:00:00Z", "i-small", "t3.micro", Action::Start, "started"),
            // A large one stopped the day before the window and still off at its end.
            entry("2026-11-19T19:00:00Z", "i-large", "m5.large", Action::Stop, "stopped"),
        ])
        .unwrap();
    drop(ledger);
    let config = account.write_config(&format!(
        "{HEADER}[schedules.office]\nstop = \"0 19 * * *\"\n[savings]\n[savings.prices]\n\"t3.micro\" = 0.0104\n\"eu-west-1:m5.large\" = 0.107\n"
    ));
    let args = [
        "report",
        "--config",
        config.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "--since",
        "2026-11-20T00:00:00Z",
        "--until",
        "2026-11-21T19:00:00Z",
        "--by",
        "type",
    ];
    let run = account.run(&[&args[..], &["--output", "json"]].concat());
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["estimate"], true);
    assert!(report["price_source"].as_str().unwrap().contains("on-demand"), "the price source is named");
    // m5.large: 43 h in the window (from its start) x 0.107 = 4.601; t3.micro: 12 h x 0.0104 = 0.1248.
    let rows: Vec<_> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].clone(), r["resource_hours_off"].clone(), r["estimated_savings"].clone()))
        .collect();
    assert_eq!(rows, [(json!("m5.large"), json!(43.0), json!(4.6)), (json!("t3.micro"), json!(12.0), json!(0.12))], "{report}");
    assert_eq!(report["total"]["resource_hours_off"], json!(55.0));
    assert_eq!(report["total"]["estimated_savings"], json!(4.73), "4.601 + 0.1248 = 4.7258");
    assert_eq!(report["total"]["currency"], "USD");
    // The projection: `office` only stops (19:00 daily), so its resources are off the
    // whole week: 168 h x 30.44 / 7 = 730.56 h a resource; two t3.micro: 1461.12 h,
    // x 0.0104 = 15.195648 -> 15.20.
    let p = &report["projected_monthly"];
    assert_eq!(p["estimate"], true);
    assert!(p["basis"].as_str().unwrap().contains("governs now"), "{p}");
    assert_eq!(
        (&p["resource_hours_off"], &p["estimated_savings"], &p["currency"], &p["price_source"]),
        (&json!(1461.12), &json!(15.2), &json!("USD"), &json!("file")),
        "{p}"
    );
    assert_eq!(
        p["rows"],
        json!([{"schedule": "office", "resources": 2, "off_hours_per_week": 168.0, "resource_hours_off": 1461.12,
                "estimated_savings": 15.2, "currency": "USD", "price_source": "file", "unpriced_resources": 0}])
    );
    assert!(report.get("projection_error").is_none());
    let csv = account.run(&[&args[..], &["--csv"]].concat());
    csv.expect_code(0);
    let stdout = csv.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[lines.len() - 2..], ["total,55.00,4.73,USD,file", "projected-monthly,1461.12,15.20,USD,file"], "{}", csv.stdout());
    let text = account.run(&args).stdout();
    assert!(text.contains("estimate at on-demand prices"), "{text}");
    assert!(text.contains("projected monthly resource-hours off and savings (estimate)"), "{text}");
    assert!(
        text.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["office", "2", "168.00", "1461.12", "15.20", "USD", "file"]),
        "{text}"
    );

    // Listing fails: the projection is left out, said so, and the report stands.
    account.fault(json!({"action": "DescribeInstances", "status": 403, "code": "UnauthorizedOperation", "message": "You are not authorized to perform this operation.", "count": -1}));
    let run = account.run(&[&args[..], &["--output", "json"]].concat());
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["projected_monthly"], json!(null));
    let error = report["projection_error"].as_str().unwrap();
    assert!(error.contains("schedule office: cannot list instance") && error.contains("UnauthorizedOperation"), "{error}");
    assert_eq!(report["total"]["estimated_savings"], json!(4.73));
    assert!(run.stderr().contains("projected monthly figure left out"), "{}", run.stderr());
}

#[tokio::test]
async fn the_daemon_records_its_stops_in_the_ledger() {
    let account = Account::new().await;
    let id = account.launch("eu-west-1", &[("Schedule", "blink")]).await;
    let config = account.write_config(&format!("{HEADER}[schedules.blink]\nstop = \"*/2 * * * * *\"\n"));
    let daemon = Daemon::start(&account, &config, "1");
    wait_for_state(&account, &id, "stopped").await;
    daemon.wait_for_event("the stop", |e| e["message"] == "Action finished." && e["outcomes"] == r#"{"stopped":1}"#);
    let path = account.dir.path().join("state").join(LEDGER_FILE);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let rows = Ledger::open(&path).unwrap().between(at("2000-01-01T00:00:00Z"), Utc::now() + chrono::TimeDelta::hours(1)).unwrap();
        if let Some(e) = rows.iter().find(|e| e.id == id) {
            assert_eq!((e.outcome.as_str(), e.size.as_deref(), e.schedule.as_str()), ("stopped", Some("t3.micro"), "blink"));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no ledger entry within 30 s");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[tokio::test]
async fn price_list_prices_come_from_the_cache_in_the_state_directory_until_their_refresh() {
    let account = Account::new().await;
    let state = account.dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let mut ledger = Ledger::open(state.join(LEDGER_FILE)).unwrap();
    ledger.append(&[entry("2026-11-19T19:00:00Z", "i-large", "m5.large", Action::Stop, "stopped")]).unwrap();
    drop(ledger);
    // Read by an earlier report a day ago; moto serves no Price List API, so any price
    // used here comes from the cache.
    let read_at = (Utc::now() - chrono::TimeDelta::days(1)).to_rfc3339();
    let cache = json!({"prices": [{"service": "AmazonEC2", "region": "eu-west-1", "size": "m5.large",
                                   "per_hour": "0.1070000000", "currency": "USD", "read_at": read_at}]});
    std::fs::write(state.join("prices.json"), cache.to_string()).unwrap();
    let run = |savings: &str| {
        let config = account.write_config(&format!("{HEADER}[schedules.office]\nstop = \"0 19 * * *\"\n{savings}"));
        let run = account.run(&[
            "report",
            "--config",
            config.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--since",
            "2026-11-20T00:00:00Z",
            "--until",
            "2026-11-21T19:00:00Z",
            "--output",
            "json",
        ]);
        run.expect_code(0);
        run
    };
    // Fresh (the default refresh is 7 days): used without asking. 43 h x 0.107 = 4.601.
    let fresh = run("");
    let report = fresh.json();
    assert_eq!((&report["total"]["estimated_savings"], &report["total"]["price_source"]), (&json!(4.6), &json!("api")), "{report}");
    assert!(!fresh.stderr().contains("cannot read the price"), "{}", fresh.stderr());
    // Older than the refresh: asked again; the API cannot answer, so the older price is
    // used and said so.
    let stale = run("[savings]\nprice_refresh = \"1h\"\n");
    assert_eq!(stale.json()["total"]["estimated_savings"], json!(4.6));
    assert!(
        stale.stderr().contains("cannot read the price of m5.large in eu-west-1") && stale.stderr().contains("using the one read at"),
        "{}",
        stale.stderr()
    );
    // The file's price wins over the cache's; another currency uses the file's alone.
    let file = run("[savings.prices]\n\"m5.large\" = 0.1\n");
    assert_eq!((&file.json()["total"]["estimated_savings"], &file.json()["total"]["price_source"]), (&json!(4.3), &json!("file")));
    let eur = run("[savings]\ncurrency = \"EUR\"\n");
    assert_eq!((&eur.json()["total"]["estimated_savings"], &eur.json()["total"]["unpriced_hours_off"]), (&json!(null), &json!(43.0)));
}

#[tokio::test]
async fn a_database_is_priced_from_the_cached_price_list_by_its_engine_and_deployment() {
    use offhours::model::Deployment;
    let account = Account::new().await;
    let state = account.dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let db = |id: &str, engine: Option<&str>, deployment: Option<Deployment>| Entry {
        kind: offhours::kinds::rds::INSTANCE,
        engine: engine.map(str::to_string),
        deployment,
        ..entry("2026-11-20T19:00:00Z", id, "db.m5.large", Action::Stop, "stopped")
    };
    let mut ledger = Ledger::open(state.join(LEDGER_FILE)).unwrap();
    ledger
        .append(&[
            db("db-pg", Some("postgres"), Some(Deployment::MultiAz)),
            // Recorded without its engine (as earlier releases did): counted, not priced.
            db("db-old", None, None),
        ])
        .unwrap();
    drop(ledger);
    // Read by an earlier report; moto serves no Price List API.
    let read_at = (Utc::now() - chrono::TimeDelta::days(1)).to_rfc3339();
    let cache = json!({"prices": [{"service": "AmazonRDS", "region": "eu-west-1", "size": "db.m5.large", "engine": "postgres",
                                   "deployment": "Multi-AZ", "per_hour": "0.3820000000", "currency": "USD", "read_at": read_at}]});
    std::fs::write(state.join("prices.json"), cache.to_string()).unwrap();
    let config = account.write_config(&format!("{HEADER}[schedules.office]\nstop = \"0 19 * * *\"\n"));
    let run = account.run(&[
        "report",
        "--config",
        config.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "--since",
        "2026-11-20T00:00:00Z",
        "--until",
        "2026-11-21T19:00:00Z",
        "--by",
        "kind",
        "--output",
        "json",
    ]);
    run.expect_code(0);
    let report = run.json();
    // 24 h each; db-pg: 24 x 0.382 = 9.168 -> 9.17.
    assert_eq!(
        report["rows"],
        json!([{"key": "rds", "resource_hours_off": 48.0, "estimated_savings": 9.17, "price_source": "mixed", "unpriced_hours_off": 24.0}]),
        "{report}"
    );
    assert!(report["price_source"].as_str().unwrap().contains("engine and deployment"), "{report}");
    assert!(!run.stderr().contains("cannot read the price"), "a fresh cached price is used without asking: {}", run.stderr());
}

#[tokio::test]
async fn a_cluster_is_priced_from_the_file_as_the_sum_of_its_members() {
    use offhours::model::Deployment;
    let account = Account::new().await;
    let state = account.dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let cluster = |id: &str, size: Option<&str>| Entry {
        kind: offhours::kinds::rds::CLUSTER,
        size: size.map(str::to_string),
        engine: Some("aurora-postgresql".into()),
        deployment: Some(Deployment::MultiAz),
        ..entry("2026-11-20T19:00:00Z", id, "-", Action::Stop, "stopped")
    };
    let mut ledger = Ledger::open(state.join(LEDGER_FILE)).unwrap();
    ledger
        .append(&[
            cluster("aurora-a", Some("db.r5.large*2+db.r5.xlarge")),
            // Serverless v2: billed by capacity used, not priced.
            cluster("aurora-sls", Some("db.serverless")),
            // Recorded before clusters had a size: counted, not priced, as before.
            cluster("aurora-old", None),
        ])
        .unwrap();
    drop(ledger);
    let config = account.write_config(&format!(
        "{HEADER}[schedules.office]\nstop = \"0 19 * * *\"\n[savings.prices]\n\"db.r5.large\" = 0.29\n\"eu-west-1:db.r5.xlarge\" = 0.58\n"
    ));
    let run = account.run(&[
        "report",
        "--config",
        config.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "--since",
        "2026-11-20T00:00:00Z",
        "--until",
        "2026-11-21T19:00:00Z",
        "--by",
        "type",
        "--output",
        "json",
    ]);
    run.expect_code(0);
    let report = run.json();
    // 24 h each; aurora-a: 24 x (2 x 0.29 + 0.58) = 24 x 1.16 = 27.84.
    assert_eq!(
        report["rows"],
        json!([
            {"key": "-", "resource_hours_off": 24.0, "estimated_savings": null, "price_source": "none", "unpriced_hours_off": 24.0},
            {"key": "db.r5.large*2+db.r5.xlarge", "resource_hours_off": 24.0, "estimated_savings": 27.84, "price_source": "file", "unpriced_hours_off": 0.0},
            {"key": "db.serverless", "resource_hours_off": 24.0, "estimated_savings": null, "price_source": "none", "unpriced_hours_off": 24.0},
        ]),
        "{report}"
    );
    assert_eq!(
        (&report["total"]["estimated_savings"], &report["total"]["price_source"], &report["total"]["unpriced_hours_off"]),
        (&json!(27.84), &json!("mixed"), &json!(48.0))
    );
    assert!(report["price_source"].as_str().unwrap().contains("DB clusters as the sum of their instances"), "{report}");
    // Every member the file prices: the Price List is not asked.
    assert!(!run.stderr().contains("price of"), "{}", run.stderr());
}

/// A stop made with `offhours apply` (by hand, or a CI job) is recorded in the daemon's
/// ledger and counts in `report`, marked as manual, up to the daemon's start.
#[tokio::test]
async fn a_stop_by_apply_and_a_start_by_the_daemon_count_in_the_report() {
    let account = Account::new().await;
    let id = account.launch("eu-west-1", &[("Schedule", "blink")]).await;
    let state = account.dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let since = Utc::now() - chrono::TimeDelta::seconds(1);
    let stop = account.write_config(&format!("{HEADER}[schedules.blink]\nstart = \"0 8 * * *\"\n"));
    account.run(&["apply", "blink", "stop", "--config", stop.to_str().unwrap(), "--state-dir", state.to_str().unwrap()]).expect_code(0);
    let rows = || {
        Ledger::open(state.join(LEDGER_FILE))
            .unwrap()
            .between(at("2000-01-01T00:00:00Z"), Utc::now() + chrono::TimeDelta::hours(1))
            .unwrap()
    };
    let stopped = rows();
    assert_eq!(
        stopped.iter().map(|e| (e.id.as_str(), e.job.as_str(), e.outcome.as_str())).collect::<Vec<_>>(),
        [(id.as_str(), "apply", "stopped")],
        "written before apply exits"
    );

    let config = account.write_config(&format!("{HEADER}[schedules.blink]\nstart = \"*/2 * * * * *\"\n"));
    let daemon = Daemon::start(&account, &config, "1");
    wait_for_state(&account, &id, "running").await;
    daemon.wait_for_event("the start", |e| e["message"] == "Action finished." && e["outcomes"] == r#"{"started":1}"#);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let started = loop {
        if let Some(e) = rows().into_iter().find(|e| e.outcome == "started") {
            break e;
        }
        assert!(std::time::Instant::now() < deadline, "no start in the ledger within 30 s");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(started.job, "schedule");
    drop(daemon);

    let until = (Utc::now() + chrono::TimeDelta::seconds(1)).to_rfc3339();
    let since = since.to_rfc3339();
    let run = account.run(&[
        "report",
        "--config",
        config.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "--since",
        &since,
        "--until",
        &until,
        "--output",
        "json",
    ]);
    run.expect_code(0);
    let report = run.json();
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{report}");
    assert_eq!(rows[0]["key"], "blink (manual)", "{report}");
    // From the manual stop to the daemon's start, to the hundredth of an hour.
    let seconds = (started.at - stopped[0].at).num_seconds();
    assert_eq!(rows[0]["resource_hours_off"], json!(((seconds * 100 + 1800) / 3600) as f64 / 100.0), "{report}");
}
