//! The daemon's life: start-up (config, state directory, backends, ledger, endpoint,
//! workers, the first lead), the loop as a few named steps a turn (follow the lease,
//! sleep until something is due, reload, fire what is due, beat), and shutdown.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::calendars::Refresher;
use super::holds::{self, HoldWatch};
use super::status::{self, ReloadStatus};
use super::timer::{self, Due, Fire, JobKind, TimedJob};
use super::{
    AbortOnDrop, Control, DaemonError, Executor, Generation, Health, Options, Store, Workers, billing_check_now, dispatch, load, notify,
    reload, start_http, take_lead,
};
use super::{clock::Clock, notify::Note};
use crate::config::Config;
use crate::jobs::apply::Cause;
use crate::store::keeper::Keeper;
use crate::store::ledger::LatestFigures;
use crate::store::state::State;
use crate::store::{Backend, Fence, Role};

/// What lives as long as the daemon and is only stopped at the end.
struct Services {
    _http: Option<AbortOnDrop>,
    keeper_task: Option<AbortOnDrop>,
    ledger: Option<Arc<crate::store::Recorder>>,
}

/// What the loop keeps from one turn to the next.
struct Daemon<E: Executor, C: Clock> {
    opts: Options,
    executor: Arc<E>,
    clock: Arc<C>,
    current: Generation<E::Prepared>,
    health: Arc<Health>,
    store: Arc<Store>,
    keeper: Option<Arc<Keeper>>,
    role: watch::Receiver<Role>,
    /// Keeps the sole replica's role channel open when there is no keeper.
    _sole: watch::Sender<Role>,
    workers: Workers<E, C>,
    /// The config the status page shows.
    shown: Arc<std::sync::RwLock<Option<Arc<Config>>>>,
    /// The fence this replica acts under, once it has taken the lead (at once on a
    /// state file; when the lease is won on a shared table).
    leading: Option<Fence>,
    /// Fires up to here are handled.
    watermark: DateTime<Utc>,
    enforce_next: BTreeMap<String, DateTime<Utc>>,
    /// A lead whose state could not be loaded is tried again this soon.
    retry_lead: Option<Instant>,
    last_ping: Option<Instant>,
    last_beat: Option<DateTime<Utc>>,
    /// When the idle daemon last gave memory back.
    trim: super::trim::Trim,
    holds: HoldWatch,
    calendars: Calendars,
    tagged: Tagged,
}

/// Looking for resources that schedule themselves: the task of the generation, and
/// what it sends.
struct Tagged {
    tx: mpsc::UnboundedSender<Vec<crate::config::Schedule>>,
    rx: mpsc::UnboundedReceiver<Vec<crate::config::Schedule>>,
    _task: Option<AbortOnDrop>,
}

impl Tagged {
    fn new() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Tagged { tx, rx, _task: None }
    }
}

/// Reading the calendars: the client, and the texts the refresh task sends.
struct Calendars {
    http: reqwest::Client,
    tx: mpsc::UnboundedSender<crate::config::calendar::Texts>,
    rx: mpsc::UnboundedReceiver<crate::config::calendar::Texts>,
    _refresher: Refresher,
}

/// Why the loop woke.
enum Wake {
    /// A timer: a fire may be due, or it is time to beat.
    Timer,
    /// The lease changed hands (or this replica's view of it).
    Role,
    Reload,
    /// The calendars were read again.
    Calendars(crate::config::calendar::Texts),
    /// Resources that schedule themselves were looked for again.
    Tagged(Vec<crate::config::Schedule>),
    Shutdown,
}

