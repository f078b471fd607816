//! The ledger's changes as off periods: from each stop offhours made to the next
//! start, clipped to a window, and the daemon's running tally of them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::*;
use crate::model::{Deployment, Kind, Part};

/// Which resource: unique across accounts and regions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ResourceKey {
    /// The AWS account id.
    pub account: String,
    pub region: String,
    pub kind: Kind,
    /// The instance id, DB identifier, group name or service ARN.
    pub id: String,
}

/// What happened to a resource, as the hour counting reads a ledger entry. The ledger
/// stores an outcome (`stopped`, `hibernated`, `started`, `seen-running`, `gone`; see
/// `store::Entry::change`), not these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// offhours stopped it: off hours start counting.
    StoppedByOffhours,
    /// offhours started it.
    StartedByOffhours,
    /// Found running when offhours expected it stopped: started by hand, or by AWS
    /// (RDS starts a DB stopped for 7 days by itself).
    SeenRunning,
    /// Deleted.
    Gone,
}

impl Direction {
    /// Every direction, in declaration order.
    pub const ALL: [Direction; 4] = [Direction::StoppedByOffhours, Direction::StartedByOffhours, Direction::SeenRunning, Direction::Gone];

    /// Its name in tests and debugging output (not what the ledger stores).
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::StoppedByOffhours => "stopped-by-offhours",
            Direction::StartedByOffhours => "started-by-offhours",
            Direction::SeenRunning => "seen-running",
            Direction::Gone => "gone",
        }
    }

    pub fn parse(name: &str) -> Option<Direction> {
        Direction::ALL.into_iter().find(|d| d.as_str() == name)
    }
}

/// One recorded change of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub at: DateTime<Utc>,
    pub resource: ResourceKey,
    /// The instance type or DB class, when the kind has one.
    pub size: Option<String>,
    /// A database's engine (RDS's name), when recorded.
    pub engine: Option<String>,
    /// A database's deployment, when recorded.
    pub deployment: Option<Deployment>,
    /// The schedule whose job made the change (for `SeenRunning` and `Gone`: the
    /// schedule that governs the resource).
    pub schedule: String,
    pub change: Direction,
}

/// A stretch of time during which offhours kept a resource off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    pub resource: ResourceKey,
    /// The instance type or DB class at the stop.
    pub size: Option<String>,
    /// A database's engine at the stop, when recorded.
    pub engine: Option<String>,
    /// A database's deployment at the stop, when recorded.
    pub deployment: Option<Deployment>,
    /// The schedule that stopped it.
    pub schedule: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Interval {
    /// Its length in whole seconds.
    pub fn seconds(&self) -> i64 {
        (self.end - self.start).num_seconds()
    }

    /// What its hourly price is the sum of, if anything can price it.
    pub fn parts(&self) -> Option<Vec<Part>> {
        let r = &self.resource;
        parts(r.kind, &r.region, self.size.as_deref(), self.engine.as_deref(), self.deployment)
    }
}

/// The intervals offhours kept each resource off within `[since, until]`: from each
/// stop offhours made to the resource's next start (by offhours, seen running, or
/// gone), or to `until` when it is still stopped. A stop offhours did not make opens
/// nothing; a second stop while one is open is the same stretch (the first one counts).
///
/// `changes` may come in any order (sorted here; changes at the same instant keep their
/// order). They must reach back before `since` far enough to hold each resource's
/// last change before it, else a stretch that began earlier is missed.
pub fn hours_off(changes: &[Change], since: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Interval> {
    let mut sorted: Vec<&Change> = changes.iter().collect();
    sorted.sort_by(|a, b| (&a.resource, a.at).cmp(&(&b.resource, b.at)));
    let mut out = Vec::new();
    let mut open: Option<&Change> = None;
    let clip = |stop: &Change, end: DateTime<Utc>, out: &mut Vec<Interval>| {
        let (start, end) = (stop.at.max(since), end.min(until));
        if start < end {
            out.push(Interval {
                resource: stop.resource.clone(),
                size: stop.size.clone(),
                engine: stop.engine.clone(),
                deployment: stop.deployment,
                schedule: stop.schedule.clone(),
                start,
                end,
            });
        }
    };
    for (i, change) in sorted.iter().enumerate() {
        match change.change {
            Direction::StoppedByOffhours => {
                open.get_or_insert(change);
            }
            Direction::StartedByOffhours | Direction::SeenRunning | Direction::Gone => {
                if let Some(stop) = open.take() {
                    clip(stop, change.at, &mut out);
                }
            }
        }
        let last_of_resource = sorted.get(i + 1).is_none_or(|next| next.resource != change.resource);
        if last_of_resource && let Some(stop) = open.take() {
            clip(stop, until, &mut out);
        }
    }
    out
}

/// A [`Tally`]'s group: (schedule, kind, region, size, what its price is the sum of).
pub type TallyKey = (String, Kind, String, Option<String>, Option<Vec<Part>>);

/// Resource-seconds kept off within a window, by (schedule, kind, region, size, parts):
/// what the daemon's figures (metrics, status page) keep of the ledger, small whatever
/// the fleet, and priced when shown.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tally {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub groups: BTreeMap<TallyKey, i64>,
}

impl Tally {
    /// The intervals' seconds summed per group.
    pub fn of(intervals: &[Interval], since: DateTime<Utc>, until: DateTime<Utc>) -> Tally {
        let mut groups = BTreeMap::new();
        for i in intervals {
            *groups.entry((i.schedule.clone(), i.resource.kind, i.resource.region.clone(), i.size.clone(), i.parts())).or_default() +=
                i.seconds();
        }
        Tally { since, until, groups }
    }

    /// The figures by schedule at `prices`, as [`report`] would give them.
    pub fn by_schedule(&self, prices: &Prices) -> Report {
        let mut groups: BTreeMap<String, Sum> = BTreeMap::new();
        let mut all = Sum::default();
        for ((schedule, _, region, _, parts), seconds) in &self.groups {
            groups.entry(schedule.clone()).or_default().add_seconds(region, parts.as_deref(), *seconds, prices);
            all.add_seconds(region, parts.as_deref(), *seconds, prices);
        }
        figures(groups, all, prices)
    }
}
