//! Decisions: what one action of one schedule does to each observed resource, and why.
//! Pure: no I/O, no clock; `now` is an argument.

use std::fmt;

use crate::config::Schedule;
use crate::kinds::Rules;

use crate::model::{Action, Asks, Mode, Phase, Resource};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

pub mod alarms;
pub mod change_calendar;
pub mod enforce;
pub mod hold;
pub mod order;
pub mod snooze;
pub mod tag_schedules;

/// Why a resource is left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The kind's own rule (an Auto Scaling group member, a read replica, ...).
    Kind(String),
    Transitional(String),
    Gone(String),
    OverrideAlways {
        tag: String,
    },
    OverrideUntil {
        tag: String,
        until: String,
    },
    BadOverride {
        tag: String,
        value: String,
    },
    SkipDate(NaiveDate),
    /// A date a calendar of the schedule covers (`skip_calendars`): what covers it.
    Holiday(NaiveDate, String),
    /// Enforce found it out of step less than `enforce_grace` ago.
    Grace {
        until: String,
    },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Kind(why) => f.write_str(why),
            Self::Transitional(s) => write!(f, "in transition ({s})"),
            Self::Gone(s) => write!(f, "{s}"),
            Self::OverrideAlways { tag } => write!(f, "override tag {tag}=true"),
            Self::OverrideUntil { tag, until } => write!(f, "snoozed until {until} (override tag {tag})"),
            Self::BadOverride { tag, value } => {
                write!(f, "bad override tag value {tag}={value:?} (expected true, a date YYYY-MM-DD or an RFC 3339 time)")
            }
            Self::SkipDate(d) => write!(f, "{d} is a skip date"),
            Self::Holiday(d, what) => write!(f, "{d} is a skip date ({what})"),
            Self::Grace { until } => write!(f, "out of step: left as found until {until} (enforce_grace)"),
        }
    }
}

/// What to do with one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Start or stop it, in the way its kind chose (EC2's hibernate, say).
    Act {
        mode: Mode,
    },
    /// Already in the state the action leads to.
    Unchanged,
    Skip(SkipReason),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub resource: Resource,
    pub verdict: Verdict,
    /// Something the operator should know, e.g. a hibernate that will be a plain stop.
    pub warning: Option<String>,
}

/// The override tag's meaning at `now`: `Some(reason)` while it skips the instance.
fn override_skip(tag: &str, value: &str, now: DateTime<Utc>, tz: Tz) -> Option<SkipReason> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("true") {
        return Some(SkipReason::OverrideAlways { tag: tag.into() });
    }
    if v.eq_ignore_ascii_case("false") {
        return None;
    }
    if let Ok(date) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        // A date means "leave it alone until that day begins" in the schedule's zone.
        let until = crate::schedule::first_instant_at_or_after(&tz, date.and_hms_opt(0, 0, 0)?);
        return (now < until).then(|| SkipReason::OverrideUntil { tag: tag.into(), until: v.into() });
    }
    if let Ok(until) = DateTime::parse_from_rfc3339(v) {
        return (now < until).then(|| SkipReason::OverrideUntil { tag: tag.into(), until: v.into() });
    }
    Some(SkipReason::BadOverride { tag: tag.into(), value: value.into() })
}

/// Decides, for each resource, what `action` of `schedule` does at `now`.
/// Checks run from the ones that protect resources to the ones about timing.
pub fn plan(schedule: &Schedule, action: Action, skip_tag: &str, now: DateTime<Utc>, resources: &[Resource]) -> Vec<Decision> {
    let today = now.with_timezone(&schedule.timezone).date_naive();
    // Inside an exception or hold kept on, a skip date does not hold back its start.
    let kept_on =
        action == Action::Start && schedule.exceptions.iter().any(|e| e.keep == crate::config::Keep::On && e.window.contains(now));
    let target = match action {
        Action::Start => Phase::Running,
        Action::Stop => Phase::Stopped,
    };
    resources
        .iter()
        .map(|r| {
            let skip = |reason| (Verdict::Skip(reason), None);
            let phase = r.phase();
            let (verdict, warning) = if let Some(why) = r.kind_skip(action) {
                skip(SkipReason::Kind(why))
            } else if phase == Phase::Gone {
                skip(SkipReason::Gone(r.state.clone()))
            } else if let Some(reason) = r.tags.get(skip_tag).and_then(|v| override_skip(skip_tag, v, now, schedule.timezone)) {
                skip(reason)
            } else if let Some(what) = schedule.holidays.get(&today).filter(|_| !kept_on) {
                skip(SkipReason::Holiday(today, what.clone()))
            } else if schedule.skip_dates.contains(&today) && !kept_on {
                skip(SkipReason::SkipDate(today))
            } else if phase == target {
                (Verdict::Unchanged, None)
            } else if phase == Phase::Transitional {
                skip(SkipReason::Transitional(r.state.clone()))
            } else {
                let (mode, word) = crate::kinds::of(r.kind).mode(r, action, Asks { hibernate: schedule.hibernate });
                (Verdict::Act { mode }, word.or_else(|| r.kind_note(action)))
            };
            Decision { resource: r.clone(), verdict, warning }
        })
        .collect()
}

/// The safety brake tripped: the action would touch more resources than allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "schedule {schedule}: {action} would touch {would_touch} instances, more than {setting} = {limit}; nothing was touched (raise the setting, or 0 for no limit, if this is intended)"
)]
pub struct BrakeError {
    pub schedule: String,
    pub action: Action,
    pub would_touch: usize,
    pub limit: u32,
    /// The setting that set the limit (the per-account brake or the overall cap).
    pub setting: &'static str,
}

/// Checks the safety brake over the decisions of one action, every kind and region.
pub fn check_brake(schedule: &str, action: Action, decisions: &[Decision], limit: u32) -> Result<(), BrakeError> {
    check_limit(schedule, action, decisions, limit, "max_instances_per_action")
}

/// The same against a named setting (the overall cap over every account).
pub fn check_limit(schedule: &str, action: Action, decisions: &[Decision], limit: u32, setting: &'static str) -> Result<(), BrakeError> {
    let would_touch = decisions.iter().filter(|d| matches!(d.verdict, Verdict::Act { .. })).count();
    if limit != 0 && would_touch > limit as usize {
        return Err(BrakeError { schedule: schedule.into(), action, would_touch, limit, setting });
    }
    Ok(())
}

pub use crate::schedule::Fire;

/// The schedule's most recent fire at or before `at`. When start and stop fire at
/// the same instant, stop wins.
pub fn last_fire(schedule: &Schedule, at: DateTime<Utc>) -> Option<Fire> {
    schedule.triggers().last_fire(at)
}

/// The schedule's first fire after `at`.
pub fn next_fire(schedule: &Schedule, at: DateTime<Utc>) -> Option<Fire> {
    schedule.triggers().next_fire(at)
}

#[cfg(test)]
mod tests;
