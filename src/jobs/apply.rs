//! One action of one schedule, carried out now on every kind in every region: list,
//! decide, brake, act in batches, retry what capacity refused, verify final states, log
//! each outcome. `offhours apply` and the daemon's fires both come through [`apply`].
//!
//! The engine is written once over [`crate::kinds::Adapter`]: a kind brings its listing,
//! its act call and its state read; deciding, the brake, concurrency, batching and
//! splitting, race re-reads, capacity retries, verification and the log are here.
//! Every (kind, region) is listed, acted on and verified concurrently, and so are a
//! region's batches and reads, bounded by the region's calls in flight: a fire costs
//! its listing plus a few round trips, whatever the fleet's size. A kind that is slow
//! to verify (databases take minutes) holds up only its own log events.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde::Serialize;

use crate::aws::CallCounter;
use crate::aws::batch;
use crate::aws::{Api, Aws, AwsError, ErrorKind, Held};
use crate::config::OnFailure;
use crate::config::{Config, Schedule};
use crate::events::{self, Event};
use crate::jobs::listing::{self, Listing};
use crate::jobs::targets::{Target, applies};
use crate::kinds::Rules;
use crate::kinds::{Adapter, Verify};
use crate::model::{AccountFailure, ListFailure, Outcome, ResourceResult};
use crate::model::{AccountRef, Action, Kind, Mode, Phase, Resource};
use crate::plan::{self, BrakeError, Decision, SkipReason, Verdict};

/// Everything one action did.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    pub schedule: String,
    pub action: Action,
    pub dry_run: bool,
    pub results: Vec<ResourceResult>,
    /// Kinds and regions whose listing failed (nothing of theirs was touched).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ListFailure>,
    /// Accounts nothing was done in (role refused, a region not enabled there, the
    /// brake), each with why; the others went on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_accounts: Vec<AccountFailure>,
    /// API operations made, by name.
    #[serde(skip)]
    pub calls: BTreeMap<&'static str, u64>,
    #[serde(skip)]
    pub duration: Duration,
}

impl ApplyReport {
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| r.outcome == Outcome::Failed).count() + self.errors.len()
    }

    /// Takes in one account's report: its results, listing failures and calls.
    fn absorb(&mut self, other: ApplyReport) {
        self.results.extend(other.results);
        self.errors.extend(other.errors);
        for (op, n) in other.calls {
            *self.calls.entry(op).or_default() += n;
        }
    }

    pub fn counts(&self) -> BTreeMap<Outcome, usize> {
        let mut counts = BTreeMap::new();
        for r in &self.results {
            *counts.entry(r.outcome).or_default() += 1;
        }
        counts
    }
}

/// Failures that stop an action before any instance is touched.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Brake(#[from] BrakeError),
    #[error("schedule {schedule}: cannot list instances: {source}")]
    Describe {
        schedule: String,
        #[source]
        source: AwsError,
    },
    #[error("schedule {schedule}: not acted on: this replica stopped leading while it listed; whoever leads catches the fire up")]
    NotLeading { schedule: String },
}

/// Which code path asked for the action: a person, or the daemon's timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Manual,
    Scheduled,
    CatchUp,
    /// The daemon's check at start-up (the billing alarm).
    Startup,
    /// After a reload that changed the job (the billing alarm).
    Reload,
    /// Between fires: resources out of step with the last fire (`enforce`).
    Enforce,
    /// A hold kept on that began before the daemon learnt of it (`offhours hold`).
    Hold,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Manual => "apply",
            Cause::Scheduled => "schedule",
            Cause::CatchUp => "catch-up",
            Cause::Startup => "startup",
            Cause::Reload => "reload",
            Cause::Enforce => "enforce",
            Cause::Hold => "hold",
        }
    }
}

