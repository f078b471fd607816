//! `offhours audit-keys` against moto's IAM, with old keys made by moving a private
//! moto's clock back while they are created.

use std::collections::BTreeMap;

use aws_credential_types::Credentials;
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
