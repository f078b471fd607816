//! The ledger: every start and stop offhours made, in an SQLite database in the state
//! directory, for the savings report. [`Ledger`] is the database; [`FileStore`] is it
//! as the store of the one ledger writer, [`Recorder`] (`recorder.rs`).
//!
//! # Schema
//! Version 2 (the database's `PRAGMA user_version`; each version is one more step in
//! `MIGRATIONS`, applied in a transaction at open, so a file of an earlier version is
//! brought forward when opened and its rows read as before):
//! ```sql
//! CREATE TABLE actions (
//!     id       INTEGER PRIMARY KEY,
//!     at_ms    INTEGER NOT NULL,  -- when it was recorded, Unix time in milliseconds
//!     account  TEXT NOT NULL,     -- the account's id ('' when it could not be read)
//!     region   TEXT NOT NULL,
//!     kind     TEXT NOT NULL,     -- ec2, rds, rds-cluster, asg, ecs
//!     resource TEXT NOT NULL,     -- instance id, DB identifier, group name, service ARN
//!     size     TEXT,              -- instance type or DB instance class, when known
//!     schedule TEXT NOT NULL,
//!     job      TEXT NOT NULL,     -- schedule, catch-up, apply, enforce, ...
//!     action   TEXT NOT NULL,     -- start, stop
//!     outcome  TEXT NOT NULL      -- started, stopped, hibernated, held, seen-running, gone
//! ) STRICT;
//! CREATE INDEX actions_at ON actions (at_ms);
//! CREATE INDEX actions_resource ON actions (account, region, kind, resource, at_ms);
//! -- version 2: a database's engine and deployment (NULL: unknown, as in every
//! -- version 1 row)
//! ALTER TABLE actions ADD COLUMN engine TEXT;      -- RDS's name: postgres, aurora-mysql...
//! ALTER TABLE actions ADD COLUMN deployment TEXT;  -- Single-AZ, Multi-AZ
//! ```
//! The file is in WAL mode: `offhours report` reads while the daemon writes. A purge
//! past retention keeps each resource's newest row, however old.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, TransactionBehavior, params};
use serde::Serialize;

use super::BoxFuture;
pub use super::recorder::{Clock, Publish, Recorder, Settings};
use super::recorder::{LedgerStore, NotWritten, Place};
use crate::model::{Action, Deployment, Kind, Outcome, ResourceResult};
use crate::savings::{Change, Direction, PriceCache, ResourceKey, Tally, hours_off};

/// The ledger's file name in the state directory.
pub const LEDGER_FILE: &str = "ledger.sqlite3";

/// The schema, one step per version: step `i` takes the file from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE actions (
        id       INTEGER PRIMARY KEY,
        at_ms    INTEGER NOT NULL,
        account  TEXT NOT NULL,
        region   TEXT NOT NULL,
        kind     TEXT NOT NULL,
        resource TEXT NOT NULL,
        size     TEXT,
        schedule TEXT NOT NULL,
        job      TEXT NOT NULL,
        action   TEXT NOT NULL,
        outcome  TEXT NOT NULL
    ) STRICT;
    CREATE INDEX actions_at ON actions (at_ms);
    CREATE INDEX actions_resource ON actions (account, region, kind, resource, at_ms);",
    "ALTER TABLE actions ADD COLUMN engine TEXT;
    ALTER TABLE actions ADD COLUMN deployment TEXT;",
];

/// How long a statement waits for another connection's lock (a report's checkpoint, an
/// operator's `sqlite3` shell) before it fails.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const COLUMNS: &str = "id, at_ms, account, region, kind, resource, size, engine, deployment, schedule, job, action, outcome";

/// How far back the daemon's savings figures (metrics, status page) look.
pub const FIGURES_DAYS: i64 = 30;

/// The daemon's savings figures, as the ledger's writer last computed them: the last
/// [`FIGURES_DAYS`] days' hours off, and the Price List prices cached in the state
/// directory (what `offhours report` read), to be priced where the config is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    pub tally: Tally,
    pub cache: PriceCache,
}

/// The latest [`Figures`] a writer counted, shared by the writer (through
/// [`LatestFigures::publisher`]) and its readers, the metrics and the status page.
#[derive(Debug, Default)]
pub struct LatestFigures(RwLock<Option<Arc<Figures>>>);

impl LatestFigures {
    /// `None` before the writer's first count (or without a ledger).
    pub fn get(&self) -> Option<Arc<Figures>> {
        self.0.read().expect("figures lock").clone()
    }

    pub fn publisher(self: &Arc<Self>) -> Publish {
        let cell = self.clone();
        Arc::new(move |figures| *cell.0.write().expect("figures lock") = Some(Arc::new(figures)))
    }
}

/// The job of `offhours apply`'s actions.
pub const MANUAL_JOB: &str = "apply";

/// The outcomes the recorder writes: those that changed a resource's state, and `held`
/// (not acted on because an earlier group of the schedule's order failed: the history
/// says which were not started; the hour counting passes them over).
pub const RECORDED: [Outcome; 4] = [Outcome::Started, Outcome::Stopped, Outcome::Hibernated, Outcome::Held];

/// One start or stop of one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// When it was recorded (as the action ended; millisecond precision in the file).
    pub at: DateTime<Utc>,
    /// The account's id (empty when the own account's id could not be read).
    pub account: String,
    pub region: String,
    pub kind: Kind,
    /// Instance id, DB identifier, group name or service ARN.
    pub id: String,
    /// The instance type or DB instance class, when known.
    pub size: Option<String>,
    /// A database's engine (RDS's name: `postgres`, `aurora-mysql`...); `None`: not a
    /// database, or unknown (recorded before offhours kept it).
    pub engine: Option<String>,
    /// A database's deployment; `None`: not a database, or unknown.
    pub deployment: Option<Deployment>,
    pub schedule: String,
    /// The job that acted: `schedule`, `catch-up`, `apply`, `enforce`, ...
    pub job: String,
    pub action: Action,
    /// `started`, `stopped` or `hibernated` (what the recorder writes); `seen-running`
    /// and `gone` for what was observed rather than done.
    pub outcome: String,
}

