//! The savings ledger in the shared state table (`[state] backend = "dynamodb"`): the
//! same entries as the SQLite ledger, one item each, read back by month partition.
//! [`TableLedger`] is the reads and writes; [`recorder`] makes it the store of the one
//! ledger writer, which also counts the savings figures from the table.
//!
//! Writes are not fenced by the lease: a replica that acted records what it did, even
//! if it has just lost the lease; each entry has one key, so writing it twice is
//! harmless. A row expires `[savings] retention` after its instant (DynamoDB's time to
//! live), each resource's newest row included: what was stopped longer ago than that
//! and never started again is no longer counted (the SQLite ledger keeps that row).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::StreamExt;
use tokio::time::Instant;

use super::BoxFuture;
use super::ledger::{Entry, LedgerError, newest_per_resource};
use super::recorder::{LedgerStore, NotWritten, Place, Recorder, Settings};
use crate::savings::{Change, Tally, hours_off};
use crate::store::table::{StateTable, ledger_ranges, ledger_sk};

/// How often a replica counts the figures from the table (and at start, and a moment
/// after its own writes): every replica counts the same rows, so the leader's and a
/// standby's figures agree within this.
pub const FIGURES_EVERY: Duration = Duration::from_secs(10 * 60);
/// How often the figures are read again in full (each resource's newest row before
/// the window: up to `retention` of rows); between, only the rows since the last read.
const FULL_READ_EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// How far back an incremental read starts before the last one's end: rows are
/// stamped as their action ends and written a moment later, by whichever replica acted.
const OVERLAP: TimeDelta = TimeDelta::minutes(15);
/// Rows written at once.
const WRITES_AT_ONCE: usize = 8;

/// The ledger's rows in the shared table.
#[derive(Debug, Clone)]
pub struct TableLedger {
    table: StateTable,
    retention: Duration,
}

impl TableLedger {
    pub fn new(table: StateTable, retention: Duration) -> Self {
        TableLedger { table, retention }
    }

    /// Where, for logs and the report.
    pub fn describe(&self) -> String {
        format!("dynamodb table {} in {}", self.table.table, self.table.region)
    }

    fn aws(&self, what: &'static str, source: crate::aws::AwsError) -> LedgerError {
        LedgerError::Table { table: self.table.table.clone(), region: self.table.region.clone(), what, source: Box::new(source) }
    }

    /// Writes one entry (again: the same item).
    pub async fn put(&self, entry: &Entry) -> Result<(), LedgerError> {
        self.table.put_ledger_entry(entry, self.retention).await.map_err(|e| self.aws("append", e))
    }

