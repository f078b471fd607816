//! The production [`Executor`]: fires act on AWS through the same code paths as
//! `offhours apply` and `offhours billing-alarm`.

use std::sync::Arc;

use super::timer::{JobKind, warned_schedule};
use super::{Executor, FireTask};
use crate::aws::{Aws, RegionError};
use crate::config::{Config, Schedule};
use crate::jobs::apply::{ApplyError, Cause, Enforcing, LeaseCheck, Request, apply_all};
use crate::jobs::billing::ensure;
use crate::jobs::keys::{AuditRun, audit};
use crate::jobs::targets::{Target, TargetsError, multi_account, refresh, targets};
use crate::model::Action;
use crate::notify::Context;
use crate::notify::queue::{Dispatcher, Policy};
use crate::store::dynamodb::DynamoBackend;
use crate::store::keeper::Keeper;
use crate::store::shared_ledger::TableLedger;
use crate::store::table::StateTable;

/// AWS clients and the checked regions of one config generation.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Offhours' own account: the billing alarm, the organization's listing, the roles.
    aws: Aws,
    /// The accounts actions fan out over (the own one, or the file's and the
    /// organization's), each with its clients and regions.
    known: Arc<std::sync::Mutex<Known>>,
}

/// The accounts as last prepared, when, and whether a refresh is under way.
#[derive(Debug)]
struct Known {
    targets: Arc<Vec<Target>>,
    prepared: std::time::Instant,
    refreshing: bool,
}

/// How often accounts whose role was refused, or whose regions could not be checked,
/// are prepared again without `[organization]` (with it, at its `refresh` when that is
/// sooner).
const REFUSED_RETRY: std::time::Duration = std::time::Duration::from_secs(300);

impl Prepared {
    fn new(aws: Aws, targets: Vec<Target>) -> Self {
        let known = Known { targets: Arc::new(targets), prepared: std::time::Instant::now(), refreshing: false };
        Prepared { aws, known: Arc::new(std::sync::Mutex::new(known)) }
    }

    /// The accounts to act in now, at once. With `[organization]`, when `refresh` has
    /// passed since the last listing (besides start-up and reload), and when a role was
    /// refused, the accounts are prepared again in the background: no fire waits for it.
    fn targets(&self, config: &Arc<Config>) -> Arc<Vec<Target>> {
        let mut known = self.known.lock().expect("accounts lock");
        if !known.refreshing && refresh_due(&known, config) {
            known.refreshing = true;
            let (hub, config, shared, old) = (self.aws.clone(), config.clone(), self.known.clone(), known.targets.clone());
            tokio::spawn(async move {
                let fresh = refresh(&hub, &config, &old).await;
                let mut known = shared.lock().expect("accounts lock");
                match fresh {
                    Ok(fresh) => {
                        log_changes(&known.targets, &fresh);
                        known.targets = Arc::new(fresh);
                    }
                    Err(e) => tracing::error!(error = %e, "Cannot list the organization's accounts again; the known ones stay."),
                }
                known.prepared = std::time::Instant::now();
                known.refreshing = false;
            });
        }
        known.targets.clone()
    }
}

/// Whether the accounts are due to be prepared again.
fn refresh_due(known: &Known, config: &Config) -> bool {
    let age = known.prepared.elapsed();
    let listing = config.organization.as_ref().is_some_and(|org| age >= org.refresh);
    let retry = known.targets.iter().any(Target::prepare_again) && age >= REFUSED_RETRY;
    listing || retry
}

fn log_changes(old: &[Target], new: &[Target]) {
    let old: Vec<_> = old.iter().map(|t| t.account.clone()).collect();
    let new: Vec<_> = new.iter().map(|t| t.account.clone()).collect();
    let (added, removed) = crate::accounts::changes(&old, &new);
    let show = |v: &[crate::model::AccountRef]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    tracing::info!(accounts = new.len(), added = %show(&added), removed = %show(&removed), "Accounts prepared again.");
}

pub struct AwsExecutor {
    /// Where notifications go; its sinks follow the running config.
    notify: Arc<Dispatcher>,
    /// What enforce remembers between ticks, per schedule (kept across reloads while
    /// the grace is the same).
    enforcing: std::sync::Mutex<std::collections::BTreeMap<String, Arc<Enforcing>>>,
}

impl Default for AwsExecutor {
    fn default() -> Self {
        AwsExecutor::new(Arc::new(Dispatcher::new(Policy::default())))
    }
}

impl AwsExecutor {
    /// `notify` must be subscribed to the event stream by the caller.
    pub fn new(notify: Arc<Dispatcher>) -> Self {
        AwsExecutor { notify, enforcing: Default::default() }
    }