impl Entry {
    /// The entry as the hour counting reads it; `None` for an outcome it does not know.
    /// A hibernated resource is stopped. An action of `offhours apply` (by hand, or a
    /// CI job's) counts under its schedule marked `(manual)`.
    pub fn change(&self) -> Option<Change> {
        let change = match self.outcome.as_str() {
            "stopped" | "hibernated" => Direction::StoppedByOffhours,
            "started" => Direction::StartedByOffhours,
            "seen-running" => Direction::SeenRunning,
            "gone" => Direction::Gone,
            _ => return None,
        };
        Some(Change {
            at: self.at,
            resource: ResourceKey { account: self.account.clone(), region: self.region.clone(), kind: self.kind, id: self.id.clone() },
            size: self.size.clone(),
            engine: self.engine.clone(),
            deployment: self.deployment,
            schedule: if self.job == MANUAL_JOB { format!("{} (manual)", self.schedule) } else { self.schedule.clone() },
            change,
        })
    }
}

/// The entries an action's results make: one per resource it started, stopped,
/// hibernated or held (see [`RECORDED`]), all at `at`.
pub fn entries(at: DateTime<Utc>, job: &str, schedule: &str, action: Action, results: &[ResourceResult]) -> Vec<Entry> {
    results
        .iter()
        .filter(|r| RECORDED.contains(&r.outcome))
        .map(|r| Entry {
            at,
            account: r.account.clone(),
            region: r.region.clone(),
            kind: r.kind,
            id: r.id.clone(),
            size: r.size.clone(),
            engine: r.engine.clone(),
            deployment: r.deployment,
            schedule: schedule.to_string(),
            job: job.to_string(),
            action,
            outcome: r.outcome.as_str().to_string(),
        })
        .collect()
}

/// Why the ledger cannot be used; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger {}: cannot {what}: {source}", path.display())]
    Sql {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "ledger {}: schema version {found} is newer than this offhours knows ({known}); run a newer offhours, or move the file away",
        path.display()
    )]
    Newer { path: PathBuf, found: i64, known: i64 },
    #[error("ledger {}: row {row}: {what}", path.display())]
    Row { path: PathBuf, row: i64, what: String },
    #[error("ledger in dynamodb table {table} in {region}: cannot {what}: {source}")]
    Table {
        table: String,
        region: String,
        what: &'static str,
        #[source]
        source: Box<crate::aws::AwsError>,
    },
    #[error("ledger in dynamodb table {table} in {region}: item {sk}: {what}")]
    Item { table: String, region: String, sk: String, what: String },
    #[error("ledger {}: its writer stopped: {why}", path.display())]
    Stopped { path: PathBuf, why: String },
}