/// Runs until a [`Control::Shutdown`] (or the control channel closes).
pub async fn run<E: Executor, C: Clock>(
    opts: Options,
    executor: Arc<E>,
    clock: Arc<C>,
    mut control: mpsc::UnboundedReceiver<Control>,
) -> Result<(), DaemonError> {
    let (mut daemon, services) = Daemon::start(opts, executor, clock).await?;
    loop {
        daemon.follow_role().await;
        let next = daemon.next_fire();
        let sleep_for = daemon.sleep_for(next);
        // Idle is judged by the next fire or tick, not by the holds' short reads.
        daemon.trim.when_idle(sleep_for);
        let sleep_for = sleep_for.min(daemon.holds.wait());
        let wake = tokio::select! {
            _ = tokio::time::sleep(sleep_for) => Wake::Timer,
            _ = daemon.role.changed() => Wake::Role,
            request = control.recv() => match request {
                Some(Control::Reload) => Wake::Reload,
                Some(Control::Shutdown) | None => Wake::Shutdown,
            },
            Some(texts) = daemon.calendars.rx.recv() => Wake::Calendars(texts),
            Some(found) = daemon.tagged.rx.recv() => Wake::Tagged(found),
        };
        let reloaded = match wake {
            Wake::Shutdown => break,
            Wake::Reload => daemon.reload().await,
            Wake::Calendars(texts) => daemon.calendars_read(texts),
            Wake::Tagged(found) => daemon.tagged_found(found).await,
            Wake::Timer | Wake::Role => false,
        };
        daemon.turn(next, reloaded).await;
    }
    daemon.shut_down(services).await;
    Ok(())
}

impl<E: Executor, C: Clock> Daemon<E, C> {
    /// Everything before the loop: nothing is fired before the state directory is
    /// proved writable and, when this replica leads, the watermarks are loaded.
    async fn start(opts: Options, executor: Arc<E>, clock: Arc<C>) -> Result<(Self, Services), DaemonError> {
        let config = Arc::new(load(&opts)?);
        // Before anything is fired: a daemon that cannot record what it handled would
        // silently lose catch-up after a restart.
        status::probe_state_dir(&opts.state_dir)?;
        let prepared = Arc::new(executor.prepare(config.clone(), None).await.map_err(DaemonError::Prepare)?);
        let health = Arc::new(Health { path: opts.state_dir.join(super::HEARTBEAT_FILE), beat: Default::default() });
        // The state file, or a table shared with other replicas and the lease that says
        // which one acts; holds beside them.
        let (backend, keeper, table_ledger, holds): (Arc<dyn Backend>, Option<Arc<Keeper>>, _, _) =
            match executor.shared_state(&config).await.map_err(DaemonError::Prepare)? {
                Some(shared) => (shared.backend, Some(shared.keeper), Some(shared.ledger), shared.holds),
                None => (
                    Arc::new(crate::store::local::FileBackend::in_dir(&opts.state_dir)),
                    None,
                    None,
                    crate::store::holds::Holds::in_dir(&opts.state_dir),
                ),
            };
        let mut holds = HoldWatch::new(holds);
        holds.first(&config, clock.now()).await;
        let http = crate::jobs::calendars::client();
        let texts = super::calendars::first(&config.calendars, &opts.state_dir, &http).await.map_err(DaemonError::Calendars)?;
        let current = Generation::new(config, prepared, Arc::new(texts), Arc::default(), holds.live(), clock.now())
            .map_err(|e| DaemonError::Prepare(format!("{}: {e}", opts.config_path.display())))?;
        let (texts_tx, texts_rx) = mpsc::unbounded_channel();
        let refresher = Refresher::start(
            current.file.calendars.clone(),
            (*current.texts).clone(),
            opts.state_dir.clone(),
            http.clone(),
            texts_tx.clone(),
        );
        let calendars = Calendars { http, tx: texts_tx, rx: texts_rx, _refresher: refresher };
        // Every start and stop, for the savings report: in the shared table beside the
        // watermarks, else in SQLite in the state directory. A ledger that cannot be
        // opened costs the report this run's history, never an action. Its writer counts
        // the savings figures for the metrics and the status page.
        let figures = Arc::new(LatestFigures::default());
        let ledger = super::start_ledger(table_ledger, &opts.state_dir, current.config.savings.retention, &figures);
        let (sole, mut role) = watch::channel(Role::SOLE);
        if let Some(k) = &keeper {
            role = k.subscribe();
        }
        let keeper_task = keeper.as_ref().map(|k| AbortOnDrop(tokio::spawn(k.clone().run())));
        let store = Arc::new(Store {
            backend,
            state: tokio::sync::Mutex::new(State::default()),
            health: health.clone(),
            keeper: keeper.clone(),
            recheck: Default::default(),
        });
        let ready = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let shown = Arc::new(std::sync::RwLock::new(Some(current.config.clone())));
        let http = match current.config.http.clone() {
            Some(s) => Some(AbortOnDrop(start_http(s.listen, health.clone(), ready.clone(), shown.clone(), figures.clone()).await?)),
            None => None,
        };
        let mut workers = Workers {
            senders: BTreeMap::new(),
            tasks: tokio::task::JoinSet::new(),
            executor: executor.clone(),
            store: store.clone(),
            clock: clock.clone(),
        };
        workers.ensure(&current.jobs);
        let watermark = clock.now();
        let mut daemon = Daemon {
            opts,
            executor,
            clock,
            current,
            health,
            store,
            keeper,
            role,
            _sole: sole,
            workers,
            shown,
            leading: None,
            watermark,
            enforce_next: BTreeMap::new(),
            retry_lead: None,
            last_ping: None,
            last_beat: None,
            trim: super::trim::Trim::default(),
            holds,
            calendars,
            tagged: Tagged::new(),
        };
        daemon.look_for_tagged();
        daemon.first_lead().await;
        daemon.announce();
        daemon.opts.notifier.notify(Note::Ready);
        ready.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok((daemon, Services { _http: http, keeper_task, ledger }))
    }