/// One action of one schedule, as the config and the caller want it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub config: &'a Config,
    /// The account acted in.
    pub account: &'a AccountRef,
    pub schedule: &'a Schedule,
    /// Regions to act in, already checked (see [`Aws::regions`]).
    pub regions: &'a [String],
    pub action: Action,
    pub dry_run: bool,
    pub now: DateTime<Utc>,
    pub cause: Cause,
    /// Set for an enforce tick: the grace and what it remembers between ticks.
    pub enforce: Option<&'a Enforcing>,
    /// With replicas: asked after the listing, right before the first act; `false`
    /// (this replica no longer leads) acts on nothing.
    pub leads: Option<LeaseCheck<'a>>,
}

/// [`Request::leads`]: whether this replica still leads (no I/O).
#[derive(Clone, Copy)]
pub struct LeaseCheck<'a>(pub &'a (dyn Fn() -> bool + Sync));

impl std::fmt::Debug for LeaseCheck<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LeaseCheck")
    }
}

/// What enforce remembers for one schedule between ticks: per account, when each
/// resource was first found out of step.
#[derive(Debug, Default)]
pub struct Enforcing {
    pub grace: Duration,
    pub seen: std::sync::Mutex<BTreeMap<String, BTreeMap<String, DateTime<Utc>>>>,
}

/// What the listing found on every kind in every region, with the calls it took.
pub struct Listed {
    started: Instant,
    calls: Arc<CallCounter>,
    resources: Vec<Resource>,
    errors: Vec<ListFailure>,
    /// The regions' clients, kept from the listing to the end of the act.
    clients: Held,
}

impl Listed {
    /// What was found, every kind and region.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// Names the account on the listing's failures (when it was listed before the
    /// account's id was known).
    pub fn label(&mut self, account: &AccountRef) {
        for e in &mut self.errors {
            e.account = account.id.clone();
            e.account_name = account.name.clone();
        }
    }
}

/// Lists the schedule's resources of every kind in every region at once (read-only).
/// A (kind, region) that cannot be listed is reported and the others go on; if none
/// can be listed, the action fails as a whole.
pub async fn list(aws: &Aws, req: &Request<'_>) -> Result<Listed, ApplyError> {
    let started = Instant::now();
    let calls = Arc::new(CallCounter::default());
    let selector = req.schedule.selector(&req.config.tag_key);
    let (read, regions) = listing::of_schedule(req.schedule, &selector, req.regions);
    let clients = aws.hold(regions);
    let listings = listing::read(aws, &req.schedule.kinds, regions, read, &calls).await;
    let mut resources = Vec::new();
    let mut errors = Vec::new();
    let mut first_error = None;
    for Listing { kind, region, found } in listings {
        match found {
            Ok(found) => resources.extend(found),
            Err(e) => {
                tracing::error!(
                    job = req.cause.as_str(),
                    schedule = %req.schedule.name,
                    action = %req.action,
                    account = %req.account.id,
                    account_name = req.account.name.as_deref(),
                    kind = %kind,
                    region = %region,
                    error = %e,
                    request_id = e.request_id.as_deref(),
                    "Cannot list resources; this kind and region are left out."
                );
                errors.push(ListFailure {
                    account: req.account.id.clone(),
                    account_name: req.account.name.clone(),
                    kind,
                    region,
                    error: e.to_string(),
                });
                first_error.get_or_insert(e);
            }
        }
    }
    if errors.len() == req.schedule.kinds.len() * regions.len()
        && let Some(source) = first_error
    {
        return Err(ApplyError::Describe { schedule: req.schedule.name.clone(), source });
    }
    Ok(Listed { started, calls, resources, errors, clients })
}

