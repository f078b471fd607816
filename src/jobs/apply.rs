//! One action of one schedule, carried out now in every region: list, decide, brake,
//! act in batches, retry what capacity refused, verify final states, log each outcome.
//! `offhours apply` and the daemon's fires both come through [`apply`].
//!
//! Regions are listed, acted on and verified concurrently, and so are a region's
//! batches and verification reads, bounded by the region's calls in flight: a fire
//! costs its listing plus a few round trips, whatever the fleet's size.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::aws::ec2::{self, CallCounter, Ec2};
use crate::aws::{Aws, AwsError, ErrorKind};
use crate::config::{Action, Config, Schedule};
use crate::plan::{self, BrakeError, Decision, Instance, InstanceState, Verdict};

/// How one instance came out of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Started,
    Stopped,
    Hibernated,
    Unchanged,
    Skipped,
    Failed,
    WouldStart,
    WouldStop,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Started => "started",
            Outcome::Stopped => "stopped",
            Outcome::Hibernated => "hibernated",
            Outcome::Unchanged => "unchanged",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
            Outcome::WouldStart => "would-start",
            Outcome::WouldStop => "would-stop",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One instance's line in the report.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceResult {
    pub id: String,
    pub region: String,
    pub name: Option<String>,
    pub before: InstanceState,
    pub after: Option<InstanceState>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Everything one action did.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    pub schedule: String,
    pub action: Action,
    pub dry_run: bool,
    pub results: Vec<InstanceResult>,
    /// API operations made, by name.
    #[serde(skip)]
    pub calls: BTreeMap<&'static str, u64>,
    #[serde(skip)]
    pub duration: Duration,
}

impl ApplyReport {
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| r.outcome == Outcome::Failed).count()
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
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Manual => "apply",
            Cause::Scheduled => "schedule",
            Cause::CatchUp => "catch-up",
            Cause::Startup => "startup",
            Cause::Reload => "reload",
        }
    }
}

/// One action of one schedule, as the config and the caller want it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub config: &'a Config,
    pub schedule: &'a Schedule,
    /// Regions to act in, already checked (see [`Aws::regions`]).
    pub regions: &'a [String],
    pub action: Action,
    pub dry_run: bool,
    pub now: DateTime<Utc>,
    pub cause: Cause,
}

/// What the listing found in every region, with the calls it took.
pub struct Listed {
    started: Instant,
    calls: Arc<CallCounter>,
    instances: Vec<Instance>,
}

/// Lists the schedule's instances in every region at once (read-only).
pub async fn list(aws: &Aws, req: &Request<'_>) -> Result<Listed, ApplyError> {
    let started = Instant::now();
    let calls = Arc::new(CallCounter::default());
    let selector = req.schedule.selector(&req.config.tag_key);
    let reads = req.regions.iter().map(|region| {
        let api = aws.ec2_api(region, &calls);
        let selector = &selector;
        async move { api.describe_tagged(selector).await }
    });
    let mut instances = Vec::new();
    for read in futures_util::future::join_all(reads).await {
        instances.extend(read.map_err(|source| ApplyError::Describe { schedule: req.schedule.name.clone(), source })?);
    }
    Ok(Listed { started, calls, instances })
}

/// Lists, decides, checks the brake, acts, verifies. Instance failures are in the
/// report; only whole-action failures are errors.
pub async fn apply(aws: &Aws, req: Request<'_>) -> Result<ApplyReport, ApplyError> {
    let listed = list(aws, &req).await?;
    act(aws, req, listed).await
}

