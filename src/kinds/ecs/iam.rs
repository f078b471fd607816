//! The IAM statements ECS services need.

use serde_json::{Value, json};

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
            "Action": ["ecs:UpdateService", "ecs:TagResource", "ecs:UntagResource"],
            "Resource": "arn:aws:ecs:*:*:service/*"
        }),
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
