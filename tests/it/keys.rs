//! `offhours audit-keys` against moto's IAM, with old keys made by moving a private
//! moto's clock back while they are created.

use std::collections::{BTreeMap, BTreeSet};

use aws_credential_types::Credentials;
use chrono::Timelike;
use serde_json::Value;

use crate::support::{Account, PrivateMoto};

async fn user_with_key(account: &Account, user: &str) -> (String, String) {
    let iam = aws_sdk_iam::Client::new(&account_config(account, &account.creds));
    iam.create_user().user_name(user).send().await.unwrap();
    let key = iam.create_access_key().user_name(user).send().await.unwrap();
    let k = key.access_key().unwrap();
    (k.access_key_id().to_string(), k.secret_access_key().to_string())
}

fn account_config(account: &Account, creds: &Credentials) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&account.endpoint)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds.clone()))
        .build()
}

/// access key id -> status, for every key of these users.
async fn statuses(account: &Account, users: &[&str]) -> BTreeMap<String, String> {
    let iam = aws_sdk_iam::Client::new(&account_config(account, &account.creds));
    let mut out = BTreeMap::new();
    for user in users {
        for k in iam.list_access_keys().user_name(*user).send().await.unwrap().access_key_metadata() {
            out.insert(k.access_key_id().unwrap().to_string(), k.status().unwrap().as_str().to_string());
        }
    }
    out
}

/// (user, rule, action) of every finding.
fn summary(json: &Value) -> Vec<(String, String, String)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["user"] != "<root_account>")
        .map(|f| (f["user"].as_str().unwrap().into(), f["rule"].as_str().unwrap().into(), f["action"].as_str().unwrap().into()))
        .collect()
}

fn row(user: &str, rule: &str, action: &str) -> (String, String, String) {
    (user.into(), rule.into(), action.into())
}

#[tokio::test]
async fn the_audit_finds_stale_keys_and_deactivates_only_what_it_may() {
    let moto = PrivateMoto::start();
    let account = Account::new_on(&moto.endpoint).await;
    const OLD: [&str; 7] = ["alice", "bob", "carol", "dave", "erin", "frank", "ops"];
    // Keys created 200 days ago.
    moto.set_clock(Some(&(chrono::Utc::now() - chrono::TimeDelta::days(200)).to_rfc3339()));
    let mut keys = BTreeMap::new();
    for user in OLD {
        keys.insert(user, user_with_key(&account, user).await);
    }
    moto.set_clock(None);
    let iam = aws_sdk_iam::Client::new(&account_config(&account, &account.creds));
    iam.tag_user()
        .user_name("dave")
        .tags(aws_sdk_iam::types::Tag::builder().key("offhours:exempt").value("yes").build().unwrap())
        .send()
        .await
        .unwrap();
    keys.insert("newbie", user_with_key(&account, "newbie").await);
    // bob's key is in use: a request signed with it today.
    let (bob_id, bob_secret) = &keys["bob"];
    let bob = Credentials::new(bob_id, bob_secret, None, None, "bob");
    aws_sdk_sts::Client::new(&account_config(&account, &bob)).get_caller_identity().send().await.unwrap();

    let path = account.write_config(
        "timezone = \"Europe/Berlin\"\n[iam_audit]\nmax_deactivations_per_run = 3\nexempt_users = [\"carol\"]\nexempt_tag = \"offhours:exempt\"\n",
    );
    // offhours runs as `ops`, with ops's own (old, stale) key.
    let (ops_id, ops_secret) = keys["ops"].clone();
    let run_as_ops = |args: &[&str]| {
        let mut cmd = account.offhours(args);
        cmd.env("AWS_ACCESS_KEY_ID", &ops_id).env("AWS_SECRET_ACCESS_KEY", &ops_secret).env_remove("AWS_SESSION_TOKEN");
        let output = cmd.output().unwrap();
        crate::support::Run { output, elapsed: std::time::Duration::ZERO }
    };
    let p = path.to_str().unwrap();

    // Report only.
    let run = run_as_ops(&["audit-keys", "--config", p, "--output", "json"]);
    run.expect_code(0);
    let json = run.json();
    let mut want = Vec::new();
    for user in OLD {
        want.push(row(user, "key-too-old", "none"));
    }
    for user in OLD.iter().filter(|u| **u != "bob" && **u != "ops") {
        want.push(row(user, "key-unused", "none"));
    }
    let got = summary(&json);
    assert_eq!(got, want, "{json}");
    let alice = &json["findings"].as_array().unwrap().iter().find(|f| f["user"] == "alice").unwrap();
    assert_eq!(alice["access_key_id"], keys["alice"].0.as_str());
    assert_eq!(alice["severity"], "high");
    assert_eq!(alice["age_days"], 200);
    let created = alice["created"].as_str().unwrap();
    assert!(created.ends_with("+01:00") || created.ends_with("+02:00"), "times in the configured zone (Berlin): {alice}");
    let ops = json["findings"].as_array().unwrap().iter().find(|f| f["user"] == "ops").unwrap();
    assert_eq!(ops["own_key"], true);
    let before = statuses(&account, &OLD).await;

    // Dry run: what would be done, nothing changed.
    let run = run_as_ops(&["audit-keys", "--config", p, "--deactivate", "--dry-run", "--output", "json"]);
    run.expect_code(0);
    let actions: BTreeMap<String, String> =
        summary(&run.json()).into_iter().filter(|(_, r, _)| r == "key-too-old").map(|(u, _, a)| (u, a)).collect();
    let expected: BTreeMap<String, String> = [
        ("alice", "would-deactivate"),
        ("bob", "would-deactivate"),
        ("carol", "exempt"),
        ("dave", "exempt"),
        ("erin", "would-deactivate"),
        ("frank", "none"),
        ("ops", "protected"),
    ]
    .iter()
    .map(|(u, a)| (u.to_string(), a.to_string()))
    .collect();
    assert_eq!(actions, expected);
    assert_eq!(statuses(&account, &OLD).await, before, "dry run changed a key");

    // For real: exactly alice, bob and erin (the cap is 3), never carol, dave or ops.
    let run = run_as_ops(&["audit-keys", "--config", p, "--deactivate", "--output", "json"]);
    run.expect_code(0);
    let after = statuses(&account, &OLD).await;
    for user in OLD {
        let want = if ["alice", "bob", "erin"].contains(&user) { "Inactive" } else { "Active" };
        assert_eq!(after[&keys[user].0], want, "{user}");
    }
    assert!(
        run.stderr().contains(&format!("aws iam update-access-key --user-name alice --access-key-id {} --status Active", keys["alice"].0)),
        "undo command logged"
    );
    let frank = run.json()["findings"].as_array().unwrap().iter().find(|f| f["user"] == "frank").unwrap().clone();
    assert_eq!(frank["note"], "max_deactivations_per_run = 3 reached");
}

