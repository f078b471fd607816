//! Auto Scaling groups: a stop records min / max / desired in a tag on the group and
//! sets all three to 0; a start restores exactly the recorded sizes and removes the tag.

pub mod aws;
mod iam;

use super::{Adapter, Facts, NotPriced, Pricing, ResourceKind, Rules, Verify};
use crate::model::{Action, Kind, KindInfo, Phase, Resource};
use crate::model::{Measure, MetricQuery};

pub const KIND: Kind = Kind::new(&KindInfo { rank: 3, name: "asg", noun: "Auto Scaling group", id_prefix: None, logs_instance_id: false });

pub use super::record::{Sizes, format_record, parse_record};

/// What only a group has.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupDetail {
    pub sizes: Sizes,
    /// The sizes recorded by the last stop, from the record tag; `Err` holds a
    /// record that cannot be read.
    pub record: Option<Result<Sizes, String>>,
}

/// The tag a stop writes on the group: `min=1,max=4,desired=2`.
pub const RECORD_TAG: &str = "offhours:asg-sizes";

const FACTS: Facts = Facts {
    kind: KIND,
    service: aws::SERVICE,
    started: "scaled",
    stopped: "stopped",
    verify: Verify::Default,
    snooze_actions: &["autoscaling:DescribeAutoScalingGroups", "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"],
    snooze_resource: "arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*",
    snooze_reads_on_resource: &[],
};

/// The state name shown for a group: `scaled` above 0, else `stopped`.
pub fn state_name(sizes: Sizes) -> &'static str {
    if sizes.desired > 0 || sizes.min > 0 { "scaled" } else { "stopped" }
}

pub fn phase(r: &Resource) -> Phase {
    if r.state.starts_with("delete") {
        return Phase::Gone;
    }
    match r.detail.get::<GroupDetail>() {
        Some(GroupDetail { sizes, .. }) if sizes.desired > 0 || sizes.min > 0 => Phase::Running,
        _ => Phase::Stopped,
    }
}

/// The tag EKS puts on the Auto Scaling group behind a managed node group.
pub const EKS_NODEGROUP_TAG: &str = "eks:nodegroup-name";

/// The group behind an EKS managed node group is the node group's to scale (kind
/// `eks-nodegroup`); else a start needs a readable record to restore, a stop nothing.
pub fn skip(r: &Resource, action: Action) -> Option<String> {
    if let Some(name) = r.tags.get(EKS_NODEGROUP_TAG) {
        return Some(format!("behind EKS managed node group {name} ({EKS_NODEGROUP_TAG}): acted on as kind eks-nodegroup"));
    }
    let record = &r.detail.get::<GroupDetail>()?.record;
    super::record::skip(record, r.phase(), action, "sizes", RECORD_TAG)
}

/// The Auto Scaling group kind.
pub struct Groups;

impl ResourceKind for Groups {
    fn facts(&self) -> &Facts {
        &FACTS
    }

    fn phase(&self, r: &Resource) -> Phase {
        phase(r)
    }

    fn skip(&self, r: &Resource, action: Action) -> Option<String> {
        skip(r, action)
    }

    fn adapter(&self) -> &'static dyn Adapter {
        &aws::Calls
    }

    fn pricing(&self) -> &'static dyn Pricing {
        &NotPriced
    }

    fn iam_statements(&self) -> Vec<serde_json::Value> {
        iam::statements()
    }

    /// Instances in service (none: idle) and their CPU, by group.
    fn metrics(&self, r: &Resource) -> Vec<MetricQuery> {
        let group = || vec![("AutoScalingGroupName", r.id.clone())];
        vec![
            MetricQuery::new("AWS/AutoScaling", "GroupInServiceInstances", group(), "Maximum", Measure::InService),
            MetricQuery::new("AWS/EC2", "CPUUtilization", group(), "Average", Measure::Cpu),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Detail;

    #[test]
    fn the_group_behind_an_eks_node_group_is_left_to_that_kind() {
        let sizes = Sizes { min: 1, max: 3, desired: 2 };
        let mut r = Resource {
            kind: KIND,
            id: "eks-workers-1a2b".into(),
            region: "eu-west-1".into(),
            state: "scaled".into(),
            tags: Default::default(),
            state_reason: None,
            size: None,
            engine: None,
            deployment: None,
            detail: Detail::new(GroupDetail { sizes, record: None }),
        };
        assert_eq!(skip(&r, Action::Stop), None);
        r.tags.insert(EKS_NODEGROUP_TAG.into(), "workers".into());
        for action in Action::ALL {
            assert_eq!(
                skip(&r, action).as_deref(),
                Some("behind EKS managed node group workers (eks:nodegroup-name): acted on as kind eks-nodegroup")
            );
        }
    }
}
