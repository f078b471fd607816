//! Which fires are due: pure functions of the jobs, the window of time since fires
//! were last handled, and the lateness bound. The daemon's loop and its start-up
//! catch-up both decide here.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::Config;

use crate::model::Action;
use crate::schedule::Trigger;

/// What a timed job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKind {
    Schedule(Action),
    /// The warning `lead` ahead of each stop of a schedule.
    StopWarning {
        lead: Duration,
    },
    /// A schedule's enforce tick (not a timed job: the loop paces it).
    Enforce,
    BillingAlarm,
    AuditKeys,
}

/// The group (and job key) of the access-key audit.
pub const AUDIT_GROUP: &str = "audit-keys";

/// The group (and job key) of the billing alarm check.
pub const BILLING_GROUP: &str = "billing-alarm";

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobKind::Schedule(a) => write!(f, "{a}"),
            JobKind::StopWarning { .. } => f.write_str("warn"),
            JobKind::Enforce => f.write_str("enforce"),
            JobKind::BillingAlarm => f.write_str("billing-alarm"),
            JobKind::AuditKeys => f.write_str("audit-keys"),
        }
    }
}

/// A job with its trigger. Jobs of one `group` (a schedule's start and stop) run one
/// after another; groups run independently.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedJob {
    pub group: String,
    pub kind: JobKind,
    pub trigger: Trigger,
}

impl TimedJob {
    /// The job's name in the state file and the logs.
    pub fn key(&self) -> String {
        match self.kind {
            JobKind::Schedule(a) => format!("schedule:{}:{a}", self.group),
            // A group of its own (the key): a warning never supersedes, or is
            // superseded by, the schedule's own fires.
            JobKind::StopWarning { .. } => self.group.clone(),
            JobKind::Enforce => format!("schedule:{}:enforce", self.group),
            JobKind::BillingAlarm => BILLING_GROUP.to_string(),
            JobKind::AuditKeys => AUDIT_GROUP.to_string(),
        }
    }

    /// How far ahead of its trigger's instants the job fires.
    fn lead(&self) -> chrono::TimeDelta {
        match self.kind {
            JobKind::StopWarning { lead } => chrono::TimeDelta::from_std(lead).unwrap_or(chrono::TimeDelta::MAX),
            _ => chrono::TimeDelta::zero(),
        }
    }

    /// The job's latest fire at or before `at`.
    pub fn last_at_or_before(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let lead = self.lead();
        self.trigger.last_at_or_before(at.checked_add_signed(lead)?).and_then(|t| t.checked_sub_signed(lead))
    }

    /// The job's first fire after `at`.
    pub fn next_after(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let lead = self.lead();
        self.trigger.next_after(at.checked_add_signed(lead)?).and_then(|t| t.checked_sub_signed(lead))
    }
}

/// The group (and key) of a schedule's stop warnings.
pub fn warning_group(schedule: &str) -> String {
    format!("schedule:{schedule}:warn")
}

/// The schedule a warning group belongs to.
pub fn warned_schedule(group: &str) -> Option<&str> {
    group.strip_prefix("schedule:")?.strip_suffix(":warn")
}

/// Every timed job the file configures.
pub fn timed_jobs(config: &Config) -> Vec<TimedJob> {
    let mut jobs = Vec::new();
    for s in &config.schedules {
        for action in Action::ALL {
            if let Some(t) = s.trigger(action) {
                jobs.push(TimedJob { group: s.name.clone(), kind: JobKind::Schedule(action), trigger: t.clone() });
            }
        }
        if let (Some(lead), Some(stop)) = (s.warn_before, &s.stop) {
            jobs.push(TimedJob { group: warning_group(&s.name), kind: JobKind::StopWarning { lead }, trigger: stop.clone() });
        }
    }
    if let Some(t) = config.iam_audit.as_ref().and_then(|a| a.trigger.as_ref()) {
        jobs.push(TimedJob { group: AUDIT_GROUP.into(), kind: JobKind::AuditKeys, trigger: t.clone() });
    }
    if let Some(t) = config.billing_alarm.as_ref().and_then(|b| b.trigger.as_ref()) {
        jobs.push(TimedJob { group: BILLING_GROUP.into(), kind: JobKind::BillingAlarm, trigger: t.clone() });
    }
    jobs
}

/// One fire of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fire {
    pub group: String,
    pub kind: JobKind,
    pub key: String,
    pub at: DateTime<Utc>,
}

