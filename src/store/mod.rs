//! What the daemon remembers, behind one interface ([`Backend`]): up to when each
//! job's fires are handled, and, for the shared backend only, who may act (the lease).
//! The daemon's loop does not know which backend it runs on.
//!
//! # Layout
//! - `local.rs`: [`local::FileBackend`], the state file in the state directory (one
//!   daemon; it always leads).
//! - `dynamodb.rs`: [`dynamodb::DynamoBackend`], the watermarks in a DynamoDB table
//!   shared by replicas, every write fenced by the lease.
//! - `lease.rs`: the lease's decisions, pure (after the DynamoDB Lock Client).
//! - `keeper.rs`: [`keeper::Keeper`], the task that holds, renews or watches the lease
//!   and publishes this replica's [`Role`].
//! - `recorder.rs`: [`Recorder`], the one ledger writer: the event-stream subscriber
//!   that feeds a task of its own over a [`recorder::LedgerStore`], so that no action
//!   ever waits on, or fails because of, the ledger; the task also purges and counts
//!   the savings figures.
//! - `ledger.rs`: [`Ledger`], the SQLite database of every start and stop (schema,
//!   append, queries by time, purge), and [`ledger::FileStore`], it as the recorder's
//!   store.
//! - `shared_ledger.rs`: [`shared_ledger::TableLedger`], the same entries in the shared
//!   table (`[state] backend = "dynamodb"`), and its store for the recorder, which
//!   counts the figures from the table incrementally.

pub mod dynamodb;
pub mod holds;
pub mod keeper;
pub mod lease;
pub mod ledger;
pub mod local;
pub mod price_cache;
pub mod recorder;
pub mod shared_ledger;
pub mod state;
pub mod table;

use std::future::Future;
use std::pin::Pin;

pub use lease::Fence;
pub use ledger::{Entry, LEDGER_FILE, Ledger, LedgerError};
pub use recorder::{Recorder, Settings};

/// The one ledger writer of a file's `[state]`: in the shared table when `table` is
/// given, else `STATE_DIR/ledger.sqlite3` (the daemon's, and `offhours apply`'s).
pub fn open_recorder(
    table: Option<shared_ledger::TableLedger>,
    state_dir: &std::path::Path,
    retention: std::time::Duration,
    publish: recorder::Publish,
) -> Result<Recorder, LedgerError> {
    match table {
        Some(ledger) => {
            let settings = Settings { publish, ..shared_ledger::settings(retention) };
            Ok(shared_ledger::recorder(ledger, state_dir.join(price_cache::CACHE_FILE), settings))
        }
        None => ledger::recorder(state_dir.join(LEDGER_FILE), Settings { publish, ..Settings::new(retention) }),
    }
}

use crate::aws::AwsError;
use crate::store::state::State;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Whether this replica may act now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// It holds the lease with `fence`, until `until` unless renewed (`None`: for good,
    /// as the only daemon on a state file).
    Leader { fence: Fence, until: Option<tokio::time::Instant> },
    /// Another replica leads (`holder`, when known), or the lease could not be
    /// confirmed (`why`).
    Standby { holder: Option<String>, why: String },
}

impl Role {
    /// The only role of a daemon on a state file.
    pub const SOLE: Role = Role::Leader { fence: Fence(0), until: None };

    /// The fence it leads with at `now`, if it leads.
    pub fn leads(&self, now: tokio::time::Instant) -> Option<Fence> {
        match self {
            Role::Leader { fence, until } if until.is_none_or(|u| now < u) => Some(*fence),
            _ => None,
        }
    }

    pub fn name_at(&self, now: tokio::time::Instant) -> &'static str {
        if self.leads(now).is_some() { "leader" } else { "standby" }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// This replica no longer holds the lease it acted under: nothing was written.
    #[error("not recorded: {0}")]
    Fenced(String),
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("state table {table}: {source}")]
    Aws {
        table: String,
        #[source]
        source: AwsError,
    },
}

/// Where the handled-until watermarks live.
pub trait Backend: Send + Sync {
    /// Where, for logs: a path, or a table and region.
    fn describe(&self) -> String;
    /// Every job's watermark.
    fn load(&self) -> BoxFuture<'_, Result<State, StoreError>>;
    /// Writes the watermarks of `keys` from `state` (a file backend writes all of it),
    /// only while this replica holds the lease with `fence`.
    fn save<'a>(&'a self, state: &'a State, keys: &'a [String], fence: Fence) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Right before a fire's first call: does this replica still hold the lease with
    /// `fence`?
    fn confirm(&self, fence: Fence) -> BoxFuture<'_, Result<(), StoreError>>;
}