    /// One enforce tick: what the schedule's last fire wants, for what is out of step,
    /// with the grace, the decisions, skips and brake of a fire, as job `enforce`.
    async fn enforce(&self, task: &FireTask<Prepared>) {
        let Some(schedule) = task.config.schedules.iter().find(|s| s.name == task.fire.group) else {
            return;
        };
        let now = task.fire.at;
        let Some(last) = crate::plan::last_fire(schedule, now) else {
            return;
        };
        let memory = {
            let mut all = self.enforcing.lock().expect("enforce lock");
            let m = all.entry(schedule.name.clone()).or_default();
            if m.grace != schedule.enforce_grace {
                *m = Arc::new(Enforcing { grace: schedule.enforce_grace, seen: Default::default() });
            }
            m.clone()
        };
        if let Err(e) = act(task, schedule, last.action, Cause::Enforce, Some(&memory)).await
            && !matches!(e, ApplyError::Brake(_) | ApplyError::NotLeading { .. })
        {
            tracing::error!(job = "enforce", schedule = %schedule.name, action = %last.action, error = %e, "Enforce could not run.");
        }
    }
}

impl Executor for AwsExecutor {
    type Prepared = Prepared;

    async fn prepare(&self, config: Arc<Config>, previous: Option<(&Config, &Prepared)>) -> Result<Prepared, String> {
        let prepared = self.connect(&config, previous).await?;
        // Prepared is the last step that can reject a file: from here it runs.
        if previous.is_none_or(|(old, _)| old.notify != config.notify || old.source != config.source) {
            let sinks = match &config.notify {
                Some(settings) => crate::notify::sinks::build(settings, |region| prepared.aws.sns_in(region)),
                None => Vec::new(),
            };
            let config_path = (config.source != crate::config::DEFAULT_PATH).then(|| config.source.clone());
            tracing::info!(sinks = sinks.len(), "Notification sinks set.");
            self.notify.set(sinks, Context { config_path });
        }
        Ok(prepared)
    }

    async fn shared_state(&self, config: &Config) -> Result<Option<super::Shared>, String> {
        let crate::config::StateSettings::DynamoDb(settings) = &config.state else {
            return Ok(None);
        };
        let aws = Aws::connect(&config.aws).await;
        let table = StateTable::new(aws.dynamodb_for_lease(&settings.region, settings.lease), &settings.table, &settings.region);
        // A table that is not there is a set-up mistake, not an outage: say so at once.
        if let Err(e) = table.read_lease().await {
            if e.code.as_deref() == Some("ResourceNotFoundException") {
                return Err(format!(
                    "state.table: table {} not found in {}: create it with `offhours init-state` (or deploy/state-table.yaml)",
                    settings.table, settings.region
                ));
            }
            tracing::warn!(job = "lease", table = %settings.table, region = %settings.region, error = %e, "Cannot read the lease yet; standing by until it can be read.");
        }
        let keeper = Keeper::new(table.clone(), settings.lease);
        tracing::info!(job = "lease", table = %settings.table, region = %settings.region, owner = %keeper.owner(), lease_s = settings.lease.as_secs_f64(), "Shared state: standing by until the lease is won.");
        // The ledger's reads and writes are not bound by the lease: the usual timeouts.
        let ledger_table = StateTable::new(aws.dynamodb_in(&settings.region), &settings.table, &settings.region);
        let holds = crate::store::holds::Holds::Table(ledger_table.clone());
        let ledger = TableLedger::new(ledger_table, config.savings.retention);
        Ok(Some(super::Shared { backend: Arc::new(DynamoBackend::new(table, keeper.clone())), keeper, ledger, holds }))
    }

    async fn self_scheduled(&self, config: Arc<Config>, prepared: Arc<Prepared>) -> Option<Vec<Schedule>> {
        config.tag_schedules.as_ref().filter(|t| t.enabled)?;
        let targets = prepared.targets(&config);
        let found = crate::jobs::tag_schedules::find(&config, &targets).await;
        for p in &found.problems {
            tracing::warn!(job = "tag-schedules", account = %p.account, kind = %p.kind, region = %p.region, id = %p.id, error = %p.error, "Self-scheduled resource left alone.");
        }
        for u in &found.unread {
            tracing::error!(job = "tag-schedules", account = %u.account, what = %u.what, error = %u.error, "Cannot look for self-scheduled resources here.");
        }
        tracing::info!(
            job = "tag-schedules",
            schedules = found.schedules.len(),
            left_alone = found.problems.len(),
            "Self-scheduled resources found."
        );
        // A place that could not be read this time (throttled, unreachable) would drop its
        // resources' schedules and their fires: the ones found before stay until a look
        // reads everything.
        found.unread.is_empty().then_some(found.schedules)
    }

