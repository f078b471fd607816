//! What the status page shows that only the event stream knows: each schedule's last
//! action (outcome counts, every failure with its reason), the key audit's and the
//! billing alarm's last outcome. A subscriber of the stream, like the metrics. Its
//! snapshot adds the savings figures the ledger's writer last published.
//!
//! It never blocks: each event takes one short lock around small maps, and the page
//! reads a copy ([`Board::snapshot`]).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::events::{Event, Subscriber};
use crate::model::{Action, Kind, Outcome};

/// The last outcomes, as the events reported them.
#[derive(Debug, Default)]
pub struct Board {
    inner: Mutex<Snapshot>,
    /// The savings figures the ledger's writer last counted.
    figures: std::sync::Arc<crate::store::ledger::LatestFigures>,
}

/// Everything the board holds, copied out for the page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Per schedule and action, the last of each way an action can end.
    pub actions: BTreeMap<(String, Action), LastAction>,
    /// The last stop warning per schedule.
    pub warnings: BTreeMap<String, StopWarning>,
    pub audit: Option<AuditOutcome>,
    pub alarm: Option<AlarmOutcome>,
    /// The ledger's last 30 days as its writer last counted them (not from the event
    /// stream: the writer publishes them off the action path).
    pub savings: Option<std::sync::Arc<crate::store::ledger::Figures>>,
}

/// How one schedule's action last ended, each way kept apart: the page shows the latest
/// prominently, and an older brake trip still for what it was.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LastAction {
    pub finished: Option<Finished>,
    pub brake: Option<BrakeTrip>,
    pub aborted: Option<Aborted>,
}

impl LastAction {
    /// When the action last ended, whichever way.
    pub fn latest(&self) -> Option<DateTime<Utc>> {
        [self.finished.as_ref().map(|f| f.at), self.brake.as_ref().map(|b| b.at), self.aborted.as_ref().map(|a| a.at)]
            .into_iter()
            .flatten()
            .max()
    }
}

/// An action that ran to its end (resources may still have failed).
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    /// When the board heard of it.
    pub at: DateTime<Utc>,
    /// `schedule` or `catch-up`.
    pub job: String,
    pub dry_run: bool,
    /// Resources by outcome, in the order of [`Outcome`] (acted, unchanged, skipped,
    /// failed, would-...).
    pub counts: Vec<(Outcome, usize)>,
    /// Kinds and regions whose listing failed (the log has their errors).
    pub list_failures: usize,
    /// Every failed resource, in the report's order (kind, region, id).
    pub failures: Vec<Failure>,
    /// Accounts the action could not act in: (account, why).
    pub failed_accounts: Vec<(String, String)>,
    pub duration: Duration,
}

/// One resource that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The account (`name (id)` or the id); empty when offhours knows one account only.
    pub account: String,
    pub kind: Kind,
    pub id: String,
    pub region: String,
    pub name: Option<String>,
    pub reason: String,
}

/// The safety brake stopped the action before anything was touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrakeTrip {
    pub at: DateTime<Utc>,
    pub would_touch: usize,
    pub limit: u32,
    pub dry_run: bool,
}

/// The action could not be carried out at all (no listing succeeded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aborted {
    pub at: DateTime<Utc>,
    pub error: String,
}

/// The last warning ahead of a stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopWarning {
    pub at: DateTime<Utc>,
    pub stop_at: DateTime<Utc>,
    /// How many resources the stop would stop.
    pub resources: usize,
}

/// The access-key audit's last completed run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditOutcome {
    pub at: DateTime<Utc>,
    /// Findings by rule.
    pub findings: BTreeMap<String, usize>,
}

/// The billing alarm check's last outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmOutcome {
    pub at: DateTime<Utc>,
    /// `created`, `updated`, `unchanged`, `foreign`, `would-...` or `failed`.
    pub outcome: String,
    pub alarm_name: String,
}

