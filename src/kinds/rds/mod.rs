//! RDS DB instances and DB clusters (Aurora, Neptune, DocumentDB through the same API):
//! what their statuses mean, which databases RDS itself refuses to stop, how the Price
//! List names their engines and deployments, and a cluster's size (its members' classes).

pub mod aws;
mod iam;
pub mod price;

use super::{Adapter, Facts, Pricing, ResourceKind, Verify};
use crate::model::{Action, Kind, KindInfo, Phase, Resource};
use crate::model::{Measure, MetricQuery};

pub const INSTANCE: Kind = Kind::new(&KindInfo { rank: 1, name: "rds", noun: "DB instance", id_prefix: None, logs_instance_id: false });
pub const CLUSTER: Kind =
    Kind::new(&KindInfo { rank: 2, name: "rds-cluster", noun: "DB cluster", id_prefix: None, logs_instance_id: false });

/// What only a DB instance has.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InstanceDetail {
    /// The source this DB instance replicates, if it is a read replica.
    pub replica_of: Option<String>,
    /// Read replicas of this DB instance.
    pub replicas: usize,
    /// The cluster this DB instance belongs to.
    pub cluster: Option<String>,
}

/// Said at every stop: a stopped database does not stay stopped by itself.
pub const SEVEN_DAYS: &str = "AWS starts a stopped DB instance or cluster by itself after 7 days";

pub fn phase(status: &str) -> Phase {
    match status {
        "available" => Phase::Running,
        "stopped" => Phase::Stopped,
        "deleting" | "deleted" => Phase::Gone,
        // starting, stopping, backing-up, modifying, maintenance, failed, ...
        _ => Phase::Transitional,
    }
}

/// Read replicas, sources of read replicas and cluster members are left alone.
pub fn skip(r: &Resource) -> Option<String> {
    let InstanceDetail { replica_of, replicas, cluster } = r.detail.get::<InstanceDetail>()?;
    if let Some(cluster) = cluster {
        return Some(format!("member of DB cluster {cluster}: the cluster is the unit (tag the cluster, kind rds-cluster)"));
    }
    if let Some(source) = replica_of {
        return Some(format!("read replica of {source}: RDS cannot stop a read replica"));
    }
    if *replicas > 0 {
        return Some(format!("has {replicas} read replica(s): RDS cannot stop a DB instance that has read replicas"));
    }
    None
}

/// DB instances and DB clusters: the same rules, their own calls.
pub struct Databases {
    facts: Facts,
    adapter: &'static dyn Adapter,
    pricing: &'static dyn Pricing,
    statements: fn() -> Vec<serde_json::Value>,
}

pub static DB_INSTANCES: Databases = Databases {
    facts: Facts {
        kind: INSTANCE,
        service: aws::SERVICE,
        started: "available",
        stopped: "stopped",
        verify: Verify::Database,
        snooze_actions: &["rds:AddTagsToResource", "rds:RemoveTagsFromResource", "rds:DescribeDBInstances"],
        snooze_resource: "arn:aws:rds:*:*:db:*",
        snooze_reads_on_resource: &["rds:DescribeDBInstances"],
    },
    adapter: &aws::InstanceCalls,
    pricing: &price::Instances,
    statements: iam::instance_statements,
};

pub static DB_CLUSTERS: Databases = Databases {
    facts: Facts {
        kind: CLUSTER,
        service: aws::SERVICE,
        started: "available",
        stopped: "stopped",
        verify: Verify::Database,
        snooze_actions: &["rds:AddTagsToResource", "rds:RemoveTagsFromResource", "rds:DescribeDBClusters"],
        snooze_resource: "arn:aws:rds:*:*:cluster:*",
        snooze_reads_on_resource: &["rds:DescribeDBClusters"],
    },
    adapter: &aws::ClusterCalls,
    pricing: &price::Clusters,
    statements: iam::cluster_statements,
};

impl ResourceKind for Databases {
    fn facts(&self) -> &Facts {
        &self.facts
    }

    fn phase(&self, r: &Resource) -> Phase {
        phase(&r.state)
    }

    fn skip(&self, r: &Resource, _action: Action) -> Option<String> {
        skip(r)
    }

    fn note(&self, _r: &Resource, action: Action) -> Option<String> {
        (action == Action::Stop).then(|| SEVEN_DAYS.to_string())
    }

    fn adapter(&self) -> &'static dyn Adapter {
        self.adapter
    }

    fn pricing(&self) -> &'static dyn Pricing {
        self.pricing
    }

    fn iam_statements(&self) -> Vec<serde_json::Value> {
        (self.statements)()
    }

    /// CPU and connections, by DB instance or by cluster.
    fn metrics(&self, r: &Resource) -> Vec<MetricQuery> {
        let dimension = if self.facts.kind == CLUSTER { "DBClusterIdentifier" } else { "DBInstanceIdentifier" };
        let id = || vec![(dimension, r.id.clone())];
        vec![
            MetricQuery::new("AWS/RDS", "CPUUtilization", id(), "Average", Measure::Cpu),
            MetricQuery::new("AWS/RDS", "DatabaseConnections", id(), "Maximum", Measure::Connections),
        ]
    }
}
