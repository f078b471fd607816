//! EC2 instances: what their states mean, which instances are never touched, and
//! hibernation.

pub mod aws;
mod iam;
pub mod price;

use super::{Adapter, Facts, Pricing, ResourceKind, Verify};
use crate::model::{Action, Asks, Kind, KindInfo, Mode, Phase, Resource};
use crate::model::{Measure, MetricQuery};

pub const KIND: Kind = Kind::new(&KindInfo { rank: 0, name: "ec2", noun: "instance", id_prefix: Some("i-"), logs_instance_id: true });

/// Tag that EC2 Auto Scaling puts on its members: offhours never touches them (the
/// group would replace a stopped member).
/// A stop that hibernates the instance (`hibernate = true`, where it is configured).
pub const HIBERNATE: Mode = Mode { name: "hibernate", stopped: crate::model::Outcome::Hibernated };

pub const ASG_TAG: &str = "aws:autoscaling:groupName";

const FACTS: Facts = Facts {
    kind: KIND,
    service: aws::SERVICE,
    started: "running",
    stopped: "stopped",
    verify: Verify::Default,
    snooze_actions: &["ec2:CreateTags", "ec2:DeleteTags", "ec2:DescribeInstances"],
    snooze_resource: "arn:aws:ec2:*:*:instance/*",
    snooze_reads_on_resource: &[],
};

/// What only an instance has.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InstanceDetail {
    /// `ebs` or `instance-store`.
    pub root_device_type: Option<String>,
    /// `spot` or `capacity-block` for those; absent for on-demand.
    pub lifecycle: Option<String>,
    pub hibernation_configured: bool,
}

pub fn phase(state: &str) -> Phase {
    match state {
        "running" => Phase::Running,
        "stopped" => Phase::Stopped,
        "shutting-down" | "terminated" => Phase::Gone,
        _ => Phase::Transitional,
    }
}

/// Auto Scaling group members, instance-store roots and spot instances are left alone.
pub fn skip(r: &Resource) -> Option<String> {
    if let Some(group) = r.tags.get(ASG_TAG) {
        return Some(format!("member of auto scaling group {group}"));
    }
    let d = r.detail.get::<InstanceDetail>()?;
    if d.root_device_type.as_deref() == Some("instance-store") {
        return Some("instance-store root device cannot be stopped".into());
    }
    if d.lifecycle.as_deref() == Some("spot") {
        return Some("spot instance".into());
    }
    None
}

/// The EC2 instance kind.
pub struct Instances;

impl ResourceKind for Instances {
    fn facts(&self) -> &Facts {
        &FACTS
    }

    fn phase(&self, r: &Resource) -> Phase {
        phase(&r.state)
    }

    fn skip(&self, r: &Resource, _action: Action) -> Option<String> {
        skip(r)
    }

    fn mode(&self, r: &Resource, action: Action, asks: Asks) -> (Mode, Option<String>) {
        if action == Action::Stop && asks.hibernate {
            if r.detail.get::<InstanceDetail>().is_some_and(|d| d.hibernation_configured) {
                return (HIBERNATE, None);
            }
            return (Mode::PLAIN, Some("hibernation is not configured on this instance: a normal stop instead".to_string()));
        }
        (Mode::PLAIN, None)
    }

    fn adapter(&self) -> &'static dyn Adapter {
        &aws::Calls
    }

    fn pricing(&self) -> &'static dyn Pricing {
        &price::Linux
    }

    fn iam_statements(&self) -> Vec<serde_json::Value> {
        iam::statements()
    }

    /// CPU, and network in and out (summed: an instance serving traffic is busy).
    fn metrics(&self, r: &Resource) -> Vec<MetricQuery> {
        let id = || vec![("InstanceId", r.id.clone())];
        vec![
            MetricQuery::new("AWS/EC2", "CPUUtilization", id(), "Average", Measure::Cpu),
            MetricQuery::new("AWS/EC2", "NetworkIn", id(), "Sum", Measure::Network),
            MetricQuery::new("AWS/EC2", "NetworkOut", id(), "Sum", Measure::Network),
        ]
    }
}
