//! Auto Scaling groups: a stop records min / max / desired in a tag on the group and
//! sets all three to 0; a start restores exactly the recorded sizes and removes the tag.

use super::Rules;
use crate::model::{Action, Detail, Phase, Resource, Sizes};

/// The tag a stop writes on the group: `min=1,max=4,desired=2`.
pub const RECORD_TAG: &str = "offhours:asg-sizes";

/// The record tag's value for `sizes`.
pub fn format_record(sizes: Sizes) -> String {
    format!("min={},max={},desired={}", sizes.min, sizes.max, sizes.desired)
}

/// Reads a record tag's value.
pub fn parse_record(value: &str) -> Result<Sizes, String> {
    let mut found = [None; 3];
    for part in value.split(',') {
        let (key, n) = part.trim().split_once('=').ok_or_else(|| format!("`{part}` is not key=number"))?;
        let slot = match key.trim() {
            "min" => 0,
            "max" => 1,
            "desired" => 2,
            other => return Err(format!("unknown size `{other}`")),
        };
        found[slot] = Some(n.trim().parse::<i32>().map_err(|_| format!("`{n}` is not a number"))?);
    }
    match found {
        [Some(min), Some(max), Some(desired)] if 0 <= min && min <= desired && desired <= max => Ok(Sizes { min, max, desired }),
        [Some(_), Some(_), Some(_)] => Err("sizes out of order (need 0 <= min <= desired <= max)".into()),
        _ => Err("needs min, max and desired".into()),
    }
}

/// The state name shown for a group: `scaled` above 0, else `stopped`.
pub fn state_name(sizes: Sizes) -> &'static str {
    if sizes.desired > 0 || sizes.min > 0 { "scaled" } else { "stopped" }
}

pub fn phase(r: &Resource) -> Phase {
    if r.state.starts_with("delete") {
        return Phase::Gone;
    }
    match &r.detail {
        Detail::Asg { sizes, .. } if sizes.desired > 0 || sizes.min > 0 => Phase::Running,
        _ => Phase::Stopped,
    }
}

/// A start needs a readable record to restore; a stop needs nothing.
pub fn skip(r: &Resource, action: Action) -> Option<String> {
    let Detail::Asg { record, .. } = &r.detail else {
        return None;
    };
    match (action, r.phase(), record) {
        (Action::Start, Phase::Stopped, None) => Some(format!("no recorded sizes (tag {RECORD_TAG}): nothing to restore")),
        (_, _, Some(Err(e))) => Some(format!("unreadable record tag {RECORD_TAG}: {e}")),
        _ => None,
    }
}