    /// Ready only after this: the state holds where every job starts from.
    async fn first_lead(&mut self) {
        let Some(fence) = self.role.borrow_and_update().leads(Instant::now()) else { return };
        if let Ok(at) = take_lead(&self.current, &self.workers, &self.store, fence, self.clock.now(), Cause::CatchUp).await {
            self.leading = Some(fence);
            self.watermark = at;
            timer::enforce_due(&self.current.config, &mut self.enforce_next, at);
        }
    }

    /// The start-up event and the first heartbeat.
    fn announce(&mut self) {
        let now = self.clock.now();
        tracing::info!(
            config = %self.opts.config_path.display(),
            schedules = self.current.config.schedules.len(),
            jobs = self.current.jobs.len(),
            dry_run = self.current.config.dry_run,
            state = %self.store.backend.describe(),
            watchdog_s = self.opts.watchdog.map(|d| d.as_secs_f64()),
            "Daemon started."
        );
        let shown_role = self.role_text();
        self.health.update(|beat| {
            beat.loop_at = Some(now);
            beat.role = Some(shown_role);
            true
        });
        self.last_beat = Some(now);
    }

    /// What health and readiness say of this replica: leading or not, and who holds the
    /// lease.
    fn role_text(&self) -> String {
        let role = self.role.borrow();
        match role.leads(Instant::now()) {
            Some(f) if self.keeper.is_some() => format!("leader (fence {f})"),
            Some(_) => "leader".to_string(),
            None => match &*role {
                Role::Standby { why, .. } => format!("standby: {why}"),
                Role::Leader { .. } => "standby: the lease was not renewed in time".to_string(),
            },
        }
    }