    /// Every row in the month partitions of `[since, until)`, in key order (by time).
    async fn rows(&self, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<Entry>, LedgerError> {
        let mut out = Vec::new();
        for (pk, lo, hi) in ledger_ranges(since, until) {
            for (sk, entry) in self.table.ledger_rows(&pk, &lo, &hi).await.map_err(|e| self.aws("read", e))? {
                out.push(entry.map_err(|what| LedgerError::Item {
                    table: self.table.table.clone(),
                    region: self.table.region.clone(),
                    sk,
                    what,
                })?);
            }
        }
        Ok(out)
    }

    /// The entries recorded in `[since, until)`, oldest first (as [`super::Ledger::between`]).
    pub async fn between(&self, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<Entry>, LedgerError> {
        self.rows(since, until).await
    }

    /// Each resource's last entry before `since`, oldest first, reading back at most
    /// `retention` (older rows have expired).
    pub async fn last_before(&self, since: DateTime<Utc>) -> Result<Vec<Entry>, LedgerError> {
        let back =
            since.checked_sub_signed(TimeDelta::from_std(self.retention).unwrap_or(TimeDelta::MAX)).unwrap_or(DateTime::<Utc>::MIN_UTC);
        Ok(newest_per_resource(self.rows(back, since).await?))
    }
}

/// The figures' view of the table, kept between counts so that each count reads only
/// the rows since the last one: each resource's newest row before the window, and the
/// window's rows by key.
#[derive(Debug, Default)]
struct View {
    since: Option<DateTime<Utc>>,
    /// Up to when the rows were read.
    read_to: Option<DateTime<Utc>>,
    before: Vec<Entry>,
    rows: BTreeMap<String, Entry>,
}

impl View {
    /// After a full read: `before` every resource's newest row before `since`, `rows`
    /// those from `since` to `read_to`.
    fn reset(&mut self, since: DateTime<Utc>, read_to: DateTime<Utc>, before: Vec<Entry>, rows: Vec<Entry>) {
        *self = View { since: Some(since), read_to: Some(read_to), before, rows: BTreeMap::new() };
        self.merge(rows);
    }

    /// Where the next incremental read starts; `None`: read in full.
    fn read_from(&self) -> Option<DateTime<Utc>> {
        Some(self.read_to? - OVERLAP)
    }

    fn merge(&mut self, rows: Vec<Entry>) {
        for e in rows {
            self.rows.insert(ledger_sk(&e), e);
        }
    }

    /// Adds the rows read up to `read_to` (a row already known is the same row) and
    /// moves the window's start to `since`: rows before it only count as their
    /// resource's newest.
    fn advance(&mut self, since: DateTime<Utc>, read_to: DateTime<Utc>, fresh: Vec<Entry>) {
        self.merge(fresh);
        self.read_to = Some(read_to);
        let start = crate::store::table::ledger_instant(since);
        let kept = self.rows.split_off(&start);
        let passed = std::mem::replace(&mut self.rows, kept);
        if !passed.is_empty() {
            self.before = newest_per_resource(std::mem::take(&mut self.before).into_iter().chain(passed.into_values()));
        }
        self.since = Some(since);
    }

    /// The hours off in `[since, until)`, counted as the report counts them.
    fn tally(&self, until: DateTime<Utc>) -> Option<Tally> {
        let since = self.since?;
        let changes: Vec<Change> =
            self.before.iter().chain(self.rows.values()).filter(|e| e.at < until).filter_map(Entry::change).collect();
        Some(Tally::of(&hours_off(&changes, since, until), since, until))
    }
}

/// The table as the [`Recorder`]'s store. Purging is the table's time to live; the
/// figures are counted from a [`View`] kept between counts.
struct TableStore {
    ledger: TableLedger,
    view: View,
    /// When the view was last read in full.
    full_at: Option<Instant>,
}

impl LedgerStore for TableStore {
    fn place(&self) -> Place {
        Place::Table(self.ledger.describe())
    }

    fn append(&mut self, entries: Vec<Entry>) -> BoxFuture<'_, Result<(), NotWritten>> {
        Box::pin(async move {
            let puts: Vec<_> = entries.iter().map(|e| self.ledger.put(e)).collect();
            let results: Vec<Result<(), LedgerError>> = futures_util::stream::iter(puts).buffer_unordered(WRITES_AT_ONCE).collect().await;
            let mut failures = results.into_iter().filter_map(Result::err);
            let first = failures.next();
            first.map_or(Ok(()), |error| Err(NotWritten { count: 1 + failures.count(), error }))
        })
    }

    /// In full at first and daily, else the rows since the last count.
    fn tally(&mut self, since: DateTime<Utc>, now: DateTime<Utc>) -> BoxFuture<'_, Result<Option<Tally>, LedgerError>> {
        Box::pin(async move {
            let full = self.full_at.is_none_or(|at| at.elapsed() >= FULL_READ_EVERY);
            match self.view.read_from().filter(|_| !full) {
                Some(from) => {
                    let rows = self.ledger.between(from.min(since), now).await?;
                    self.view.advance(since, now, rows);
                }
                None => {
                    let before = self.ledger.last_before(since).await?;
                    let rows = self.ledger.between(since, now).await?;
                    self.view.reset(since, now, before, rows);
                    self.full_at = Some(Instant::now());
                }
            }
            Ok(self.view.tally(now))
        })
    }

