//! What the kinds share that scale a resource to zero at a stop and restore it at a
//! start from what the stop recorded in a tag (Auto Scaling groups, EKS node groups,
//! ECS services): the rule that a record that cannot be read stops both actions and a
//! stopped resource without one has nothing to restore, and the record of a group's
//! sizes (`min=1,max=4,desired=2`).

use crate::model::{Action, Phase};

/// The statement that lets the daemon write and remove its record tag, and no other
/// tag, on the kind's resources (`aws:TagKeys` names only `key`).
pub fn tag_statement(sid: &str, actions: &[&str], resource: &str, key: &str) -> serde_json::Value {
    serde_json::json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": resource,
        "Condition": { "ForAllValues:StringEquals": { "aws:TagKeys": [key] } }
    })
}

/// Sizes of a group: what a stop records and a start restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub min: i32,
    pub max: i32,
    pub desired: i32,
}

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

/// The reason to leave a resource alone for `action`, given its `phase` and its
/// `record` (`what` the record holds, `tag` where), if any.
pub fn skip<T>(record: &Option<Result<T, String>>, phase: Phase, action: Action, what: &str, tag: &str) -> Option<String> {
    match (action, phase, record) {
        (Action::Start, Phase::Stopped, None) => Some(format!("no recorded {what} (tag {tag}): nothing to restore")),
        (_, _, Some(Err(e))) => Some(format!("unreadable record tag {tag}: {e}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_needs_a_record_and_an_unreadable_one_stops_both() {
        let none: Option<Result<i32, String>> = None;
        let bad: Option<Result<i32, String>> = Some(Err("not a number".into()));
        let good: Option<Result<i32, String>> = Some(Ok(2));
        let cases = [
            (&none, Phase::Stopped, Action::Start, Some("no recorded sizes (tag t): nothing to restore")),
            (&none, Phase::Running, Action::Start, None),
            (&none, Phase::Running, Action::Stop, None),
            (&bad, Phase::Stopped, Action::Start, Some("unreadable record tag t: not a number")),
            (&bad, Phase::Running, Action::Stop, Some("unreadable record tag t: not a number")),
            (&good, Phase::Stopped, Action::Start, None),
        ];
        for (record, phase, action, want) in cases {
            assert_eq!(skip(record, phase, action, "sizes", "t").as_deref(), want, "{record:?} {phase:?} {action:?}");
        }
    }
}