impl Fire {
    /// The schedule (or job) a person knows it by, for logs and metric labels: a stop
    /// warning's is its schedule's name, not its group key.
    pub fn schedule_name(&self) -> &str {
        match self.kind {
            JobKind::StopWarning { .. } => warned_schedule(&self.group).unwrap_or(&self.group),
            _ => &self.group,
        }
    }
}

/// What to do about a fire found in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Carry it out.
    Run(Fire),
    /// Too old (more than the lateness bound): log it, do nothing.
    Missed(Fire),
    /// A later fire of the same group makes it moot (a missed start followed by a
    /// missed stop means: stop).
    Superseded { fire: Fire, by: DateTime<Utc> },
}

/// Fires of resources' own schedules (`tag:`) held back together: one action at one
/// instant, over how many schedules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagBrake {
    pub action: Action,
    pub at: DateTime<Utc>,
    pub fires: Vec<Fire>,
}

/// Resources that schedule themselves are one schedule each, so the per-action brake
/// never sees them together: more of their fires of one action at one instant than
/// `limit` (`max_instances_per_action`; 0: no limit) is a mass change, a bad tag
/// copied across a fleet, and none of those fires runs.
pub fn tag_brake(found: Vec<Due>, limit: u32) -> (Vec<Due>, Vec<TagBrake>) {
    let tagged = |d: &Due| match d {
        Due::Run(f) if f.group.starts_with("tag:") => match f.kind {
            JobKind::Schedule(a) => Some((a, f.at)),
            _ => None,
        },
        _ => None,
    };
    let mut counts: BTreeMap<(Action, DateTime<Utc>), usize> = BTreeMap::new();
    for d in &found {
        if let Some(k) = tagged(d) {
            *counts.entry(k).or_default() += 1;
        }
    }
    let over = |k: &(Action, DateTime<Utc>)| limit > 0 && counts.get(k).is_some_and(|n| *n > limit as usize);
    let mut kept: Vec<Due> = Vec::new();
    let mut held: BTreeMap<(Action, DateTime<Utc>), Vec<Fire>> = BTreeMap::new();
    for d in found {
        match (tagged(&d), d) {
            (Some(k), Due::Run(f)) if over(&k) => held.entry(k).or_default().push(f),
            (_, d) => kept.push(d),
        }
    }
    (kept, held.into_iter().map(|((action, at), fires)| TagBrake { action, at, fires }).collect())
}

/// For each group, the most recent fire in `(since(job), upto]` runs if it is at most
/// `max_lateness` old and is missed otherwise; the latest earlier fire of each other
/// job of the group is superseded. A job whose `since` is `None` has no history and
/// nothing due.
pub fn due(jobs: &[TimedJob], since: impl Fn(&TimedJob) -> Option<DateTime<Utc>>, upto: DateTime<Utc>, max_lateness: Duration) -> Vec<Due> {
    let mut by_group: BTreeMap<&str, Vec<Fire>> = BTreeMap::new();
    for job in jobs {
        let Some(from) = since(job) else { continue };
        if let Some(at) = job.last_at_or_before(upto).filter(|t| *t > from) {
            by_group.entry(&job.group).or_default().push(Fire { group: job.group.clone(), kind: job.kind, key: job.key(), at });
        }
    }
    let lateness = chrono::TimeDelta::from_std(max_lateness).unwrap_or(chrono::TimeDelta::MAX);
    let mut out = Vec::new();
    for (_, mut fires) in by_group {
        // Latest last; on a tie, stop wins (it sorts after start).
        fires.sort_by_key(|f| (f.at, f.kind));
        let latest = fires.pop().expect("group has a fire");
        for f in fires {
            out.push(Due::Superseded { fire: f, by: latest.at });
        }
        if upto - latest.at > lateness {
            out.push(Due::Missed(latest));
        } else {
            out.push(Due::Run(latest));
        }
    }
    out
}

/// The first fire of any job after `after`.
pub fn next_fire(jobs: &[TimedJob], after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    jobs.iter().filter_map(|j| j.next_after(after)).min()
}