/// The overall cap (`max_instances_per_action_total`), over every account's decisions,
/// before anything is touched.
fn check_total_cap<'l>(base: &Request<'_>, listed: impl Iterator<Item = &'l Listed>) -> Result<(), BrakeError> {
    let cap = base.config.max_instances_per_action_total;
    if cap == 0 {
        return Ok(());
    }
    let all: Vec<Decision> =
        listed.flat_map(|l| plan::plan(base.schedule, base.action, &base.config.skip_tag, base.now, &l.resources)).collect();
    if let Err(brake) = plan::check_limit(&base.schedule.name, base.action, &all, cap, "max_instances_per_action_total") {
        events::emit(Event::BrakeTripped {
            account: None,
            job: base.cause.as_str(),
            schedule: &base.schedule.name,
            action: base.action,
            would_touch: brake.would_touch,
            limit: brake.limit,
            dry_run: base.dry_run,
        });
        return Err(brake);
    }
    Ok(())
}

/// Lists, decides, checks the brake, acts, verifies. Resource failures are in the
/// report; only whole-action failures are errors.
pub async fn apply(aws: &Aws, req: Request<'_>) -> Result<ApplyReport, ApplyError> {
    let listed = list(aws, &req).await?;
    let report = act(aws, req, listed).await?;
    finished(&req, &report);
    Ok(report)
}

/// Decides, checks the brake, acts and verifies on what [`list`] found.
pub async fn act(aws: &Aws, req: Request<'_>, listed: Listed) -> Result<ApplyReport, ApplyError> {
    let Listed { started, calls, resources, errors, clients: _held } = listed;
    let mut decisions: Vec<Decision> = plan::plan(req.schedule, req.action, &req.config.skip_tag, req.now, &resources);
    if let Some(e) = req.enforce {
        let mut all = e.seen.lock().expect("enforce memory lock");
        let seen = all.entry(req.account.id.clone()).or_default();
        let key = |d: &Decision| format!("{}/{}/{}", d.resource.region, d.resource.kind, d.resource.id);
        decisions = plan::enforce::with_grace(decisions, key, seen, req.now, e.grace);
    }
    if let Err(brake) = plan::check_brake(&req.schedule.name, req.action, &decisions, req.config.max_instances_per_action) {
        events::emit(Event::BrakeTripped {
            account: Some(req.account),
            job: req.cause.as_str(),
            schedule: &req.schedule.name,
            action: req.action,
            would_touch: brake.would_touch,
            limit: brake.limit,
            dry_run: req.dry_run,
        });
        return Err(brake.into());
    }

    let mut results = Vec::with_capacity(decisions.len());
    let mut to_act: BTreeMap<(Kind, String, Mode), Vec<Resource>> = BTreeMap::new();
    // Kinds with a resource on its way between states, or left out of step for
    // enforce's grace: not there yet, so an order holds the groups after theirs as it
    // does after a failure.
    let mut in_transition: Vec<Kind> = Vec::new();
    for d in decisions {
        let in_grace = matches!(d.verdict, Verdict::Skip(SkipReason::Grace { .. }));
        if in_grace || (!matches!(d.verdict, Verdict::Act { .. }) && d.resource.phase() == Phase::Transitional) {
            in_transition.push(d.resource.kind);
        }
        if let Some(w) = &d.warning {
            tracing::warn!(job = req.cause.as_str(), schedule = %req.schedule.name, action = %req.action, account = %req.account.id, kind = %d.resource.kind, region = %d.resource.region, id = %d.resource.id, name = d.resource.name(), warning = %w, "Resource needs attention.");
        }
        match d.verdict {
            Verdict::Act { mode } => to_act.entry((d.resource.kind, d.resource.region.clone(), mode)).or_default().push(d.resource),
            // Enforce reports what it acts on, not every tick's resources as wanted.
            _ if req.enforce.is_some() => {}
            _ => {
                let done = stamped(&req, without_action(&d).expect("not acted on"));
                log_result(&req, &done);
                results.push(done);
            }
        }
    }

    let mut kinds = req.schedule.kinds.clone();
    kinds.extend(to_act.keys().map(|(kind, _, _)| *kind).filter(|k| !req.schedule.kinds.contains(k)));
    let stages = plan::order::stages(&req.schedule.order, req.action, &kinds);
    let mut held: Option<String> = None;
    for (i, stage) in stages.iter().enumerate() {
        let batch: BTreeMap<_, _> = to_act.extract_if(.., |(kind, _, _), _| stage.contains(kind)).collect();
        // A later group acts only while this replica still leads: the earlier ones may
        // have taken minutes.
        if i > 0
            && held.is_none()
            && let Some(LeaseCheck(leads)) = req.leads
            && !leads()
        {
            held = Some(
                "not acted on: this replica stopped leading during the order's earlier groups; whoever leads catches the fire up".into(),
            );
        }
        if let Some(reason) = &held {
            // Enforce tries again at its next tick: a held resource is not news at every
            // tick (as a resource as wanted is not).
            if req.enforce.is_some() {
                continue;
            }
            for r in batch.into_values().flatten() {
                let done = stamped(&req, result(&r, Some(r.state.clone()), Outcome::Held, Some(reason.clone()), None));
                log_result(&req, &done);
                results.push(done);
            }
            continue;
        }
        let before = results.len();
        act_stage(aws, &req, &calls, batch, &mut results).await;
        let failed = results[before..].iter().any(|r| r.outcome == Outcome::Failed)
            || errors.iter().any(|e| stage.contains(&e.kind))
            || in_transition.iter().any(|k| stage.contains(k));
        // A dry run sends every group's calls: finding a missing permission is its point.
        if failed && !req.dry_run && req.schedule.order_on_failure == OnFailure::Halt && i + 1 < stages.len() {
            held = Some(halt(&req, stage, &stages[i + 1..]));
        }
    }
    results.sort_by(|a, b| (a.kind, &a.region, &a.id).cmp(&(b.kind, &b.region, &b.id)));
    if req.schedule.mute_alarms {
        super::alarms::follow(aws, &req, &calls, &resources, &results).await;
    }
    let report = ApplyReport {
        schedule: req.schedule.name.clone(),
        action: req.action,
        dry_run: req.dry_run,
        results,
        errors,
        failed_accounts: Vec::new(),
        calls: calls.snapshot(),
        duration: started.elapsed(),
    };
    Ok(report)
}

