//! `change_calendar`: an AWS Systems Manager Change Calendar that says when changes
//! may happen. While it is CLOSED a schedule's starts are skipped and its stops still
//! happen (`change_calendar_closed = "skip-starts"`, the default: a closed period is
//! one not to bring things up in), or the reverse (`"skip-stops"`: a release freeze
//! that keeps what runs running). A calendar that cannot be read is taken as CLOSED:
//! the action it would hold back is the one it is there to hold back. Pure.

use crate::config::ClosedSkips;
use crate::model::Action;

/// The calendar's state as read: `Ok(true)` open, `Ok(false)` closed, or why it could
/// not be read.
pub type State = Result<bool, String>;

fn holds(closed: ClosedSkips, action: Action) -> bool {
    matches!((closed, action), (ClosedSkips::Starts, Action::Start) | (ClosedSkips::Stops, Action::Stop))
}

/// Why `action` is not carried out now, if it is not.
pub fn skip(calendar: &str, action: Action, state: &State, closed: ClosedSkips) -> Option<String> {
    match state {
        Ok(true) => None,
        Ok(false) if holds(closed, action) => Some(format!("change calendar {calendar} is CLOSED ({})", closed.as_str())),
        Ok(false) => None,
        Err(e) if holds(closed, action) => {
            Some(format!("change calendar {calendar} cannot be read ({e}): taken as CLOSED ({})", closed.as_str()))
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::{Start, Stop};

    #[test]
    fn a_closed_calendar_holds_back_one_direction() {
        let err: State = Err("AccessDenied".into());
        let cases: [(Action, State, ClosedSkips, Option<&str>); 10] = [
            (Start, Ok(true), ClosedSkips::Starts, None),
            (Stop, Ok(true), ClosedSkips::Stops, None),
            (Start, Ok(false), ClosedSkips::Starts, Some("change calendar freeze is CLOSED (skip-starts)")),
            (Stop, Ok(false), ClosedSkips::Starts, None),
            (Stop, Ok(false), ClosedSkips::Stops, Some("change calendar freeze is CLOSED (skip-stops)")),
            (Start, Ok(false), ClosedSkips::Stops, None),
            (
                Start,
                err.clone(),
                ClosedSkips::Starts,
                Some("change calendar freeze cannot be read (AccessDenied): taken as CLOSED (skip-starts)"),
            ),
            (Stop, err.clone(), ClosedSkips::Starts, None),
            (
                Stop,
                err.clone(),
                ClosedSkips::Stops,
                Some("change calendar freeze cannot be read (AccessDenied): taken as CLOSED (skip-stops)"),
            ),
            (Start, err, ClosedSkips::Stops, None),
        ];
        for (action, state, closed, want) in cases {
            assert_eq!(skip("freeze", action, &state, closed).as_deref(), want, "{action} {state:?} {closed:?}");
        }
    }
}