/// The ledger's database: one connection to the file.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Ledger {
    /// Opens the file, creating it and its schema if missing (the directory must
    /// exist), and brings an older schema up to date. Refuses a newer schema.
    pub fn open(path: impl Into<PathBuf>) -> Result<Ledger, LedgerError> {
        let path = path.into();
        let failed = |source| sql(&path, "open it", source);
        let conn = Connection::open(&path).map_err(failed)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
        // The first statement that reads the file: a file that is not a database fails here.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0)).map_err(failed)?;
        // In WAL mode, a commit is durable across a crash of offhours; a power cut can lose
        // the last commits, never the file.
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(failed)?;
        let mut ledger = Ledger { conn, path };
        ledger.migrate()?;
        Ok(ledger)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies the schema steps the file lacks, all in one transaction.
    fn migrate(&mut self) -> Result<(), LedgerError> {
        let known = MIGRATIONS.len() as i64;
        let path = &self.path;
        let fail = |e| sql(path, "create the schema", e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(fail)?;
        let found: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(fail)?;
        if found > known {
            return Err(LedgerError::Newer { path: path.clone(), found, known });
        }
        for step in MIGRATIONS.iter().skip(found as usize) {
            tx.execute_batch(step).map_err(fail)?;
        }
        if found < known {
            tx.pragma_update(None, "user_version", known).map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }

    fn sql(&self, what: &'static str, source: rusqlite::Error) -> LedgerError {
        sql(&self.path, what, source)
    }

    /// Writes the entries in one transaction: all or none.
    pub fn append(&mut self, entries: &[Entry]) -> Result<(), LedgerError> {
        if entries.is_empty() {
            return Ok(());
        }
        let path = &self.path;
        let fail = |e| sql(path, "append", e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(fail)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO actions (at_ms, account, region, kind, resource, size, engine, deployment, schedule, job, action, outcome)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )
                .map_err(fail)?;
            for e in entries {
                insert
                    .execute(params![
                        e.at.timestamp_millis(),
                        e.account,
                        e.region,
                        e.kind.as_str(),
                        e.id,
                        e.size,
                        e.engine,
                        e.deployment.map(Deployment::as_str),
                        e.schedule,
                        e.job,
                        e.action.as_str(),
                        e.outcome,
                    ])
                    .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }

    /// The entries recorded in `[since, until)`, oldest first (in the order written when
    /// two share a millisecond). What was already so at `since` is [`Ledger::last_before`].
    pub fn between(&self, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<Entry>, LedgerError> {
        self.query(
            &format!("SELECT {COLUMNS} FROM actions WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY at_ms, id"),
            params![since.timestamp_millis(), until.timestamp_millis()],
        )
    }

    /// Each resource's last entry before `since`, oldest first: how every resource the
    /// ledger knows stood when a window opens (a resource stopped before it and started
    /// inside it was off from the window's start). Not part of [`Ledger::between`].
    pub fn last_before(&self, since: DateTime<Utc>) -> Result<Vec<Entry>, LedgerError> {
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM (
                     SELECT *, row_number() OVER (
                         PARTITION BY account, region, kind, resource ORDER BY at_ms DESC, id DESC
                     ) AS newest
                     FROM actions WHERE at_ms < ?1 AND outcome <> 'held'
                 ) WHERE newest = 1 ORDER BY at_ms, id"
            ),
            params![since.timestamp_millis()],
        )
    }

    /// The hours offhours kept resources off within `[since, until)`, from the last entry
    /// before `since` of each resource and the entries within (as `offhours report`).
    /// Entries of an outcome the hour counting does not know are passed over.
    pub fn tally(&self, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Tally, LedgerError> {
        let mut entries = self.last_before(since)?;
        entries.extend(self.between(since, until)?);
        let changes: Vec<Change> = entries.iter().filter_map(Entry::change).collect();
        Ok(Tally::of(&hours_off(&changes, since, until), since, until))
    }

    /// Removes the entries recorded before `older_than`, except each resource's newest
    /// change (a resource stopped long ago and never started again keeps its stop, and
    /// so its hours off; a `held` row says what was not done and changes nothing); how
    /// many.
    pub fn purge(&mut self, older_than: DateTime<Utc>) -> Result<usize, LedgerError> {
        self.conn
            .execute(
                "DELETE FROM actions WHERE at_ms < ?1 AND id NOT IN (
                     SELECT id FROM (
                         SELECT id, row_number() OVER (
                             PARTITION BY account, region, kind, resource ORDER BY at_ms DESC, id DESC
                         ) AS newest
                         FROM actions WHERE outcome <> 'held'
                     ) WHERE newest = 1
                 )",
                params![older_than.timestamp_millis()],
            )
            .map_err(|e| self.sql("purge", e))
    }

    fn query(&self, statement: &str, params: impl rusqlite::Params) -> Result<Vec<Entry>, LedgerError> {
        let fail = |e| self.sql("read", e);
        let mut st = self.conn.prepare_cached(statement).map_err(fail)?;
        let mut rows = st.query(params).map_err(fail)?;
        let mut entries = Vec::new();
        while let Some(row) = rows.next().map_err(fail)? {
            entries.push(self.entry(row)?);
        }
        Ok(entries)
    }

    fn entry(&self, row: &Row<'_>) -> Result<Entry, LedgerError> {
        let fail = |e| self.sql("read", e);
        let id: i64 = row.get("id").map_err(fail)?;
        let bad = |what: String| LedgerError::Row { path: self.path.clone(), row: id, what };
        let at_ms: i64 = row.get("at_ms").map_err(fail)?;
        let kind: String = row.get("kind").map_err(fail)?;
        let action: String = row.get("action").map_err(fail)?;
        let deployment: Option<String> = row.get("deployment").map_err(fail)?;
        let deployment = match deployment {
            Some(name) => Some(Deployment::parse(&name).ok_or_else(|| bad(format!("unknown deployment `{name}`")))?),
            None => None,
        };
        Ok(Entry {
            at: DateTime::from_timestamp_millis(at_ms).ok_or_else(|| bad(format!("time {at_ms} ms is out of range")))?,
            account: row.get("account").map_err(fail)?,
            region: row.get("region").map_err(fail)?,
            kind: crate::kinds::parse(&kind).ok_or_else(|| bad(format!("unknown kind `{kind}`")))?,
            id: row.get("resource").map_err(fail)?,
            size: row.get("size").map_err(fail)?,
            engine: row.get("engine").map_err(fail)?,
            deployment,
            schedule: row.get("schedule").map_err(fail)?,
            job: row.get("job").map_err(fail)?,
            action: action.parse().map_err(bad)?,
            outcome: row.get("outcome").map_err(fail)?,
        })
    }
}

fn sql(path: &Path, what: &'static str, source: rusqlite::Error) -> LedgerError {
    LedgerError::Sql { path: path.to_path_buf(), what, source }
}

/// The SQLite file as the [`Recorder`]'s store: each statement runs on the blocking
/// pool, so that a slow disk never holds up the runtime.
pub struct FileStore {
    ledger: Arc<Mutex<Ledger>>,
    path: PathBuf,
}

impl FileStore {
    /// Opens the file as [`Ledger::open`], waiting `busy_timeout` for another
    /// connection's lock.
    pub fn open(path: impl Into<PathBuf>, busy_timeout: Duration) -> Result<FileStore, LedgerError> {
        let ledger = Ledger::open(path)?;
        ledger.conn.busy_timeout(busy_timeout).map_err(|e| ledger.sql("open it", e))?;
        let path = ledger.path.clone();
        Ok(FileStore { ledger: Arc::new(Mutex::new(ledger)), path })
    }

    /// `work` on the ledger, on the blocking pool.
    fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Ledger) -> Result<T, LedgerError> + Send + 'static,
    ) -> BoxFuture<'static, Result<T, LedgerError>> {
        let (ledger, path) = (self.ledger.clone(), self.path.clone());
        Box::pin(async move {
            let done = tokio::task::spawn_blocking(move || work(&mut ledger.lock().expect("ledger lock"))).await;
            done.unwrap_or_else(|e| Err(LedgerError::Stopped { path, why: e.to_string() }))
        })
    }
}

impl LedgerStore for FileStore {
    fn place(&self) -> Place {
        Place::File(self.path.clone())
    }