/// Acts on one stage's groups at once; each group's outcomes are logged as soon as it
/// is done (a kind that verifies for minutes does not hold up the others' events).
async fn act_stage(
    aws: &Aws,
    req: &Request<'_>,
    calls: &Arc<CallCounter>,
    to_act: BTreeMap<(Kind, String, Mode), Vec<Resource>>,
    results: &mut Vec<ResourceResult>,
) {
    let mut groups: FuturesUnordered<_> = to_act
        .into_iter()
        .map(|((kind, region, mode), resources)| {
            let acting = Acting { adapter: crate::kinds::of(kind).adapter(), api: aws.api(&region, calls), kind, req, mode };
            async move { acting.run(resources).await }
        })
        .collect();
    while let Some(group) = groups.next().await {
        let group: Vec<ResourceResult> = group.into_iter().map(|r| stamped(req, r)).collect();
        for r in &group {
            log_result(req, r);
        }
        results.extend(group);
    }
}

/// A stage of the schedule's order failed and `order_on_failure` is `halt`: says so
/// once, and gives the reason the later stages' resources are held.
fn halt(req: &Request<'_>, failed: &[Kind], later: &[Vec<Kind>]) -> String {
    let (failed, later) = (plan::order::describe(&[failed.to_vec()]), plan::order::describe(later));
    // Enforce's ticks hold quietly until the group before is there (see `act`).
    if req.enforce.is_none() {
        events::emit(Event::OrderHalted {
            job: req.cause.as_str(),
            schedule: &req.schedule.name,
            action: req.action,
            account: req.account,
            failed: &failed,
            held: &later,
        });
    }
    let done = Mode::PLAIN.success(req.action);
    format!("not {done}: the group before it in the order ({failed}) failed or is not there yet, and order_on_failure is halt")
}