    /// Takes the lead, or stands down, as the lease says; then tells health and feeds
    /// the watchdog (from this loop only: a worker busy with a long action does not stop
    /// the pings, a loop that is stuck does, and systemd restarts the service).
    async fn follow_role(&mut self) {
        let now_mono = Instant::now();
        let leads = self.role.borrow_and_update().leads(now_mono);
        if self.store.recheck.swap(false, std::sync::atomic::Ordering::SeqCst) && self.leading.is_some() {
            tracing::warn!(job = "lease", "A fire could not confirm the lease: reading the watermarks again and catching up.");
            self.leading = None;
            self.enforce_next.clear();
        }
        if leads != self.leading {
            self.stand_down();
            if let Some(fence) = leads
                && self.retry_lead.is_none_or(|t| now_mono >= t)
            {
                self.take_lead(fence, now_mono).await;
            }
        }
        let shown_role = self.role_text();
        self.health.update(|beat| {
            let changed = beat.role.as_deref() != Some(shown_role.as_str());
            beat.role = Some(shown_role);
            changed
        });
        if let Some(every) = self.ping_every()
            && self.last_ping.is_none_or(|p| p.elapsed() >= every)
        {
            self.opts.notifier.notify(Note::Watchdog);
            self.last_ping = Some(Instant::now());
        }
    }

    fn stand_down(&mut self) {
        if let Some(old) = self.leading.take() {
            let why = self.role_text();
            tracing::warn!(job = "lease", fence = old.0, role = %why, "Stood down: no fires from this replica until it leads again.");
            self.enforce_next.clear();
        }
    }

    async fn take_lead(&mut self, fence: Fence, now_mono: Instant) {
        match take_lead(&self.current, &self.workers, &self.store, fence, self.clock.now(), Cause::CatchUp).await {
            Ok(at) => {
                self.leading = Some(fence);
                self.watermark = at;
                self.retry_lead = None;
                timer::enforce_due(&self.current.config, &mut self.enforce_next, at);
            }
            Err(()) => self.retry_lead = Some(now_mono + Duration::from_secs(1)),
        }
    }

    fn ping_every(&self) -> Option<Duration> {
        self.opts.watchdog.map(|d| d / 2)
    }

    /// The next fire of any job, when this replica leads.
    fn next_fire(&self) -> Option<DateTime<Utc>> {
        if self.leading.is_some() { timer::next_fire(&self.current.jobs, self.watermark) } else { None }
    }

    /// Until the next fire, watchdog ping, enforce tick, lease deadline or lead retry,
    /// and never longer than `max_sleep` (the wall clock is read again after it).
    fn sleep_for(&self, next: Option<DateTime<Utc>>) -> Duration {
        let now = self.clock.now();
        let until = |t: DateTime<Utc>| (t - now).to_std().unwrap_or(Duration::ZERO);
        let mut sleep_for = next.map_or(self.opts.max_sleep, |n| until(n).min(self.opts.max_sleep));
        if let (Some(every), Some(last)) = (self.ping_every(), self.last_ping) {
            sleep_for = sleep_for.min(every.saturating_sub(last.elapsed()));
        }
        if let Some(tick) = self.enforce_next.values().min() {
            sleep_for = sleep_for.min(until(*tick));
        }
        // Wake when the lease runs out unrenewed, or to retry taking the lead.
        if let Role::Leader { until: Some(deadline), .. } = &*self.role.borrow()
            && self.leading.is_some()
            && *deadline > Instant::now()
        {
            sleep_for = sleep_for.min(deadline.saturating_duration_since(Instant::now()));
        }
        if let Some(t) = self.retry_lead {
            sleep_for = sleep_for.min(t.saturating_duration_since(Instant::now()));
        }
        sleep_for
    }

