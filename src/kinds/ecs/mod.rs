//! ECS services: a stop records the desired count (and the service's Application Auto
//! Scaling target, see [`record`]) in a tag on the service and sets it to 0; a start
//! restores it and removes the tag. The same rules as Auto Scaling groups.

pub mod aws;
mod iam;
pub mod record;
mod scaling;

use super::{Adapter, Facts, NotPriced, Pricing, ResourceKind, Rules, Verify, name_tag};
use crate::model::{Action, Kind, KindInfo, Phase, Resource};
use crate::model::{Measure, MetricQuery};

pub const KIND: Kind = Kind::new(&KindInfo { rank: 4, name: "ecs", noun: "ECS service", id_prefix: None, logs_instance_id: false });

/// What only a service has.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDetail {
    /// The cluster's ARN (services are addressed within their cluster).
    pub cluster: String,
    pub desired: i32,
    /// What the last stop recorded, from the record tag.
    pub record: Option<Result<record::Record, String>>,
}

/// The tag a stop writes on the service: the desired count (and target) before the stop.
pub const RECORD_TAG: &str = "offhours:ecs-desired";

const FACTS: Facts = Facts {
    kind: KIND,
    service: aws::SERVICE,
    started: "scaled",
    stopped: "stopped",
    verify: Verify::Default,
    snooze_actions: &["ecs:DescribeServices", "ecs:TagResource", "ecs:UntagResource"],
    snooze_resource: "arn:aws:ecs:*:*:service/*",
    snooze_reads_on_resource: &["ecs:DescribeServices"],
};

pub fn state_name(desired: i32) -> &'static str {
    if desired > 0 { "scaled" } else { "stopped" }
}

pub fn phase(r: &Resource) -> Phase {
    match r.detail.get::<ServiceDetail>() {
        Some(d) if d.desired > 0 => Phase::Running,
        _ if r.state == "draining" || r.state == "inactive" => Phase::Gone,
        _ => Phase::Stopped,
    }
}

/// A start needs a readable record to restore.
pub fn skip(r: &Resource, action: Action) -> Option<String> {
    let record = &r.detail.get::<ServiceDetail>()?.record;
    super::record::skip(record, r.phase(), action, "desired count", RECORD_TAG)
}

/// The ECS service kind.
pub struct Services;

impl ResourceKind for Services {
    fn facts(&self) -> &Facts {
        &FACTS
    }

    fn phase(&self, r: &Resource) -> Phase {
        phase(r)
    }

    fn skip(&self, r: &Resource, action: Action) -> Option<String> {
        skip(r, action)
    }

    /// The `Name` tag, else the service's name from its ARN.
    fn name<'a>(&self, r: &'a Resource) -> Option<&'a str> {
        name_tag(r).or_else(|| r.id.rsplit('/').next())
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

    /// The service's CPU (AWS/ECS, by cluster and service name).
    fn metrics(&self, r: &Resource) -> Vec<MetricQuery> {
        let Some(d) = r.detail.get::<ServiceDetail>() else { return Vec::new() };
        let name = |arn: &str| arn.rsplit('/').next().unwrap_or(arn).to_string();
        let dims = vec![("ClusterName", name(&d.cluster)), ("ServiceName", name(&r.id))];
        vec![MetricQuery::new("AWS/ECS", "CPUUtilization", dims, "Average", Measure::Cpu)]
    }
}
