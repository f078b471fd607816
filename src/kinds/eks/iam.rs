//! The IAM statements EKS managed node groups need.

use serde_json::{Value, json};

const NODEGROUPS: &str = "arn:aws:eks:*:*:nodegroup/*";

/// What schedules of node groups need.
pub fn statements() -> Vec<Value> {
    vec![
        // ListClusters names nothing (only `*` grants it); a cluster's node groups are
        // listed on the cluster and described on the node group.
        json!({ "Sid": "ListEksClusters", "Effect": "Allow", "Action": ["eks:ListClusters"], "Resource": "*" }),
        json!({ "Sid": "ListEksNodegroups", "Effect": "Allow", "Action": ["eks:ListNodegroups"], "Resource": "arn:aws:eks:*:*:cluster/*" }),
        json!({ "Sid": "ReadEksNodegroups", "Effect": "Allow", "Action": ["eks:DescribeNodegroup"], "Resource": NODEGROUPS }),
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
