//! The long-running service: fires every job at its instant, catches up fires missed
//! while it was down, reloads the file on request (validate first, then swap), and
//! shuts down after in-flight work is done.
//!
//! Layout: [`timer`] decides which fires are due (pure); [`clock`] is where wall time
//! comes from; [`state`] persists what has been handled; [`status`] is what other
//! processes read (heartbeat, last reload); [`notify`] speaks systemd's protocol
//! (readiness, reload, watchdog). This file is the loop and the workers. What a fire
//! *does* is the [`Executor`]'s business: AWS in production, a recorder in tests.

mod calendars;
pub mod clock;
mod holds;
mod lifecycle;
pub mod notify;
pub mod service;
pub mod status;
pub mod timer;
mod trim;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::config::calendar::{BindError, Texts};
use crate::config::{self, Config, LoadError};
use crate::jobs::apply::Cause;
use crate::plan::hold::Hold;
use crate::store::Recorder;
use crate::store::keeper::Keeper;
use crate::store::ledger::LatestFigures;
use crate::store::shared_ledger::TableLedger;
use crate::store::state::State;
use crate::store::{Backend, Fence, StoreError};
use clock::Clock;
use notify::Notifier;
use status::Heartbeat;
use timer::{Due, Fire, JobKind, TimedJob};

/// One fire handed to a worker, with the config it was found under.
#[derive(Debug)]
pub struct FireTask<P> {
    pub fire: Fire,
    pub cause: Cause,
    pub config: Arc<Config>,
    pub prepared: Arc<P>,
    /// The lease this fire was found under; confirmed before its first call.
    pub fence: Fence,
    /// Whether this replica still leads with `fence`, asked again before acting.
    pub guard: Arc<Guard>,
}

/// Asks, without I/O, whether this replica still leads with a fence, and remembers a
/// "no": a fire that stopped for it is not recorded as handled, and is caught up.
pub struct Guard {
    keeper: Option<Arc<Keeper>>,
    fence: Fence,
    tripped: std::sync::atomic::AtomicBool,
}

impl Guard {
    pub fn new(keeper: Option<Arc<Keeper>>, fence: Fence) -> Self {
        Guard { keeper, fence, tripped: Default::default() }
    }

    pub fn holds(&self) -> bool {
        let holds = self.keeper.as_ref().is_none_or(|k| k.role().leads(tokio::time::Instant::now()) == Some(self.fence));
        if !holds {
            self.tripped.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        holds
    }

    fn tripped(&self) -> bool {
        self.tripped.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard").field("fence", &self.fence).field("tripped", &self.tripped()).finish()
    }
}

/// The shared state of replicas: the table's backend, the lease's keeper, and the
/// savings ledger in the same table.
pub struct Shared {
    pub backend: Arc<dyn Backend>,
    pub keeper: Arc<Keeper>,
    pub ledger: TableLedger,
    /// Where `offhours hold` keeps holds: the same table.
    pub holds: crate::store::holds::Holds,
}

/// The ledger's writer this daemon feeds from the event stream: the table's with
/// shared state, else the SQLite file's; `None` (logged) when the file cannot be opened.
fn start_ledger(
    table: Option<TableLedger>,
    state_dir: &std::path::Path,
    retention: Duration,
    figures: &Arc<LatestFigures>,
) -> Option<Arc<Recorder>> {
    let recorder = match crate::store::open_recorder(table, state_dir, retention, figures.publisher()) {
        Ok(r) => r,
        Err(e) => {
            let path = state_dir.join(crate::store::LEDGER_FILE);
            tracing::error!(path = %path.display(), error = %e, "Ledger unavailable: actions go on, but their starts and stops are not recorded for the savings report.");
            return None;
        }
    };
    let recorder = Arc::new(recorder);
    crate::events::subscribe(recorder.clone());
    Some(recorder)
}

/// At stop: waits for the ledger's pending writes, at most `timeout`; says so when some
/// are lost.
async fn flush_ledger(recorder: &Recorder, timeout: Duration) {
    if !recorder.flush(timeout).await {
        let place = recorder.place();
        tracing::error!(path = place.path(), ledger = place.table(), "Ledger writes still pending at stop; they are lost.");
    }
}

/// What the daemon needs from the outside world.
pub trait Executor: Send + Sync + 'static {
    /// Whatever a config needs before its jobs can run (clients, checked regions).
    type Prepared: Send + Sync + 'static;
    /// Readies a newly loaded config; an error rejects it (at start-up: exit; on
    /// reload: the old config keeps running). On reload `previous` is the running
    /// generation, whose preparation may be reused where nothing it depends on changed.
    fn prepare(
        &self,
        config: Arc<Config>,
        previous: Option<(&Config, &Self::Prepared)>,
    ) -> impl Future<Output = Result<Self::Prepared, String>> + Send;
    /// Carries out one fire; failures are the executor's to log.
    fn execute(&self, task: FireTask<Self::Prepared>) -> impl Future<Output = ()> + Send;
    /// The schedules resources set on themselves (`[tag_schedules]`), looked for now;
    /// `None` when the file does not ask for them.
    fn self_scheduled(
        &self,
        config: Arc<Config>,
        prepared: Arc<Self::Prepared>,
    ) -> impl Future<Output = Option<Vec<config::Schedule>>> + Send {
        let _ = (config, prepared);
        async { None }
    }
    /// The shared state the file asks for (`[state] backend = "dynamodb"`); `None`: the
    /// state file in the state directory.
    fn shared_state(&self, config: &Config) -> impl Future<Output = Result<Option<Shared>, String>> + Send {
        let _ = config;
        async { Ok(None) }
    }
}

