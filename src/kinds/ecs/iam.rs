//! The IAM statements ECS services need.

use serde_json::{Value, json};

const SERVICES: &str = "arn:aws:ecs:*:*:service/*";

/// What schedules of services need.
pub fn statements() -> Vec<Value> {
    vec![
        // The listings name no service (ListClusters names nothing at all), so only `*`
        // grants them; the describe names services and is granted on them.
        json!({ "Sid": "ListEcsServices", "Effect": "Allow", "Action": ["ecs:ListClusters", "ecs:ListServices"], "Resource": "*" }),
        json!({ "Sid": "ReadEcsServices", "Effect": "Allow", "Action": ["ecs:DescribeServices"], "Resource": SERVICES }),
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
        // A service's scalable target: read before a stop (the read has no resource-level
        // permission), set to 0..0 and suspended, restored at a start (an existing
        // target, granted on the scalable-target type).
        json!({
            "Sid": "ReadEcsServiceScaling",
            "Effect": "Allow",
            "Action": ["application-autoscaling:DescribeScalableTargets"],
            "Resource": "*"
        }),
        json!({
            "Sid": "HoldEcsServiceScaling",
            "Effect": "Allow",
            "Action": ["application-autoscaling:RegisterScalableTarget"],
            "Resource": "arn:aws:application-autoscaling:*:*:scalable-target/*"
        }),
    ]
}
