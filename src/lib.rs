//! offhours: starts and stops EC2 instances on local-time cron schedules, audits IAM
//! access keys, and keeps a billing alarm in place. See ARCHITECTURE.md for the map.

pub mod accounts;
pub mod audit;
pub mod aws;
pub mod billing;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod events;
pub mod http;
pub mod jobs;
pub mod kinds;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod plan;
pub mod policy;
pub mod savings;
pub mod schedule;
pub mod store;
pub mod suggest;

#[cfg(test)]
mod tidy;
