//! The IAM statements Redshift clusters need.

use serde_json::{Value, json};

/// What schedules of Redshift clusters need.
pub fn statements() -> Vec<Value> {
    vec![
        // Snapshots being taken are read to leave their clusters alone.
        json!({
            "Sid": "ListRedshiftClusters",
            "Effect": "Allow",
            "Action": ["redshift:DescribeClusters", "redshift:DescribeClusterSnapshots"],
            "Resource": "*"
        }),
        json!({
            "Sid": "PauseResumeRedshiftClusters",
            "Effect": "Allow",
            "Action": ["redshift:PauseCluster", "redshift:ResumeCluster"],
            "Resource": "arn:aws:redshift:*:*:cluster:*"
        }),
    ]
}