    /// SIGHUP: validate and prepare the file, then swap; its outcome recorded for
    /// `offhours reload` and emitted. Whether the new generation is in place.
    async fn reload(&mut self) -> bool {
        let began = notify::monotonic_usec();
        self.opts.notifier.notify(Note::Reloading { monotonic_usec: began });
        let outcome = reload(&self.opts, &self.executor, &self.current, self.holds.live(), &self.calendars.http).await;
        let report = ReloadStatus {
            began_monotonic_usec: began,
            outcome: if outcome.is_ok() { "applied" } else { "rejected" }.into(),
            errors: outcome.as_ref().err().cloned().unwrap_or_default(),
        };
        let path = self.opts.state_dir.join(status::RELOAD_FILE);
        if let Err(e) = status::write_atomic(&path, &serde_json::to_vec(&report).expect("serializable")) {
            tracing::error!(path = %path.display(), error = %e, "Cannot record the reload's outcome.");
        }
        crate::events::emit(crate::events::Event::Reload {
            applied: outcome.is_ok(),
            errors: outcome.as_ref().err().map_or(&[], Vec::as_slice),
        });
        let swapped = match outcome {
            Ok(reloaded) => {
                self.swap(reloaded).await;
                true
            }
            Err(_) => false,
        };
        self.opts.notifier.notify(Note::Ready);
        swapped
    }

    /// Puts a reloaded generation in place: workers for its jobs, a billing check when
    /// the alarm changed, and jobs new to the file handled from now on (a fire of theirs
    /// missed later, by a crash or a takeover, is then caught up).
    async fn swap(&mut self, reloaded: Generation<E::Prepared>) {
        self.workers.ensure(&reloaded.jobs);
        // Fresh channels: what the previous file's tasks had sent and not yet been read
        // is of that file, not this one.
        (self.calendars.tx, self.calendars.rx) = mpsc::unbounded_channel();
        self.tagged = Tagged::new();
        self.calendars._refresher = Refresher::start(
            reloaded.file.calendars.clone(),
            (*reloaded.texts).clone(),
            self.opts.state_dir.clone(),
            self.calendars.http.clone(),
            self.calendars.tx.clone(),
        );
        if let Some(fence) = self.leading
            && reloaded.config.billing_alarm != self.current.config.billing_alarm
        {
            let now = self.clock.now();
            let due = billing_check_now(&reloaded.config, now);
            dispatch(&self.workers.senders, &reloaded, due, Cause::Reload, &self.store, now, fence).await;
        }
        self.current = reloaded;
        *self.shown.write().expect("config lock") = Some(self.current.config.clone());
        self.look_for_tagged();
        if let Some(fence) = self.leading {
            let new: Vec<String> = {
                let known = self.store.state.lock().await;
                self.current.jobs.iter().map(TimedJob::key).filter(|k| !known.handled_until.contains_key(k)).collect()
            };
            self.store.record(&new, self.watermark, fence).await;
        }
    }

    /// After a wake: as the leader (still holding the lease), fire what is due and what
    /// enforce asks for; either way, beat.
    async fn turn(&mut self, next: Option<DateTime<Utc>>, reloaded: bool) {
        let now = self.clock.now();
        let changes = self.follow_holds(now).await;
        // A standby only keeps its loop alive; the lease is checked again at the top.
        if let Some(fence) = self.leading.filter(|f| self.role.borrow().leads(Instant::now()) == Some(*f)) {
            self.start_held(fence, &changes, now).await;
            self.fire_due(fence, now, next, reloaded || !changes.is_empty()).await;
            self.enforce(fence, now).await;
        }
        self.beat(now);
    }

    /// (Re)starts looking for resources that schedule themselves, for the current file:
    /// at once, then every `refresh`.
    fn look_for_tagged(&mut self) {
        let Some(every) = self.current.file.tag_schedules.as_ref().filter(|t| t.enabled).map(|t| t.refresh) else {
            self.tagged._task = None;
            return;
        };
        let (executor, file, prepared, tx) =
            (self.executor.clone(), self.current.file.clone(), self.current.prepared.clone(), self.tagged.tx.clone());
        self.tagged._task = Some(AbortOnDrop(tokio::spawn(async move {
            loop {
                if let Some(found) = executor.self_scheduled(file.clone(), prepared.clone()).await
                    && tx.send(found).is_err()
                {
                    return;
                }
                tokio::time::sleep(every).await;
            }
        })));
    }