/// The one `ActionFinished` event of an action (over every account).
pub fn finished(req: &Request<'_>, report: &ApplyReport) {
    events::emit(Event::ActionFinished {
        job: req.cause.as_str(),
        schedule: &req.schedule.name,
        action: req.action,
        dry_run: req.dry_run,
        kinds: &req.schedule.kinds,
        regions: req.regions,
        results: &report.results,
        list_failures: report.errors.len(),
        failed_accounts: &report.failed_accounts,
        calls: &report.calls,
        duration: report.duration,
    });
}

/// The account's labels on a result.
fn stamped(req: &Request<'_>, mut r: ResourceResult) -> ResourceResult {
    r.account = req.account.id.clone();
    r.account_name = req.account.name.clone();
    r
}

/// One action over every account it applies to: each listed concurrently (bounded),
/// the overall cap checked over all of them, then each acted on concurrently with its
/// own brake. One account's failure (its role refused, a region not enabled there, its
/// brake) is reported in `failed_accounts` and never stops the others. With one
/// account (the own one) its failure is the action's, as before.
pub async fn apply_all<'a>(targets: &'a [Target], base: Request<'a>) -> Result<ApplyReport, ApplyError> {
    let started = Instant::now();
    let chosen: Vec<&'a Target> = targets.iter().filter(|t| applies(base.schedule, &t.account)).collect();
    let single = targets.len() == 1;
    let failure = |t: &Target, error: String| AccountFailure { account: t.account.id.clone(), account_name: t.account.name.clone(), error };
    let mut failed: Vec<AccountFailure> = Vec::new();
    let mut ready: Vec<(&'a Target, &'a [String])> = Vec::new();
    for t in &chosen {
        match &t.regions {
            Ok(regions) => ready.push((t, regions)),
            Err(e) => failed.push(failure(t, e.clone())),
        }
    }
    let req_for = |t: &'a Target, regions: &'a [String]| Request { account: &t.account, regions, ..base };
    // Every account at once: their calls share the bound on calls in flight over every
    // account (`[aws] max_calls_in_flight`), on top of each account's own per region and
    // service, so no account waits for another's whole action.
    let mut reads = Vec::with_capacity(ready.len());
    for (t, regions) in ready {
        let req = req_for(t, regions);
        reads.push(async move { (t, regions, list(&t.aws, &req).await) });
    }
    let listings = futures_util::future::join_all(reads).await;
    let mut listed = Vec::new();
    for (t, regions, l) in listings {
        match l {
            Ok(l) => listed.push((t, regions, l)),
            Err(e) if single => return Err(e),
            Err(e) => {
                tracing::error!(job = base.cause.as_str(), schedule = %base.schedule.name, action = %base.action, account = %t.account.id, account_name = t.account.name.as_deref(), error = %e, "Account left out: nothing could be listed there.");
                failed.push(failure(t, e.to_string()));
            }
        }
    }
    check_total_cap(&base, listed.iter().map(|(_, _, l)| l))?;
    // The listing can take long: the lease is checked again before anything is touched.
    if let Some(LeaseCheck(leads)) = base.leads
        && !leads()
    {
        return Err(ApplyError::NotLeading { schedule: base.schedule.name.clone() });
    }
    let mut acts = Vec::with_capacity(listed.len());
    for (t, regions, l) in listed {
        let req = req_for(t, regions);
        acts.push(async move { (t, act(&t.aws, req, l).await) });
    }
    let acted = futures_util::future::join_all(acts).await;
    let mut report = ApplyReport {
        schedule: base.schedule.name.clone(),
        action: base.action,
        dry_run: base.dry_run,
        results: Vec::new(),
        errors: Vec::new(),
        failed_accounts: Vec::new(),
        calls: BTreeMap::new(),
        duration: Duration::ZERO,
    };
    for (t, r) in acted {
        match r {
            Ok(r) => report.absorb(r),
            Err(e) if single => return Err(e),
            Err(e) => failed.push(failure(t, e.to_string())),
        }
    }
    report.results.sort_by(|a, b| (&a.account, a.kind, &a.region, &a.id).cmp(&(&b.account, b.kind, &b.region, &b.id)));
    failed.sort_by(|a, b| a.account.cmp(&b.account));
    report.failed_accounts = failed;
    report.duration = started.elapsed();
    if base.enforce.is_some() && report.results.is_empty() && report.failed_accounts.is_empty() && report.errors.is_empty() {
        // A tick that found everything as wanted is not news.
        return Ok(report);
    }
    let regions: Vec<String> = {
        let mut all: Vec<String> = chosen.iter().filter_map(|t| t.regions.as_ref().ok()).flatten().cloned().collect();
        all.sort();
        all.dedup();
        all
    };
    finished(&Request { regions: &regions, ..base }, &report);
    Ok(report)
}

