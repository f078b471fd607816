//! The IAM statements EKS managed node groups need.

use serde_json::{Value, json};

/// What schedules of node groups need.
pub fn statements() -> Vec<Value> {
    vec![
        json!({
            "Sid": "ListEksNodegroups",
            "Effect": "Allow",
            "Action": ["eks:ListClusters", "eks:ListNodegroups", "eks:DescribeNodegroup"],
            "Resource": "*"
        }),
        // The record of a node group's sizes is a tag on the node group.
        json!({
            "Sid": "ScaleEksNodegroups",
            "Effect": "Allow",
            "Action": ["eks:UpdateNodegroupConfig", "eks:TagResource", "eks:UntagResource"],
            "Resource": "arn:aws:eks:*:*:nodegroup/*"
        }),
    ]
}