impl Board {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the savings figures from `figures` (what the ledger's writer publishes to).
    pub fn with_figures(figures: std::sync::Arc<crate::store::ledger::LatestFigures>) -> Self {
        Board { figures, ..Self::default() }
    }

    /// A copy of what the board holds now, with the ledger's latest savings figures.
    pub fn snapshot(&self) -> Snapshot {
        let savings = self.figures.get();
        Snapshot { savings, ..self.inner.lock().expect("board lock").clone() }
    }

    /// Takes in one event as heard at `at`.
    pub fn record(&self, event: &Event<'_>, at: DateTime<Utc>) {
        // Built before the lock: the lock only swaps values in.
        match event {
            Event::ActionFinished { job, schedule, action, dry_run, results, list_failures, failed_accounts, duration, .. } => {
                let mut by_outcome: BTreeMap<Outcome, usize> = BTreeMap::new();
                for r in *results {
                    *by_outcome.entry(r.outcome).or_default() += 1;
                }
                let failures = results
                    .iter()
                    .filter(|r| r.outcome == Outcome::Failed)
                    .map(|r| Failure {
                        account: match &r.account_name {
                            Some(n) => format!("{n} ({})", r.account),
                            None => r.account.clone(),
                        },
                        kind: r.kind,
                        id: r.id.clone(),
                        region: r.region.clone(),
                        name: r.name.clone(),
                        reason: r.reason.clone().unwrap_or_else(|| "no reason given".into()),
                    })
                    .collect();
                let finished = Finished {
                    at,
                    job: job.to_string(),
                    dry_run: *dry_run,
                    counts: by_outcome.into_iter().collect(),
                    list_failures: *list_failures,
                    failures,
                    failed_accounts: failed_accounts
                        .iter()
                        .map(|f| (f.account_name.as_ref().map_or(f.account.clone(), |n| format!("{n} ({})", f.account)), f.error.clone()))
                        .collect(),
                    duration: *duration,
                };
                self.action(schedule, *action, |last| last.finished = Some(finished));
            }
            Event::BrakeTripped { schedule, action, would_touch, limit, dry_run, .. } => {
                let trip = BrakeTrip { at, would_touch: *would_touch, limit: *limit, dry_run: *dry_run };
                self.action(schedule, *action, |last| last.brake = Some(trip));
            }
            Event::ActionAborted { schedule, action, error, .. } => {
                let aborted = Aborted { at, error: error.to_string() };
                self.action(schedule, *action, |last| last.aborted = Some(aborted));
            }
            Event::StopWarning { schedule, stop_at, resources, .. } => {
                let warning = StopWarning { at, stop_at: *stop_at, resources: resources.len() };
                self.inner.lock().expect("board lock").warnings.insert(schedule.to_string(), warning);
            }
            Event::AuditFinished { findings } => {
                let findings = findings.iter().map(|(rule, n)| (rule.to_string(), *n)).collect();
                self.inner.lock().expect("board lock").audit = Some(AuditOutcome { at, findings });
            }
            Event::AlarmChecked { outcome, alarm_name } => {
                let alarm = AlarmOutcome { at, outcome: outcome.to_string(), alarm_name: alarm_name.to_string() };
                self.inner.lock().expect("board lock").alarm = Some(alarm);
            }
            Event::Resource { .. }
            | Event::FireStarted { .. }
            | Event::Reload { .. }
            | Event::FireMissed { .. }
            | Event::AwsCall { .. }
            | Event::Notification { .. }
            | Event::OrderHalted { .. }
            // Holds are shown from the schedules the daemon runs (their exceptions).
            | Event::Hold { .. }
            | Event::HoldsInForce { .. }
            | Event::CalendarRead { .. }
            | Event::Role { .. } => {}
        }
    }

    fn action(&self, schedule: &str, action: Action, update: impl FnOnce(&mut LastAction)) {
        let mut inner = self.inner.lock().expect("board lock");
        update(inner.actions.entry((schedule.to_string(), action)).or_default());
    }
}

impl Subscriber for Board {
    fn on(&self, event: &Event<'_>) {
        self.record(event, Utc::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::ResourceRef;
    use crate::model::ResourceResult;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn result(id: &str, outcome: Outcome, reason: Option<&str>) -> ResourceResult {
        ResourceResult {
            account: String::new(),
            account_name: None,
            size: None,
            engine: None,
            deployment: None,
            kind: crate::kinds::ec2::KIND,
            id: id.into(),
            region: "eu-west-1".into(),
            name: Some(format!("{id}-name")),
            before: "running".into(),
            after: Some("stopped".into()),
            outcome,
            reason: reason.map(Into::into),
            request_id: None,
        }
    }

    fn finished<'a>(schedule: &'a str, action: Action, results: &'a [ResourceResult], calls: &'a BTreeMap<&'static str, u64>) -> Event<'a> {
        Event::ActionFinished {
            job: "schedule",
            schedule,
            action,
            dry_run: false,
            kinds: &[crate::kinds::ec2::KIND],
            regions: &[],
            results,
            list_failures: 1,
            failed_accounts: &[],
            calls,
            duration: Duration::from_millis(120),
        }
    }

    #[test]
    fn an_action_keeps_its_counts_in_outcome_order_and_every_failure() {
        let board = Board::new();
        let results = [
            result("i-3", Outcome::Failed, Some("UnsupportedOperation: no")),
            result("i-1", Outcome::Stopped, None),
            result("i-2", Outcome::Unchanged, None),
            result("i-4", Outcome::Stopped, None),
            result("i-5", Outcome::Failed, None),
        ];
        let calls = BTreeMap::new();
        board.record(&finished("office", Action::Stop, &results, &calls), at("2026-11-23T18:00:01Z"));
        let snap = board.snapshot();
        let last = &snap.actions[&("office".to_string(), Action::Stop)];
        let f = last.finished.as_ref().unwrap();
        assert_eq!(f.counts, vec![(Outcome::Stopped, 2), (Outcome::Unchanged, 1), (Outcome::Failed, 2)]);
        assert_eq!((f.at, f.job.as_str(), f.list_failures, f.dry_run), (at("2026-11-23T18:00:01Z"), "schedule", 1, false));
        let failed: Vec<(&str, &str)> = f.failures.iter().map(|x| (x.id.as_str(), x.reason.as_str())).collect();
        assert_eq!(failed, [("i-3", "UnsupportedOperation: no"), ("i-5", "no reason given")]);
        assert_eq!(f.failures[0].name.as_deref(), Some("i-3-name"));
        assert_eq!((last.brake.as_ref(), last.aborted.as_ref()), (None, None));
        assert!(!snap.actions.contains_key(&("office".to_string(), Action::Start)));
    }

    #[test]
    fn each_way_an_action_ends_is_kept_and_the_latest_is_known() {
        let board = Board::new();
        let calls = BTreeMap::new();
        let ok = [result("i-1", Outcome::Started, None)];
        board.record(&finished("office", Action::Start, &ok, &calls), at("2026-11-23T08:00:00Z"));
        let brake = Event::BrakeTripped {
            account: None,
            job: "schedule",
            schedule: "office",
            action: Action::Start,
            would_touch: 40,
            limit: 20,
            dry_run: false,
        };
        board.record(&brake, at("2026-11-24T08:00:00Z"));
        let aborted = Event::ActionAborted { job: "schedule", schedule: "office", action: Action::Start, error: "dispatch failure" };
        board.record(&aborted, at("2026-11-25T08:00:00Z"));
        // A later finish replaces only the finish.
        let later = [result("i-1", Outcome::Unchanged, None)];
        board.record(&finished("office", Action::Start, &later, &calls), at("2026-11-26T08:00:00Z"));
        let last = board.snapshot().actions[&("office".to_string(), Action::Start)].clone();
        assert_eq!(last.finished.as_ref().unwrap().counts, vec![(Outcome::Unchanged, 1)]);
        assert_eq!(last.brake, Some(BrakeTrip { at: at("2026-11-24T08:00:00Z"), would_touch: 40, limit: 20, dry_run: false }));
        assert_eq!(last.aborted, Some(Aborted { at: at("2026-11-25T08:00:00Z"), error: "dispatch failure".into() }));
        assert_eq!(last.latest(), Some(at("2026-11-26T08:00:00Z")));
        assert_eq!(LastAction::default().latest(), None);
    }

    #[test]
    fn the_audit_the_alarm_and_stop_warnings_keep_their_last_outcome() {
        let board = Board::new();
        // The savings come from the process's ledger writer (other tests run some).
        assert_eq!(Snapshot { savings: None, ..board.snapshot() }, Snapshot::default());
        let findings = BTreeMap::from([("key-too-old", 2usize), ("key-unused", 1)]);
        board.record(&Event::AuditFinished { findings: &findings }, at("2026-11-23T06:00:00Z"));
        let none = BTreeMap::new();
        board.record(&Event::AuditFinished { findings: &none }, at("2026-11-24T06:00:00Z"));
        board.record(&Event::AlarmChecked { outcome: "created", alarm_name: "budget" }, at("2026-11-23T06:00:00Z"));
        board.record(&Event::AlarmChecked { outcome: "failed", alarm_name: "budget" }, at("2026-11-24T06:00:00Z"));
        let refs = [ResourceRef { account: None, kind: crate::kinds::ec2::KIND, id: "i-1".into(), region: "eu-west-1".into(), name: None }];
        let warning =
            Event::StopWarning { schedule: "office", stop_at: at("2026-11-23T18:00:00Z"), timezone: chrono_tz::UTC, resources: &refs };
        board.record(&warning, at("2026-11-23T17:45:00Z"));
        // Events the page does not show change nothing.
        board.record(&Event::Reload { applied: true, errors: &[] }, at("2026-11-24T07:00:00Z"));
        let snap = board.snapshot();
        assert_eq!(snap.audit, Some(AuditOutcome { at: at("2026-11-24T06:00:00Z"), findings: BTreeMap::new() }));
        assert_eq!(
            snap.alarm,
            Some(AlarmOutcome { at: at("2026-11-24T06:00:00Z"), outcome: "failed".into(), alarm_name: "budget".into() })
        );
        assert_eq!(
            snap.warnings["office"],
            StopWarning { at: at("2026-11-23T17:45:00Z"), stop_at: at("2026-11-23T18:00:00Z"), resources: 1 }
        );
        assert!(snap.actions.is_empty());
    }
}
