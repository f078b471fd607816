//! The IAM statements DB instances and DB clusters need.

use serde_json::{Value, json};

const DB_INSTANCES: &str = "arn:aws:rds:*:*:db:*";
const DB_CLUSTERS: &str = "arn:aws:rds:*:*:cluster:*";

/// What schedules of DB instances need.
pub fn instance_statements() -> Vec<Value> {
    vec![
        // Describe calls are granted on the resource type (IAM evaluates a listing against
        // `db:*`), never on `*`.
        json!({ "Sid": "ListDbInstances", "Effect": "Allow", "Action": ["rds:DescribeDBInstances"], "Resource": DB_INSTANCES }),
        json!({
            "Sid": "StartStopDbInstances",
            "Effect": "Allow",
            "Action": ["rds:StartDBInstance", "rds:StopDBInstance"],
            "Resource": DB_INSTANCES
        }),
    ]
}

/// What schedules of DB clusters need.
pub fn cluster_statements() -> Vec<Value> {
    vec![
        // A cluster's size (what prices its off hours) is its members' classes, read with
        // DescribeDBInstances.
        json!({
            "Sid": "ListDbClusters",
            "Effect": "Allow",
            "Action": ["rds:DescribeDBClusters", "rds:DescribeDBInstances"],
            "Resource": [DB_CLUSTERS, DB_INSTANCES]
        }),
        json!({
            "Sid": "StartStopDbClusters",
            "Effect": "Allow",
            "Action": ["rds:StartDBCluster", "rds:StopDBCluster"],
            "Resource": DB_CLUSTERS
        }),
    ]
}