    /// What resources set on themselves now: a generation with those schedules, when
    /// they changed. Whether it is in place.
    async fn tagged_found(&mut self, found: Vec<crate::config::Schedule>) -> bool {
        if *self.current.tagged == found {
            return false;
        }
        let Some(g) = self.current.with(self.current.texts.clone(), Arc::new(found), self.holds.live(), self.clock.now()) else {
            return false;
        };
        self.workers.ensure(&g.jobs);
        let before: std::collections::BTreeSet<String> = self.current.jobs.iter().map(TimedJob::key).collect();
        self.current = g;
        *self.shown.write().expect("config lock") = Some(self.current.config.clone());
        self.catch_up_returning(&before).await;
        true
    }

    /// Jobs that come back (a resource's own schedule found again after a restart or a
    /// look that missed it) are caught up from their recorded watermark to this
    /// replica's, as at start-up; what is after this replica's is the loop's.
    async fn catch_up_returning(&mut self, before: &std::collections::BTreeSet<String>) {
        let Some(fence) = self.leading else { return };
        let known = self.store.state.lock().await.handled_until.clone();
        let returning: Vec<TimedJob> = self
            .current
            .jobs
            .iter()
            .filter(|j| !before.contains(&j.key()) && known.get(&j.key()).is_some_and(|at| *at < self.watermark))
            .cloned()
            .collect();
        if returning.is_empty() {
            return;
        }
        let found = timer::due(&returning, |j| known.get(&j.key()).copied(), self.watermark, self.current.config.max_lateness);
        dispatch(&self.workers.senders, &self.current, found, Cause::CatchUp, &self.store, self.clock.now(), fence).await;
    }

    /// New texts of the calendars: a generation with them bound in. Whether it is in
    /// place (the fires due are then looked for with its jobs).
    fn calendars_read(&mut self, texts: crate::config::calendar::Texts) -> bool {
        match self.current.with(Arc::new(texts), self.current.tagged.clone(), self.holds.live(), self.clock.now()) {
            Some(g) => {
                self.workers.ensure(&g.jobs);
                self.current = g;
                *self.shown.write().expect("config lock") = Some(self.current.config.clone());
                true
            }
            None => false,
        }
    }

    /// Reads the holds when due; a change puts the schedules with the new holds in
    /// place, told once, by the leader.
    async fn follow_holds(&mut self, now: DateTime<Utc>) -> Vec<crate::plan::hold::Change> {
        let changes = self.holds.refresh(now).await;
        if changes.is_empty() {
            return changes;
        }
        self.holds.publish();
        if let Some(g) = self.current.with(self.current.texts.clone(), self.current.tagged.clone(), self.holds.live(), now) {
            self.current = g;
            *self.shown.write().expect("config lock") = Some(self.current.config.clone());
        }
        if self.leading.is_some() {
            for change in &changes {
                holds::tell(change, &self.current.file);
            }
        }
        changes
    }

    /// A hold kept on that began before this replica had handled up to its start: its
    /// start runs now (fires after that are the timer's).
    async fn start_held(&mut self, fence: Fence, changes: &[crate::plan::hold::Change], now: DateTime<Utc>) {
        for hold in changes.iter().filter_map(|c| holds::started_before(c, self.watermark)) {
            // However long ago the hold began: what it keeps on is to be on now.
            let start =
                self.current.jobs.iter().find(|j| j.group == hold.schedule && j.kind == JobKind::Schedule(crate::model::Action::Start));
            let Some(job) = start else { continue };
            let fire = Fire { group: job.group.clone(), kind: job.kind, key: job.key(), at: now };
            dispatch(&self.workers.senders, &self.current, vec![Due::Run(fire)], Cause::Hold, &self.store, now, fence).await;
        }
    }

