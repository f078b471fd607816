//! The IAM statements Auto Scaling groups need.

use serde_json::{Value, json};

/// What schedules of groups need.
pub fn statements() -> Vec<Value> {
    vec![
        json!({
            "Sid": "ListAutoScalingGroups",
            "Effect": "Allow",
            "Action": ["autoscaling:DescribeAutoScalingGroups"],
            "Resource": "*"
        }),
        // The record of a group's sizes is a tag on the group: written at a stop,
        // removed at a start.
        json!({
            "Sid": "ScaleAutoScalingGroups",
            "Effect": "Allow",
            "Action": ["autoscaling:UpdateAutoScalingGroup", "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"],
            "Resource": "arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*"
        }),
    ]
}
