//! ECS services: a stop records the desired count in a tag on the service and sets it
//! to 0; a start restores it and removes the tag. The same rules as Auto Scaling groups.

use super::Rules;
use crate::model::{Action, Detail, Phase, Resource};

/// The tag a stop writes on the service: the desired count before the stop.
pub const RECORD_TAG: &str = "offhours:ecs-desired";

pub fn parse_record(value: &str) -> Result<i32, String> {
    match value.trim().parse::<i32>() {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(format!("`{value}` is not a desired count")),
    }
}

pub fn state_name(desired: i32) -> &'static str {
    if desired > 0 { "scaled" } else { "stopped" }
}

pub fn phase(r: &Resource) -> Phase {
    match &r.detail {
        Detail::Ecs { desired, .. } if *desired > 0 => Phase::Running,
        _ if r.state == "draining" || r.state == "inactive" => Phase::Gone,
        _ => Phase::Stopped,
    }
}

/// A start needs a readable record to restore.
pub fn skip(r: &Resource, action: Action) -> Option<String> {
    let Detail::Ecs { record, .. } = &r.detail else {
        return None;
    };
    match (action, r.phase(), record) {
        (Action::Start, Phase::Stopped, None) => Some(format!("no recorded desired count (tag {RECORD_TAG}): nothing to restore")),
        (_, _, Some(Err(e))) => Some(format!("unreadable record tag {RECORD_TAG}: {e}")),
        _ => None,
    }
}
