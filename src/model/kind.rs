//! The kinds of resource offhours starts and stops, by name.

use std::fmt;

use serde::Serialize;

use super::Action;

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