/// Decides, checks the brake, acts and verifies on what [`list`] found.
pub async fn act(aws: &Aws, req: Request<'_>, listed: Listed) -> Result<ApplyReport, ApplyError> {
    let Listed { started, calls, instances } = listed;
    let regions = req.regions;
    let decisions: Vec<Decision> = plan::plan(req.schedule, req.action, &req.config.skip_tag, req.now, &instances);
    if let Err(brake) = plan::check_brake(&req.schedule.name, req.action, &decisions, req.config.max_instances_per_action) {
        tracing::error!(
            job = req.cause.as_str(),
            schedule = %req.schedule.name,
            action = %req.action,
            would_touch = brake.would_touch,
            limit = brake.limit,
            dry_run = req.dry_run,
            "Safety brake tripped, nothing touched."
        );
        return Err(brake.into());
    }

    let mut results = Vec::with_capacity(decisions.len());
    let mut to_act: BTreeMap<(String, bool), Vec<Instance>> = BTreeMap::new();
    for d in decisions {
        if let Some(w) = &d.warning {
            tracing::warn!(job = req.cause.as_str(), schedule = %req.schedule.name, action = %req.action, region = %d.instance.region, instance_id = %d.instance.id, name = d.instance.name(), warning = %w, "Instance needs attention.");
        }
        match d.verdict {
            Verdict::Act { hibernate } => to_act.entry((d.instance.region.clone(), hibernate)).or_default().push(d.instance),
            _ => results.extend(without_action(&d)),
        }
    }

    let groups = to_act.into_iter().map(|((region, hibernate), instances)| {
        let api = aws.ec2_api(&region, &calls);
        let req = &req;
        async move { Acting { api, req, hibernate }.run(instances).await }
    });
    for group in futures_util::future::join_all(groups).await {
        results.extend(group);
    }

    results.sort_by(|a, b| (&a.region, &a.id).cmp(&(&b.region, &b.id)));
    for r in &results {
        log_result(&req, r);
    }
    let report = ApplyReport {
        schedule: req.schedule.name.clone(),
        action: req.action,
        dry_run: req.dry_run,
        results,
        calls: calls.snapshot(),
        duration: started.elapsed(),
    };
    let counts: BTreeMap<&str, usize> = report.counts().into_iter().map(|(o, n)| (o.as_str(), n)).collect();
    tracing::info!(
        job = req.cause.as_str(),
        schedule = %req.schedule.name,
        action = %req.action,
        dry_run = req.dry_run,
        regions = %regions.join(","),
        instances = report.results.len(),
        outcomes = %serde_json::to_string(&counts).unwrap_or_default(),
        api_calls = %serde_json::to_string(&report.calls).unwrap_or_default(),
        duration_ms = report.duration.as_millis() as u64,
        "Action finished."
    );
    Ok(report)
}

fn result(
    i: &Instance,
    after: Option<InstanceState>,
    outcome: Outcome,
    reason: Option<String>,
    request_id: Option<String>,
) -> InstanceResult {
    InstanceResult {
        id: i.id.clone(),
        region: i.region.clone(),
        name: i.name().map(str::to_string),
        before: i.state.clone(),
        after,
        outcome,
        reason,
        request_id,
    }
}

/// The result of a decision that needs no call (unchanged or skipped); `None` when
/// the instance is to be acted on.
fn without_action(d: &Decision) -> Option<InstanceResult> {
    let state = Some(d.instance.state.clone());
    match &d.verdict {
        Verdict::Act { .. } => None,
        Verdict::Unchanged => Some(result(&d.instance, state, Outcome::Unchanged, None, None)),
        Verdict::Skip(reason) => Some(result(&d.instance, state, Outcome::Skipped, Some(reason.to_string()), None)),
    }
}

/// One event per instance: `info` for what was done, `warn` for skips, `error` for
/// failures.
fn log_result(req: &Request<'_>, r: &InstanceResult) {
    macro_rules! event {
        ($level:ident, $msg:literal) => {
            tracing::$level!(
                job = req.cause.as_str(),
                schedule = %req.schedule.name,
                action = %req.action,
                region = %r.region,
                instance_id = %r.id,
                name = r.name.as_deref(),
                before = %r.before,
                after = r.after.as_ref().map(InstanceState::as_str),
                outcome = %r.outcome,
                reason = r.reason.as_deref(),
                dry_run = req.dry_run,
                request_id = r.request_id.as_deref(),
                $msg
            )
        };
    }
    match r.outcome {
        Outcome::Failed => event!(error, "Instance action failed."),
        Outcome::Skipped => event!(warn, "Instance skipped."),
        Outcome::Unchanged => event!(info, "Instance already in state."),
        _ => event!(info, "Instance acted on."),
    }
}

