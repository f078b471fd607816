//! The least-privilege IAM policy offhours needs: exactly the API actions its code
//! calls, for the features the file turns on. A test checks it against the adapters.

use serde_json::{Value, json};

use crate::config::Config;
use crate::kinds::Kind;

/// Which statements a deployment needs.
#[derive(Debug, Clone)]
pub struct Features {
    /// Any schedule at all (the region check).
    pub schedules: bool,
    /// The kinds some schedule acts on, by [`Kind::ALL`] position.
    pub kinds: [bool; 5],
    pub billing_alarm: bool,
    pub iam_audit: bool,
    /// The audit may set keys Inactive (`deactivate = true` or `--deactivate`).
    pub iam_deactivate: bool,
    /// The SNS topic notifications are published to (`[notify] sns_topic_arn`); `*`
    /// when no file says which.
    pub notify_topic: Option<String>,
    /// `offhours snooze`: the override tag written on every kind (for the people who
    /// snooze; the daemon never does).
    pub snooze: bool,
}

impl Features {
    /// Everything offhours can do: the policy to use when no file is at hand.
    pub fn all() -> Features {
        Features {
            schedules: true,
            kinds: [true; 5],
            billing_alarm: true,
            iam_audit: true,
            iam_deactivate: true,
            notify_topic: Some("arn:aws:sns:*:*:*".into()),
            snooze: true,
        }
    }

    pub fn of(config: &Config) -> Self {
        let uses = |kind: Kind| config.schedules.iter().any(|s| s.kinds.contains(&kind));
        Features {
            schedules: !config.schedules.is_empty(),
            kinds: Kind::ALL.map(uses),
            billing_alarm: config.billing_alarm.is_some(),
            iam_audit: config.iam_audit.is_some(),
            // `--deactivate` can turn it on from the command line: grant it with the audit.
            iam_deactivate: config.iam_audit.is_some(),
            notify_topic: config.notify.as_ref().and_then(|n| n.sns.as_ref()).map(|t| t.topic_arn.clone()),
            snooze: false,
        }
    }

    fn uses(&self, kind: Kind) -> bool {
        Kind::ALL.iter().zip(self.kinds).any(|(k, on)| *k == kind && on)
    }
}

/// Every API action the code calls, as `service:Action`; the statements below are
/// built from this list so that the two cannot drift apart.
pub const ACTIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceStatus",
    "ec2:DescribeRegions",
    "ec2:StartInstances",
    "ec2:StopInstances",
    "rds:DescribeDBInstances",
    "rds:StartDBInstance",
    "rds:StopDBInstance",
    "rds:DescribeDBClusters",
    "rds:StartDBCluster",
    "rds:StopDBCluster",
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:UpdateAutoScalingGroup",
    "autoscaling:CreateOrUpdateTags",
    "autoscaling:DeleteTags",
    "ecs:ListClusters",
    "ecs:ListServices",
    "ecs:DescribeServices",
    "ecs:UpdateService",
    "ecs:TagResource",
    "ecs:UntagResource",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:ListTagsForResource",
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:ListMetrics",
    "sns:ListSubscriptionsByTopic",
    "sns:Publish",
    "ec2:CreateTags",
    "ec2:DeleteTags",
    "rds:AddTagsToResource",
    "rds:RemoveTagsFromResource",
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
    "iam:ListAccessKeys",
    "iam:GetAccessKeyLastUsed",
    "iam:ListUserTags",
    "iam:UpdateAccessKey",
    "sts:GetCallerIdentity",
];

/// Calls that need no permission (not in the policy).
pub const UNRESTRICTED: &[&str] = &["sts:GetCallerIdentity"];

/// Permissions AWS checks behind a call without it being a call of its own.
pub const IMPLIED: &[&str] = &["kms:CreateGrant", "cloudwatch:TagResource"];

