//! What the daemon remembers beyond the state file: for now the ledger, the history of
//! every start and stop offhours made, kept in the state directory for the savings report.
//!
//! # Layout
//! - `ledger.rs`: [`Ledger`], the SQLite database (schema, append, queries by time,
//!   purge), and [`Recorder`], the event-stream subscriber that feeds it from a thread of
//!   its own so that no action ever waits on, or fails because of, the disk.

pub mod ledger;

pub use ledger::{Entry, LEDGER_FILE, Ledger, LedgerError, Recorder, Settings};