/// Acting on the instances of one region that share a hibernate flag.
struct Acting<'a> {
    api: Ec2,
    req: &'a Request<'a>,
    hibernate: bool,
}

impl Acting<'_> {
    async fn send(&self, ids: &[String]) -> Vec<ec2::BatchResult> {
        ec2::in_batches(ids, ec2::BATCH_SIZE, |batch| async move {
            self.api.change_state(self.req.action, &batch, self.hibernate, self.req.dry_run).await
        })
        .await
    }

    async fn run(&self, instances: Vec<Instance>) -> Vec<InstanceResult> {
        let by_id: BTreeMap<String, Instance> = instances.into_iter().map(|i| (i.id.clone(), i)).collect();
        let mut out = Vec::new();
        let mut accepted: Vec<String> = Vec::new();
        let mut pending: Vec<String> = by_id.keys().cloned().collect();
        let mut raced_once = false;
        let mut capacity_tries = 0;

        while !pending.is_empty() {
            let mut capacity: Vec<(String, AwsError)> = Vec::new();
            let mut raced: Vec<String> = Vec::new();
            for (ids, outcome) in self.send(&pending).await {
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
                    Err(e) => out.extend(ids.iter().map(|id| failure(&by_id[id], &e, self.req.action))),
                }
            }
            pending = Vec::new();
            if !raced.is_empty() {
                // The state changed between listing and acting: look again, decide again.
                raced_once = true;
                match self.api.describe_ids(&raced).await {
                    Ok(fresh) => {
                        let fresh_ids: Vec<String> = fresh.iter().map(|i| i.id.clone()).collect();
                        for id in raced.iter().filter(|id| !fresh_ids.contains(id)) {
                            out.push(result(&by_id[id], None, Outcome::Failed, Some("instance vanished while acting".into()), None));
                        }
                        for d in plan::plan(self.req.schedule, self.req.action, &self.req.config.skip_tag, self.req.now, &fresh) {
                            match without_action(&d) {
                                Some(done) => out.push(done),
                                None => pending.push(d.instance.id.clone()),
                            }
                        }
                    }
                    Err(e) => out.extend(raced.iter().map(|id| failure(&by_id[id], &e, self.req.action))),
                }
            }
            if !capacity.is_empty() {
                if capacity_tries < self.req.config.capacity_retries {
                    capacity_tries += 1;
                    tracing::warn!(
                        job = self.req.cause.as_str(),
                        schedule = %self.req.schedule.name,
                        action = %self.req.action,
                        region = %self.api.region,
                        instances = capacity.len(),
                        attempt = capacity_tries,
                        retry_in_s = self.req.config.capacity_retry_delay.as_secs(),
                        "Insufficient capacity, retrying later."
                    );
                    tokio::time::sleep(self.req.config.capacity_retry_delay).await;
                    pending.extend(capacity.into_iter().map(|(id, _)| id));
                } else {
                    out.extend(capacity.iter().map(|(id, e)| {
                        let mut r = failure(&by_id[id], e, self.req.action);
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

    /// Polls until every accepted instance reaches the action's target state, falls
    /// back, or the deadline passes. States come from the lightest read
    /// (DescribeInstanceStatus); only instances that fell back are read in full, for
    /// their state reason. A start that ends in `stopped` (what a KMS key problem on an
    /// encrypted volume does) is a failure with that reason.
    async fn verify(&self, by_id: &BTreeMap<String, Instance>, accepted: &[String]) -> Vec<InstanceResult> {
        let target = InstanceState::target_of(self.req.action);
        let timeout = self.req.config.verify_timeout;
        let interval = (timeout / 20).clamp(Duration::from_millis(200), Duration::from_secs(5));
        let deadline = tokio::time::Instant::now() + timeout;
        let mut waiting: Vec<String> = accepted.to_vec();
        let mut out = Vec::new();
        let mut last_seen: BTreeMap<String, InstanceState> = BTreeMap::new();
        loop {
            match self.api.states(&waiting).await {
                Ok(seen) => last_seen.extend(seen),
                Err(e) => tracing::warn!(region = %self.api.region, error = %e, "Verification read failed, retrying."),
            }
            let mut fell_back: Vec<String> = Vec::new();
            waiting.retain(|id| {
                let Some(state) = last_seen.get(id) else {
                    return true;
                };
                let before = &by_id[id];
                match (&self.req.action, state) {
                    (_, s) if *s == target => out.push(result(before, Some(s.clone()), self.success(), None, None)),
                    (
                        Action::Start,
                        InstanceState::Stopped | InstanceState::Stopping | InstanceState::ShuttingDown | InstanceState::Terminated,
                    ) => fell_back.push(id.clone()),
                    (Action::Stop, s @ (InstanceState::Terminated | InstanceState::ShuttingDown)) => {
                        out.push(result(before, Some(s.clone()), Outcome::Failed, Some(format!("went to {s} instead of stopped")), None))
                    }
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
                for id in &waiting {
                    let state = last_seen.get(id).cloned();
                    let reason = format!(
                        "not {target} after {}s (last seen {})",
                        timeout.as_secs(),
                        state.as_ref().map_or("nowhere", InstanceState::as_str)
                    );
                    out.push(result(&by_id[id], state, Outcome::Failed, Some(reason), None));
                }
                break;
            }
            tokio::time::sleep(interval).await;
        }
        out
    }

    /// Starts that fell back: one full read of just those instances, for the reason.
    async fn fell_back(
        &self,
        by_id: &BTreeMap<String, Instance>,
        ids: &[String],
        states: &BTreeMap<String, InstanceState>,
    ) -> Vec<InstanceResult> {
        let full: BTreeMap<String, Instance> = match self.api.describe_ids(ids).await {
            Ok(found) => found.into_iter().map(|i| (i.id.clone(), i)).collect(),
            Err(e) => {
                tracing::warn!(region = %self.api.region, error = %e, "Cannot read why instances did not start.");
                BTreeMap::new()
            }
        };
        ids.iter()
            .map(|id| {
                let state = full.get(id).map_or_else(|| states[id].clone(), |i| i.state.clone());
                let why = full.get(id).and_then(|i| i.state_reason.as_deref()).map(|r| format!(" ({r})")).unwrap_or_default();
                result(&by_id[id], Some(state.clone()), Outcome::Failed, Some(format!("did not start: fell back to {state}{why}")), None)
            })
            .collect()
    }

    fn success(&self) -> Outcome {
        match (self.req.action, self.hibernate) {
            (Action::Start, _) => Outcome::Started,
            (Action::Stop, true) => Outcome::Hibernated,
            (Action::Stop, false) => Outcome::Stopped,
        }
    }
}

/// Ids EC2 accepted in a successful call (all of the batch, as it answers for each).
fn accepted_ids(ids: &[String], answered: &[String]) -> Vec<String> {
    if answered.is_empty() {
        return ids.to_vec();
    }
    answered.iter().filter(|id| ids.contains(id)).cloned().collect()
}

fn failure(i: &Instance, e: &AwsError, action: Action) -> InstanceResult {
    let reason = match e.kind {
        ErrorKind::Unauthorized => format!(
            "not authorized: the credentials lack ec2:{} ({})",
            match action {
                Action::Start => "StartInstances",
                Action::Stop => "StopInstances",
            },
            e.code.as_deref().unwrap_or("UnauthorizedOperation")
        ),
        _ => e.to_string(),
    };
    result(i, None, Outcome::Failed, Some(reason), e.request_id.clone())
}
