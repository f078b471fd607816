//! Redshift clusters against moto: paused and resumed, unchanged when already there,
//! another schedule's cluster left alone, the size recorded as node type and count,
//! and snoozed by its ARN.

use std::collections::BTreeMap;

use aws_sdk_redshift::types::Tag;
use serde_json::Value;

use crate::support::Account;

const WEST: &str = "eu-west-1";

const CONFIG: &str = r#"
regions = ["eu-west-1"]
verify_timeout = "20s"
db_verify_timeout = "60s"
kinds = ["redshift"]
[schedules.office]
start = "0 8 * * MON-FRI"
stop = "0 19 * * MON-FRI"
"#;

async fn cluster(account: &Account, id: &str, schedule: &str, nodes: i32) {
    let mut create = account
        .redshift(WEST)
        .create_cluster()
        .cluster_identifier(id)
        .node_type("ra3.xlplus")
        .master_username("admin")
        .master_user_password("Not-a-secret-1")
        .tags(Tag::builder().key("Schedule").value(schedule).build());
    create = if nodes > 1 { create.cluster_type("multi-node").number_of_nodes(nodes) } else { create.cluster_type("single-node") };
    create.send().await.expect("CreateCluster");
}

async fn status(account: &Account, id: &str) -> String {
    let out = account.redshift(WEST).describe_clusters().cluster_identifier(id).send().await.expect("DescribeClusters");
    out.clusters()[0].cluster_status().unwrap().to_string()
}

fn outcomes(json: &Value) -> BTreeMap<String, String> {
    json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r["outcome"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn clusters_pause_and_resume_and_another_schedule_s_are_left_alone() {
    let account = Account::new().await;
    cluster(&account, "warehouse", "office", 2).await;
    cluster(&account, "other", "nights", 1).await;
    let config = account.write_config(CONFIG);
    let c = config.to_str().unwrap();
    let apply = |action: &str| {
        let run = account.run(&["apply", "office", action, "--config", c, "--output", "json"]);
        run.expect_code(0);
        run.json()
    };

    let json = apply("stop");
    assert_eq!(outcomes(&json), BTreeMap::from([("warehouse".into(), "stopped".into())]), "{json}");
    let r = &json["results"][0];
    assert_eq!((r["kind"].as_str(), r["type"].as_str(), r["after"].as_str()), (Some("redshift"), Some("ra3.xlplus*2"), Some("paused")));
    assert_eq!(status(&account, "warehouse").await, "paused");
    assert_eq!(status(&account, "other").await, "available", "another schedule's cluster is not touched");

    assert_eq!(outcomes(&apply("stop")), BTreeMap::from([("warehouse".into(), "unchanged".into())]));
    assert_eq!(outcomes(&apply("start")), BTreeMap::from([("warehouse".into(), "started".into())]));
    assert_eq!(status(&account, "warehouse").await, "available");
    assert_eq!(outcomes(&apply("start")), BTreeMap::from([("warehouse".into(), "unchanged".into())]));

    // plan names the kind; snooze finds the cluster and tags it by its ARN.
    let plan = account.run(&["plan", "--config", c, "--output", "json"]);
    plan.expect_code(0);
    let planned = plan.json()["schedules"][0]["resources"].clone();
    assert_eq!(planned[0]["kind"], "redshift", "{planned}");
    account.run(&["snooze", "--config", c, "warehouse", "--for", "2h"]).expect_code(0);
    let arn = format!("arn:aws:redshift:{WEST}:{}:cluster:warehouse", account.id);
    let tags = account.redshift(WEST).describe_tags().resource_name(&arn).send().await.expect("DescribeTags");
    assert!(tags.tagged_resources().iter().any(|t| t.tag().and_then(|t| t.key()) == Some("offhours:skip")), "{tags:?}");
    assert_eq!(outcomes(&apply("stop")), BTreeMap::from([("warehouse".into(), "skipped".into())]), "a snoozed cluster is skipped");
}