    async fn execute(&self, task: FireTask<Prepared>) {
        let action = match task.fire.kind {
            JobKind::Schedule(action) => action,
            JobKind::StopWarning { lead } => return stop_warning(&task, lead).await,
            JobKind::Enforce => return self.enforce(&task).await,
            JobKind::AuditKeys => {
                if let Some(cfg) = &task.config.iam_audit {
                    // Each account has its own IAM users: audited concurrently, each on its own.
                    let multi = multi_account(&task.config);
                    let (at, dry_run, tz) = (task.fire.at, task.config.dry_run, task.config.timezone);
                    let targets = task.prepared.targets(&task.config);
                    let audits = targets.iter().map(|t| async move {
                        let run = AuditRun {
                            cfg,
                            at,
                            deactivate: false,
                            dry_run,
                            tz,
                            job: "audit-keys",
                            account: multi.then_some(t.account.id.as_str()),
                        };
                        match audit(&t.aws, run).await {
                            Ok(report) => Some(report),
                            Err(e) => {
                                tracing::error!(job = "audit-keys", account = multi.then_some(t.account.id.as_str()), error = %e, "Access key audit could not complete.");
                                None
                            }
                        }
                    });
                    // One summary over every account audited.
                    let reports = futures_util::future::join_all(audits).await;
                    crate::jobs::keys::emit_finished(reports.iter().flatten());
                }
                return;
            }
            JobKind::BillingAlarm => {
                if let Some(cfg) = &task.config.billing_alarm
                    && let Err(e) = ensure(&task.prepared.aws, cfg, task.config.dry_run, task.cause.as_str()).await
                {
                    tracing::error!(job = task.cause.as_str(), alarm_name = %cfg.alarm_name, error = %e, "Billing alarm check failed.");
                    crate::events::emit(crate::events::Event::AlarmChecked { outcome: "failed", alarm_name: &cfg.alarm_name });
                }
                return;
            }
        };
        let Some(schedule) = task.config.schedules.iter().find(|s| s.name == task.fire.group) else {
            return;
        };
        match act(&task, schedule, action, task.cause, None).await {
            Ok(_) => {}
            // Emitted by the engine with its own event.
            Err(ApplyError::Brake(_)) => {}
            Err(e @ ApplyError::NotLeading { .. }) => {
                tracing::warn!(job = task.cause.as_str(), schedule = %schedule.name, action = %action, fence = task.fence.0, reason = %e, "Fire not carried out.");
            }
            Err(e) => {
                tracing::error!(job = task.cause.as_str(), schedule = %schedule.name, action = %action, error = %e, "Action failed.");
                let error = e.to_string();
                crate::events::emit(crate::events::Event::ActionAborted {
                    job: task.cause.as_str(),
                    schedule: &schedule.name,
                    action,
                    error: &error,
                });
            }
        }
    }
}

/// `action` of `schedule` at the fire's instant over every target account, as the
/// daemon acts: the file's dry run, the lease asked right before the first act.
async fn act(
    task: &FireTask<Prepared>,
    schedule: &Schedule,
    action: Action,
    cause: Cause,
    enforce: Option<&Enforcing>,
) -> Result<(), ApplyError> {
    if let Some(why) = crate::jobs::change_calendar::holds_back(&task.prepared.aws, schedule, action, cause).await {
        if why.contains("cannot be read") {
            let error = format!("not carried out: {why}");
            crate::events::emit(crate::events::Event::ActionAborted {
                job: cause.as_str(),
                schedule: &schedule.name,
                action,
                error: &error,
            });
        }
        return Ok(());
    }
    let targets = task.prepared.targets(&task.config);
    let leads = || task.guard.holds();
    let base = Request {
        config: &task.config,
        account: &targets[0].account,
        schedule,
        regions: &[],
        action,
        dry_run: task.config.dry_run,
        now: task.fire.at,
        cause,
        enforce,
        leads: Some(LeaseCheck(&leads)),
    };
    apply_all(&targets, base).await.map(|_| ())
}

