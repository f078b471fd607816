//! The IAM statements DB instances and DB clusters need.

use serde_json::{Value, json};

/// What schedules of DB instances need.
pub fn instance_statements() -> Vec<Value> {
    vec![
        json!({ "Sid": "ListDbInstances", "Effect": "Allow", "Action": ["rds:DescribeDBInstances"], "Resource": "*" }),
        json!({
            "Sid": "StartStopDbInstances",
            "Effect": "Allow",
            "Action": ["rds:StartDBInstance", "rds:StopDBInstance"],
            "Resource": "arn:aws:rds:*:*:db:*"
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
            "Resource": "*"
        }),
        json!({
            "Sid": "StartStopDbClusters",
            "Effect": "Allow",
            "Action": ["rds:StartDBCluster", "rds:StopDBCluster"],
            "Resource": "arn:aws:rds:*:*:cluster:*"
        }),
    ]
}
