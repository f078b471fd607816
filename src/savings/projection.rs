//! The projection: each schedule's off hours in the week from now, for the resources
//! it governs now, as a monthly figure.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::*;
use crate::config::Schedule;
use crate::model::{Action, Deployment, Kind, Part, Resource};
use crate::plan::{SkipReason, Verdict, last_fire, plan};

/// A resource a schedule governs now, for [`projected_monthly`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Governed {
    pub kind: Kind,
    pub region: String,
    /// The instance type or DB class, when the kind has one.
    pub size: Option<String>,
    /// A database's engine, when the listing gave it.
    pub engine: Option<String>,
    /// A database's deployment, when the listing said.
    pub deployment: Option<Deployment>,
}

impl Governed {
    /// What its hourly price is the sum of, if anything can price it.
    pub fn parts(&self) -> Option<Vec<Part>> {
        parts(self.kind, &self.region, self.size.as_deref(), self.engine.as_deref(), self.deployment)
    }

    /// Of a resource as listed.
    pub fn of(r: &Resource) -> Governed {
        Governed { kind: r.kind, region: r.region.clone(), size: r.size.clone(), engine: r.engine.clone(), deployment: r.deployment }
    }
}

/// A month ahead (30.44 days) of one schedule, at its off hours and current resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Projection {
    pub resource_hours_off: Hours,
    /// At the known prices; `None` when no resource has a price.
    pub estimated_savings: Option<Money>,
    pub currency: String,
    pub price_source: PriceSource,
    /// Resources without a price (not in `estimated_savings`).
    pub unpriced_resources: usize,
}

/// The monthly figure of a schedule that keeps its resources off `off_seconds_per_week`
/// (from [`off_seconds_per_week`]), for the `governed` resources at `prices`.
pub fn projected_monthly(off_seconds_per_week: i64, governed: &[Governed], prices: &Prices) -> Projection {
    project(&[(off_seconds_per_week, governed)], prices)
}

/// The monthly figure of several schedules together, each `(off seconds per week, the
/// resources it governs)`: rounded once from the exact sum.
pub fn project(schedules: &[(i64, &[Governed])], prices: &Prices) -> Projection {
    let (month, week) = MONTH_PER_WEEK;
    // Resource-seconds off a week, and rate units times those seconds.
    let (mut resource_week, mut rate_week): (i128, i128) = (0, 0);
    let mut sources = BTreeSet::new();
    let mut unpriced = 0;
    for (off_seconds_per_week, governed) in schedules {
        let off_week = (*off_seconds_per_week).max(0) as i128;
        resource_week += off_week * governed.len() as i128;
        for resource in *governed {
            match resource.parts().and_then(|parts| prices.price(&resource.region, &parts)) {
                Some((rate, source)) => {
                    rate_week += rate.units() as i128 * off_week;
                    sources.insert(source);
                }
                None => unpriced += 1,
            }
        }
    }
    let priced = !sources.is_empty();
    if unpriced > 0 && priced {
        sources.insert(PriceSource::None);
    }
    let seconds = div_round(resource_week * month, week) as i64;
    let cents = div_round(rate_week * month, week * HOUR * RATE_UNITS_PER_CENT) as i64;
    Projection {
        resource_hours_off: Hours { seconds },
        estimated_savings: priced.then_some(Money { cents }),
        currency: prices.currency.clone(),
        price_source: PriceSource::of(&sources),
        unpriced_resources: unpriced,
    }
}

/// A week in seconds.
const WEEK_SECONDS: i64 = 7 * 86_400;

/// More fires than this in a week are not followed one by one: a schedule that fires
/// every few seconds (for trying things out) is not projected.
pub const MAX_FIRES_PER_WEEK: usize = 20_000;

