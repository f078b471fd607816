//! EKS managed node groups, scaled to zero and back: a stop records `min=,max=,desired=`
//! in a tag on the node group, then sets min and desired to 0 and keeps max (EKS
//! requires max >= 1); a start restores exactly the recorded sizes, then removes the
//! tag. The record is a tag on the node group so that it survives a lost state directory
//! and a replaced daemon, as the Auto Scaling and ECS records do. A node group with an
//! update in progress is left alone.

pub mod aws;
mod iam;
pub mod price;

use super::record::Sizes;
use super::{Adapter, Facts, Pricing, ResourceKind, Verify, name_tag};
use crate::model::MetricQuery;
use crate::model::{Action, Kind, KindInfo, Phase, Resource};

pub const KIND: Kind =
    Kind::new(&KindInfo { rank: 6, name: "eks-nodegroup", noun: "EKS node group", id_prefix: None, logs_instance_id: false });

/// The tag a stop writes on the node group: `min=1,max=4,desired=2`.
pub const RECORD_TAG: &str = "offhours:eks-sizes";

const FACTS: Facts = Facts {
    kind: KIND,
    service: aws::SERVICE,
    started: "scaled",
    stopped: "stopped",
    // A node group's update takes minutes.
    verify: Verify::Database,
    snooze_actions: &["eks:DescribeNodegroup", "eks:TagResource", "eks:UntagResource"],
    snooze_resource: "arn:aws:eks:*:*:nodegroup/*",
    snooze_reads_on_resource: &["eks:DescribeNodegroup"],
};

/// What only a node group has.
#[derive(Debug, Clone, PartialEq)]
pub struct NodegroupDetail {
    pub cluster: String,
    pub name: String,
    pub arn: String,
    pub sizes: Sizes,
    /// The sizes recorded by the last stop, from the record tag.
    pub record: Option<Result<Sizes, String>>,
}

/// A node group's id: `CLUSTER/NODEGROUP`.
pub fn id(cluster: &str, name: &str) -> String {
    format!("{cluster}/{name}")
}

/// The state shown: EKS's status in lower case, but `scaled` / `stopped` for an
/// active group, by its sizes.
pub fn state_name(status: &str, sizes: Sizes) -> String {
    match status {
        "ACTIVE" | "DEGRADED" if sizes.desired > 0 || sizes.min > 0 => "scaled".into(),
        "ACTIVE" | "DEGRADED" => "stopped".into(),
        other => other.to_lowercase().replace('_', "-"),
    }
}

pub fn phase(state: &str) -> Phase {
    match state {
        "scaled" => Phase::Running,
        "stopped" => Phase::Stopped,
        "deleting" | "delete-failed" => Phase::Gone,
        // updating, creating, create-failed...
        _ => Phase::Transitional,
    }
}

/// A start needs a readable record to restore.
pub fn skip(r: &Resource, action: Action) -> Option<String> {
    let record = &r.detail.get::<NodegroupDetail>()?.record;
    super::record::skip(record, phase(&r.state), action, "sizes", RECORD_TAG)
}

/// Said at a stop: max stays (EKS refuses a maximum of 0).
pub fn note(r: &Resource, action: Action) -> Option<String> {
    let d = r.detail.get::<NodegroupDetail>()?;
    (action == Action::Stop).then(|| format!("min and desired set to 0, max kept at {} (EKS requires max >= 1)", d.sizes.max))
}

/// The EKS managed node group kind.
pub struct Nodegroups;

impl ResourceKind for Nodegroups {
    fn facts(&self) -> &Facts {
        &FACTS
    }

    fn phase(&self, r: &Resource) -> Phase {
        phase(&r.state)
    }

    fn skip(&self, r: &Resource, action: Action) -> Option<String> {
        skip(r, action)
    }

    fn note(&self, r: &Resource, action: Action) -> Option<String> {
        note(r, action)
    }

    fn name<'a>(&self, r: &'a Resource) -> Option<&'a str> {
        name_tag(r).or_else(|| r.id.split_once('/').map(|(_, name)| name))
    }

    fn adapter(&self) -> &'static dyn Adapter {
        &aws::Calls
    }

    fn pricing(&self) -> &'static dyn Pricing {
        &price::Instances
    }

    fn iam_statements(&self) -> Vec<serde_json::Value> {
        iam::statements()
    }

    /// Not judged yet: a node group's utilization is its nodes' (Container Insights),
    /// which an account may not publish.
    fn metrics(&self, _r: &Resource) -> Vec<MetricQuery> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Detail;

    fn group(status: &str, (min, max, desired): (i32, i32, i32), record: Option<Result<Sizes, String>>) -> Resource {
        let sizes = Sizes { min, max, desired };
        Resource {
            kind: KIND,
            id: id("dev", "workers"),
            region: "eu-west-1".into(),
            state: state_name(status, sizes),
            tags: Default::default(),
            state_reason: None,
            size: None,
            engine: None,
            deployment: None,
            detail: Detail::new(NodegroupDetail { cluster: "dev".into(), name: "workers".into(), arn: "arn".into(), sizes, record }),
        }
    }

    #[test]
    fn states_phases_and_what_is_left_alone() {
        let kept = Some(Ok(Sizes { min: 1, max: 4, desired: 2 }));
        // (status, sizes, record, action, state, phase, skipped because)
        let cases = [
            ("ACTIVE", (1, 4, 2), None, Action::Stop, "scaled", Phase::Running, None),
            ("ACTIVE", (0, 4, 0), kept.clone(), Action::Start, "stopped", Phase::Stopped, None),
            ("ACTIVE", (0, 4, 0), None, Action::Start, "stopped", Phase::Stopped, Some("no recorded sizes")),
            ("ACTIVE", (1, 4, 2), Some(Err("bad".into())), Action::Stop, "scaled", Phase::Running, Some("unreadable record")),
            ("DEGRADED", (1, 4, 2), None, Action::Stop, "scaled", Phase::Running, None),
            ("UPDATING", (1, 4, 2), None, Action::Stop, "updating", Phase::Transitional, None),
            ("CREATE_FAILED", (1, 4, 2), None, Action::Stop, "create-failed", Phase::Transitional, None),
            ("DELETING", (1, 4, 2), None, Action::Stop, "deleting", Phase::Gone, None),
        ];
        for (status, sizes, record, action, state, want_phase, want_skip) in cases {
            let r = group(status, sizes, record);
            assert_eq!((r.state.as_str(), phase(&r.state)), (state, want_phase), "{status}");
            let why = skip(&r, action);
            match want_skip {
                Some(start) => assert!(why.as_deref().is_some_and(|w| w.starts_with(start)), "{status}: {why:?}"),
                None => assert_eq!(why, None, "{status}"),
            }
        }
        let r = group("ACTIVE", (1, 4, 2), None);
        assert_eq!(note(&r, Action::Stop).as_deref(), Some("min and desired set to 0, max kept at 4 (EKS requires max >= 1)"));
        assert_eq!(note(&r, Action::Start), None);
        assert_eq!(Nodegroups.name(&r), Some("workers"));
    }
}
