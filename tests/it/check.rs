//! `offhours check`: validation and fire times, through the binary.

use crate::support::Account;

#[tokio::test]
async fn check_prints_next_fires_as_json() {
    let account = Account::new().await;
    let config = account.write_config(
        r#"
timezone = "Europe/Berlin"
[schedules.office-hours]
start = "0 8 * * MON-FRI"
stop = "30 2 * * *"
[iam_audit]
cron = "0 7 * * MON"
"#,
    );
    let run = account.run(&[
        "check",
        "--config",
        config.to_str().unwrap(),
        "--from",
        "2026-03-27T12:00:00+01:00",
        "--next",
        "3",
        "--output",
        "json",
    ]);
    run.expect_code(0);
    let json = run.json();
    let jobs = json["jobs"].as_array().unwrap();
    let summary: Vec<(String, String, Vec<String>)> = jobs
        .iter()
        .map(|j| {
            (
                j["schedule"].as_str().unwrap_or("-").to_string(),
                j["action"].as_str().unwrap().to_string(),
                j["next"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect(),
            )
        })
        .collect();
    let s = |a: &str, b: &str, c: &[&str]| (a.to_string(), b.to_string(), c.iter().map(|x| x.to_string()).collect::<Vec<_>>());
    assert_eq!(
        summary,
        vec![
            s("office-hours", "start", &["2026-03-30T08:00:00+02:00", "2026-03-31T08:00:00+02:00", "2026-04-01T08:00:00+02:00"]),
            // The 02:30 of the spring-forward night does not exist: it fires at 03:00.
            s("office-hours", "stop", &["2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"]),
            s("-", "audit-keys", &["2026-03-30T07:00:00+02:00", "2026-04-06T07:00:00+02:00", "2026-04-13T07:00:00+02:00"]),
        ]
    );
    assert!(jobs.iter().all(|j| j["timezone"] == "Europe/Berlin"));
    assert!(jobs[2]["schedule"].is_null());
}

#[tokio::test]
async fn check_text_output_names_zone_and_offset() {
    let account = Account::new().await;
    let config = account.write_config("[schedules.lab]\ntimezone = \"America/New_York\"\nstop = \"0 1-3 * * *\"\n");
    let run = account.run(&["check", "--config", config.to_str().unwrap(), "--from", "2026-11-01T00:00:00-04:00", "--next", "3"]);
    run.expect_code(0);
    let out = run.stdout();
    assert!(out.contains("lab stop `0 1-3 * * *` in America/New_York"), "{out}");
    // 01:00 happens twice on the fall-back night: it fires once, at its first occurrence.
    assert!(out.contains("Sun 2026-11-01 01:00:00 -04:00\n  Sun 2026-11-01 02:00:00 -05:00\n  Sun 2026-11-01 03:00:00 -05:00"), "{out}");
}

#[tokio::test]
async fn a_bad_file_lists_every_error_and_exits_2() {
    let account = Account::new().await;
    let config = account.write_config(
        r#"timezone = "Europe/Berln"
[schedules.office]
start = "0 8 * * MON-FRI"
stop = "0 25 * * *"
skip_dates = ["2026-02-30"]
[schedules.empty]
hibernate = true
"#,
    );
    let path = config.to_str().unwrap();
    let run = account.run(&["check", "--config", path]);
    run.expect_code(2);
    assert_eq!(run.stdout(), "");
    let expected = [
        format!("{path}:1:12: timezone: unknown timezone `Europe/Berln` (did you mean `Europe/Berlin`?)"),
        format!("{path}:4:8: schedules.office.stop: bad cron `0 25 * * *`: hour field `25`: number out of bounds"),
        format!("{path}:5:15: schedules.office.skip_dates: `2026-02-30` is not a date (YYYY-MM-DD)"),
        format!("{path}:6:1: schedules.empty: has neither `start` nor `stop`"),
    ];
    assert_eq!(run.stderr().lines().collect::<Vec<_>>(), expected);
}

#[tokio::test]
async fn a_missing_file_is_a_usage_error() {
    let account = Account::new().await;
    let run = account.run(&["check", "--config", "/nonexistent/offhours.toml"]);
    run.expect_code(2);
    assert!(run.stderr().contains("/nonexistent/offhours.toml: cannot read"), "{}", run.stderr());
}

/// The reference's example error block is what `offhours check` prints for
/// tests/fixtures/errors/offhours.toml, verbatim: every error of the file at once,
/// unknown fields and wrong types among them, in file order.
#[tokio::test]
async fn the_readme_error_example_is_what_check_prints() {
    let account = Account::new().await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("docs/configuration.md")).unwrap();
    let marker = "Every error in the file is reported at once";
    let after = &readme[readme.find(marker).expect("the README's config error section")..];
    let block = after.split("```text\n").nth(1).and_then(|b| b.split("```").next()).expect("a text block after it");
    let mut cmd = account.offhours(&["check", "--config", "offhours.toml"]);
    cmd.current_dir(root.join("tests/fixtures/errors"));
    let output = cmd.output().unwrap();
    let run = crate::support::Run { output, elapsed: std::time::Duration::ZERO };
    run.expect_code(2);
    assert_eq!(run.stderr(), block, "docs/configuration.md's example and the real output differ");
}