/// The policy document, as JSON.
pub fn document(features: Features) -> Value {
    let mut statements = Vec::new();
    if features.schedules {
        statements.push(json!({
            "Sid": "CheckRegions",
            "Effect": "Allow",
            "Action": ["ec2:DescribeRegions"],
            "Resource": "*"
        }));
    }
    if features.uses(Kind::Ec2) {
        statements.push(json!({
            "Sid": "ListInstances",
            "Effect": "Allow",
            "Action": ["ec2:DescribeInstances", "ec2:DescribeInstanceStatus"],
            "Resource": "*"
        }));
        statements.push(json!({
            "Sid": "StartStopInstances",
            "Effect": "Allow",
            "Action": ["ec2:StartInstances", "ec2:StopInstances"],
            "Resource": "arn:aws:ec2:*:*:instance/*"
        }));
        // Starting an instance whose EBS volumes use a customer-managed KMS key needs
        // a grant for EC2; without it the instance silently falls back to stopped.
        statements.push(json!({
            "Sid": "StartInstancesWithEncryptedVolumes",
            "Effect": "Allow",
            "Action": ["kms:CreateGrant"],
            "Resource": "*",
            "Condition": { "Bool": { "kms:GrantIsForAWSResource": "true" } }
        }));
    }
    if features.uses(Kind::Rds) {
        statements.push(json!({ "Sid": "ListDbInstances", "Effect": "Allow", "Action": ["rds:DescribeDBInstances"], "Resource": "*" }));
        statements.push(json!({
            "Sid": "StartStopDbInstances",
            "Effect": "Allow",
            "Action": ["rds:StartDBInstance", "rds:StopDBInstance"],
            "Resource": "arn:aws:rds:*:*:db:*"
        }));
    }
    if features.uses(Kind::RdsCluster) {
        statements.push(json!({ "Sid": "ListDbClusters", "Effect": "Allow", "Action": ["rds:DescribeDBClusters"], "Resource": "*" }));
        statements.push(json!({
            "Sid": "StartStopDbClusters",
            "Effect": "Allow",
            "Action": ["rds:StartDBCluster", "rds:StopDBCluster"],
            "Resource": "arn:aws:rds:*:*:cluster:*"
        }));
    }
    if features.uses(Kind::Asg) {
        statements.push(json!({
            "Sid": "ListAutoScalingGroups",
            "Effect": "Allow",
            "Action": ["autoscaling:DescribeAutoScalingGroups"],
            "Resource": "*"
        }));
        // The record of a group's sizes is a tag on the group: written at a stop,
        // removed at a start.
        statements.push(json!({
            "Sid": "ScaleAutoScalingGroups",
            "Effect": "Allow",
            "Action": ["autoscaling:UpdateAutoScalingGroup", "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"],
            "Resource": "arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*"
        }));
    }
    if features.uses(Kind::Ecs) {
        statements.push(json!({
            "Sid": "ListEcsServices",
            "Effect": "Allow",
            "Action": ["ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices"],
            "Resource": "*"
        }));
        statements.push(json!({
            "Sid": "ScaleEcsServices",
            "Effect": "Allow",
            "Action": ["ecs:UpdateService", "ecs:TagResource", "ecs:UntagResource"],
            "Resource": "arn:aws:ecs:*:*:service/*"
        }));
    }
    if features.billing_alarm {
        // PutMetricAlarm with tags also needs cloudwatch:TagResource.
        statements.push(json!({
            "Sid": "BillingAlarm",
            "Effect": "Allow",
            "Action": [
                "cloudwatch:DescribeAlarms",
                "cloudwatch:ListTagsForResource",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:TagResource",
                "cloudwatch:ListMetrics"
            ],
            "Resource": "*"
        }));
        statements.push(json!({
            "Sid": "BillingAlarmTopic",
            "Effect": "Allow",
            "Action": ["sns:ListSubscriptionsByTopic"],
            "Resource": "*"
        }));
    }
    if features.iam_audit {
        statements.push(json!({
            "Sid": "AccessKeyAudit",
            "Effect": "Allow",
            "Action": [
                "iam:GenerateCredentialReport",
                "iam:GetCredentialReport",
                "iam:ListAccessKeys",
                "iam:GetAccessKeyLastUsed",
                "iam:ListUserTags"
            ],
            "Resource": "*"
        }));
    }
    if features.iam_deactivate {
        statements.push(json!({
            "Sid": "DeactivateStaleAccessKeys",
            "Effect": "Allow",
            "Action": ["iam:UpdateAccessKey"],
            "Resource": "arn:aws:iam::*:user/*"
        }));
    }
    if let Some(topic) = &features.notify_topic {
        statements.push(json!({ "Sid": "Notify", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": topic }));
    }
    if features.snooze {
        // The override tag, on every kind (ASG and ECS tags are granted with their kinds).
        statements.push(json!({
            "Sid": "Snooze",
            "Effect": "Allow",
            "Action": ["ec2:CreateTags", "ec2:DeleteTags", "rds:AddTagsToResource", "rds:RemoveTagsFromResource", "rds:DescribeDBInstances", "rds:DescribeDBClusters", "autoscaling:DescribeAutoScalingGroups", "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags", "ecs:DescribeServices", "ecs:TagResource", "ecs:UntagResource", "ec2:DescribeInstances"],
            "Resource": "*"
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actions(doc: &Value) -> Vec<String> {
        let mut out: Vec<String> = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()))
            .filter(|a| !IMPLIED.contains(&a.as_str()))
            .collect();
        out.sort();
        out
    }

    /// Every operation an adapter names in its error classification is in the policy,
    /// and the policy grants nothing the adapters do not call (but the implied ones).
    #[test]
    fn policy_matches_the_calls_in_the_adapters() {
        let mut called = Vec::new();
        for source in [
            include_str!("aws/ec2.rs"),
            include_str!("aws/rds.rs"),
            include_str!("aws/asg.rs"),
            include_str!("aws/ecs.rs"),
            include_str!("aws/cloudwatch.rs"),
            include_str!("aws/iam.rs"),
            include_str!("aws/sns.rs"),
        ] {
            for part in source.split("from_sdk(\"").skip(1) {
                called.push(part.split('"').next().unwrap().to_string());
            }
        }
        called.sort();
        called.dedup();
        let mut listed: Vec<String> = ACTIONS.iter().map(|a| a.split(':').nth(1).unwrap().to_string()).collect();
        listed.sort();
        // One operation name can belong to two services (ec2 and autoscaling DeleteTags).
        listed.dedup();
        assert_eq!(called, listed, "ACTIONS must list exactly the operations the adapters call");
        let mut all: Vec<String> = ACTIONS.iter().filter(|a| !UNRESTRICTED.contains(a)).map(|s| s.to_string()).collect();
        all.sort();
        let mut granted = actions(&document(Features::all()));
        granted.dedup();
        assert_eq!(granted, all);
    }
}

#[cfg(test)]
mod kinds_tests {
    use super::*;
    use crate::config::{HostTimezone, from_str};

    fn actions_for(text: &str) -> Vec<String> {
        let config = from_str(text, "t.toml", &HostTimezone::fixed(chrono_tz::UTC)).unwrap();
        let doc = document(Features::of(&config));
        let mut out: Vec<String> = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_policy_grants_exactly_the_kinds_in_use() {
        let ec2_only = actions_for("[schedules.a]\nstart = \"0 8 * * *\"\n");
        assert!(ec2_only.iter().all(|a| a.starts_with("ec2:") || a == "kms:CreateGrant"), "{ec2_only:?}");
        let asg = actions_for("[schedules.a]\nstart = \"0 8 * * *\"\nkinds = [\"asg\"]\n");
        assert_eq!(
            asg,
            vec![
                "autoscaling:CreateOrUpdateTags",
                "autoscaling:DeleteTags",
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:UpdateAutoScalingGroup",
                "ec2:DescribeRegions"
            ]
        );
        let mixed = actions_for(
            "kinds = [\"rds\"]\n[schedules.a]\nstart = \"0 8 * * *\"\n[schedules.b]\nstop = \"0 8 * * *\"\nkinds = [\"ecs\"]\n",
        );
        assert!(mixed.contains(&"rds:StopDBInstance".to_string()) && mixed.contains(&"ecs:UpdateService".to_string()), "{mixed:?}");
        assert!(!mixed.iter().any(|a| a.starts_with("rds:") && a.contains("Cluster")), "{mixed:?}");
        assert!(!mixed.contains(&"ec2:StopInstances".to_string()), "{mixed:?}");
    }
}

#[cfg(test)]
mod notify_tests {
    use super::*;
    use crate::config::{HostTimezone, from_str};

    #[test]
    fn publish_is_granted_on_the_configured_topic_only_and_snooze_only_when_asked() {
        let text = "[schedules.a]\nstart = \"0 8 * * *\"\n[notify]\nsns_topic_arn = \"arn:aws:sns:eu-west-1:123456789012:ops\"\n";
        let config = from_str(text, "t.toml", &HostTimezone::fixed(chrono_tz::UTC)).unwrap();
        let doc = document(Features::of(&config));
        let statements = doc["Statement"].as_array().unwrap();
        let notify = statements.iter().find(|s| s["Sid"] == "Notify").expect("a Notify statement");
        assert_eq!(notify["Action"], json!(["sns:Publish"]));
        assert_eq!(notify["Resource"], "arn:aws:sns:eu-west-1:123456789012:ops");
        assert!(!statements.iter().any(|s| s["Sid"] == "Snooze"), "the daemon never snoozes");
        let mut with_snooze = Features::of(&config);
        with_snooze.snooze = true;
        assert!(document(with_snooze)["Statement"].as_array().unwrap().iter().any(|s| s["Sid"] == "Snooze"));
        let plain = from_str("[schedules.a]\nstart = \"0 8 * * *\"\n", "t.toml", &HostTimezone::fixed(chrono_tz::UTC)).unwrap();
        assert!(!document(Features::of(&plain)).to_string().contains("sns:Publish"));
    }
}
