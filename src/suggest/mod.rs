//! `offhours suggest`'s decisions, pure: which hours of a resource were idle (from its
//! hourly metrics), the weekly pattern they repeat, the start and stop crons that keep
//! it off when it is idle and never when it was busy, and resources with the same crons
//! merged into one schedule. The metrics are read by `jobs::suggest`.

pub mod pattern;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

pub use pattern::{Pattern, find};

pub use crate::model::Measure;

/// Under which value an hour is idle (`[suggest]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Idle below this CPU percentage.
    pub cpu_percent: f64,
    /// Idle below this many bytes in and out in the hour.
    pub network_bytes: f64,
    /// Idle at or below this many database connections.
    pub connections: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { cpu_percent: 5.0, network_bytes: 5e6, connections: 0.0 }
    }
}

impl Thresholds {
    /// Whether `value` of `measure` is idle. A group with no instance in service is
    /// idle whatever its CPU (there is none).
    pub fn idle(&self, measure: Measure, value: f64) -> bool {
        match measure {
            Measure::Cpu => value < self.cpu_percent,
            Measure::Network => value < self.network_bytes,
            Measure::Connections => value <= self.connections,
            Measure::InService => value < 1.0,
        }
    }
}

/// Each hour of a window (by its start): idle, busy, or unknown (`None`).
pub type Hours = BTreeMap<DateTime<Utc>, Option<bool>>;

/// One resource's hourly values, by measure, keyed by the hour's start.
pub type Series = BTreeMap<Measure, BTreeMap<DateTime<Utc>, f64>>;

/// Whether the hour starting at `hour` was idle: `Some(false)` when any measure was
/// busy, `Some(true)` when every measure was read and idle, `None` (unknown, never
/// idle) when one is missing. A group with no instance in service is idle.
pub fn idle_at(series: &Series, hour: DateTime<Utc>, t: &Thresholds) -> Option<bool> {
    if series.get(&Measure::InService).and_then(|s| s.get(&hour)).is_some_and(|v| t.idle(Measure::InService, *v)) {
        return Some(true);
    }
    let mut all_idle = true;
    for (measure, values) in series {
        match values.get(&hour) {
            Some(v) if !t.idle(*measure, *v) => return Some(false),
            Some(_) => {}
            None => all_idle = false,
        }
    }
    (all_idle && !series.is_empty()).then_some(true)
}

/// Why tagging `per_account` resources (by account) would trip the safety brake, as an
/// action would: more than `limit` in one account (`max_instances_per_action`) or
/// `total_limit` over all (`max_instances_per_action_total`); 0 is no limit.
pub fn over_brake(per_account: &BTreeMap<String, usize>, limit: u32, total_limit: u32) -> Option<String> {
    if let Some((account, n)) = per_account.iter().find(|(_, n)| limit != 0 && **n > limit as usize) {
        return Some(format!("would tag {n} resources in account {account}, more than max_instances_per_action = {limit}"));
    }
    let total: usize = per_account.values().sum();
    (total_limit != 0 && total > total_limit as usize)
        .then(|| format!("would tag {total} resources, more than max_instances_per_action_total = {total_limit}"))
}

/// A suggested schedule's name, from its crons: `mon-fri-07-19`, `daily-00-04`.
pub fn name(start: &str, stop: &str) -> String {
    let fields = |cron: &str| cron.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let (start, stop) = (fields(start), fields(stop));
    let hour = |f: &[String]| f.get(1).and_then(|h| h.parse::<u32>().ok()).unwrap_or(0);
    let days = match start.get(4).map(String::as_str) {
        Some("*") | None => "daily".to_string(),
        Some(d) => d.to_lowercase().replace(',', "+"),
    };
    format!("{days}-{:02}-{:02}", hour(&start), hour(&stop))
}

/// The hours of `[since, until)`, each idle, busy or unknown.
pub fn hours(series: &Series, since: DateTime<Utc>, until: DateTime<Utc>, t: &Thresholds) -> Hours {
    let mut out = BTreeMap::new();
    let mut hour = since;
    while hour < until {
        out.insert(hour, idle_at(series, hour, t));
        hour += chrono::TimeDelta::hours(1);
    }
    out
}
