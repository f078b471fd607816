//! Resource kinds: each kind's rules (pure): what its states mean, what it must never touch, and what it
//! records before a stop to restore at a start.
//!
//! Layout: this file dispatches to their rules, one file
//! per kind (`ec2`, `rds`, `asg`, `ecs`; `rds` covers DB clusters too). The adapters
//! that list and act on each kind live in `aws/`; the engine in `jobs::apply` is written
//! once over both.

pub mod asg;
pub mod ec2;
pub mod ecs;
pub mod rds;

use crate::model::{Action, Kind, Phase, Resource};

/// Each kind's rules, asked of a resource of any kind.
pub trait Rules {
    /// The `Name` tag; for a service, else its name from the ARN.
    fn name(&self) -> Option<&str>;
    fn phase(&self) -> Phase;
    /// The kind's own reason to leave the resource alone for `action`, if any.
    fn kind_skip(&self, action: Action) -> Option<String>;
    /// Something the operator should know when the action goes ahead.
    fn kind_note(&self, action: Action) -> Option<String>;
}

impl Rules for Resource {
    fn name(&self) -> Option<&str> {
        self.tags.get("Name").map(String::as_str).or_else(|| match self.kind {
            Kind::Ecs => self.id.rsplit('/').next(),
            _ => None,
        })
    }

    fn phase(&self) -> Phase {
        match self.kind {
            Kind::Ec2 => ec2::phase(&self.state),
            Kind::Rds | Kind::RdsCluster => rds::phase(&self.state),
            Kind::Asg => asg::phase(self),
            Kind::Ecs => ecs::phase(self),
        }
    }

    fn kind_skip(&self, action: Action) -> Option<String> {
        match self.kind {
            Kind::Ec2 => ec2::skip(self),
            Kind::Rds | Kind::RdsCluster => rds::skip(self),
            Kind::Asg => asg::skip(self, action),
            Kind::Ecs => ecs::skip(self, action),
        }
    }

    fn kind_note(&self, action: Action) -> Option<String> {
        match (self.kind, action) {
            (Kind::Rds | Kind::RdsCluster, Action::Stop) => Some(rds::SEVEN_DAYS.to_string()),
            _ => None,
        }
    }
}
