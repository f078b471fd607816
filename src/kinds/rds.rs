//! RDS DB instances and DB clusters (Aurora, Neptune, DocumentDB through the same API):
//! what their statuses mean and which databases RDS itself refuses to stop.

use super::{Detail, Phase, Resource};

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
    let Detail::Rds { replica_of, replicas, cluster } = &r.detail else {
        return None;
    };
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
