//! EKS managed node groups against moto (its TagResource extended to node groups in
//! tests/moto/server.py, as real EKS tags them): scaled to zero with max kept and the
//! sizes recorded on the node group, restored exactly, unchanged when already there.

use std::collections::BTreeMap;

use aws_sdk_eks::types::NodegroupScalingConfig;
use serde_json::Value;

use crate::support::Account;

const WEST: &str = "eu-west-1";

const CONFIG: &str = r#"
regions = ["eu-west-1"]
verify_timeout = "20s"
db_verify_timeout = "60s"
kinds = ["eks-nodegroup"]
[schedules.office]
start = "0 8 * * MON-FRI"
stop = "0 19 * * MON-FRI"
"#;

async fn node_group(account: &Account, cluster: &str, name: &str, schedule: &str) {
    let eks = account.eks(WEST);
    let role = format!("arn:aws:iam::{}:role/eks", account.id);
    if eks.describe_cluster().name(cluster).send().await.is_err() {
        let vpc = aws_sdk_eks::types::VpcConfigRequest::builder().subnet_ids("subnet-1").build();
        eks.create_cluster().name(cluster).role_arn(&role).resources_vpc_config(vpc).send().await.expect("CreateCluster");
    }
    eks.create_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .node_role(&role)
        .subnets("subnet-1")
        .scaling_config(NodegroupScalingConfig::builder().min_size(1).max_size(4).desired_size(2).build())
        .instance_types("t3.large")
        .tags("Schedule", schedule)
        .send()
        .await
        .expect("CreateNodegroup");
}

/// (min, max, desired) and the record tag.
async fn sizes(account: &Account, cluster: &str, name: &str) -> ((i32, i32, i32), Option<String>) {
    let out = account.eks(WEST).describe_nodegroup().cluster_name(cluster).nodegroup_name(name).send().await.expect("DescribeNodegroup");
    let g = out.nodegroup().unwrap();
    let s = g.scaling_config().unwrap();
    let record = g.tags().and_then(|t| t.get("offhours:eks-sizes")).cloned();
    ((s.min_size().unwrap(), s.max_size().unwrap(), s.desired_size().unwrap()), record)
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
async fn node_groups_scale_to_zero_keeping_max_and_come_back_exactly() {
    let account = Account::new().await;
    node_group(&account, "dev", "workers", "office").await;
    node_group(&account, "dev", "batch", "nights").await;
    let config = account.write_config(CONFIG);
    let c = config.to_str().unwrap();
    let apply = |action: &str| {
        let run = account.run(&["apply", "office", action, "--config", c, "--output", "json"]);
        run.expect_code(0);
        (run.json(), run.stderr())
    };
    let one = |outcome: &str| BTreeMap::from([("dev/workers".to_string(), outcome.to_string())]);

    let (json, log) = apply("stop");
    assert_eq!(outcomes(&json), one("stopped"), "{json}");
    assert_eq!(json["results"][0]["type"], "t3.large*2", "priced as its two on-demand instances");
    assert!(log.contains("max kept at 4 (EKS requires max >= 1)"), "{log}");
    assert_eq!(sizes(&account, "dev", "workers").await, ((0, 4, 0), Some("min=1,max=4,desired=2".into())));
    assert_eq!(sizes(&account, "dev", "batch").await, ((1, 4, 2), None), "another schedule's node group is not touched");

    assert_eq!(outcomes(&apply("stop").0), one("unchanged"));
    let (json, _) = apply("start");
    assert_eq!(outcomes(&json), one("started"));
    assert_eq!(json["results"][0]["type"], "t3.large*2", "while at 0, the recorded nodes");
    assert_eq!(sizes(&account, "dev", "workers").await, ((1, 4, 2), None), "restored exactly, the record removed");
    assert_eq!(outcomes(&apply("start").0), one("unchanged"));
}
