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
