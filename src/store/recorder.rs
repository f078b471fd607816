//! The one ledger writer, whichever backend holds the ledger: [`Recorder`] subscribes to
//! the event stream and hands each real action's entries, through a bounded queue, to a
//! task that owns the [`LedgerStore`] (the SQLite file or the shared table). An action
//! never waits on the ledger: a full queue or a failed write is an error event and a
//! dropped batch, never a failed action. The same task purges past retention and counts
//! the savings figures for the metrics and the status page.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::field::{DisplayValue, display};
use tracing::instrument::WithSubscriber;

use super::BoxFuture;
use super::ledger::{Entry, FIGURES_DAYS, Figures, LedgerError, entries, price_cache};
use crate::events::{Event, Subscriber};
use crate::savings::Tally;

/// How long after a write the writer counts again.
pub(crate) const COUNT_AFTER_WRITE: Duration = Duration::from_secs(1);

/// The time the recorder stamps entries with, and purges and counts against.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Where the writer hands its figures (nowhere by default).
pub type Publish = Arc<dyn Fn(Figures) + Send + Sync>;

/// Where a ledger is, for its log events: a file's path, or a table's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    File(PathBuf),
    Table(String),
}

impl Place {
    /// The `path` field of a log event (a file's ledger; none for the table's).
    pub fn path(&self) -> Option<DisplayValue<String>> {
        match self {
            Place::File(p) => Some(display(p.display().to_string())),
            Place::Table(_) => None,
        }
    }

    /// The `ledger` field of a log event (the table's ledger; none for a file's).
    pub fn table(&self) -> Option<DisplayValue<&str>> {
        match self {
            Place::File(_) => None,
            Place::Table(t) => Some(display(t.as_str())),
        }
    }
}

/// A batch of entries not written: how many of it, and the first error.
#[derive(Debug)]
pub struct NotWritten {
    pub count: usize,
    pub error: LedgerError,
}

/// What the writer needs of a ledger's backend.
pub trait LedgerStore: Send + 'static {
    fn place(&self) -> Place;
    /// Writes `entries`; what of them was not written.
    fn append(&mut self, entries: Vec<Entry>) -> BoxFuture<'_, Result<(), NotWritten>>;
    /// The hours off in `[since, now)`, counted as the report counts them; `None` when
    /// there is nothing to count yet.
    fn tally(&mut self, since: DateTime<Utc>, now: DateTime<Utc>) -> BoxFuture<'_, Result<Option<Tally>, LedgerError>>;
    /// Removes what is older than `cut` and no longer needed; how many entries.
    fn purge(&mut self, cut: DateTime<Utc>) -> BoxFuture<'_, Result<usize, LedgerError>>;
}

/// How the recorder runs. [`Settings::new`] gives the daemon's values.
#[derive(Clone)]
pub struct Settings {
    /// How long entries are kept.
    pub retention: Duration,
    /// Actions waiting for the writer, at most (at least 1); one more is dropped with an
    /// error.
    pub capacity: usize,
    /// How often the writer purges past `retention` (and once at start).
    pub purge_every: Duration,
    /// How often the writer counts the last [`FIGURES_DAYS`] days for the metrics and
    /// the status page (and once at start, and a second after a write).
    pub figures_every: Duration,
    /// Where the counts go.
    pub publish: Publish,
    /// How long a write waits for another connection's lock before it fails (the
    /// SQLite file).
    pub busy_timeout: Duration,
    /// The time of recording.
    pub clock: Clock,
}

impl Settings {
    /// Keeps `retention`; 1024 actions queued, a purge a day, the system clock.
    pub fn new(retention: Duration) -> Settings {
        Settings {
            retention,
            capacity: 1024,
            purge_every: Duration::from_secs(24 * 60 * 60),
            figures_every: Duration::from_secs(60),
            publish: Arc::new(|_| {}),
            busy_timeout: super::ledger::BUSY_TIMEOUT,
            clock: Arc::new(Utc::now),
        }
    }
}

enum Message {
    Append(Vec<Entry>),
    /// Answered once everything queued before it is done.
    Flush(oneshot::Sender<()>),
}

/// The event-stream subscriber that writes every start and stop of a real (not dry-run)
/// action to the ledger.
pub struct Recorder {
    queue: mpsc::Sender<Message>,
    place: Place,
    clock: Clock,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("place", &self.place).field("dropped", &self.dropped()).finish_non_exhaustive()
    }
}

