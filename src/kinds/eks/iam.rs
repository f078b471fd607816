//! The IAM statements EKS managed node groups need.

use serde_json::{Value, json};

const NODEGROUPS: &str = "arn:aws:eks:*:*:nodegroup/*";

/// What schedules of node groups need.
pub fn statements() -> Vec<Value> {
    vec![
        json!({
            "Sid": "ListEksNodegroups",
            "Effect": "Allow",
            "Action": ["eks:ListClusters", "eks:ListNodegroups", "eks:DescribeNodegroup"],
            "Resource": "*"
        }),
        json!({
            "Sid": "ScaleEksNodegroups",
            "Effect": "Allow",
            "Action": ["eks:UpdateNodegroupConfig"],
            "Resource": NODEGROUPS
        }),
        // The record of a node group's sizes is a tag on the node group; that tag only.
        crate::kinds::record::tag_statement(
            "RecordEksNodegroupSizes",
            &["eks:TagResource", "eks:UntagResource"],
            NODEGROUPS,
            super::RECORD_TAG,
        ),
    ]
}
