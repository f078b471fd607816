//! The IAM statements Auto Scaling groups need.

use serde_json::{Value, json};

const GROUPS: &str = "arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*";

/// What schedules of groups need.
pub fn statements() -> Vec<Value> {
    vec![
        json!({
            "Sid": "ListAutoScalingGroups",
            "Effect": "Allow",
            "Action": ["autoscaling:DescribeAutoScalingGroups"],
            "Resource": "*"
        }),
        json!({
            "Sid": "ScaleAutoScalingGroups",
            "Effect": "Allow",
            "Action": ["autoscaling:UpdateAutoScalingGroup"],
            "Resource": GROUPS
        }),
        // The record of a group's sizes is a tag on the group: written at a stop,
        // removed at a start; that tag only.
        crate::kinds::record::tag_statement(
            "RecordAutoScalingGroupSizes",
            &["autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"],
            GROUPS,
            super::RECORD_TAG,
        ),
    ]
}
