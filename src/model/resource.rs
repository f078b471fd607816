//! One resource as its kind's listing reported it, whatever its kind, and where it
//! stands ([`Phase`]).

use std::collections::BTreeMap;

use super::Kind;

/// Where a resource stands, whatever its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Serving: an instance running, a database available, a group or service above 0.
    Running,
    Stopped,
    /// Between the two, or busy (backing up, modifying): not to be acted on now.
    Transitional,
    /// Going or gone (terminated, deleting): never acted on.
    Gone,
}

/// Sizes of an Auto Scaling group: what a stop records and a start restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub min: i32,
    pub max: i32,
    pub desired: i32,
}

/// What only one kind knows about a resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    Ec2 {
        /// `ebs` or `instance-store`.
        root_device_type: Option<String>,
        /// `spot` or `capacity-block` for those; absent for on-demand.
        lifecycle: Option<String>,
        hibernation_configured: bool,
    },
    Rds {
        /// The source this DB instance replicates, if it is a read replica.
        replica_of: Option<String>,
        /// Read replicas of this DB instance.
        replicas: usize,
        /// The cluster this DB instance belongs to.
        cluster: Option<String>,
        /// RDS's engine name (`postgres`, `aurora-mysql`...), when the listing gave it.
        engine: Option<String>,
        /// Single-AZ or Multi-AZ, when the listing said.
        deployment: Option<Deployment>,
    },
    RdsCluster {
        /// RDS's engine name (`aurora-postgresql`...), when the listing gave it.
        engine: Option<String>,
        /// Whether the cluster spans several zones, when the listing said.
        deployment: Option<Deployment>,
    },
    Asg {
        sizes: Sizes,
        /// The sizes recorded by the last stop, from the record tag; `Err` holds a
        /// record that cannot be read.
        record: Option<Result<Sizes, String>>,
    },
    Ecs {
        /// The cluster's ARN (services are addressed within their cluster).
        cluster: String,
        desired: i32,
        /// The desired count recorded by the last stop, from the record tag.
        record: Option<Result<i32, String>>,
    },
}

/// One resource as its kind's listing reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub kind: Kind,
    /// Instance id, DB identifier, group name or service ARN.
    pub id: String,
    pub region: String,
    /// The kind's own name for its state (`running`, `available`, `stopped`, or for a
    /// group or service `scaled` / `stopped`).
    pub state: String,
    pub tags: BTreeMap<String, String>,
    /// Why it is in its state, when the kind says (EC2's state reason).
    pub state_reason: Option<String>,
    /// The instance type or DB instance class (what the price depends on), when the
    /// kind has one.
    pub size: Option<String>,
    pub detail: Detail,
}
impl Resource {
    /// A database's engine (RDS's name), when known.
    pub fn engine(&self) -> Option<&str> {
        match &self.detail {
            Detail::Rds { engine, .. } | Detail::RdsCluster { engine, .. } => engine.as_deref(),
            _ => None,
        }
    }

    /// A database's deployment, when known.
    pub fn deployment(&self) -> Option<Deployment> {
        match &self.detail {
            Detail::Rds { deployment, .. } | Detail::RdsCluster { deployment, .. } => *deployment,
            _ => None,
        }
    }
}

/// How a DB instance is deployed, in the Price List's words (`deploymentOption`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Deployment {
    #[serde(rename = "Single-AZ")]
    SingleAz,
    #[serde(rename = "Multi-AZ")]
    MultiAz,
}

impl Deployment {
    /// From DescribeDBInstances' (or DescribeDBClusters') `MultiAZ`.
    pub fn from_multi_az(multi_az: bool) -> Deployment {
        if multi_az { Deployment::MultiAz } else { Deployment::SingleAz }
    }

    /// The Price List's `deploymentOption`, also what the ledger stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Deployment::SingleAz => "Single-AZ",
            Deployment::MultiAz => "Multi-AZ",
        }
    }

    pub fn parse(name: &str) -> Option<Deployment> {
        [Deployment::SingleAz, Deployment::MultiAz].into_iter().find(|d| d.as_str() == name)
    }
}