/// The enforce ticks due at `now`, and when each schedule's next one is: a schedule
/// with `enforce` ticks every interval from `start` (its first tick one interval after
/// the daemon or the reload brought it). Pure.
pub fn enforce_due(config: &Config, next: &mut BTreeMap<String, DateTime<Utc>>, now: DateTime<Utc>) -> Vec<String> {
    let mut due = Vec::new();
    let wanted: BTreeMap<&str, Duration> = config.schedules.iter().filter_map(|s| Some((s.name.as_str(), s.enforce?))).collect();
    next.retain(|name, _| wanted.contains_key(name.as_str()));
    for (name, every) in wanted {
        let every = chrono::TimeDelta::from_std(every).unwrap_or(chrono::TimeDelta::MAX);
        match next.get(name) {
            None => {
                next.insert(name.to_string(), now.checked_add_signed(every).unwrap_or(DateTime::<Utc>::MAX_UTC));
            }
            Some(at) if *at <= now => {
                due.push(name.to_string());
                // From now, not from the missed tick: a suspended host does not burst.
                next.insert(name.to_string(), now.checked_add_signed(every).unwrap_or(DateTime::<Utc>::MAX_UTC));
            }
            Some(_) => {}
        }
    }
    due
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::CronExpr;

    fn job(group: &str, action: Action, cron: &str) -> TimedJob {
        TimedJob {
            group: group.into(),
            kind: JobKind::Schedule(action),
            trigger: Trigger::new(CronExpr::parse(cron).unwrap(), chrono_tz::Europe::Berlin),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn render(d: &[Due]) -> Vec<String> {
        let show = |f: &Fire| format!("{} {}", f.key, f.at.with_timezone(&chrono_tz::Europe::Berlin).format("%a %H:%M"));
        d.iter()
            .map(|d| match d {
                Due::Run(f) => format!("run {}", show(f)),
                Due::Missed(f) => format!("missed {}", show(f)),
                Due::Superseded { fire, .. } => format!("superseded {}", show(fire)),
            })
            .collect()
    }

    fn office() -> Vec<TimedJob> {
        vec![
            job("office", Action::Start, "0 8 * * MON-FRI"),
            job("office", Action::Stop, "0 19 * * MON-FRI"),
            job("lab", Action::Stop, "0 20 * * *"),
        ]
    }

    #[track_caller]
    fn check_due(since: &str, upto: &str, lateness_h: u64, expect: &[&str]) {
        let since = at(since);
        let got = due(&office(), |_| Some(since), at(upto), Duration::from_secs(lateness_h * 3600));
        assert_eq!(render(&got), expect);
    }

    #[test]
    fn many_resources_stopping_themselves_at_once_trip_the_brake_together() {
        let run = |group: &str, action: Action, t: &str| {
            Due::Run(Fire { group: group.into(), kind: JobKind::Schedule(action), key: format!("schedule:{group}:{action}"), at: at(t) })
        };
        let found = vec![
            run("tag:i-1", Action::Stop, "2026-11-23T19:00:00+01:00"),
            run("tag:i-2", Action::Stop, "2026-11-23T19:00:00+01:00"),
            run("tag:i-3", Action::Stop, "2026-11-23T19:00:00+01:00"),
            run("tag:i-4", Action::Start, "2026-11-23T19:00:00+01:00"),
            run("tag:i-5", Action::Stop, "2026-11-23T19:01:00+01:00"),
            run("office", Action::Stop, "2026-11-23T19:00:00+01:00"),
        ];
        let (kept, held) = tag_brake(found.clone(), 2);
        assert_eq!(
            render(&kept),
            ["run schedule:tag:i-4:start Mon 19:00", "run schedule:tag:i-5:stop Mon 19:01", "run schedule:office:stop Mon 19:00"]
        );
        assert_eq!(held.len(), 1);
        assert_eq!((held[0].action, held[0].fires.len()), (Action::Stop, 3));
        let (kept, held) = tag_brake(found.clone(), 3);
        assert_eq!((kept.len(), held.len()), (6, 0), "at the limit: all run");
        assert_eq!(tag_brake(found, 0).1.len(), 0, "0: no limit");
    }

    #[test]
    fn due_fires() {
        // Mon 2026-11-23. Nothing in the window.
        check_due("2026-11-23T08:30:00+01:00", "2026-11-23T18:59:59+01:00", 6, &[]);
        // The stop at 19:00 exactly, at the edge of the window.
        check_due("2026-11-23T18:59:59+01:00", "2026-11-23T19:00:00+01:00", 6, &["run schedule:office:stop Mon 19:00"]);
        // Already handled: the window is exclusive at its start.
        check_due("2026-11-23T19:00:00+01:00", "2026-11-23T19:00:30+01:00", 6, &[]);
        // Down from Monday 07:59 to 08:10: the start is carried out late.
        check_due("2026-11-23T07:59:00+01:00", "2026-11-23T08:10:00+01:00", 6, &["run schedule:office:start Mon 08:00"]);
        // Down over the start and the stop: stop wins, the start is superseded.
        check_due(
            "2026-11-23T07:00:00+01:00",
            "2026-11-23T19:30:00+01:00",
            6,
            &["superseded schedule:office:start Mon 08:00", "run schedule:office:stop Mon 19:00"],
        );
        // Down all weekend: Friday's stop and Sunday's lab stop are too old.
        check_due(
            "2026-11-20T18:00:00+01:00",
            "2026-11-23T07:00:00+01:00",
            6,
            &["missed schedule:lab:stop Sun 20:00", "missed schedule:office:stop Fri 19:00"],
        );
        // The same with a lateness bound of three days.
        check_due(
            "2026-11-20T18:00:00+01:00",
            "2026-11-23T07:00:00+01:00",
            72,
            &["run schedule:lab:stop Sun 20:00", "run schedule:office:stop Fri 19:00"],
        );
    }

    #[test]
    fn jobs_without_history_have_nothing_due() {
        let got = due(&office(), |_| None, at("2026-11-23T19:30:00+01:00"), Duration::from_secs(3600));
        assert!(got.is_empty());
    }

    #[test]
    fn a_warning_fires_its_lead_ahead_of_each_stop_in_a_group_of_its_own() {
        let warn = TimedJob {
            group: warning_group("office"),
            kind: JobKind::StopWarning { lead: Duration::from_secs(15 * 60) },
            trigger: Trigger::new(CronExpr::parse("0 19 * * MON-FRI").unwrap(), chrono_tz::Europe::Berlin),
        };
        assert_eq!(warn.key(), "schedule:office:warn");
        let fire = Fire { group: warn.group.clone(), kind: warn.kind, key: warn.key(), at: Utc::now() };
        assert_eq!(fire.schedule_name(), "office", "the label people read");
        assert_eq!(warned_schedule(&warn.key()), Some("office"));
        assert_eq!(warn.next_after(at("2026-11-23T18:44:59+01:00")), Some(at("2026-11-23T18:45:00+01:00")));
        assert_eq!(warn.next_after(at("2026-11-23T18:45:00+01:00")), Some(at("2026-11-24T18:45:00+01:00")));
        assert_eq!(warn.last_at_or_before(at("2026-11-23T18:50:00+01:00")), Some(at("2026-11-23T18:45:00+01:00")));
        // Friday's warning, then Monday's: never on the weekend.
        assert_eq!(warn.next_after(at("2026-11-27T18:45:00+01:00")), Some(at("2026-11-30T18:45:00+01:00")));
        let mut jobs = office();
        jobs.push(warn);
        // Down over the warning and the stop: the stop runs; the warning, in its own
        // group, is found too (the executor drops a warning whose stop has passed).
        let got = due(&jobs, |_| Some(at("2026-11-23T18:00:00+01:00")), at("2026-11-23T19:00:05+01:00"), Duration::from_secs(3600));
        assert_eq!(render(&got), ["run schedule:office:stop Mon 19:00", "run schedule:office:warn Mon 18:45"]);
        assert_eq!(next_fire(&jobs, at("2026-11-24T08:00:00+01:00")), Some(at("2026-11-24T18:45:00+01:00")));
    }

    #[test]
    fn enforce_ticks_every_interval_from_when_the_schedule_came() {
        let config = crate::config::from_str(
            "[schedules.a]\nstop = \"0 19 * * *\"\nenforce = \"15m\"\n[schedules.b]\nstop = \"0 19 * * *\"\n",
            "t.toml",
            &crate::config::HostTimezone::fixed(chrono_tz::UTC),
        )
        .unwrap();
        let mut next = BTreeMap::new();
        assert!(enforce_due(&config, &mut next, at("2026-11-24T20:00:00Z")).is_empty(), "the first tick is one interval away");
        assert_eq!(next.get("a"), Some(&at("2026-11-24T20:15:00Z")));
        assert!(!next.contains_key("b"), "b does not enforce");
        assert!(enforce_due(&config, &mut next, at("2026-11-24T20:14:59Z")).is_empty());
        assert_eq!(enforce_due(&config, &mut next, at("2026-11-24T20:15:00Z")), ["a"]);
        // Asleep for an hour: one tick, then every 15 minutes from now.
        assert_eq!(enforce_due(&config, &mut next, at("2026-11-24T21:20:00Z")), ["a"]);
        assert_eq!(next.get("a"), Some(&at("2026-11-24T21:35:00Z")));
    }

    #[test]
    fn next_fire_is_the_earliest_of_all_jobs() {
        assert_eq!(next_fire(&office(), at("2026-11-23T19:00:00+01:00")), Some(at("2026-11-23T20:00:00+01:00")));
    }
}
