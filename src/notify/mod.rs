//! Notifications: which events people are told about, and what they are told. Pure
//! here (events become [`Notice`]s, filters choose sinks); [`format`] renders a notice
//! for Slack, Teams, a JSON receiver or SNS; [`queue`] delivers them without ever
//! holding up an action; [`sinks`] are the thin adapters that send.

pub mod format;
pub mod queue;
pub mod sinks;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::events::Event;
use crate::model::{Kind, Outcome};
use crate::model::{NoticeKind, Severity};

/// A resource a notice is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeResource {
    /// The account's id, when offhours acts in several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub kind: Kind,
    pub id: String,
    pub region: String,
    pub name: Option<String>,
    /// Why it failed, or how to postpone its stop.
    pub detail: Option<String>,
}

/// One notification, before it is shaped for a sink.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    #[serde(rename = "event")]
    pub kind: NoticeKind,
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// A few sentences of plain text.
    pub text: String,
    /// Labelled values (schedule, action, job, ...), in display order.
    pub facts: Vec<(String, String)>,
    pub resources: Vec<NoticeResource>,
    #[serde(serialize_with = "rfc3339")]
    pub at: DateTime<Utc>,
}

fn rfc3339<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// What a notice needs beyond the event: where the file is (the snooze command names
/// it when it is not the default one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    pub config_path: Option<String>,
}

/// The exact command that postpones a resource's stop by an hour.
pub fn snooze_command(ctx: &Context, account: Option<&crate::model::AccountRef>, kind: Kind, id: &str, region: &str) -> String {
    let mut cmd = String::from("offhours snooze");
    if let Some(path) = &ctx.config_path {
        cmd.push_str(&format!(" --config {}", shell_word(path)));
    }
    cmd.push_str(&format!(" {}", shell_word(id)));
    if let Some(a) = account {
        cmd.push_str(&format!(" --account {}", a.id));
    }
    // An id with its kind's own prefix (an instance's `i-`) says its kind by itself.
    if kind.info().id_prefix.is_none_or(|prefix| !id.starts_with(prefix)) {
        cmd.push_str(&format!(" --kind {kind}"));
    }
    cmd.push_str(&format!(" --region {region} --for 1h"));
    cmd
}

/// Quotes a word for a POSIX shell when it needs it.
fn shell_word(word: &str) -> String {
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c)) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn fact(label: &str, value: impl fmt::Display) -> (String, String) {
    (label.to_string(), value.to_string())
}

/// The notice an event deserves, if any. Pure: `now` is when it is sent.
pub fn notice(event: &Event<'_>, ctx: &Context, now: DateTime<Utc>) -> Option<Notice> {
    let draft = match event {
        Event::ActionFinished { job, schedule, action, dry_run, results, list_failures, failed_accounts, .. } => {
            action_failed(job, schedule, *action, *dry_run, results, *list_failures, failed_accounts)?
        }
        Event::BrakeTripped { account, job, schedule, action, would_touch, limit, dry_run } => {
            brake_tripped(*account, job, schedule, *action, *would_touch, *limit, *dry_run)
        }
        Event::ActionAborted { job, schedule, action, error } => aws_unreachable(job, schedule, *action, error),
        Event::Reload { applied: false, errors } => reload_rejected(errors),
        Event::FireMissed { job, schedule, action, fire_at, late, max_lateness } => {
            fire_missed(job, schedule, action, *fire_at, *late, *max_lateness)
        }
        Event::AuditFinished { findings } => audit_findings(findings)?,
        Event::AlarmChecked { outcome, alarm_name } => billing_alarm(outcome, alarm_name)?,
        Event::StopWarning { schedule, stop_at, timezone, resources } => stop_warning(ctx, schedule, *stop_at, *timezone, resources, now),
        Event::Hold { change, schedule, keep, from, until, timezone, reason, set_by } => {
            hold(change, schedule, keep, (*from, *until, *timezone), *reason, set_by)
        }
        Event::Reload { applied: true, .. }
        | Event::Resource { .. }
        | Event::FireStarted { .. }
        | Event::AwsCall { .. }
        | Event::Notification { .. }
        // Told within the action's own notice (its held resources).
        | Event::OrderHalted { .. }
        // A warning in the log and a metric: the schedules go on with the last good copy.
        | Event::CalendarRead { .. }
        | Event::HoldsInForce { .. }
        | Event::Role { .. } => return None,
    };
    Some(draft.at(now))
}

/// A notice before it is stamped with the time it is sent.
struct Draft {
    kind: NoticeKind,
    severity: Severity,
    title: String,
    text: String,
    facts: Vec<(String, String)>,
    resources: Vec<NoticeResource>,
}

impl Draft {
    fn at(self, at: DateTime<Utc>) -> Notice {
        let Draft { kind, severity, title, text, facts, resources } = self;
        Notice { kind, severity, title, text, facts, resources, at }
    }
}