impl Recorder {
    /// Starts the writer task for `store` on the current runtime; `cache_path` is the
    /// Price List cache in the state directory, read with each count.
    pub fn start(store: Box<dyn LedgerStore>, cache_path: PathBuf, settings: Settings) -> Recorder {
        let (queue, received) = mpsc::channel(settings.capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let place = store.place();
        let writer = Writer {
            store,
            cache_path,
            retention: TimeDelta::from_std(settings.retention).unwrap_or(TimeDelta::MAX),
            purge_every: settings.purge_every,
            figures_every: settings.figures_every,
            publish: settings.publish,
            clock: settings.clock.clone(),
            dropped: dropped.clone(),
        };
        // The task logs where the caller's logs go (a test's own subscriber included).
        tokio::spawn(writer.run(received).with_current_subscriber());
        Recorder { queue, place, clock: settings.clock, dropped }
    }

    pub fn place(&self) -> &Place {
        &self.place
    }

    /// Entries not written since start: the queue was full or a write failed.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Waits until everything queued so far is written (or dropped), at most `timeout`;
    /// whether it was.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let (done, wait) = oneshot::channel();
        tokio::time::timeout(timeout, async { self.queue.send(Message::Flush(done)).await.is_ok() && wait.await.is_ok() })
            .await
            .unwrap_or(false)
    }
}

impl Subscriber for Recorder {
    fn on(&self, event: &Event<'_>) {
        let Event::ActionFinished { job, schedule, action, dry_run: false, results, .. } = event else {
            return;
        };
        let entries = entries((self.clock)(), job, schedule, *action, results);
        if entries.is_empty() {
            return;
        }
        let count = entries.len();
        if let Err(e) = self.queue.try_send(Message::Append(entries)) {
            let reason = match e {
                mpsc::error::TrySendError::Full(_) => "the queue is full",
                mpsc::error::TrySendError::Closed(_) => "the writer has stopped",
            };
            self.dropped.fetch_add(count as u64, Ordering::Relaxed);
            tracing::error!(
                path = self.place.path(),
                ledger = self.place.table(),
                count,
                job = *job,
                schedule = *schedule,
                action = %action,
                reason,
                "Ledger write failed."
            );
        }
    }
}

/// The writer task: owns the store, writes each batch as it comes, purges, counts.
struct Writer {
    store: Box<dyn LedgerStore>,
    cache_path: PathBuf,
    retention: TimeDelta,
    purge_every: Duration,
    figures_every: Duration,
    publish: Publish,
    clock: Clock,
    dropped: Arc<AtomicU64>,
}

impl Writer {
    /// Until the [`Recorder`] is gone and the queue is empty.
    async fn run(mut self, mut queue: mpsc::Receiver<Message>) {
        let mut next_purge = Instant::now();
        let mut next_count = Instant::now();
        loop {
            if Instant::now() >= next_purge {
                self.purge().await;
                next_purge = Instant::now() + self.purge_every;
            }
            if Instant::now() >= next_count {
                self.count().await;
                next_count = Instant::now() + self.figures_every;
            }
            tokio::select! {
                biased;
                message = queue.recv() => match message {
                    Some(Message::Append(entries)) => {
                        self.append(entries).await;
                        // A moment later, so that the count sees time pass since the
                        // entries (and a burst of writes is counted once).
                        next_count = next_count.min(Instant::now() + COUNT_AFTER_WRITE);
                    }
                    Some(Message::Flush(done)) => {
                        let _ = done.send(());
                    }
                    None => return,
                },
                _ = tokio::time::sleep_until(next_purge.min(next_count)) => {}
            }
        }
    }

    async fn append(&mut self, entries: Vec<Entry>) {
        let of = entries.len();
        if let Err(NotWritten { count, error }) = self.store.append(entries).await {
            self.dropped.fetch_add(count as u64, Ordering::Relaxed);
            let place = self.store.place();
            tracing::error!(path = place.path(), ledger = place.table(), count, of, error = %error, "Ledger write failed.");
        }
    }

    /// Counts the last [`FIGURES_DAYS`] days and reads the price cache, for the daemon's
    /// figures. A failure keeps the last figures (and is logged).
    async fn count(&mut self) {
        let now = (self.clock)();
        let since = now - TimeDelta::days(FIGURES_DAYS);
        match self.store.tally(since, now).await {
            Ok(Some(tally)) => (self.publish)(Figures { tally, cache: price_cache(&self.cache_path) }),
            Ok(None) => {}
            Err(e) => {
                let place = self.store.place();
                tracing::error!(path = place.path(), ledger = place.table(), error = %e, "Ledger count for the savings figures failed.");
            }
        }
    }

    async fn purge(&mut self) {
        // No cut-off when it is before the calendar's start: nothing is that old.
        let Some(cut) = (self.clock)().checked_sub_signed(self.retention) else {
            return;
        };
        let place = self.store.place();
        match self.store.purge(cut).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(
                path = place.path(),
                ledger = place.table(),
                removed,
                older_than = %cut.to_rfc3339(),
                "Ledger entries past retention removed."
            ),
            Err(e) => tracing::error!(path = place.path(), ledger = place.table(), error = %e, "Ledger purge failed."),
        }
    }
}