    fn append(&mut self, entries: Vec<Entry>) -> BoxFuture<'_, Result<(), NotWritten>> {
        let count = entries.len();
        let write = self.blocking(move |ledger| ledger.append(&entries));
        Box::pin(async move { write.await.map_err(|error| NotWritten { count, error }) })
    }

    fn tally(&mut self, since: DateTime<Utc>, now: DateTime<Utc>) -> BoxFuture<'_, Result<Option<Tally>, LedgerError>> {
        self.blocking(move |ledger| ledger.tally(since, now).map(Some))
    }

    fn purge(&mut self, cut: DateTime<Utc>) -> BoxFuture<'_, Result<usize, LedgerError>> {
        self.blocking(move |ledger| ledger.purge(cut))
    }
}

/// The recorder of the file at `path` (an error here means it cannot be used at all:
/// the caller says so), its writer on the current runtime.
pub fn recorder(path: impl Into<PathBuf>, settings: Settings) -> Result<Recorder, LedgerError> {
    let store = FileStore::open(path, settings.busy_timeout)?;
    let cache = store.path.with_file_name(crate::store::price_cache::CACHE_FILE);
    Ok(Recorder::start(Box::new(store), cache, settings))
}

/// The Price List prices `offhours report` cached at `path`, for the figures; without
/// them, the file's prices alone.
pub(crate) fn price_cache(path: &Path) -> PriceCache {
    crate::store::price_cache::read_cache(path).unwrap_or_else(|e| {
        tracing::debug!(error = %e, "Price cache not used for the savings figures.");
        PriceCache::default()
    })
}

