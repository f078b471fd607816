//! One stream of typed events. Every outcome is emitted once, where it happens; each
//! consumer subscribes: the log (always first, the events operators already know), the
//! metrics, and whatever the daemon adds. No producer calls a metric directly.
//!
//! Subscribers are called in line and must not block: they update counters or queue.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::model::{AccountFailure, AccountRef, Action, Kind, Outcome, ResourceResult};

/// Something that happened, with what every consumer needs to know about it.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// One resource acted on, skipped, unchanged or failed.
    Resource { job: &'a str, schedule: &'a str, action: Action, dry_run: bool, result: &'a ResourceResult },
    /// One action of one schedule ended (after every kind and region).
    ActionFinished {
        job: &'a str,
        schedule: &'a str,
        action: Action,
        dry_run: bool,
        kinds: &'a [Kind],
        regions: &'a [String],
        results: &'a [ResourceResult],
        list_failures: usize,
        /// Accounts the action could not act in.
        failed_accounts: &'a [AccountFailure],
        calls: &'a BTreeMap<&'static str, u64>,
        duration: Duration,
    },
    /// The safety brake stopped an action before anything was touched.
    /// `account`: the account whose brake tripped; `None`: the overall cap.
    BrakeTripped {
        account: Option<&'a AccountRef>,
        job: &'a str,
        schedule: &'a str,
        action: Action,
        would_touch: usize,
        limit: u32,
        dry_run: bool,
    },
    /// A group of the schedule's `order` failed in an account: the later groups
    /// (`held`) are not acted on there (`order_on_failure = "halt"`).
    OrderHalted { job: &'a str, schedule: &'a str, action: Action, account: &'a AccountRef, failed: &'a str, held: &'a str },
    /// A fire began, `lag` after its instant.
    FireStarted { job: &'a str, schedule: &'a str, action: &'a str, lag: Duration },
    /// A reload was applied or rejected (`errors`: one line per problem, when rejected).
    Reload { applied: bool, errors: &'a [String] },
    /// An action could not be carried out at all: no listing succeeded (AWS unreachable,
    /// credentials refused). The brake has its own event.
    ActionAborted { job: &'a str, schedule: &'a str, action: Action, error: &'a str },
    /// A fire older than `max_lateness` was not carried out.
    FireMissed { job: &'a str, schedule: &'a str, action: &'a str, fire_at: DateTime<Utc>, late: Duration, max_lateness: Duration },
    /// A schedule's hold (`offhours hold`) as the daemon found it: `change` is `set`,
    /// `replaced`, `cleared` or `expired`; `keep` is `on` or `off`.
    Hold {
        change: &'a str,
        schedule: &'a str,
        keep: &'a str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        timezone: Tz,
        reason: Option<&'a str>,
        set_by: &'a str,
    },
    /// The schedules with a hold in force, as this replica read them (every replica, at
    /// start-up and after each change, for the metric).
    HoldsInForce { schedules: &'a [&'a str] },
    /// A calendar (`[calendars.NAME]`) was read: `outcome` is `file`, `fetched`,
    /// `cached` (the fetch failed with `error`; the last good copy is used) or `failed`
    /// (no good text at all). `source` is a path or a URL's scheme and host, never the URL.
    CalendarRead { calendar: &'a str, source: &'a str, outcome: &'a str, error: Option<&'a str> },
    /// `warn_before` ahead of a stop: what the stop would stop now (a read-only listing).
    StopWarning { schedule: &'a str, stop_at: DateTime<Utc>, timezone: Tz, resources: &'a [ResourceRef] },
    /// One AWS call returned (after the SDK's retries).
    AwsCall { service: &'a str, operation: &'a str, ok: bool, duration: Duration },
    /// The access-key audit finished, in every account it ran in: findings by rule.
    AuditFinished { findings: &'a BTreeMap<&'a str, usize> },
    /// The billing alarm check ended with this outcome (`created`, `unchanged`, ...,
    /// `failed`).
    AlarmChecked { outcome: &'a str, alarm_name: &'a str },
    /// A notification was delivered (`sent`) or given up (`dropped`) by a sink of this
    /// kind (`sns`, `slack`, `teams`, `json`); logged where it happens.
    Notification { sink_kind: &'a str, outcome: &'a str },
    /// This replica started or stopped leading (shared state only); logged where it happens.
    Role { leader: bool },
}

/// A resource named in an event: enough to find it, and to snooze it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResourceRef {
    /// The account, when offhours acts in several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountRef>,
    pub kind: Kind,
    pub id: String,
    pub region: String,
    pub name: Option<String>,
}

/// A consumer of the stream.
pub trait Subscriber: Send + Sync + 'static {
    fn on(&self, event: &Event<'_>);
}

static SUBSCRIBERS: RwLock<Vec<Arc<dyn Subscriber>>> = RwLock::new(Vec::new());

/// Adds a consumer for the rest of the process.
pub fn subscribe(subscriber: Arc<dyn Subscriber>) {
    SUBSCRIBERS.write().expect("subscribers lock").push(subscriber);
}

/// Hands `event` to the log, then to every subscriber.
pub fn emit(event: Event<'_>) {
    log(&event);
    for s in SUBSCRIBERS.read().expect("subscribers lock").iter() {
        s.on(&event);
    }
}

/// The log: the events as operators read them (fields first, one line each).
fn log(event: &Event<'_>) {
    match event {
        Event::Resource { job, schedule, action, dry_run, result } => log_resource(job, schedule, *action, *dry_run, result),
        Event::ActionFinished {
            job,
            schedule,
            action,
            dry_run,
            kinds,
            regions,
            results,
            list_failures,
            failed_accounts,
            calls,
            duration,
        } => {
            let counts = outcome_counts(results);
            let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            tracing::info!(
                job = *job,
                schedule = *schedule,
                action = %action,
                dry_run = *dry_run,
                kinds = %kinds.join(","),
                regions = %regions.join(","),
                resources = results.len(),
                outcomes = %serde_json::to_string(&counts).unwrap_or_default(),
                list_failures = *list_failures,
                failed_accounts = failed_accounts.len(),
                api_calls = %serde_json::to_string(calls).unwrap_or_default(),
                duration_ms = duration.as_millis() as u64,
                "Action finished."
            );
        }
        Event::BrakeTripped { account, job, schedule, action, would_touch, limit, dry_run } => tracing::error!(
            account = account.map(|a| a.id.as_str()),
            account_name = account.and_then(|a| a.name.as_deref()),
            overall = account.is_none(),
            job = *job,
            schedule = *schedule,
            action = %action,
            would_touch = *would_touch,
            limit = *limit,
            dry_run = *dry_run,
            "Safety brake tripped, nothing touched."
        ),
        Event::OrderHalted { job, schedule, action, account, failed, held } => tracing::error!(
            account = %account.id,
            account_name = account.name.as_deref(),
            job = *job,
            schedule = *schedule,
            action = %action,
            failed = *failed,
            held = *held,
            "Order halted: a group failed, the later groups are held."
        ),
        Event::FireMissed { job, schedule, action, fire_at, late, max_lateness } => tracing::warn!(
            job = *job,
            schedule = *schedule,
            action = *action,
            fire_at = %fire_at.to_rfc3339(),
            late_s = late.as_secs(),
            max_lateness_s = max_lateness.as_secs(),
            "Fire missed: older than max_lateness, not carried out."
        ),
        Event::Hold { change, schedule, keep, from, until, timezone, reason, set_by } => tracing::info!(
            job = "hold",
            change = *change,
            schedule = *schedule,
            keep = *keep,
            from = %from.with_timezone(timezone).to_rfc3339(),
            until = %until.with_timezone(timezone).to_rfc3339(),
            reason = *reason,
            set_by = *set_by,
            "Hold {change}."
        ),
        Event::CalendarRead { calendar, source, outcome, error: None } => {
            tracing::info!(job = "calendars", calendar = *calendar, source = *source, outcome = *outcome, "Calendar read.")
        }
        Event::CalendarRead { calendar, source, outcome: "cached", error: Some(error) } => tracing::warn!(
            job = "calendars",
            calendar = *calendar,
            source = *source,
            outcome = "cached",
            error = *error,
            "Calendar fetch failed; the last good copy is used."
        ),
        Event::CalendarRead { calendar, source, outcome, error: Some(error) } => tracing::error!(
            job = "calendars",
            calendar = *calendar,
            source = *source,
            outcome = *outcome,
            error = *error,
            "Calendar cannot be read."
        ),
        Event::StopWarning { schedule, stop_at, timezone, resources } => tracing::info!(
            job = "warn",
            schedule = *schedule,
            action = "stop",
            stop_at = %stop_at.with_timezone(timezone).to_rfc3339(),
            resources = resources.len(),
            "Stop warning: these resources are stopped at the next stop fire."
        ),
        // Logged where they happen, with more context than the stream carries.
        Event::FireStarted { .. }
        | Event::HoldsInForce { .. }
        | Event::Reload { .. }
        | Event::AuditFinished { .. }
        | Event::AlarmChecked { .. }
        | Event::ActionAborted { .. }
        | Event::Notification { .. }
        | Event::Role { .. } => {}
        Event::AwsCall { .. } => {}
    }
}

/// One resource's outcome: an error when it failed, a warning when it was skipped.
fn log_resource(job: &str, schedule: &str, action: Action, dry_run: bool, r: &ResourceResult) {
    macro_rules! event {
        ($level:ident, $msg:literal) => {
            tracing::$level!(
                job = job,
                schedule = schedule,
                action = %action,
                account = (!r.account.is_empty()).then_some(r.account.as_str()),
                account_name = r.account_name.as_deref(),
                kind = %r.kind,
                region = %r.region,
                id = %r.id,
                // The field earlier releases logged, kept for log queries of instances.
                instance_id = r.kind.info().logs_instance_id.then_some(r.id.as_str()),
                name = r.name.as_deref(),
                engine = r.engine.as_deref(),
                deployment = r.deployment.map(|d| d.as_str()),
                before = %r.before,
                after = r.after.as_deref(),
                outcome = %r.outcome,
                reason = r.reason.as_deref(),
                dry_run = dry_run,
                request_id = r.request_id.as_deref(),
                $msg
            )
        };
    }
    match r.outcome {
        Outcome::Failed => event!(error, "Resource action failed."),
        Outcome::Skipped => event!(warn, "Resource skipped."),
        Outcome::Held => event!(warn, "Resource held: an earlier group of the order failed."),
        Outcome::Unchanged => event!(info, "Resource already in state."),
        _ => event!(info, "Resource acted on."),
    }
}

/// How many resources came out each way, by outcome name.
fn outcome_counts(results: &[ResourceResult]) -> BTreeMap<&'static str, usize> {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for r in results {
        *counts.entry(r.outcome.as_str()).or_default() += 1;
    }
    counts
}
