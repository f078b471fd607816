//! End-to-end tests: the real binary, the real SDK, real HTTP, against moto (started
//! by `make test`). Each test works in an AWS account of its own, so they run in
//! parallel without seeing each other.

mod accounts;
mod alarms;
mod apply;
mod billing;
mod calendars;
mod change_calendar;
mod check;
mod daemon;
mod ecs_scaling;
mod eks;
mod enforce;
mod holds;
mod keys;
mod kinds;
mod notify;
mod order;
mod organizations;
mod pid1;
mod plan;
mod policy;
mod redshift;
mod replicas;
mod report;
mod sagemaker;
mod shared_ledger;
mod status_page;
mod suggest;
mod support;
mod tag_schedules;