fn result(r: &Resource, after: Option<String>, outcome: Outcome, reason: Option<String>, request_id: Option<String>) -> ResourceResult {
    ResourceResult {
        account: String::new(),
        account_name: None,
        kind: r.kind,
        id: r.id.clone(),
        size: r.size.clone(),
        engine: r.engine.clone(),
        deployment: r.deployment,
        region: r.region.clone(),
        name: r.name().map(str::to_string),
        before: r.state.clone(),
        after,
        outcome,
        reason,
        request_id,
    }
}

/// The result of a decision that needs no call (unchanged or skipped); `None` when
/// the resource is to be acted on.
fn without_action(d: &Decision) -> Option<ResourceResult> {
    let state = Some(d.resource.state.clone());
    match &d.verdict {
        Verdict::Act { .. } => None,
        Verdict::Unchanged => Some(result(&d.resource, state, Outcome::Unchanged, None, None)),
        Verdict::Skip(reason) => Some(result(&d.resource, state, Outcome::Skipped, Some(reason.to_string()), None)),
    }
}

/// One event per resource (the log shows it: `info` for what was done, `warn` for
/// skips, `error` for failures).
fn log_result(req: &Request<'_>, r: &ResourceResult) {
    events::emit(Event::Resource {
        job: req.cause.as_str(),
        schedule: &req.schedule.name,
        action: req.action,
        dry_run: req.dry_run,
        result: r,
    });
}

/// Acting on the resources of one kind in one region that share a mode.
struct Acting<'a> {
    adapter: &'static dyn Adapter,
    api: Api,
    kind: Kind,
    req: &'a Request<'a>,
    mode: Mode,
}

