//! The IAM statements instances need.

use serde_json::{Value, json};

/// What schedules of instances need.
pub fn statements() -> Vec<Value> {
    vec![
        json!({
            "Sid": "ListInstances",
            "Effect": "Allow",
            "Action": ["ec2:DescribeInstances", "ec2:DescribeInstanceStatus"],
            "Resource": "*"
        }),
        json!({
            "Sid": "StartStopInstances",
            "Effect": "Allow",
            "Action": ["ec2:StartInstances", "ec2:StopInstances"],
            "Resource": "arn:aws:ec2:*:*:instance/*"
        }),
        // Starting an instance whose EBS volumes use a customer-managed KMS key needs
        // a grant for EC2; without it the instance silently falls back to stopped. Keys
        // only, and only grants for an AWS service.
        json!({
            "Sid": "StartInstancesWithEncryptedVolumes",
            "Effect": "Allow",
            "Action": ["kms:CreateGrant"],
            "Resource": "arn:aws:kms:*:*:key/*",
            "Condition": { "Bool": { "kms:GrantIsForAWSResource": "true" } }
        }),
    ]
}