/// Two access keys of a new `user` made back to back with moto's clock at a whole
/// second 100 days ago, so that both carry the same creation second (asserted: the
/// condition the tests below are about). Returns both (id, secret), oldest first.
async fn same_second_keys(moto: &PrivateMoto, account: &Account, user: &str) -> [(String, String); 2] {
    let iam = aws_sdk_iam::Client::new(&account_config(account, &account.creds));
    iam.create_user().user_name(user).send().await.unwrap();
    let at = (chrono::Utc::now() - chrono::TimeDelta::days(100)).with_nanosecond(0).unwrap();
    moto.set_clock(Some(&at.to_rfc3339()));
    let mut made = Vec::new();
    for _ in 0..2 {
        let out = iam.create_access_key().user_name(user).send().await.unwrap();
        let k = out.access_key().unwrap();
        made.push((k.access_key_id().to_string(), k.secret_access_key().to_string()));
    }
    moto.set_clock(None);
    let listed = iam.list_access_keys().user_name(user).send().await.unwrap();
    let seconds: Vec<i64> = listed.access_key_metadata().iter().map(|k| k.create_date().unwrap().secs()).collect();
    assert_eq!(seconds, [at.timestamp(), at.timestamp()], "both keys of {user} made in the same second");
    [made[0].clone(), made[1].clone()]
}

/// rule -> the access key ids its findings about `user` name (in order, repeats kept).
fn ids_by_rule(json: &Value, user: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in json["findings"].as_array().unwrap().iter().filter(|f| f["user"] == user) {
        out.entry(f["rule"].as_str().unwrap().to_string()).or_default().push(f["access_key_id"].as_str().unwrap().to_string());
    }
    out
}

/// The stale findings about `user` (rule, key id, action), in output order.
fn stale_actions(json: &Value, user: &str) -> Vec<(String, String, String)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["user"] == user && (f["rule"] == "key-too-old" || f["rule"] == "key-unused"))
        .map(|f| (f["rule"].as_str().unwrap().into(), f["access_key_id"].as_str().unwrap().into(), f["action"].as_str().unwrap().into()))
        .collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[tokio::test]