    /// Resources' own fires held back by the brake over them all: one event each time
    /// (a brake-tripped notice), their fires recorded as handled.
    async fn hold_back(&self, braked: Vec<timer::TagBrake>, fence: Fence) {
        for b in braked {
            crate::events::emit(crate::events::Event::BrakeTripped {
                account: None,
                job: Cause::Scheduled.as_str(),
                schedule: "tag:*",
                action: b.action,
                would_touch: b.fires.len(),
                limit: self.current.config.max_instances_per_action,
                dry_run: self.current.config.dry_run,
            });
            let keys: Vec<String> = b.fires.iter().map(|f| f.key.clone()).collect();
            self.store.record(&keys, b.at, fence).await;
        }
    }

    async fn fire_due(&mut self, fence: Fence, now: DateTime<Utc>, next: Option<DateTime<Utc>>, reloaded: bool) {
        if now > self.watermark {
            // Nothing is due before the next fire, unless a reload brought new jobs.
            if reloaded || next.is_some_and(|n| n <= now) {
                let found = timer::due(&self.current.jobs, |_| Some(self.watermark), now, self.current.config.max_lateness);
                let (found, braked) = timer::tag_brake(found, self.current.config.max_instances_per_action);
                self.hold_back(braked, fence).await;
                dispatch(&self.workers.senders, &self.current, found, Cause::Scheduled, &self.store, now, fence).await;
            }
            self.watermark = now;
        } else if now < self.watermark {
            tracing::warn!(now = %now.to_rfc3339(), handled_until = %self.watermark.to_rfc3339(), "Wall clock went back; fires already handled are not repeated.");
        }
    }

    async fn enforce(&mut self, fence: Fence, now: DateTime<Utc>) {
        for name in timer::enforce_due(&self.current.config, &mut self.enforce_next, now) {
            let fire = Fire { key: format!("schedule:{name}:enforce"), group: name, kind: JobKind::Enforce, at: now };
            dispatch(&self.workers.senders, &self.current, vec![Due::Run(fire)], Cause::Enforce, &self.store, now, fence).await;
        }
    }

    /// The heartbeat, at least every `heartbeat_every`.
    fn beat(&mut self, now: DateTime<Utc>) {
        if self.last_beat.is_none_or(|b| (now - b).to_std().unwrap_or(Duration::MAX) >= self.opts.heartbeat_every) {
            self.health.update(|beat| {
                beat.loop_at = Some(now);
                true
            });
            self.last_beat = Some(now);
        }
    }

    /// No new fires; in-flight actions get the grace period; the lease is given up
    /// only after them; the ledger is flushed; the heartbeat says stopped.
    async fn shut_down(self, services: Services) {
        self.opts.notifier.notify(Note::Stopping);
        tracing::info!(grace_s = self.opts.shutdown_grace.as_secs(), "Shutting down: no new fires; waiting for in-flight actions.");
        let Workers { senders, mut tasks, .. } = self.workers;
        drop(senders);
        let finished = tokio::time::timeout(self.opts.shutdown_grace, async { while tasks.join_next().await.is_some() {} }).await;
        match finished {
            Ok(()) => tracing::info!("Daemon stopped."),
            Err(_) => tracing::error!(
                grace_s = self.opts.shutdown_grace.as_secs(),
                "In-flight actions did not finish within the grace period; abandoning them."
            ),
        }
        // Give the lease up only now, so that a standby never acts beside a fire still
        // in flight here; with fires abandoned, it is left to go stale (a lease later)
        // rather than released while they may still be calling AWS.
        drop(services.keeper_task);
        if let Some(k) = &self.keeper {
            if finished.is_ok() {
                k.release().await;
            } else {
                tasks.abort_all();
                tracing::warn!(
                    job = "lease",
                    "Lease not released: abandoned actions may still be in flight; a standby takes over once it is stale."
                );
            }
        }
        if let Some(ledger) = &services.ledger {
            super::flush_ledger(ledger, Duration::from_secs(2)).await;
        }
        // `offhours health` must not call a stopped daemon healthy while its last beat
        // is young.
        let stopped_at = self.clock.now();
        self.health.update(|beat| {
            beat.stopped_at = Some(stopped_at);
            true
        });
    }
}