/// Requests from signal handlers (or tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Reload,
    Shutdown,
}

#[derive(Clone)]
pub struct Options {
    pub config_path: PathBuf,
    pub state_dir: PathBuf,
    /// `--dry-run`: forced on whatever the file says.
    pub force_dry_run: bool,
    /// The longest the loop sleeps before reading the wall clock again, so that clock
    /// steps and suspend are noticed.
    pub max_sleep: Duration,
    /// How long in-flight actions may run after a shutdown request.
    pub shutdown_grace: Duration,
    /// How often the heartbeat file is rewritten (at most).
    pub heartbeat_every: Duration,
    /// Where readiness, reloads and watchdog pings are reported.
    pub notifier: Arc<dyn Notifier>,
    /// systemd's watchdog interval (`WATCHDOG_USEC`): the loop pings at half of it.
    pub watchdog: Option<Duration>,
}

impl Options {
    pub fn new(config_path: PathBuf, state_dir: PathBuf) -> Self {
        Options {
            config_path,
            state_dir,
            force_dry_run: false,
            max_sleep: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(120),
            heartbeat_every: Duration::from_secs(30),
            notifier: Arc::new(notify::Systemd),
            watchdog: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Config(#[from] LoadError),
    #[error("{0}")]
    Prepare(String),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Calendars(Vec<crate::jobs::calendars::CalendarError>),
    #[error(transparent)]
    StateDir(#[from] status::StateDirError),
    #[error("http.listen {addr}: cannot listen: {source}; free the port or choose another address")]
    Http {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

pub use lifecycle::run;
pub use status::HEARTBEAT_FILE;

/// The heartbeat file, written by the loop (it is alive) and by the store (a state
/// write failed, or works again), so `offhours health` sees either at once.
struct Health {
    path: std::path::PathBuf,
    beat: Mutex<Heartbeat>,
}

impl Health {
    fn update(&self, change: impl FnOnce(&mut Heartbeat) -> bool) {
        let mut beat = self.beat.lock().expect("heartbeat lock");
        if !change(&mut beat) {
            return;
        }
        let bytes = serde_json::to_vec(&*beat).expect("serializable");
        if let Err(e) = status::write_atomic(&self.path, &bytes) {
            tracing::warn!(path = %self.path.display(), error = %e, "Cannot write the heartbeat file.");
        }
    }
}

/// What the workers and the loop record, in the state backend.
struct Store {
    backend: Arc<dyn Backend>,
    /// This replica's view of the watermarks (loaded when it starts leading).
    state: tokio::sync::Mutex<State>,
    health: Arc<Health>,
    keeper: Option<Arc<Keeper>>,
    /// Set by a worker whose fire could not confirm the lease: if this replica still
    /// leads, the loop takes the lead again (reload the watermarks, catch up), so the
    /// fire is not lost.
    recheck: std::sync::atomic::AtomicBool,
}

impl Store {
    /// Records that `keys` are handled up to `at`, as the leader with `fence`.
    async fn record(&self, keys: &[String], at: DateTime<Utc>, fence: Fence) {
        if keys.is_empty() {
            return;
        }
        let mut state = self.state.lock().await;
        for key in keys {
            state.advance(key, at);
        }
        let error = match self.backend.save(&state, keys, fence).await {
            Ok(()) => None,
            Err(StoreError::Fenced(why)) => {
                // Another replica leads now: it catches these fires up from its own
                // watermarks. Ask the keeper to look at the lease at once.
                tracing::warn!(job = "lease", fence = fence.0, jobs = %keys.join(","), reason = %why, "Fires handled under a lost lease are not recorded.");
                if let Some(k) = &self.keeper {
                    k.poke();
                }
                return;
            }
            Err(e) => {
                tracing::error!(
                    state = %self.backend.describe(),
                    error = %e,
                    jobs = %keys.join(","),
                    "Cannot record handled fires: they may run again after a restart, and missed ones may not be caught up."
                );
                Some(e.to_string())
            }
        };
        self.health.update(|beat| {
            let changed = beat.state_error != error;
            beat.state_error = error;
            changed
        });
    }
}

struct Generation<P> {
    /// The file as loaded.
    file: Arc<Config>,
    /// Its calendars' texts, as last read.
    texts: Arc<Texts>,
    /// The schedules resources set on themselves, as last found (`[tag_schedules]`).
    tagged: Arc<Vec<config::Schedule>>,
    /// The file with its calendars' dates and the holds in force bound into its
    /// schedules: what jobs run on.
    config: Arc<Config>,
    prepared: Arc<P>,
    jobs: Vec<TimedJob>,
}

impl<P> Generation<P> {
    fn new(
        file: Arc<Config>,
        prepared: Arc<P>,
        texts: Arc<Texts>,
        tagged: Arc<Vec<config::Schedule>>,
        holds: &[Hold],
        now: DateTime<Utc>,
    ) -> Result<Self, BindError> {
        let mut all = file.clone();
        if !tagged.is_empty() {
            Arc::make_mut(&mut all).schedules.extend(tagged.iter().cloned());
        }
        let bound = if all.calendars.is_empty() { all } else { Arc::new(config::calendar::bind(&all, &texts, now.date_naive())?) };
        let config = if holds.is_empty() { bound } else { Arc::new(crate::plan::hold::apply(&bound, holds, now)) };
        Ok(Generation { jobs: timer::timed_jobs(&config), file, texts, tagged, config, prepared })
    }

    /// The same file and preparation with other calendar texts or holds; `None` (the
    /// reason logged) when the texts do not bind.
    fn with(&self, texts: Arc<Texts>, tagged: Arc<Vec<config::Schedule>>, holds: &[Hold], now: DateTime<Utc>) -> Option<Self> {
        match Generation::new(self.file.clone(), self.prepared.clone(), texts, tagged, holds, now) {
            Ok(g) => Some(g),
            Err(e) => {
                tracing::error!(error = %e, "New calendar texts, holds or self-scheduled resources not applied; the running schedules stay.");
                None
            }
        }
    }
}

fn load(opts: &Options) -> Result<Config, LoadError> {
    let mut c = config::load(&opts.config_path)?;
    c.dry_run |= opts.force_dry_run;
    Ok(c)
}

/// The HTTP endpoint: metrics from the event stream, health from the heartbeat, ready
/// from the loop. Dropping the handle stops it.
async fn start_http(
    addr: std::net::SocketAddr,
    health: Arc<Health>,
    ready: Arc<std::sync::atomic::AtomicBool>,
    config: Arc<std::sync::RwLock<Option<Arc<Config>>>>,
    figures: Arc<LatestFigures>,
) -> Result<tokio::task::JoinHandle<()>, DaemonError> {
    let listener = crate::http::bind(addr).await.map_err(|source| DaemonError::Http { addr, source })?;
    let metrics = Arc::new(crate::metrics::Metrics::new().with_figures(figures.clone()));
    crate::events::subscribe(metrics.clone());
    let board = Arc::new(crate::http::board::Board::with_figures(figures));
    crate::events::subscribe(board.clone());
    let beat_for_role = health.clone();
    let face = crate::http::Face {
        metrics,
        role: Box::new(move || beat_for_role.beat.lock().expect("heartbeat lock").role.clone()),
        health: Box::new(move || {
            let beat = health.beat.lock().expect("heartbeat lock").clone();
            match status::judge(Some(&beat), Utc::now(), Duration::from_secs(90)) {
                status::Verdict::Healthy { age_s } => Ok(format!("ok: last loop {age_s}s ago")),
                other => Err(format!("unhealthy: {other:?}")),
            }
        }),
        ready,
        config,
        board,
    };
    // The bound address: with port 0 the kernel chose it.
    let bound = listener.local_addr().unwrap_or(addr);
    tracing::info!(listen = %bound, "HTTP endpoint listening (/, /metrics, /healthz, /readyz).");
    Ok(tokio::spawn(crate::http::serve(listener, Arc::new(face))))
}

/// Stops the HTTP endpoint when the daemon returns.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One worker task per group, so that a group's fires run one after another.
struct Workers<E: Executor, C: Clock> {
    senders: BTreeMap<String, mpsc::UnboundedSender<FireTask<E::Prepared>>>,
    tasks: JoinSet<()>,
    executor: Arc<E>,
    store: Arc<Store>,
    clock: Arc<C>,
}

impl<E: Executor, C: Clock> Workers<E, C> {
    /// Starts workers for new groups; drops those of groups that are gone (they
    /// finish what they hold, then end).
    fn ensure(&mut self, jobs: &[TimedJob]) {
        for job in jobs {
            if !self.senders.contains_key(&job.group) {
                let (tx, rx) = mpsc::unbounded_channel();
                self.tasks.spawn(worker(rx, self.executor.clone(), self.store.clone(), self.clock.clone()));
                self.senders.insert(job.group.clone(), tx);
            }
        }
        self.senders.retain(|group, _| jobs.iter().any(|j| &j.group == group));
    }
}

/// Loads the watermarks and catches up what was missed, at start-up and when this
/// replica takes over the lease, as the leader with `fence`. Returns the instant the
/// loop goes on from; `Err`: the watermarks cannot be read (logged), so nothing is fired.
async fn take_lead<E: Executor, C: Clock>(
    current: &Generation<E::Prepared>,
    workers: &Workers<E, C>,
    store: &Store,
    fence: Fence,
    now: DateTime<Utc>,
    cause: Cause,
) -> Result<DateTime<Utc>, ()> {
    let history = match store.backend.load().await {
        Ok(state) => state,
        Err(e) => {
            tracing::error!(state = %store.backend.describe(), fence = fence.0, error = %e, "Cannot read what was handled; no fires until it can be read.");
            return Err(());
        }
    };
    *store.state.lock().await = history.clone();
    let caught_up = timer::due(&current.jobs, |j| history.handled_until.get(&j.key()).copied(), now, current.config.max_lateness);
    // Fires handed to workers are recorded when they finish; every other job is
    // decided up to now.
    let running: Vec<String> = caught_up.iter().filter_map(|d| if let Due::Run(f) = d { Some(f.key.clone()) } else { None }).collect();
    if !running.iter().any(|k| k == timer::BILLING_GROUP) {
        dispatch(&workers.senders, current, billing_check_now(&current.config, now), Cause::Startup, store, now, fence).await;
    }
    dispatch(&workers.senders, current, caught_up, cause, store, now, fence).await;
    // Jobs with no watermark yet are handled from now on. Those with one keep it: it
    // already covers their last fire, and writing this replica's clock over it would
    // let another replica's clock be compared with it.
    let untouched: Vec<String> =
        current.jobs.iter().map(TimedJob::key).filter(|k| !running.contains(k) && !history.handled_until.contains_key(k)).collect();
    store.record(&untouched, now, fence).await;
    Ok(now)
}

/// Hands due fires to their groups' workers and logs the ones not carried out.
async fn dispatch<P: Send + Sync + 'static>(
    workers: &BTreeMap<String, mpsc::UnboundedSender<FireTask<P>>>,
    current: &Generation<P>,
    found: Vec<Due>,
    cause: Cause,
    store: &Store,
    now: DateTime<Utc>,
    fence: Fence,
) {
    for due in found {
        match due {
            Due::Run(fire) => {
                let Some(tx) = workers.get(&fire.group) else {
                    continue;
                };
                let guard = Arc::new(Guard::new(store.keeper.clone(), fence));
                let task = FireTask { fire, cause, config: current.config.clone(), prepared: current.prepared.clone(), fence, guard };
                if tx.send(task).is_err() {
                    tracing::error!("A worker is gone; fire dropped.");
                }
            }
            // A warning whose stop is long past is moot, not news.
            Due::Missed(fire) if matches!(fire.kind, JobKind::StopWarning { .. }) => store.record(&[fire.key], fire.at, fence).await,
            Due::Missed(fire) => {
                let action = fire.kind.to_string();
                crate::events::emit(crate::events::Event::FireMissed {
                    job: cause.as_str(),
                    schedule: &fire.group,
                    action: &action,
                    fire_at: fire.at,
                    late: (now - fire.at).to_std().unwrap_or_default(),
                    max_lateness: current.config.max_lateness,
                });
                store.record(&[fire.key], fire.at, fence).await;
            }
            Due::Superseded { fire, by } => {
                tracing::info!(
                    job = cause.as_str(),
                    schedule = %fire.group,
                    action = %fire.kind,
                    fire_at = %fire.at.to_rfc3339(),
                    superseded_by = %by.to_rfc3339(),
                    "Fire superseded by a later fire of the same schedule."
                );
                store.record(&[fire.key], fire.at, fence).await;
            }
        }
    }
}

/// A billing alarm check due now (at start-up, and after a reload that changed it),
/// if the file has the section.
fn billing_check_now(config: &Config, now: DateTime<Utc>) -> Vec<Due> {
    config
        .billing_alarm
        .iter()
        .map(|_| {
            Due::Run(Fire { group: timer::BILLING_GROUP.into(), kind: JobKind::BillingAlarm, key: timer::BILLING_GROUP.into(), at: now })
        })
        .collect()
}

async fn worker<E: Executor, C: Clock>(
    mut rx: mpsc::UnboundedReceiver<FireTask<E::Prepared>>,
    executor: Arc<E>,
    store: Arc<Store>,
    clock: Arc<C>,
) {
    while let Some(task) = rx.recv().await {
        let key = task.fire.key.clone();
        let at = task.fire.at;
        let fence = task.fence;
        // A replica that lost the lease since this fire was found starts nothing.
        if let Err(e) = store.backend.confirm(fence).await {
            macro_rules! not_carried_out {
                ($level:ident) => {
                    tracing::$level!(
                        job = task.cause.as_str(),
                        schedule = %task.fire.group,
                        action = %task.fire.kind,
                        fire_at = %at.to_rfc3339(),
                        fence = fence.0,
                        reason = %e,
                        "Fire not carried out: the lease could not be confirmed; whoever leads catches it up."
                    )
                };
            }
            if matches!(e, StoreError::Fenced(_)) {
                not_carried_out!(warn);
            } else {
                not_carried_out!(error);
            }
            // Not lost if this replica still leads: the loop takes the lead again.
            store.recheck.store(true, std::sync::atomic::Ordering::SeqCst);
            if let Some(k) = &store.keeper {
                k.poke();
            }
            continue;
        }
        let lag = clock.now() - at;
        tracing::info!(
            job = task.cause.as_str(),
            schedule = task.fire.schedule_name(),
            action = %task.fire.kind,
            fire_at = %at.to_rfc3339(),
            lag_ms = lag.num_milliseconds(),
            "Fire started."
        );
        let kind = task.fire.kind.to_string();
        crate::events::emit(crate::events::Event::FireStarted {
            job: task.cause.as_str(),
            schedule: task.fire.schedule_name(),
            action: &kind,
            lag: lag.to_std().unwrap_or_default(),
        });
        let enforce = task.fire.kind == JobKind::Enforce;
        let guard = task.guard.clone();
        executor.execute(task).await;
        if guard.tripped() {
            // Not carried out: leave it unrecorded, and catch it up if this replica
            // still (or again) leads.
            store.recheck.store(true, std::sync::atomic::Ordering::SeqCst);
            continue;
        }
        // Enforce ticks are paced by the loop, never caught up: nothing to record.
        if !enforce {
            store.record(&[key], at, fence).await;
        }
    }
}

/// Loads, validates and prepares the file again. An error (logged, and returned as
/// one line per problem) keeps the running generation.
async fn reload<E: Executor>(
    opts: &Options,
    executor: &Arc<E>,
    current: &Generation<E::Prepared>,
    holds: &[Hold],
    http: &reqwest::Client,
) -> Result<Generation<E::Prepared>, Vec<String>> {
    let config = match load(opts) {
        Ok(c) if c.state != current.file.state => {
            let message = format!(
                "{}: [state] changed: the state backend is chosen at start-up; restart the service to switch, or put [state] back",
                opts.config_path.display()
            );
            tracing::error!(outcome = "rejected", error = %message, "Reload rejected; the running schedules stay.");
            return Err(vec![message]);
        }
        Ok(c) => Arc::new(c),
        Err(LoadError::Invalid(errors)) => {
            for e in &errors {
                tracing::error!(file = %e.file, line = e.line, column = e.column, field = %e.field, error = %e.message, "{e}");
            }
            tracing::error!(
                outcome = "rejected",
                errors = errors.len(),
                "Reload rejected: the file is invalid; the running schedules stay."
            );
            return Err(errors.iter().map(ToString::to_string).collect());
        }
        Err(e) => {
            tracing::error!(outcome = "rejected", error = %e, "Reload rejected; the running schedules stay.");
            return Err(vec![e.to_string()]);
        }
    };
    let prepared = match executor.prepare(config.clone(), Some((&current.file, &current.prepared))).await {
        Ok(p) => Arc::new(p),
        Err(e) => {
            tracing::error!(outcome = "rejected", error = %e, "Reload rejected; the running schedules stay.");
            return Err(vec![e]);
        }
    };
    let texts = match calendars::first(&config.calendars, &opts.state_dir, http).await {
        Ok(t) => Arc::new(t),
        Err(errors) => {
            tracing::error!(
                outcome = "rejected",
                errors = errors.len(),
                "Reload rejected: a calendar cannot be read; the running schedules stay."
            );
            return Err(errors.iter().map(ToString::to_string).collect());
        }
    };
    // What resources set on themselves stays until the file's own refresh looks again.
    let tagged = if config.tag_schedules.as_ref().is_some_and(|t| t.enabled) { current.tagged.clone() } else { Arc::default() };
    let reloaded = match Generation::new(config.clone(), prepared, texts, tagged, holds, Utc::now()) {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(outcome = "rejected", error = %e, "Reload rejected; the running schedules stay.");
            return Err(vec![e.to_string()]);
        }
    };
    // By name, so that a file of thousands of schedules is compared in n log n.
    fn by_name(c: &Config) -> BTreeMap<&str, &config::Schedule> {
        c.schedules.iter().map(|s| (s.name.as_str(), s)).collect()
    }
    let (old, new) = (by_name(&current.file), by_name(&config));
    let added: Vec<&str> = new.keys().filter(|n| !old.contains_key(*n)).copied().collect();
    let removed: Vec<&str> = old.keys().filter(|n| !new.contains_key(*n)).copied().collect();
    let changed: Vec<&str> = new.iter().filter(|(n, s)| old.get(*n).is_some_and(|o| o != *s)).map(|(n, _)| *n).collect();
    let join = |v: &[&str]| v.join(",");
    tracing::info!(
        outcome = "applied",
        added = %join(&added),
        removed = %join(&removed),
        changed = %join(&changed),
        settings_changed = !config.same_settings(&current.file),
        jobs = reloaded.jobs.len(),
        "Reload applied."
    );
    Ok(reloaded)
}

#[cfg(test)]
mod tests;