async fn keys_made_in_the_same_second_are_each_named_and_each_deactivated() {
    let moto = PrivateMoto::start();
    let account = Account::new_on(&moto.endpoint).await;
    let [(a, _), (b, _)] = same_second_keys(&moto, &account, "twin").await;
    let path = account.write_config("[iam_audit]\nmax_deactivations_per_run = 10\n");
    let p = path.to_str().unwrap();

    let run = account.run(&["audit-keys", "--config", p, "--output", "json"]);
    run.expect_code(0);
    let json = run.json();
    let by_rule = ids_by_rule(&json, "twin");
    let both = sorted(vec![a.clone(), b.clone()]);
    // Each key exactly once per stale rule: neither named twice nor left out.
    assert_eq!(sorted(by_rule["key-too-old"].clone()), both, "{json}");
    assert_eq!(sorted(by_rule["key-unused"].clone()), both, "{json}");
    for (rule, ids) in &by_rule {
        assert_eq!(ids.len(), ids.iter().collect::<BTreeSet<_>>().len(), "{rule} names a key twice");
    }
    assert_eq!(by_rule["two-active-keys"].len(), 1);
    for f in json["findings"].as_array().unwrap().iter().filter(|f| f["user"] == "twin") {
        assert_eq!(f["source"], "access-keys", "{f}");
        assert_eq!(f["slot"], Value::Null, "{f}");
    }
    // One event says why, naming the user.
    let stderr = run.stderr();
    let why: Vec<&str> = stderr.lines().filter(|l| l.contains("Access keys judged one by one")).collect();
    assert_eq!(why.len(), 1, "{stderr}");
    assert!(why[0].contains("user=twin reason=two keys were created in the same second"), "{stderr}");

    let run = account.run(&["audit-keys", "--config", p, "--deactivate", "--output", "json"]);
    run.expect_code(0);
    let json = run.json();
    let mut acted: Vec<(String, String, String)> = stale_actions(&json, "twin");
    acted.sort_by(|x, y| (&x.1, &x.0).cmp(&(&y.1, &y.0)));
    // Each key: switched off on its first finding, the same key's second one says so.
    let mut want = Vec::new();
    for id in &both {
        want.push(("key-too-old".to_string(), id.clone(), "deactivated".to_string()));
        want.push(("key-unused".to_string(), id.clone(), "none".to_string()));
    }
    assert_eq!(acted, want, "{json}");
    let after = statuses(&account, &["twin"]).await;
    assert_eq!(after[&a], "Inactive");
    assert_eq!(after[&b], "Inactive");
    for id in [&a, &b] {
        assert!(
            run.stderr().contains(&format!("aws iam update-access-key --user-name twin --access-key-id {id} --status Active")),
            "undo command for {id} logged"
        );
    }
}

#[tokio::test]
async fn of_two_keys_made_in_the_same_second_only_the_unused_one_is_deactivated() {
    let moto = PrivateMoto::start();
    let account = Account::new_on(&moto.endpoint).await;
    // The first key is the one a service uses (a slot-by-order guess would name it
    // for the other's finding too).
    let [(used, used_secret), (unused, _)] = same_second_keys(&moto, &account, "pair").await;
    let creds = Credentials::new(&used, &used_secret, None, None, "pair");
    aws_sdk_sts::Client::new(&account_config(&account, &creds)).get_caller_identity().send().await.unwrap();
    // 100 days is no age finding here: only disuse is.
    let path = account.write_config("[iam_audit]\nmax_key_age_days = 365\nmax_deactivations_per_run = 10\n");
    let p = path.to_str().unwrap();

    let run = account.run(&["audit-keys", "--config", p, "--output", "json"]);
    run.expect_code(0);
    let json = run.json();
    let stale = stale_actions(&json, "pair");
    assert_eq!(stale, [("key-unused".to_string(), unused.clone(), "none".to_string())], "{json}");
    let finding = json["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "key-unused").unwrap();
    assert_eq!(finding["source"], "access-keys");
    assert_eq!(finding["last_used"], Value::Null);

    let run = account.run(&["audit-keys", "--config", p, "--deactivate", "--output", "json"]);
    run.expect_code(0);
    assert_eq!(stale_actions(&run.json(), "pair"), [("key-unused".to_string(), unused.clone(), "deactivated".to_string())]);
    let after = statuses(&account, &["pair"]).await;
    assert_eq!(after[&unused], "Inactive");
    assert_eq!(after[&used], "Active", "the key in use stays on");
}
