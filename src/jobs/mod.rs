//! The jobs: each joins the pure core (config, schedule, plan) to the AWS adapters and
//! logs what it did. The CLI and the daemon call these and nothing below them.
//!
//! Layout: [`apply`] carries out one start/stop action; [`billing`] ensures the billing
//! alarm; [`keys`] audits IAM access keys; [`preview`] is the read-only view behind `offhours plan`.

pub mod alarms;
pub mod apply;
pub mod billing;
pub mod calendars;
pub mod change_calendar;
pub mod keys;
pub mod ledger;
pub mod listing;
pub mod now;
pub mod preview;
pub mod prices;
pub mod report;
pub mod snooze;
pub mod suggest;
pub mod tag_schedules;
pub mod targets;
pub mod warn;