/// When both day fields are given, `check` says which rule of crontab(5) applies, and
/// warns where the meaning changed (a field beginning with `*`, such as `*/5`).
#[tokio::test]
async fn check_names_the_day_rule_and_warns_where_it_changed() {
    let account = Account::new().await;
    let config = account
        .write_config("[schedules.lab]\ntimezone = \"America/Sao_Paulo\"\nstart = \"0 1 */5 */2 SAT,SUN\"\nstop = \"0 8 1 * MON\"\n");
    let c = config.to_str().unwrap();
    let run = account.run(&["check", "--config", c, "--from", "2026-03-28T20:00:00Z", "--next", "1"]);
    run.expect_code(0);
    let text = run.stdout();
    assert!(
        text.contains("lab start `0 1 */5 */2 SAT,SUN` in America/Sao_Paulo\n  days: a day must match both day-of-month and day-of-week (crontab(5): a field begins with `*`)\n  warning: before this release it fired on days matching either field; see the next fires below\n  Sat 2026-05-16 01:00:00 -03:00"),
        "{text}"
    );
    assert!(
        text.contains("lab stop `0 8 1 * MON` in America/Sao_Paulo\n  days: a day matching either day-of-month or day-of-week fires"),
        "{text}"
    );
    let json = account.run(&["check", "--config", c, "--output", "json"]).json();
    let rules: Vec<&str> = json["jobs"].as_array().unwrap().iter().map(|j| j["day_rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["both", "either"]);
}

#[tokio::test]
async fn check_shows_an_exceptions_windows_and_its_extra_start() {
    let account = Account::new().await;
    let config = account.write_config(
        "timezone = \"Europe/Berlin\"\n[schedules.qa]\nstart = \"0 8 * * MON-FRI\"\nstop = \"0 19 * * MON-FRI\"\n\
         [[schedules.qa.exceptions]]\nfrom = 2026-12-05\nto = 2026-12-08\nkeep = \"on\"\n",
    );
    let run =
        account.run(&["check", "--config", config.to_str().unwrap(), "--from", "2026-12-04T12:00:00Z", "--next", "2", "--output", "json"]);
    run.expect_code(0);
    let jobs = run.json()["jobs"].clone();
    assert_eq!(jobs[0]["action"], "start");
    assert_eq!(jobs[0]["extra"], serde_json::json!(["2026-12-05T00:00:00+01:00"]));
    assert_eq!(jobs[0]["next"], serde_json::json!(["2026-12-05T00:00:00+01:00", "2026-12-07T08:00:00+01:00"]));
    assert_eq!(jobs[1]["quiet"], serde_json::json!([["2026-12-05T00:00:00+01:00", "2026-12-09T00:00:00+01:00"]]));
    assert_eq!(jobs[1]["next"], serde_json::json!(["2026-12-04T19:00:00+01:00", "2026-12-09T19:00:00+01:00"]), "no stop inside the window");
    let text = account.run(&["check", "--config", config.to_str().unwrap(), "--from", "2026-12-04T12:00:00Z", "--next", "2"]);
    assert!(
        text.stdout().contains("no stop from Sat 2026-12-05 00:00 +01:00 until Wed 2026-12-09 00:00 +01:00 (an exception)"),
        "{}",
        text.stdout()
    );
}