    fn purge(&mut self, _cut: DateTime<Utc>) -> BoxFuture<'_, Result<usize, LedgerError>> {
        Box::pin(async { Ok(0) })
    }
}

/// The recorder of the table's ledger, its writer on the current runtime.
/// `settings.figures_every` is how often it counts ([`FIGURES_EVERY`] in the daemon);
/// `cache_path` is the Price List cache in the state directory.
pub fn recorder(ledger: TableLedger, cache_path: PathBuf, settings: Settings) -> Recorder {
    let store = TableStore { ledger, view: View::default(), full_at: None };
    Recorder::start(Box::new(store), cache_path, settings)
}

/// The daemon's settings for the table: [`Settings::new`], counting every
/// [`FIGURES_EVERY`].
pub fn settings(retention: Duration) -> Settings {
    Settings { figures_every: FIGURES_EVERY, ..Settings::new(retention) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;

    use crate::store::ledger::tests::{at, entry};

    fn hours(tally: &Tally) -> i64 {
        tally.groups.values().sum::<i64>() / 3600
    }

    #[test]
    fn the_view_counts_as_a_full_read_when_advanced_with_overlapping_rows() {
        use Action::{Start, Stop};
        let all = [
            entry("2026-05-01T18:00:00Z", "i-1", Stop),
            entry("2026-05-02T08:00:00Z", "i-1", Start),
            entry("2026-05-31T18:00:00Z", "i-2", Stop),
            entry("2026-06-01T08:00:00Z", "i-2", Start),
            entry("2026-06-01T18:00:00Z", "i-1", Stop),
            entry("2026-06-02T08:00:00Z", "i-1", Start),
        ];
        // A full read at June 1 12:00, the window from May 2 12:00.
        let mut view = View::default();
        assert_eq!(view.tally(at("2026-06-01T12:00:00Z")), None);
        assert_eq!(view.read_from(), None, "read in full first");
        let (since, now) = (at("2026-05-02T12:00:00Z"), at("2026-06-01T12:00:00Z"));
        let before = newest_per_resource(all.iter().filter(|e| e.at < since).cloned());
        view.reset(since, now, before, all.iter().filter(|e| e.at >= since && e.at < now).cloned().collect());
        // i-2: 14 h.
        assert_eq!(hours(&view.tally(now).unwrap()), 14);
        assert_eq!(view.read_from(), Some(at("2026-06-01T11:45:00Z")));
        // A day later: the rows since 11:45 (the overlap read twice), the window moved.
        let (since, now) = (at("2026-05-03T12:00:00Z"), at("2026-06-02T12:00:00Z"));
        view.advance(since, now, all.iter().filter(|e| e.at >= at("2026-06-01T11:45:00Z") && e.at < now).cloned().collect());
        // i-2: 14 h; i-1: 14 h; as a full read counts them.
        assert_eq!(hours(&view.tally(now).unwrap()), 28);
        let mut full = View::default();
        full.reset(
            since,
            now,
            newest_per_resource(all.iter().filter(|e| e.at < since).cloned()),
            all.iter().filter(|e| e.at >= since && e.at < now).cloned().collect(),
        );
        assert_eq!(view.tally(now), full.tally(now));
        // Past the May rows: i-1's May start is now its newest before the window.
        let (since, now) = (at("2026-06-01T09:00:00Z"), at("2026-07-01T09:00:00Z"));
        view.advance(since, now, Vec::new());
        assert_eq!(view.before.iter().map(|e| (e.id.as_str(), e.action)).collect::<Vec<_>>(), [("i-1", Start), ("i-2", Start)]);
        // i-1: 14 h.
        assert_eq!(hours(&view.tally(now).unwrap()), 14);
    }
}
