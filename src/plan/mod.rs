//! Decisions: what one action of one schedule does to each observed instance, and why.
//! Pure: no I/O, no clock; `now` is an argument.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::config::{Action, Schedule};

/// Tag that EC2 Auto Scaling puts on its members: offhours never touches them (the
/// group would replace a stopped member).
pub const ASG_TAG: &str = "aws:autoscaling:groupName";

/// An EC2 instance state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceState {
    Pending,
    Running,
    Stopping,
    Stopped,
    ShuttingDown,
    Terminated,
    Other(String),
}

impl InstanceState {
    pub fn parse(name: &str) -> Self {
        match name {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "stopping" => Self::Stopping,
            "stopped" => Self::Stopped,
            "shutting-down" => Self::ShuttingDown,
            "terminated" => Self::Terminated,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::ShuttingDown => "shutting-down",
            Self::Terminated => "terminated",
            Self::Other(s) => s,
        }
    }

    /// The state an action leaves an instance in.
    pub fn target_of(action: Action) -> Self {
        match action {
            Action::Start => Self::Running,
            Action::Stop => Self::Stopped,
        }
    }
}

impl fmt::Display for InstanceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for InstanceState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An instance as DescribeInstances reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub id: String,
    pub region: String,
    pub state: InstanceState,
    pub tags: BTreeMap<String, String>,
    /// `ebs` or `instance-store`.
    pub root_device_type: Option<String>,
    /// `spot` or `capacity-block` for those; absent for on-demand.
    pub lifecycle: Option<String>,
    pub hibernation_configured: bool,
    /// Why the instance is in its state, e.g. `Client.InternalError: Client error on launch`.
    pub state_reason: Option<String>,
}

impl Instance {
    pub fn name(&self) -> Option<&str> {
        self.tags.get("Name").map(String::as_str)
    }
}

/// Why an instance is left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    AutoScalingGroup(String),
    InstanceStoreRoot,
    Spot,
    Transitional(InstanceState),
    Terminated(InstanceState),
    OverrideAlways { tag: String },
    OverrideUntil { tag: String, until: String },
    BadOverride { tag: String, value: String },
    SkipDate(NaiveDate),
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AutoScalingGroup(g) => write!(f, "member of auto scaling group {g}"),
            Self::InstanceStoreRoot => f.write_str("instance-store root device cannot be stopped"),
            Self::Spot => f.write_str("spot instance"),
            Self::Transitional(s) => write!(f, "in transition ({s})"),
            Self::Terminated(s) => write!(f, "{s}"),
            Self::OverrideAlways { tag } => write!(f, "override tag {tag}=true"),
            Self::OverrideUntil { tag, until } => write!(f, "override tag {tag} until {until}"),
            Self::BadOverride { tag, value } => {
                write!(f, "bad override tag value {tag}={value:?} (expected true, a date YYYY-MM-DD or an RFC 3339 time)")
            }
            Self::SkipDate(d) => write!(f, "{d} is a skip date"),
        }
    }
}

/// What to do with one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Start or stop it (`hibernate` for a stop that hibernates).
    Act {
        hibernate: bool,
    },
    /// Already in the state the action leads to.
    Unchanged,
    Skip(SkipReason),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub instance: Instance,
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

/// Decides, for each instance, what `action` of `schedule` does at `now`.
/// Checks run from the ones that protect machines to the ones about timing.
pub fn plan(schedule: &Schedule, action: Action, skip_tag: &str, now: DateTime<Utc>, instances: &[Instance]) -> Vec<Decision> {
    let today = now.with_timezone(&schedule.timezone).date_naive();
    instances
        .iter()
        .map(|instance| {
            let skip = |reason| (Verdict::Skip(reason), None);
            let (verdict, warning) = if let Some(group) = instance.tags.get(ASG_TAG) {
                skip(SkipReason::AutoScalingGroup(group.clone()))
            } else if instance.root_device_type.as_deref() == Some("instance-store") {
                skip(SkipReason::InstanceStoreRoot)
            } else if instance.lifecycle.as_deref() == Some("spot") {
                skip(SkipReason::Spot)
            } else if matches!(instance.state, InstanceState::Terminated | InstanceState::ShuttingDown) {
                skip(SkipReason::Terminated(instance.state.clone()))
            } else if let Some(reason) = instance.tags.get(skip_tag).and_then(|v| override_skip(skip_tag, v, now, schedule.timezone)) {
                skip(reason)
            } else if schedule.skip_dates.contains(&today) {
                skip(SkipReason::SkipDate(today))
            } else if instance.state == InstanceState::target_of(action) {
                (Verdict::Unchanged, None)
            } else if !matches!((action, &instance.state), (Action::Start, InstanceState::Stopped) | (Action::Stop, InstanceState::Running))
            {
                skip(SkipReason::Transitional(instance.state.clone()))
            } else if action == Action::Stop && schedule.hibernate && !instance.hibernation_configured {
                (
                    Verdict::Act { hibernate: false },
                    Some("hibernation is not configured on this instance: a normal stop instead".to_string()),
                )
            } else {
                (Verdict::Act { hibernate: action == Action::Stop && schedule.hibernate }, None)
            };
            Decision { instance: instance.clone(), verdict, warning }
        })
        .collect()
}

/// The safety brake tripped: the action would touch more instances than allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "schedule {schedule}: {action} would touch {would_touch} instances, more than max_instances_per_action = {limit}; nothing was touched (raise the setting, or 0 for no limit, if this is intended)"
)]
pub struct BrakeError {
    pub schedule: String,
    pub action: Action,
    pub would_touch: usize,
    pub limit: u32,
}

/// Checks the safety brake over the decisions of one action in every region.
pub fn check_brake(schedule: &str, action: Action, decisions: &[Decision], limit: u32) -> Result<(), BrakeError> {
    let would_touch = decisions.iter().filter(|d| matches!(d.verdict, Verdict::Act { .. })).count();
    if limit != 0 && would_touch > limit as usize {
        return Err(BrakeError { schedule: schedule.into(), action, would_touch, limit });
    }
    Ok(())
}

/// One fire of a schedule: which action, when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fire {
    pub action: Action,
    pub at: DateTime<Utc>,
}

/// The schedule's most recent fire at or before `at`. When start and stop fire at
/// the same instant, stop wins.
pub fn last_fire(schedule: &Schedule, at: DateTime<Utc>) -> Option<Fire> {
    Action::ALL
        .iter()
        .filter_map(|&action| {
            let t = schedule.trigger(action)?.last_at_or_before(at)?;
            Some(Fire { action, at: t })
        })
        .max_by_key(|f| (f.at, f.action == Action::Stop))
}

/// The schedule's first fire after `at`.
pub fn next_fire(schedule: &Schedule, at: DateTime<Utc>) -> Option<Fire> {
    Action::ALL
        .iter()
        .filter_map(|&action| {
            let t = schedule.trigger(action)?.next_after(at)?;
            Some(Fire { action, at: t })
        })
        .min_by_key(|f| (f.at, f.action != Action::Stop))
}

#[cfg(test)]
mod tests;