/// Resources failed, kinds and regions unlisted, or accounts not acted in.
fn action_failed(
    job: &str,
    schedule: &str,
    action: crate::model::Action,
    dry_run: bool,
    results: &[crate::model::ResourceResult],
    list_failures: usize,
    failed_accounts: &[crate::model::AccountFailure],
) -> Option<Draft> {
    let failed: Vec<NoticeResource> = results
        .iter()
        .filter(|r| r.outcome == Outcome::Failed)
        .map(|r| NoticeResource {
            account: (!r.account.is_empty()).then(|| r.account.clone()),
            kind: r.kind,
            id: r.id.clone(),
            region: r.region.clone(),
            name: r.name.clone(),
            detail: r.reason.clone(),
        })
        .collect();
    if failed.is_empty() && list_failures == 0 && failed_accounts.is_empty() {
        return None;
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results {
        *counts.entry(r.outcome.as_str()).or_default() += 1;
    }
    let counts = counts.iter().map(|(o, n)| format!("{o} {n}")).collect::<Vec<_>>().join(", ");
    let mut text = format!("{} of {} resources failed ({counts}).", failed.len(), results.len());
    if list_failures > 0 {
        text.push_str(&format!(" {list_failures} kind and region listings failed: their resources were not acted on."));
    }
    let held = results.iter().filter(|r| r.outcome == Outcome::Held).count();
    if held > 0 {
        text.push_str(&format!(
            " {held} resources were held: a group before theirs in the schedule's order failed (order_on_failure = \"halt\")."
        ));
    }
    if !failed_accounts.is_empty() {
        let each: Vec<String> = failed_accounts
            .iter()
            .map(|f| format!("{}: {}", f.account_name.as_ref().map_or(f.account.clone(), |n| format!("{n} ({})", f.account)), f.error))
            .collect();
        text.push_str(&format!(" {} accounts were not acted in: {}.", failed_accounts.len(), each.join("; ")));
    }
    let title = if failed_accounts.is_empty() {
        format!("offhours: {action} of schedule {schedule} failed for {} resources", failed.len() + list_failures)
    } else {
        format!(
            "offhours: {action} of schedule {schedule} failed for {} resources and {} accounts",
            failed.len() + list_failures,
            failed_accounts.len()
        )
    };
    Some(Draft {
        kind: NoticeKind::ActionFailed,
        severity: Severity::Error,
        title,
        text,
        facts: vec![fact("schedule", schedule), fact("action", action), fact("job", job), fact("dry run", dry_run)],
        resources: failed,
    })
}

fn brake_tripped(
    account: Option<&crate::model::AccountRef>,
    job: &str,
    schedule: &str,
    action: crate::model::Action,
    would_touch: usize,
    limit: u32,
    dry_run: bool,
) -> Draft {
    Draft {
        kind: NoticeKind::BrakeTripped,
        severity: Severity::Error,
        title: format!("offhours: safety brake stopped the {action} of schedule {schedule}"),
        text: format!(
            "The {action} would have touched {would_touch} resources, more than the limit of {limit}. Nothing was touched there. Raise the setting if this is intended."
        ),
        facts: vec![
            fact("schedule", schedule),
            fact("action", action),
            fact("job", job),
            fact("account", account.map_or("all accounts together (max_instances_per_action_total)".to_string(), |a| a.to_string())),
            fact("would touch", would_touch),
            fact("limit", limit),
            fact("dry run", dry_run),
        ],
        resources: Vec::new(),
    }
}

fn aws_unreachable(job: &str, schedule: &str, action: crate::model::Action, error: &str) -> Draft {
    Draft {
        kind: NoticeKind::AwsUnreachable,
        severity: Severity::Error,
        title: format!("offhours: {action} of schedule {schedule} not carried out: AWS unreachable"),
        text: format!("No resource could be listed, so nothing was acted on: {error}"),
        facts: vec![fact("schedule", schedule), fact("action", action), fact("job", job)],
        resources: Vec::new(),
    }
}

fn reload_rejected(errors: &[String]) -> Draft {
    Draft {
        kind: NoticeKind::ReloadRejected,
        severity: Severity::Error,
        title: "offhours: reload rejected, the running schedules stay".to_string(),
        text: errors.join("\n"),
        facts: vec![fact("errors", errors.len())],
        resources: Vec::new(),
    }
}

/// A hold set, replaced, cleared or ended: people who rely on the schedule learn that
/// it is not acting as usual, and when it will again.
fn hold(
    change: &str,
    schedule: &str,
    keep: &str,
    (from, until, tz): (DateTime<Utc>, DateTime<Utc>, chrono_tz::Tz),
    reason: Option<&str>,
    set_by: &str,
) -> Draft {
    let t = |at: DateTime<Utc>| at.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::Secs, false);
    let what = if keep == "on" { "kept on: no stop fires" } else { "kept off: no start fires" };
    let text = match change {
        "cleared" => format!("The hold ({keep} until {}) was cleared: its fires act as usual again.", t(until)),
        "expired" => format!("The hold ({keep}) ended at {}: its fires act as usual again.", t(until)),
        _ => format!("From {} until {} the schedule's resources are {what}.", t(from), t(until)),
    };
    let mut facts =
        vec![fact("schedule", schedule), fact("hold", keep), fact("from", t(from)), fact("until", t(until)), fact("set by", set_by)];
    if let Some(r) = reason {
        facts.push(fact("reason", r));
    }
    Draft {
        kind: NoticeKind::Hold,
        severity: Severity::Info,
        title: format!("offhours: hold on schedule {schedule} {change}"),
        text,
        facts,
        resources: Vec::new(),
    }
}

