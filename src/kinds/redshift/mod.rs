//! Provisioned Redshift clusters, paused and resumed (Redshift Serverless is not a
//! cluster and is out of scope). A cluster with a pending modification or a snapshot
//! being taken is left alone: Redshift refuses to pause or resume it meanwhile. Pause
//! and resume take minutes, so they are awaited within `db_verify_timeout`.

pub mod aws;
mod iam;
pub mod price;

use super::{Adapter, Facts, Pricing, ResourceKind, Verify};
use crate::model::MetricQuery;
use crate::model::{Action, Kind, KindInfo, Phase, Resource};

pub const KIND: Kind =
    Kind::new(&KindInfo { rank: 5, name: "redshift", noun: "Redshift cluster", id_prefix: None, logs_instance_id: false });

const FACTS: Facts = Facts {
    kind: KIND,
    service: aws::SERVICE,
    started: "available",
    stopped: "paused",
    verify: Verify::Database,
    snooze_actions: &["redshift:DescribeClusters", "redshift:CreateTags", "redshift:DeleteTags"],
    snooze_resource: "arn:aws:redshift:*:*:cluster:*",
    snooze_reads_on_resource: &[],
};

/// What only a Redshift cluster has.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterDetail {
    /// What is pending (`node type, number of nodes`...), if anything.
    pub pending: Option<String>,
    /// A snapshot of the cluster being taken, if any.
    pub snapshot: Option<String>,
}

pub fn phase(status: &str) -> Phase {
    match status {
        "available" => Phase::Running,
        "paused" => Phase::Stopped,
        "deleting" | "final-snapshot" => Phase::Gone,
        // pausing, resuming, creating, modifying, resizing, rebooting, storage-full...
        _ => Phase::Transitional,
    }
}

/// A pending modification or a snapshot in progress: Redshift refuses to pause or
/// resume the cluster until it is done.
pub fn skip(r: &Resource) -> Option<String> {
    let ClusterDetail { pending, snapshot } = r.detail.get::<ClusterDetail>()?;
    if let Some(what) = pending {
        return Some(format!("pending modification ({what}): Redshift cannot pause or resume it until the change is applied"));
    }
    snapshot.as_ref().map(|id| format!("snapshot {id} in progress: Redshift cannot pause or resume it until the snapshot is done"))
}

/// The Redshift cluster kind.
pub struct Clusters;

impl ResourceKind for Clusters {
    fn facts(&self) -> &Facts {
        &FACTS
    }

    fn phase(&self, r: &Resource) -> Phase {
        phase(&r.state)
    }

    fn skip(&self, r: &Resource, _action: Action) -> Option<String> {
        skip(r)
    }

    fn note(&self, _r: &Resource, action: Action) -> Option<String> {
        (action == Action::Stop).then(|| "a paused cluster's storage and backups are still billed".to_string())
    }

    fn adapter(&self) -> &'static dyn Adapter {
        &aws::Calls
    }

    fn pricing(&self) -> &'static dyn Pricing {
        &price::Nodes
    }

    fn iam_statements(&self) -> Vec<serde_json::Value> {
        iam::statements()
    }

    /// Not judged yet (its CPU alone would miss a warehouse's queued loads).
    fn metrics(&self, _r: &Resource) -> Vec<MetricQuery> {
        Vec::new()
    }

    /// Its alarms name it by `ClusterIdentifier` (AWS/Redshift), metrics judged or not.
    fn alarm_identity(&self, r: &Resource) -> Vec<(&'static str, String)> {
        vec![("ClusterIdentifier", r.id.clone())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Detail;

    fn cluster(status: &str, detail: ClusterDetail) -> Resource {
        Resource {
            kind: KIND,
            id: "warehouse".into(),
            region: "eu-west-1".into(),
            state: status.into(),
            tags: Default::default(),
            state_reason: None,
            size: Some("ra3.xlplus*2".into()),
            engine: None,
            deployment: None,
            detail: Detail::new(detail),
        }
    }

    #[test]
    fn statuses_and_the_clusters_redshift_refuses_to_pause_or_resume() {
        let pending = ClusterDetail { pending: Some("node type".into()), snapshot: None };
        let snapshot = ClusterDetail { pending: None, snapshot: Some("manual-1".into()) };
        // (status, detail, phase, skipped because)
        let cases = [
            ("available", ClusterDetail::default(), Phase::Running, None),
            ("paused", ClusterDetail::default(), Phase::Stopped, None),
            ("pausing", ClusterDetail::default(), Phase::Transitional, None),
            ("resuming", ClusterDetail::default(), Phase::Transitional, None),
            ("modifying", ClusterDetail::default(), Phase::Transitional, None),
            ("final-snapshot", ClusterDetail::default(), Phase::Gone, None),
            ("deleting", ClusterDetail::default(), Phase::Gone, None),
            ("available", pending.clone(), Phase::Running, Some("pending modification (node type)")),
            ("paused", snapshot.clone(), Phase::Stopped, Some("snapshot manual-1 in progress")),
        ];
        for (status, detail, want_phase, want_skip) in cases {
            let r = cluster(status, detail);
            assert_eq!(phase(&r.state), want_phase, "{status}");
            let why = skip(&r);
            match want_skip {
                Some(start) => assert!(why.as_deref().is_some_and(|w| w.starts_with(start)), "{status}: {why:?}"),
                None => assert_eq!(why, None, "{status}"),
            }
        }
    }
}