/// The warning `lead` ahead of a stop: lists what the stop would stop (read-only) and
/// tells people. A warning whose stop has passed (caught up after a restart) is moot.
async fn stop_warning(task: &FireTask<Prepared>, lead: std::time::Duration) {
    let Some(schedule) = warned_schedule(&task.fire.group).and_then(|name| task.config.schedules.iter().find(|s| s.name == name)) else {
        return;
    };
    let stop_at = task.fire.at + chrono::TimeDelta::from_std(lead).unwrap_or_default();
    if chrono::Utc::now() >= stop_at {
        tracing::info!(job = "warn", schedule = %schedule.name, stop_at = %stop_at.to_rfc3339(), "Stop warning not sent: its stop has fired already.");
        return;
    }
    let targets = task.prepared.targets(&task.config);
    crate::jobs::warn::warn(&targets, &task.config, schedule, stop_at).await;
}

impl AwsExecutor {
    async fn connect(&self, config: &Arc<Config>, previous: Option<(&Config, &Prepared)>) -> Result<Prepared, String> {
        // A reload that changed neither the AWS settings nor the regions keeps the
        // clients (and their connections and cached credentials) and the checked regions.
        if let Some((old, prepared)) = previous
            && old.aws == config.aws
            && old.regions == config.regions
            && old.accounts == config.accounts
            && old.organization.is_none()
            && config.organization.is_none()
            && old.schedules.is_empty() == config.schedules.is_empty()
        {
            tracing::debug!("AWS clients and regions reused.");
            return Ok(prepared.clone());
        }
        let aws = Aws::connect(&config.aws).await;
        if config.schedules.is_empty() && !multi_account(config) {
            // Only the audit and the billing alarm, in the own account: both are global.
            let account = crate::model::AccountRef { id: String::new(), name: None };
            return Ok(Prepared::new(aws.clone(), vec![Target::own(account, aws, Vec::new())]));
        }
        let targets = match targets(&aws, config).await {
            Ok(t) => t,
            // AWS unreachable at boot must not keep the schedules from running.
            Err(TargetsError::Region(RegionError::Check(e))) if !config.regions.is_empty() => {
                tracing::warn!(error = %e, "Cannot check the regions now; using the configured ones.");
                let account = crate::model::AccountRef { id: String::new(), name: None };
                vec![Target::own(account, aws.clone(), config.regions.clone())]
            }
            Err(e) => return Err(e.to_string()),
        };
        if multi_account(config) {
            let list: Vec<String> = targets.iter().map(|t| t.account.to_string()).collect();
            tracing::info!(accounts = targets.len(), list = %list.join(", "), "Accounts prepared.");
        }
        Ok(Prepared::new(aws, targets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{HostTimezone, from_str};

    fn config(text: &str) -> Arc<Config> {
        Arc::new(from_str(text, "t.toml", &HostTimezone::fixed(chrono_tz::UTC)).unwrap())
    }

    #[tokio::test]
    async fn refused_or_unchecked_accounts_are_prepared_again_after_five_minutes() {
        let aws = Aws::connect(&crate::aws::AwsSettings::default()).await;
        let config = config("[billing_alarm]\nthreshold = 10\n");
        let (now, earlier) = (std::time::Instant::now(), std::time::Instant::now() - REFUSED_RETRY);
        // (refused, unchecked, prepared at, due)
        let cases = [(false, false, earlier, false), (true, false, earlier, true), (false, true, earlier, true), (false, true, now, false)];
        for (refused, unchecked, prepared, due) in cases {
            let account = crate::model::AccountRef { id: "111111111111".to_string(), name: None };
            let target = Target { account, aws: aws.clone(), regions: Ok(vec![]), role_arn: None, refused, unchecked };
            let known = Known { targets: Arc::new(vec![target]), prepared, refreshing: false };
            assert_eq!(refresh_due(&known, &config), due, "refused {refused}, unchecked {unchecked}");
        }
    }

    #[tokio::test]
    async fn a_reload_that_keeps_the_aws_settings_keeps_the_clients() {
        // No schedules: no region check, so no call leaves the test.
        let first = config("[billing_alarm]\nthreshold = 10\n");
        let prepared = AwsExecutor::default().prepare(first.clone(), None).await.unwrap();
        let same = config("[billing_alarm]\nthreshold = 20\n[iam_audit]\n");
        let reused = AwsExecutor::default().prepare(same, Some((&first, &prepared))).await.unwrap();
        assert!(reused.aws.same_clients(&prepared.aws), "unchanged [aws]: the clients are reused");
        let changed = config("[billing_alarm]\nthreshold = 20\n[aws]\nattempt_timeout = \"5s\"\n");
        let rebuilt = AwsExecutor::default().prepare(changed, Some((&first, &prepared))).await.unwrap();
        assert!(!rebuilt.aws.same_clients(&prepared.aws), "changed [aws]: new clients");
    }
}