fn fire_missed(
    job: &str,
    schedule: &str,
    action: &str,
    fire_at: DateTime<Utc>,
    late: std::time::Duration,
    max_lateness: std::time::Duration,
) -> Draft {
    Draft {
        kind: NoticeKind::FireMissed,
        severity: Severity::Warning,
        title: format!("offhours: {action} of schedule {schedule} missed"),
        text: format!(
            "The fire at {} was {} late, more than max_lateness ({}), and was not carried out.",
            fire_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            human(late),
            human(max_lateness)
        ),
        facts: vec![fact("schedule", schedule), fact("action", action), fact("job", job)],
        resources: Vec::new(),
    }
}

fn audit_findings(findings: &BTreeMap<&str, usize>) -> Option<Draft> {
    let total: usize = findings.values().sum();
    if total == 0 {
        return None;
    }
    let text = findings.iter().filter(|(_, n)| **n > 0).map(|(rule, n)| format!("{rule}: {n}")).collect::<Vec<_>>().join(", ");
    Some(Draft {
        kind: NoticeKind::AuditFindings,
        severity: Severity::Warning,
        title: format!("offhours: the access-key audit found {total} keys to look at"),
        text: format!("Findings by rule: {text}. Run `offhours audit-keys` for the keys and users."),
        facts: findings.iter().map(|(rule, n)| fact(rule, n)).collect(),
        resources: Vec::new(),
    })
}

fn billing_alarm(outcome: &str, alarm_name: &str) -> Option<Draft> {
    let (severity, text) = match outcome {
        "created" => (Severity::Info, "The billing alarm did not exist and was created."),
        "updated" => (Severity::Info, "The billing alarm differed from the file and was updated."),
        "foreign" => (Severity::Warning, "An alarm of that name exists but was not made by offhours; it was left as it is."),
        "failed" => (Severity::Error, "The billing alarm could not be checked; see the log for the error."),
        _ => return None,
    };
    Some(Draft {
        kind: NoticeKind::BillingAlarm,
        severity,
        title: format!("offhours: billing alarm {alarm_name} {outcome}"),
        text: text.to_string(),
        facts: vec![fact("alarm", alarm_name), fact("outcome", outcome)],
        resources: Vec::new(),
    })
}

fn stop_warning(
    ctx: &Context,
    schedule: &str,
    stop_at: DateTime<Utc>,
    timezone: chrono_tz::Tz,
    resources: &[crate::events::ResourceRef],
    now: DateTime<Utc>,
) -> Draft {
    let local = stop_at.with_timezone(&timezone);
    let listed = resources
        .iter()
        .map(|r| NoticeResource {
            account: r.account.as_ref().map(|a| a.id.clone()),
            kind: r.kind,
            id: r.id.clone(),
            region: r.region.clone(),
            name: r.name.clone(),
            detail: Some(snooze_command(ctx, r.account.as_ref(), r.kind, &r.id, &r.region)),
        })
        .collect();
    // Rounded up: sent a few milliseconds after `warn_before = "8s"` still says 8s.
    let in_for = std::time::Duration::from_secs((stop_at - now).to_std().unwrap_or_default().as_millis().div_ceil(1000) as u64);
    Draft {
        kind: NoticeKind::StopWarning,
        severity: Severity::Info,
        title: format!("offhours: schedule {schedule} stops {} resources in {}", resources.len(), human(in_for)),
        text: format!(
            "At {} ({}) these resources will be stopped. To keep one running, snooze it with the command shown next to it (--for 2h or --until TIME also work).",
            local.format("%Y-%m-%d %H:%M:%S %Z"),
            timezone.name()
        ),
        facts: vec![fact("schedule", schedule), fact("stop at", local.to_rfc3339_opts(SecondsFormat::Secs, false))],
        resources: listed,
    }
}

/// `1h 5m`, `45s`: short and exact to the second.
pub fn human(d: std::time::Duration) -> String {
    let s = d.as_secs();
    let (days, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    let parts: Vec<String> =
        [(days, "d"), (h, "h"), (m, "m"), (sec, "s")].iter().filter(|(n, _)| *n > 0).map(|(n, u)| format!("{n}{u}")).collect();
    if parts.is_empty() { "0s".into() } else { parts.join(" ") }
}

#[cfg(test)]
mod tests;
