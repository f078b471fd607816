//! Auto Scaling groups: a stop records min / max / desired in a tag on the group and
//! sets all three to 0; a start restores exactly the recorded sizes and removes the tag.

pub mod aws;
mod iam;

use super::{Adapter, Facts, NotPriced, Pricing, ResourceKind, Rules, Verify, name_tag};
use crate::model::{Action, Asks, Kind, KindInfo, Mode, Phase, Resource};

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
    verify: Verify::Default,
    snooze_actions: &["autoscaling:DescribeAutoScalingGroups", "autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"],
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

/// A start needs a readable record to restore; a stop needs nothing.
pub fn skip(r: &Resource, action: Action) -> Option<String> {
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

    fn note(&self, _r: &Resource, _action: Action) -> Option<String> {
        None
    }

    fn name<'a>(&self, r: &'a Resource) -> Option<&'a str> {
        name_tag(r)
    }

    fn mode(&self, _r: &Resource, _action: Action, _asks: Asks) -> (Mode, Option<String>) {
        (Mode::PLAIN, None)
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
}