/// Each resource's newest entry of `entries` that says its state (oldest first in,
/// oldest first out): a `held` row changed nothing.
pub(crate) fn newest_per_resource(entries: impl IntoIterator<Item = Entry>) -> Vec<Entry> {
    let mut newest: std::collections::BTreeMap<(String, String, Kind, String), Entry> = std::collections::BTreeMap::new();
    for e in entries.into_iter().filter(|e| e.outcome != Outcome::Held.as_str()) {
        newest.insert((e.account.clone(), e.region.clone(), e.kind, e.id.clone()), e);
    }
    let mut out: Vec<Entry> = newest.into_values().collect();
    out.sort_by_key(|e| e.at);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;
    use std::io::Write;
    use std::time::Instant;

    use super::*;
    use crate::events::{Event, Subscriber};

    pub(crate) fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// A stop or start of `id` (an EC2 instance in eu-west-1) at `when`.
    pub(crate) fn entry(when: &str, id: &str, action: Action) -> Entry {
        Entry {
            at: at(when),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            kind: crate::kinds::ec2::KIND,
            id: id.into(),
            size: Some("t3.large".into()),
            engine: None,
            deployment: None,
            schedule: "office".into(),
            job: "schedule".into(),
            action,
            outcome: match action {
                Action::Start => "started",
                Action::Stop => "stopped",
            }
            .into(),
        }
    }

    /// `(id, action)` of each entry, in order: what most checks compare.
    fn ids(entries: &[Entry]) -> Vec<(String, Action)> {
        entries.iter().map(|e| (e.id.clone(), e.action)).collect()
    }

    fn every_row(path: &Path) -> Vec<Entry> {
        Ledger::open(path).unwrap().between(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC).unwrap()
    }

    /// Polls the file until `done` holds of its rows; panics with `what` after 10 s.
    fn eventually(path: &Path, what: &str, done: impl Fn(&[Entry]) -> bool) -> Vec<Entry> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let rows = every_row(path);
            if done(&rows) {
                return rows;
            }
            assert!(Instant::now() < deadline, "{what}: the ledger holds {:?}", ids(&rows));
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn result(id: &str, outcome: Outcome) -> ResourceResult {
        ResourceResult {
            account: "123456789012".into(),
            account_name: Some("dev".into()),
            kind: crate::kinds::rds::INSTANCE,
            id: id.into(),
            size: Some("db.t3.medium".into()),
            engine: Some("postgres".into()),
            deployment: Some(Deployment::MultiAz),
            region: "eu-west-1".into(),
            name: None,
            before: "available".into(),
            after: Some("stopped".into()),
            outcome,
            reason: None,
            request_id: None,
        }
    }

    /// Hands the recorder one finished stop of `schedule` `office` with these results.
    fn feed(recorder: &Recorder, dry_run: bool, results: &[ResourceResult]) {
        let calls = BTreeMap::new();
        recorder.on(&Event::ActionFinished {
            job: "schedule",
            schedule: "office",
            action: Action::Stop,
            dry_run,
            kinds: &[crate::kinds::rds::INSTANCE],
            regions: &["eu-west-1".to_string()],
            results,
            list_failures: 0,
            failed_accounts: &[],
            calls: &calls,
            duration: Duration::from_secs(1),
        });
    }

    /// A clock the test sets.
    fn clock(start: &str) -> (Arc<Mutex<DateTime<Utc>>>, Clock) {
        let now = Arc::new(Mutex::new(at(start)));
        let read = now.clone();
        (now, Arc::new(move || *read.lock().unwrap()))
    }

    fn settings(clock: Clock) -> Settings {
        Settings { clock, ..Settings::new(Duration::from_secs(400 * 24 * 3600)) }
    }

    /// What the log says while the guard lives (the writer thread started meanwhile too).
    #[derive(Clone, Default)]
    struct Logs(Arc<Mutex<Vec<u8>>>);

    impl Logs {
        fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
            let logs = Logs::default();
            let writer = logs.clone();
            let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || writer.clone()).finish();
            (logs, tracing::subscriber::set_default(subscriber))
        }

        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    impl Write for Logs {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn appended_entries_read_back_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE);
        let mut ledger = Ledger::open(&path).unwrap();
        let mut db = entry("2026-06-01T18:00:00.123Z", "db-1", Action::Stop);
        db.kind = crate::kinds::rds::CLUSTER;
        db.size = None;
        db.job = "catch-up".into();
        ledger.append(&[entry("2026-06-02T08:00:00Z", "i-1", Action::Start)]).unwrap();
        ledger.append(&[entry("2026-06-01T18:00:00Z", "i-1", Action::Stop), db.clone()]).unwrap();
        ledger.append(&[]).unwrap();
        let rows = every_row(&path);
        let changes: Vec<_> = rows.iter().map(|e| e.change().unwrap().change).collect();
        assert_eq!(changes, [Direction::StoppedByOffhours, Direction::StoppedByOffhours, Direction::StartedByOffhours]);
        assert_eq!(rows, [entry("2026-06-01T18:00:00Z", "i-1", Action::Stop), db, entry("2026-06-02T08:00:00Z", "i-1", Action::Start)]);
    }

    #[test]
    fn each_outcome_is_a_change_for_the_hour_counting() {
        let change = |outcome: &str| Entry { outcome: outcome.into(), ..entry("2026-06-01T18:00:00Z", "i-1", Action::Stop) }.change();
        assert_eq!(change("stopped").map(|c| c.change), Some(Direction::StoppedByOffhours));
        assert_eq!(change("hibernated").map(|c| c.change), Some(Direction::StoppedByOffhours));
        assert_eq!(change("started").map(|c| c.change), Some(Direction::StartedByOffhours));
        assert_eq!(change("seen-running").map(|c| c.change), Some(Direction::SeenRunning));
        assert_eq!(change("gone").map(|c| c.change), Some(Direction::Gone));
        assert_eq!(change("exploded"), None);
        let c = change("stopped").unwrap();
        assert_eq!((c.resource.account.as_str(), c.resource.id.as_str(), c.size.as_deref()), ("123456789012", "i-1", Some("t3.large")));
        assert_eq!(c.schedule, "office");
        let manual = Entry { job: "apply".into(), ..entry("2026-06-01T18:00:00Z", "i-1", Action::Stop) }.change().unwrap();
        assert_eq!((manual.schedule.as_str(), manual.change), ("office (manual)", Direction::StoppedByOffhours));
    }

    #[test]
    fn a_window_is_half_open_and_the_last_before_is_one_per_resource() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(dir.path().join(LEDGER_FILE)).unwrap();
        let mut other_region = entry("2026-06-01T19:00:00Z", "i-1", Action::Stop);
        other_region.region = "us-east-1".into();
        ledger
            .append(&[
                entry("2026-05-31T18:00:00Z", "i-1", Action::Stop),
                entry("2026-06-01T08:00:00Z", "i-1", Action::Start),
                entry("2026-06-01T18:00:00Z", "i-1", Action::Stop),
                entry("2026-06-01T18:00:00Z", "i-2", Action::Stop),
                other_region,
                entry("2026-06-02T08:00:00Z", "i-1", Action::Start),
                entry("2026-06-03T08:00:00Z", "i-2", Action::Start),
            ])
            .unwrap();
        let window = ledger.between(at("2026-06-01T18:00:00Z"), at("2026-06-03T08:00:00Z")).unwrap();
        assert_eq!(
            ids(&window),
            [("i-1".into(), Action::Stop), ("i-2".into(), Action::Stop), ("i-1".into(), Action::Stop), ("i-1".into(), Action::Start)],
            "since included, until excluded"
        );
        let before = ledger.last_before(at("2026-06-01T19:30:00Z")).unwrap();
        assert_eq!(ids(&before), [("i-1".into(), Action::Stop), ("i-2".into(), Action::Stop), ("i-1".into(), Action::Stop)]);
        assert_eq!(before[0].at, at("2026-06-01T18:00:00Z"), "the newest of eu-west-1's i-1");
        assert_eq!(before[2].region, "us-east-1", "the same id in another region is another resource");
        assert!(ledger.last_before(at("2026-05-31T18:00:00Z")).unwrap().is_empty(), "strictly before");
    }

    #[test]
    fn a_held_row_is_kept_as_history_but_never_stands_for_the_state() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(dir.path().join(LEDGER_FILE)).unwrap();
        let held = Entry { outcome: "held".into(), ..entry("2026-06-02T08:00:00Z", "i-1", Action::Start) };
        ledger.append(&[entry("2026-06-01T18:00:00Z", "i-1", Action::Stop), held.clone()]).unwrap();
        let window = ledger.between(at("2026-06-02T00:00:00Z"), at("2026-06-03T00:00:00Z")).unwrap();
        assert_eq!(window, std::slice::from_ref(&held), "the history says the start was held");
        // The stop still stands: the whole next day is off.
        let before = ledger.last_before(at("2026-06-03T00:00:00Z")).unwrap();
        assert_eq!(ids(&before), [("i-1".into(), Action::Stop)]);
        let tally = ledger.tally(at("2026-06-02T00:00:00Z"), at("2026-06-03T00:00:00Z")).unwrap();
        assert_eq!(tally.groups.values().sum::<i64>(), 24 * 3600);
        assert_eq!(ids(&newest_per_resource([entry("2026-06-01T18:00:00Z", "i-1", Action::Stop), held])), [("i-1".into(), Action::Stop)]);
        // A purge keeps the stop (the newest change) and drops the old held row.
        assert_eq!(ledger.purge(at("2026-06-05T00:00:00Z")).unwrap(), 1);
        assert_eq!(ids(&ledger.last_before(at("2026-06-05T00:00:00Z")).unwrap()), [("i-1".into(), Action::Stop)]);
    }

    #[test]
    fn the_recorder_s_entries_include_held_resources() {
        let mut r = result("db-held", Outcome::Held);
        r.reason = Some("not started: the group before it in the order (ec2) failed, and order_on_failure is halt".into());
        let made = entries(at("2026-06-01T08:00:00Z"), "schedule", "office", Action::Start, &[r, result("db-skipped", Outcome::Skipped)]);
        assert_eq!(made.iter().map(|e| (e.id.as_str(), e.outcome.as_str())).collect::<Vec<_>>(), [("db-held", "held")]);
    }

    /// Rows `"MM-DD id stop|start"` (2025) purged at `cut` leave `expect`, and say how
    /// many went.
    #[track_caller]
    fn check_purge(rows: &[&str], cut: &str, expect: &[&str], removed: usize) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE);
        let mut ledger = Ledger::open(&path).unwrap();
        let entries: Vec<Entry> = rows
            .iter()
            .map(|row| {
                let words: Vec<&str> = row.split_whitespace().collect();
                let action = if words[2] == "stop" { Action::Stop } else { Action::Start };
                let mut e = entry(&format!("2025-{}T00:00:00Z", words[0]), words[1], action);
                if let Some(region) = words.get(3) {
                    e.region = region.to_string();
                }
                e
            })
            .collect();
        ledger.append(&entries).unwrap();
        assert_eq!(ledger.purge(at(&format!("2025-{cut}T00:00:00Z"))).unwrap(), removed, "removed");
        assert_eq!(ledger.purge(at(&format!("2025-{cut}T00:00:00Z"))).unwrap(), 0, "a second purge removes nothing");
        let got: Vec<String> = every_row(&path)
            .iter()
            .map(|e| {
                let region = if e.region == "eu-west-1" { String::new() } else { format!(" {}", e.region) };
                format!("{} {} {}{region}", e.at.format("%m-%d"), e.id, e.action)
            })
            .collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn purge_removes_what_is_older_than_the_cut_but_each_resource_s_newest() {
        // Older rows go; the cut itself stays.
        check_purge(&["01-01 i-1 stop", "05-01 i-1 start", "05-02 i-1 stop"], "05-01", &["05-01 i-1 start", "05-02 i-1 stop"], 1);
        // Stopped long ago and never started again: its stop stays, and with it its hours off.
        check_purge(&["01-01 i-1 start", "01-02 i-1 stop", "06-01 i-2 stop"], "05-01", &["01-02 i-1 stop", "06-01 i-2 stop"], 1);
        // Every row old: one per resource stays (the same id in another region is another).
        check_purge(
            &["01-01 i-1 stop", "01-02 i-1 start", "01-01 i-1 stop us-east-1", "01-03 i-2 stop", "01-04 i-2 stop"],
            "05-01",
            &["01-01 i-1 stop us-east-1", "01-02 i-1 start", "01-04 i-2 stop"],
            2,
        );
        // Two rows in the same millisecond: the later written is the newest.
        check_purge(&["01-01 i-1 stop", "01-01 i-1 start"], "05-01", &["01-01 i-1 start"], 1);
        check_purge(&[], "05-01", &[], 0);
    }

    #[test]
    fn the_tally_counts_like_the_report_from_before_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(dir.path().join(LEDGER_FILE)).unwrap();
        ledger
            .append(&[
                // Stopped before the window, started inside: counted from its start.
                entry("2026-05-31T18:00:00Z", "i-1", Action::Stop),
                entry("2026-06-01T08:00:00Z", "i-1", Action::Start),
                entry("2026-06-01T18:00:00Z", "i-1", Action::Stop),
                // Still stopped at the end.
                entry("2026-06-01T20:00:00Z", "i-2", Action::Stop),
                Entry { outcome: "exploded".into(), ..entry("2026-06-01T21:00:00Z", "i-2", Action::Start) },
            ])
            .unwrap();
        let tally = ledger.tally(at("2026-06-01T00:00:00Z"), at("2026-06-02T00:00:00Z")).unwrap();
        let product = crate::kinds::ec2::price::product("eu-west-1", "t3.large");
        let parts = vec![crate::savings::Part::one("t3.large", Some(product))];
        let key = ("office".to_string(), crate::kinds::ec2::KIND, "eu-west-1".to_string(), Some("t3.large".to_string()), Some(parts));
        // i-1: 8 h + 6 h; i-2: 4 h.
        assert_eq!(tally.groups, BTreeMap::from([(key, 18 * 3600)]));
        assert_eq!((tally.since, tally.until), (at("2026-06-01T00:00:00Z"), at("2026-06-02T00:00:00Z")));
    }

    // Two workers: a test blocks one while it polls the file; the writer runs on the other.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_writer_publishes_the_last_30_days_at_start_after_each_write_and_periodically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE);
        Ledger::open(&path).unwrap().append(&[entry("2026-05-31T18:00:00Z", "i-1", Action::Stop)]).unwrap();
        let mut cache = PriceCache::default();
        let price = crate::savings::Price { per_hour: "0.0832".parse().unwrap(), currency: "USD".into() };
        let product = crate::kinds::ec2::price::product("eu-west-1", "t3.large");
        cache.put(&product, Some(&price), at("2026-05-01T00:00:00Z"));
        crate::store::price_cache::write_cache(&dir.path().join(crate::store::price_cache::CACHE_FILE), &cache).unwrap();
        let (now, clock) = clock("2026-06-01T18:00:00Z");
        let seen: Arc<Mutex<Vec<Figures>>> = Arc::default();
        let into = seen.clone();
        let publish: Publish = Arc::new(move |f| into.lock().unwrap().push(f));
        let recorder = recorder(&path, Settings { publish, figures_every: Duration::from_millis(30), ..settings(clock) }).unwrap();
        let hours = |seen: &Arc<Mutex<Vec<Figures>>>| {
            seen.lock().unwrap().last().map(|f| (f.tally.groups.values().sum::<i64>() / 3600, f.cache.prices.len()))
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while hours(&seen) != Some((24, 1)) {
            assert!(Instant::now() < deadline, "{:?}", hours(&seen));
            std::thread::sleep(Duration::from_millis(5));
        }
        // Time passes: the next count has more hours.
        *now.lock().unwrap() = at("2026-06-01T20:00:00Z");
        while hours(&seen) != Some((26, 1)) {
            assert!(Instant::now() < deadline, "{:?}", hours(&seen));
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(seen.lock().unwrap().last().unwrap().tally.since, at("2026-05-02T20:00:00Z"), "30 days back");
        drop(recorder);
    }

    #[test]
    fn reopening_keeps_the_rows_and_the_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE);
        Ledger::open(&path).unwrap().append(&[entry("2026-06-01T18:00:00Z", "i-1", Action::Stop)]).unwrap();
        for _ in 0..2 {
            let ledger = Ledger::open(&path).unwrap();
            let version: i64 = ledger.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
            assert_eq!(version, MIGRATIONS.len() as i64);
            let mode: String = ledger.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
            assert_eq!(mode, "wal");
        }
        assert_eq!(every_row(&path), [entry("2026-06-01T18:00:00Z", "i-1", Action::Stop)]);
    }

    /// A version 1 row: `(at, id, kind, size, action, outcome)`.
    type V1Row<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, &'a str, &'a str);

    /// A version 1 file, as the first release with a ledger wrote it, holding `rows`.
    fn version_1_file(path: &Path, rows: &[V1Row<'_>]) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        for (when, id, kind, size, action, outcome) in rows {
            conn.execute(
                "INSERT INTO actions (at_ms, account, region, kind, resource, size, schedule, job, action, outcome)
                 VALUES (?1, '123456789012', 'eu-west-1', ?2, ?3, ?4, 'office', 'schedule', ?5, ?6)",
                params![at(when).timestamp_millis(), kind, id, size, action, outcome],
            )
            .unwrap();
        }
    }

    #[test]
    fn a_version_1_file_opens_reads_as_before_and_then_keeps_engines() {
        // (rows in the version 1 file, what each reads as: id kind size engine deployment)
        let cases: &[(&[V1Row<'_>], &[&str])] = &[
            (&[], &[]),
            (&[("2026-06-01T18:00:00Z", "i-1", "ec2", Some("t3.large"), "stop", "stopped")], &["i-1 ec2 Some(\"t3.large\") None None"]),
            (
                &[
                    ("2026-06-01T18:00:00Z", "db-1", "rds", Some("db.t3.micro"), "stop", "stopped"),
                    ("2026-06-02T07:00:00Z", "db-1", "rds", Some("db.t3.micro"), "start", "started"),
                    ("2026-06-02T18:00:00Z", "aurora-1", "rds-cluster", None, "stop", "stopped"),
                ],
                &[
                    "db-1 rds Some(\"db.t3.micro\") None None",
                    "db-1 rds Some(\"db.t3.micro\") None None",
                    "aurora-1 rds-cluster None None None",
                ],
            ),
        ];
        for (rows, expect) in cases {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(LEDGER_FILE);
            version_1_file(&path, rows);
            let mut ledger = Ledger::open(&path).unwrap();
            let version: i64 = ledger.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
            assert_eq!(version, 2, "brought forward");
            let all = |l: &Ledger| l.between(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC).unwrap();
            let got: Vec<String> =
                all(&ledger).iter().map(|e| format!("{} {} {:?} {:?} {:?}", e.id, e.kind, e.size, e.engine, e.deployment)).collect();
            assert_eq!(got, *expect, "{rows:?}");
            // The hours are counted as before.
            let tally = ledger.tally(at("2026-06-01T00:00:00Z"), at("2026-06-03T00:00:00Z")).unwrap();
            let before: Vec<Change> = all(&ledger).iter().filter_map(Entry::change).collect();
            assert_eq!(tally, Tally::of(&hours_off(&before, tally.since, tally.until), tally.since, tally.until));
            // New rows keep the engine and deployment beside the old ones.
            let db = Entry {
                kind: crate::kinds::rds::INSTANCE,
                id: "db-9".into(),
                size: Some("db.m5.large".into()),
                engine: Some("mysql".into()),
                deployment: Some(Deployment::MultiAz),
                ..entry("2026-06-03T18:00:00Z", "db-9", Action::Stop)
            };
            ledger.append(std::slice::from_ref(&db)).unwrap();
            drop(ledger);
            let rows_now = every_row(&path);
            assert_eq!(rows_now.len(), expect.len() + 1);
            assert_eq!(rows_now.last(), Some(&db));
        }
    }

    #[test]
    fn an_unknown_deployment_is_refused_naming_the_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE);
        Ledger::open(&path).unwrap().append(&[entry("2026-06-01T18:00:00Z", "i-1", Action::Stop)]).unwrap();
        Connection::open(&path).unwrap().execute("UPDATE actions SET deployment = 'Somewhere'", []).unwrap();
        let e = Ledger::open(&path).unwrap().between(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC).unwrap_err();
        assert_eq!(e.to_string(), format!("ledger {}: row 1: unknown deployment `Somewhere`", path.display()));
    }

    #[test]
    fn a_newer_schema_or_a_file_that_is_not_a_ledger_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let newer = dir.path().join("newer.sqlite3");
        Connection::open(&newer).unwrap().pragma_update(None, "user_version", 7).unwrap();
        let e = Ledger::open(&newer).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "ledger {}: schema version 7 is newer than this offhours knows (2); run a newer offhours, or move the file away",
                newer.display()
            )
        );
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not a database, but long enough to have a header to read ".repeat(4)).unwrap();
        let e = Ledger::open(&text).unwrap_err().to_string();
        assert!(e.starts_with(&format!("ledger {}: cannot open it: ", text.display())), "{e}");
        let e = recorder(dir.path().join("missing/ledger.sqlite3"), Settings::new(Duration::from_secs(60))).unwrap_err();
        assert!(e.to_string().contains("missing/ledger.sqlite3: cannot open it"), "{e}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_recorder_writes_what_changed_and_nothing_for_dry_runs_or_other_outcomes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE);
        let (_, clock) = clock("2026-06-01T18:00:05Z");
        let recorder = recorder(&path, settings(clock)).unwrap();
        feed(&recorder, true, &[result("db-dry", Outcome::Stopped), result("db-would", Outcome::WouldStop)]);
        feed(
            &recorder,
            false,
            &[result("db-skipped", Outcome::Skipped), result("db-unchanged", Outcome::Unchanged), result("db-failed", Outcome::Failed)],
        );
        feed(
            &recorder,
            false,
            &[result("db-1", Outcome::Stopped), result("db-failed-2", Outcome::Failed), result("db-2", Outcome::Hibernated)],
        );
        let rows = eventually(&path, "the real stop is written", |rows| !rows.is_empty());
        // Batches are written in order: anything of the first two would be there already.
        assert_eq!(
            rows,
            [
                Entry {
                    at: at("2026-06-01T18:00:05Z"),
                    account: "123456789012".into(),
                    region: "eu-west-1".into(),
                    kind: crate::kinds::rds::INSTANCE,
                    id: "db-1".into(),
                    size: Some("db.t3.medium".into()),
                    engine: Some("postgres".into()),
                    deployment: Some(Deployment::MultiAz),
                    schedule: "office".into(),
                    job: "schedule".into(),
                    action: Action::Stop,
                    outcome: "stopped".into(),
                },
                Entry { id: "db-2".into(), outcome: "hibernated".into(), ..rows[0].clone() },
            ]
        );
        assert_eq!(recorder.dropped(), 0);
        assert!(recorder.flush(Duration::from_secs(10)).await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_writer_purges_past_retention_at_start_and_then_periodically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE);
        Ledger::open(&path)
            .unwrap()
            .append(&[
                entry("2026-01-01T00:00:00Z", "i-old", Action::Stop),
                entry("2026-05-15T00:00:00Z", "i-1", Action::Stop),
                entry("2026-05-25T00:00:00Z", "i-1", Action::Start),
            ])
            .unwrap();
        let (now, clock) = clock("2026-06-01T00:00:00Z");
        let recorder = recorder(
            &path,
            Settings { retention: Duration::from_secs(30 * 24 * 3600), purge_every: Duration::from_millis(20), ..settings(clock) },
        )
        .unwrap();
        // Each resource's newest stays: i-old's stop, however old.
        let kept = |rows: &[Entry]| ids(rows);
        eventually(&path, "the start's purge", |rows| {
            kept(rows) == [("i-old".into(), Action::Stop), ("i-1".into(), Action::Stop), ("i-1".into(), Action::Start)]
        });
        *now.lock().unwrap() = at("2026-06-20T00:00:00Z");
        eventually(&path, "a later purge", |rows| kept(rows) == [("i-old".into(), Action::Stop), ("i-1".into(), Action::Start)]);
        drop(recorder);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_locked_ledger_drops_the_batch_with_an_error_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE);
        let (logs, _guard) = Logs::capture();
        let (_, clock) = clock("2026-06-01T18:00:05Z");
        let recorder = recorder(&path, Settings { busy_timeout: Duration::from_millis(50), ..settings(clock) }).unwrap();
        assert!(recorder.flush(Duration::from_secs(10)).await, "the start's purge is done");
        // Another process holds the write lock (an operator's sqlite3 shell, say).
        let mut other = Connection::open(&path).unwrap();
        let lock = other.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
        let started = Instant::now();
        feed(&recorder, false, &[result("db-lost", Outcome::Stopped), result("db-lost-2", Outcome::Stopped)]);
        assert!(started.elapsed() < Duration::from_millis(50), "the action does not wait: {:?}", started.elapsed());
        assert!(recorder.flush(Duration::from_secs(10)).await);
        assert_eq!(recorder.dropped(), 2);
        let text = logs.text();
        assert!(text.contains("Ledger write failed."), "{text}");
        assert!(text.contains(&format!("path={} count=2", path.display())), "{text}");
        assert!(text.contains("database is locked"), "{text}");
        lock.rollback().unwrap();
        feed(&recorder, false, &[result("db-kept", Outcome::Stopped)]);
        let rows = eventually(&path, "the next batch", |rows| !rows.is_empty());
        assert_eq!(rows.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["db-kept"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_drops_the_new_batch_with_an_error_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEDGER_FILE);
        let (logs, _guard) = Logs::capture();
        let (_, clock) = clock("2026-06-01T18:00:05Z");
        let recorder = recorder(&path, Settings { capacity: 1, ..settings(clock) }).unwrap();
        assert!(recorder.flush(Duration::from_secs(10)).await, "the start's purge is done");
        // The writer blocks on the lock (up to its 5 s busy timeout) with one batch,
        // while one more waits in the queue.
        let mut other = Connection::open(&path).unwrap();
        let lock = other.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
        let started = Instant::now();
        for id in ["db-1", "db-2", "db-3", "db-4"] {
            feed(&recorder, false, &[result(id, Outcome::Stopped)]);
        }
        assert!(started.elapsed() < Duration::from_millis(100), "the actions do not wait: {:?}", started.elapsed());
        let dropped = recorder.dropped();
        assert!((2..=3).contains(&dropped), "{dropped} dropped");
        let text = logs.text();
        assert!(text.contains("Ledger write failed."), "{text}");
        assert!(text.contains("count=1") && text.contains("reason=\"the queue is full\""), "{text}");
        lock.rollback().unwrap();
        assert!(recorder.flush(Duration::from_secs(10)).await);
        let rows = every_row(&path);
        assert_eq!(rows.len() as u64, 4 - dropped, "the rest is written once the lock is gone: {:?}", ids(&rows));
        assert_eq!(rows[0].id, "db-1");
    }
}
