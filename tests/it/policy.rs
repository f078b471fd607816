//! `offhours policy`: the file's own policy; a bad file fails as `check` does, never
//! widening silently to every feature.

use serde_json::Value;

use crate::support::Account;

fn actions(policy: &Value) -> Vec<String> {
    let mut out: Vec<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[tokio::test]
async fn a_bad_file_fails_like_check_and_every_feature_needs_asking() {
    let account = Account::new().await;
    let good = account.write_config("[schedules.office]\nstop = \"0 19 * * *\"\n");
    let run = account.run(&["policy", "--config", good.to_str().unwrap()]);
    run.expect_code(0);
    let own = actions(&run.json());
    assert!(own.contains(&"ec2:StopInstances".to_string()) && !own.iter().any(|a| a.starts_with("rds:")), "{own:?}");

    let bad = account.write_config("[schedules.office]\nstop = \"0 25 * * *\"\n[notify.slack]\nurl = \"ftp://example.invalid/hook\"\n");
    let run = account.run(&["policy", "--config", bad.to_str().unwrap()]);
    run.expect_code(2);
    assert_eq!(run.stdout(), "", "no policy printed for a file check rejects");
    assert!(run.stderr().contains("schedules.office.stop: bad cron `0 25 * * *`"), "{}", run.stderr());

    let missing = account.dir.path().join("nowhere.toml");
    account.run(&["policy", "--config", missing.to_str().unwrap()]).expect_code(2);

    let run = account.run(&["policy", "--config", bad.to_str().unwrap(), "--all"]);
    run.expect_code(0);
    let every = actions(&run.json());
    assert!(every.len() > own.len() && every.contains(&"rds:StopDBInstance".to_string()), "{every:?}");
}

/// A file that uses every feature `policy` grants for, all eight kinds included.
const EVERY_FEATURE: &str = r#"
kinds = ["ec2", "rds", "rds-cluster", "asg", "ecs", "redshift", "eks-nodegroup", "sagemaker-notebook"]
[schedules.office]
start = "0 8 * * MON-FRI"
stop = "0 19 * * MON-FRI"
mute_alarms = true
change_calendar = "arn:aws:ssm:eu-west-1:123456789012:document/release-freeze"
[billing_alarm]
threshold = 100
sns_topic_arn = "arn:aws:sns:us-east-1:123456789012:billing"
[iam_audit]
deactivate = true
[notify]
sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:ops"
[savings]
currency = "USD"
retention = "400d"
[suggest]
days = 21
[state]
backend = "dynamodb"
table = "offhours-state"
"#;

const ORGANIZATION: &str = "[organization]\nrole_name = \"offhours-member\"\nous = [\"ou-ab12-cdef3456\"]\n\
                            [[accounts]]\nrole_arn = \"arn:aws:iam::111111111111:role/offhours-member\"\n";

#[derive(serde::Deserialize)]
struct Allowed {
    allow: Vec<Allow>,
}

#[derive(serde::Deserialize)]
struct Allow {
    issue: String,
    action: String,
    reason: String,
}

/// parliament's findings on one policy, as `(issue, actions the finding names)`.
fn lint(policy: &str) -> Vec<(String, Vec<String>)> {
    let python = std::env::var("OFFHOURS_TEST_PYTHON").expect("OFFHOURS_TEST_PYTHON: run the tests with `make test`");
    let parliament = std::path::Path::new(&python).with_file_name("parliament");
    let out = std::process::Command::new(&parliament)
        .args(["--json", "--string", policy])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e} (make test installs it)", parliament.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.stderr.is_empty(), "parliament failed: {}", String::from_utf8_lossy(&out.stderr));
    stdout
        .lines()
        .map(|line| {
            let finding: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("parliament printed `{line}`: {e}"));
            let actions = match &finding["detail"] {
                Value::Array(items) => items.iter().filter_map(|a| a.as_str().map(str::to_string)).collect(),
                other => vec![other.to_string()],
            };
            (finding["issue"].as_str().unwrap_or_default().to_string(), actions)
        })
        .collect()
}

#[tokio::test]
async fn the_policy_of_every_feature_passes_the_iam_linter() {
    let allowed: Allowed = toml::from_str(include_str!("../fixtures/parliament-allow.toml")).unwrap();
    assert!(allowed.allow.iter().all(|a| !a.reason.is_empty()), "every allowed finding says why");
    let account = Account::new().await;
    let single = account.write_config(EVERY_FEATURE);
    let both = account.dir.path().join("accounts.toml");
    std::fs::write(&both, format!("{EVERY_FEATURE}{ORGANIZATION}")).unwrap();
    let cases: [(&std::path::Path, &[&str]); 3] = [(&single, &[]), (&both, &["--role", "hub"]), (&both, &["--role", "member"])];
    let mut used = std::collections::BTreeSet::new();
    for (file, role) in cases {
        let mut args = vec!["policy", "--config", file.to_str().unwrap(), "--snooze", "--for", "suggest", "--output", "json"];
        args.extend_from_slice(role);
        let run = account.run(&args);
        run.expect_code(0);
        let policy = run.stdout();
        assert!(actions(&run.json()).len() > 3, "{policy}");
        for (issue, named) in lint(&policy) {
            for action in &named {
                let allow = allowed.allow.iter().position(|a| a.issue == issue && &a.action == action);
                assert!(
                    allow.is_some(),
                    "parliament: {issue} on {named:?} ({role:?}); fix the policy or allow it with a reason:\n{policy}"
                );
                used.insert(allow.unwrap());
            }
        }
    }
    for (i, entry) in allowed.allow.iter().enumerate() {
        assert!(used.contains(&i), "allowed finding {} {} no longer arises: remove it", entry.issue, entry.action);
    }
}