/// The seconds of the week from `now` (`[now, now + 7 days)`, real time) during which
/// the schedule's fires leave its resources off: from what its last fire before `now`
/// left (nothing before its first fire) and then from each stop to the next start, a
/// stop winning over a start at the same instant (as `plan::last_fire`). Timezone, DST
/// changes and skip dates are the triggers' own, so a week with a fall-back night is an
/// hour longer. `None` when it fires more than [`MAX_FIRES_PER_WEEK`] times.
pub fn off_seconds_per_week(schedule: &Schedule, now: DateTime<Utc>) -> Option<i64> {
    let end = now + TimeDelta::seconds(WEEK_SECONDS);
    let mut off = last_fire(schedule, now).is_some_and(|f| f.action == Action::Stop);
    if schedule.start.is_none() {
        // Once stopped, off for good.
        let first_stop = if off { Some(now) } else { schedule.stop.as_ref().and_then(|t| t.next_after(now)).filter(|t| *t < end) };
        return Some(first_stop.map_or(0, |t| (end - t).num_milliseconds().div_euclid(1000)));
    }
    if schedule.stop.is_none() {
        return Some(0);
    }
    let (mut cursor, mut off_ms) = (now, 0i64);
    for (n, fire) in schedule.triggers().fires(now, end).enumerate() {
        if n >= MAX_FIRES_PER_WEEK {
            return None;
        }
        if off {
            off_ms += (fire.at - cursor).num_milliseconds();
        }
        off = fire.action == Action::Stop;
        cursor = fire.at;
    }
    if off {
        off_ms += (end - cursor).num_milliseconds();
    }
    Some(off_ms.div_euclid(1000))
}

/// The resources a schedule governs now, among those its selector matched: every one
/// its stop would act on or finds stopped, including those only left alone for the
/// moment (in transition, snoozed, a skip date, enforce's grace); not those it never
/// touches (its kind's rules: a group member, a read replica...), gone ones, or those
/// with the override tag set to `true` (or an unreadable value).
pub fn governed(schedule: &Schedule, skip_tag: &str, now: DateTime<Utc>, resources: &[Resource]) -> Vec<Governed> {
    plan(schedule, Action::Stop, skip_tag, now, resources)
        .into_iter()
        .filter(|d| match &d.verdict {
            Verdict::Act { .. } | Verdict::Unchanged => true,
            Verdict::Skip(
                SkipReason::Transitional(_)
                | SkipReason::OverrideUntil { .. }
                | SkipReason::SkipDate(_)
                | SkipReason::Holiday(..)
                | SkipReason::Grace { .. },
            ) => true,
            Verdict::Skip(
                SkipReason::Kind(_) | SkipReason::Gone(_) | SkipReason::OverrideAlways { .. } | SkipReason::BadOverride { .. },
            ) => false,
        })
        .map(|d| Governed::of(&d.resource))
        .collect()
}

/// One schedule's part of the projection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectedRow {
    pub schedule: String,
    /// The resources it governs now.
    pub resources: usize,
    /// Its off hours in the week from now (one resource); `None` when it fires too often
    /// to be followed (then it has no figures and is not in the total).
    pub off_hours_per_week: Option<Hours>,
    #[serde(flatten)]
    pub figures: Option<Projection>,
}

/// The projected monthly figure: per schedule, and all together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Projected {
    pub rows: Vec<ProjectedRow>,
    pub total: Projection,
}

/// Each schedule's `(name, off seconds per week, the resources it governs now)` as a
/// projection at `prices`; the total is rounded once from the exact sum.
pub fn projected(schedules: &[(String, Option<i64>, Vec<Governed>)], prices: &Prices) -> Projected {
    let rows = schedules
        .iter()
        .map(|(schedule, off, governed)| ProjectedRow {
            schedule: schedule.clone(),
            resources: governed.len(),
            off_hours_per_week: off.map(|seconds| Hours { seconds }),
            figures: off.map(|off| projected_monthly(off, governed, prices)),
        })
        .collect();
    let parts: Vec<(i64, &[Governed])> = schedules.iter().filter_map(|(_, off, g)| Some(((*off)?, g.as_slice()))).collect();
    Projected { rows, total: project(&parts, prices) }
}