impl Acting<'_> {
    async fn send(&self, by_id: &BTreeMap<String, Resource>, ids: &[String]) -> Vec<batch::BatchResult> {
        batch::in_batches(ids, self.adapter.batch_size(), |batch| {
            let resources: Vec<Resource> = batch.iter().map(|id| by_id[id].clone()).collect();
            async move { self.adapter.act(&self.api, self.req.action, &resources, self.mode, self.req.dry_run).await }
        })
        .await
    }

    async fn run(&self, resources: Vec<Resource>) -> Vec<ResourceResult> {
        let mut by_id: BTreeMap<String, Resource> = resources.into_iter().map(|r| (r.id.clone(), r)).collect();
        let mut out = Vec::new();
        let mut accepted: Vec<String> = Vec::new();
        let mut pending: Vec<String> = by_id.keys().cloned().collect();
        let mut raced_once = false;
        let mut capacity_tries = 0;

        while !pending.is_empty() {
            let mut capacity: Vec<(String, AwsError)> = Vec::new();
            let mut raced: Vec<String> = Vec::new();
            for (ids, outcome) in self.send(&by_id, &pending).await {
                match outcome {
                    Ok(_) if self.req.dry_run => {
                        let would = match self.req.action {
                            Action::Start => Outcome::WouldStart,
                            Action::Stop => Outcome::WouldStop,
                        };
                        out.extend(ids.iter().map(|id| result(&by_id[id], None, would, None, None)));
                    }
                    Ok(changes) => accepted.extend(accepted_ids(&ids, &changes)),
                    Err(e) if e.kind == ErrorKind::InsufficientCapacity => capacity.extend(ids.into_iter().map(|id| (id, e.clone()))),
                    Err(e) if e.kind == ErrorKind::IncorrectState && !raced_once => raced.extend(ids),
                    Err(e) => out.extend(ids.iter().map(|id| self.failure(&by_id[id], &e))),
                }
            }
            pending = Vec::new();
            if !raced.is_empty() {
                // The state changed between listing and acting: look again, decide again.
                raced_once = true;
                match self.adapter.describe(&self.api, &raced).await {
                    Ok(fresh) => {
                        let fresh_ids: Vec<String> = fresh.iter().map(|r| r.id.clone()).collect();
                        for id in raced.iter().filter(|id| !fresh_ids.contains(id)) {
                            out.push(result(&by_id[id], None, Outcome::Failed, Some("vanished while acting".into()), None));
                        }
                        for d in plan::plan(self.req.schedule, self.req.action, &self.req.config.skip_tag, self.req.now, &fresh) {
                            match without_action(&d) {
                                Some(done) => out.push(done),
                                None => {
                                    pending.push(d.resource.id.clone());
                                    by_id.insert(d.resource.id.clone(), d.resource);
                                }
                            }
                        }
                    }
                    Err(e) => out.extend(raced.iter().map(|id| self.failure(&by_id[id], &e))),
                }
            }
            if !capacity.is_empty() {
                if capacity_tries < self.req.config.capacity_retries {
                    capacity_tries += 1;
                    tracing::warn!(
                        job = self.req.cause.as_str(),
                        schedule = %self.req.schedule.name,
                        account = %self.req.account.id,
                        action = %self.req.action,
                        kind = %self.kind,
                        region = %self.api.region,
                        resources = capacity.len(),
                        attempt = capacity_tries,
                        retry_in_s = self.req.config.capacity_retry_delay.as_secs(),
                        "Insufficient capacity, retrying later."
                    );
                    tokio::time::sleep(self.req.config.capacity_retry_delay).await;
                    pending.extend(capacity.into_iter().map(|(id, _)| id));
                } else {
                    out.extend(capacity.iter().map(|(id, e)| {
                        let mut r = self.failure(&by_id[id], e);
                        r.reason = Some(format!("{} (gave up after {} retries)", r.reason.unwrap_or_default(), capacity_tries));
                        r
                    }));
                }
            }
        }
        if !accepted.is_empty() {
            out.extend(self.verify(&by_id, &accepted).await);
        }
        out
    }

    /// How long to wait for the kind to reach its target state: databases take minutes.
    fn verify_timeout(&self) -> Duration {
        match crate::kinds::of(self.kind).facts().verify {
            Verify::Database => self.req.config.db_verify_timeout,
            Verify::Default => self.req.config.verify_timeout,
        }
    }

    /// Polls until every accepted resource reaches the action's target state, falls
    /// back, or the kind's deadline passes. States come from the kind's lightest read
    /// (for instances DescribeInstanceStatus); only resources that fell back are read
    /// in full, for their state reason. A start that ends in `stopped` (what a KMS key
    /// problem on an encrypted volume does to an instance) is a failure with that reason.
    async fn verify(&self, by_id: &BTreeMap<String, Resource>, accepted: &[String]) -> Vec<ResourceResult> {
        let target = match self.req.action {
            Action::Start => Phase::Running,
            Action::Stop => Phase::Stopped,
        };
        let timeout = self.verify_timeout();
        let interval = (timeout / 20).clamp(Duration::from_millis(200), Duration::from_secs(5));
        let deadline = tokio::time::Instant::now() + timeout;
        let mut waiting: Vec<String> = accepted.to_vec();
        let mut out = Vec::new();
        let mut last_seen: BTreeMap<String, (String, Phase)> = BTreeMap::new();
        loop {
            match self.adapter.states(&self.api, &waiting).await {
                Ok(seen) => last_seen.extend(seen),
                Err(e) => tracing::warn!(kind = %self.kind, region = %self.api.region, error = %e, "Verification read failed, retrying."),
            }
            let mut fell_back: Vec<String> = Vec::new();
            waiting.retain(|id| {
                let Some((state, phase)) = last_seen.get(id) else {
                    return true;
                };
                let before = &by_id[id];
                match (self.req.action, phase) {
                    (_, p) if *p == target => out.push(result(before, Some(state.clone()), self.success(), None, None)),
                    (Action::Start, Phase::Stopped | Phase::Gone) => fell_back.push(id.clone()),
                    (Action::Stop, Phase::Gone) => out.push(result(
                        before,
                        Some(state.clone()),
                        Outcome::Failed,
                        Some(format!("went to {state} instead of stopped")),
                        None,
                    )),
                    _ => return true,
                }
                false
            });
            if !fell_back.is_empty() {
                out.extend(self.fell_back(by_id, &fell_back, &last_seen).await);
            }
            if waiting.is_empty() {
                break;
            }
            if tokio::time::Instant::now() + interval > deadline {
                let target_name = crate::kinds::of(self.kind).facts().target_state(self.req.action);
                for id in &waiting {
                    let state = last_seen.get(id).map(|(s, _)| s.clone());
                    let reason =
                        format!("not {target_name} after {}s (last seen {})", timeout.as_secs(), state.as_deref().unwrap_or("nowhere"));
                    out.push(result(&by_id[id], state, Outcome::Failed, Some(reason), None));
                }
                break;
            }
            tokio::time::sleep(interval).await;
        }
        out
    }

    /// Starts that fell back: one full read of just those, for the reason.
    async fn fell_back(
        &self,
        by_id: &BTreeMap<String, Resource>,
        ids: &[String],
        states: &BTreeMap<String, (String, Phase)>,
    ) -> Vec<ResourceResult> {
        let full: BTreeMap<String, Resource> = match self.adapter.describe(&self.api, ids).await {
            Ok(found) => found.into_iter().map(|r| (r.id.clone(), r)).collect(),
            Err(e) => {
                tracing::warn!(kind = %self.kind, region = %self.api.region, error = %e, "Cannot read why resources did not start.");
                BTreeMap::new()
            }
        };
        ids.iter()
            .map(|id| {
                let state = full.get(id).map_or_else(|| states[id].0.clone(), |r| r.state.clone());
                let why = full.get(id).and_then(|r| r.state_reason.as_deref()).map(|r| format!(" ({r})")).unwrap_or_default();
                result(&by_id[id], Some(state.clone()), Outcome::Failed, Some(format!("did not start: fell back to {state}{why}")), None)
            })
            .collect()
    }

    fn success(&self) -> Outcome {
        self.mode.success(self.req.action)
    }

    fn failure(&self, r: &Resource, e: &AwsError) -> ResourceResult {
        let reason = match e.kind {
            ErrorKind::Unauthorized => format!(
                "not authorized: the credentials lack {}:{} ({})",
                crate::kinds::of(self.kind).facts().service,
                e.operation,
                e.code.as_deref().unwrap_or("UnauthorizedOperation")
            ),
            _ => e.to_string(),
        };
        result(r, None, Outcome::Failed, Some(reason), e.request_id.clone())
    }
}

/// Ids the service accepted in a successful call (all of the batch when it does not
/// answer per id).
fn accepted_ids(ids: &[String], answered: &[String]) -> Vec<String> {
    if answered.is_empty() {
        return ids.to_vec();
    }
    answered.iter().filter(|id| ids.contains(id)).cloned().collect()
}
