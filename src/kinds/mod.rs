//! Resource kinds: what offhours starts and stops, as one generic [`Resource`], and each
//! kind's rules (pure): what its states mean, what it must never touch, and what it
//! records before a stop to restore at a start.
//!
//! Layout: this file lists the kinds ([`Kind`]) and dispatches to their rules, one file
//! per kind (`ec2`, `rds`, `asg`, `ecs`; `rds` covers DB clusters too). The adapters
//! that list and act on each kind live in `aws/`; the engine in `jobs::apply` is written
//! once over both.

pub mod asg;
pub mod ec2;
pub mod ecs;
pub mod rds;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::config::Action;

/// A kind of resource. The names are those of the config, the logs and the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Kind {
    #[serde(rename = "ec2")]
    Ec2,
    #[serde(rename = "rds")]
    Rds,
    #[serde(rename = "rds-cluster")]
    RdsCluster,
    #[serde(rename = "asg")]
    Asg,
    #[serde(rename = "ecs")]
    Ecs,
}

impl Kind {
    /// Every kind, in the order outputs list them.
    pub const ALL: [Kind; 5] = [Kind::Ec2, Kind::Rds, Kind::RdsCluster, Kind::Asg, Kind::Ecs];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ec2 => "ec2",
            Kind::Rds => "rds",
            Kind::RdsCluster => "rds-cluster",
            Kind::Asg => "asg",
            Kind::Ecs => "ecs",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// What one resource of the kind is called in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Ec2 => "instance",
            Kind::Rds => "DB instance",
            Kind::RdsCluster => "DB cluster",
            Kind::Asg => "Auto Scaling group",
            Kind::Ecs => "ECS service",
        }
    }

    /// The state name an action leads to, in the kind's own words.
    pub fn target_state(self, action: Action) -> &'static str {
        match (self, action) {
            (Kind::Ec2, Action::Start) => "running",
            (Kind::Rds | Kind::RdsCluster, Action::Start) => "available",
            (Kind::Asg | Kind::Ecs, Action::Start) => "scaled",
            (_, Action::Stop) => "stopped",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
        deployment: Option<rds::Deployment>,
    },
    RdsCluster {
        /// RDS's engine name (`aurora-postgresql`...), when the listing gave it.
        engine: Option<String>,
        /// Whether the cluster spans several zones, when the listing said.
        deployment: Option<rds::Deployment>,
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
    /// The `Name` tag; for a service, else its name from the ARN.
    pub fn name(&self) -> Option<&str> {
        self.tags.get("Name").map(String::as_str).or_else(|| match self.kind {
            Kind::Ecs => self.id.rsplit('/').next(),
            _ => None,
        })
    }

    /// A database's engine (RDS's name), when known.
    pub fn engine(&self) -> Option<&str> {
        match &self.detail {
            Detail::Rds { engine, .. } | Detail::RdsCluster { engine, .. } => engine.as_deref(),
            _ => None,
        }
    }

    /// A database's deployment, when known.
    pub fn deployment(&self) -> Option<rds::Deployment> {
        match &self.detail {
            Detail::Rds { deployment, .. } | Detail::RdsCluster { deployment, .. } => *deployment,
            _ => None,
        }
    }

    pub fn phase(&self) -> Phase {
        match self.kind {
            Kind::Ec2 => ec2::phase(&self.state),
            Kind::Rds | Kind::RdsCluster => rds::phase(&self.state),
            Kind::Asg => asg::phase(self),
            Kind::Ecs => ecs::phase(self),
        }
    }

    /// The kind's own reason to leave the resource alone for `action`, if any.
    pub fn kind_skip(&self, action: Action) -> Option<String> {
        match self.kind {
            Kind::Ec2 => ec2::skip(self),
            Kind::Rds | Kind::RdsCluster => rds::skip(self),
            Kind::Asg => asg::skip(self, action),
            Kind::Ecs => ecs::skip(self, action),
        }
    }

    /// Something the operator should know when the action goes ahead.
    pub fn kind_note(&self, action: Action) -> Option<String> {
        match (self.kind, action) {
            (Kind::Rds | Kind::RdsCluster, Action::Stop) => Some(rds::SEVEN_DAYS.to_string()),
            _ => None,
        }
    }
}
