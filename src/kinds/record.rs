//! The rule every kind shares that scales a resource to zero at a stop and restores it
//! at a start from what the stop recorded (Auto Scaling groups, ECS services): a
//! record that cannot be read stops both actions, and a stopped resource without one
//! has nothing to restore.

use crate::model::{Action, Phase};

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
