//! The IAM statements ECS services need.

use serde_json::{Value, json};

const SERVICES: &str = "arn:aws:ecs:*:*:service/*";

/// What schedules of services need.
pub fn statements() -> Vec<Value> {
    vec![
        json!({
            "Sid": "ListEcsServices",
            "Effect": "Allow",
            "Action": ["ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices"],
            "Resource": "*"
        }),
        json!({
            "Sid": "ScaleEcsServices",
            "Effect": "Allow",
            "Action": ["ecs:UpdateService"],
            "Resource": SERVICES
        }),
        // The record of a service's count (and target) is a tag on the service; that
        // tag only.
        crate::kinds::record::tag_statement(
            "RecordEcsServiceCounts",
            &["ecs:TagResource", "ecs:UntagResource"],
            SERVICES,
            super::RECORD_TAG,
        ),
        // A service's scalable target: read before a stop, set to 0..0 and suspended,
        // restored at a start. Neither action has resource-level permissions for an
        // existing target's update.
        json!({
            "Sid": "HoldEcsServiceScaling",
            "Effect": "Allow",
            "Action": ["application-autoscaling:DescribeScalableTargets", "application-autoscaling:RegisterScalableTarget"],
            "Resource": "*"
        }),
    ]
}
