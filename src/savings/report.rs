//! The report: off hours grouped by schedule, account, region or kind, priced.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::*;
use crate::model::Part;

/// How [`report`] groups its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Schedule,
    Kind,
    Account,
    /// The instance type or DB class (`-` for kinds without one).
    Type,
}

impl GroupBy {
    pub const ALL: [GroupBy; 4] = [GroupBy::Schedule, GroupBy::Kind, GroupBy::Account, GroupBy::Type];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Schedule => "schedule",
            GroupBy::Kind => "kind",
            GroupBy::Account => "account",
            GroupBy::Type => "type",
        }
    }

    pub fn parse(name: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == name)
    }

    fn key(self, interval: &Interval) -> String {
        match self {
            GroupBy::Schedule => interval.schedule.clone(),
            GroupBy::Kind => interval.resource.kind.as_str().to_string(),
            GroupBy::Account => interval.resource.account.clone(),
            GroupBy::Type => interval.size.clone().unwrap_or_else(|| "-".to_string()),
        }
    }
}

/// One group's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The schedule, kind, account or type.
    pub key: String,
    pub resource_hours_off: Hours,
    /// At the known prices; `None` when none of the group's hours has a price.
    pub estimated_savings: Option<Money>,
    /// Where the prices came from (`none`: no price known).
    pub price_source: PriceSource,
    /// The part of `resource_hours_off` without a price (not in `estimated_savings`).
    pub unpriced_hours_off: Hours,
}

/// The figures of all rows together. The total's money is rounded once from the exact
/// sum, so it can differ by a cent or so from the sum of the rounded rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Total {
    pub resource_hours_off: Hours,
    pub estimated_savings: Option<Money>,
    pub currency: String,
    pub price_source: PriceSource,
    pub unpriced_hours_off: Hours,
}

/// What `offhours report` shows: rows in key order, and their total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub rows: Vec<Row>,
    pub total: Total,
}

/// Sums of a group, exact until the end.
#[derive(Default)]
pub(super) struct Sum {
    seconds: i64,
    unpriced_seconds: i64,
    /// Rate units times seconds: money in units of 10^-10 / 3600 of the currency.
    rate_seconds: i128,
    sources: BTreeSet<PriceSource>,
}

impl Sum {
    fn add(&mut self, interval: &Interval, prices: &Prices) {
        self.add_seconds(&interval.resource.region, interval.parts().as_deref(), interval.seconds(), prices);
    }

    pub(super) fn add_seconds(&mut self, region: &str, parts: Option<&[Part]>, seconds: i64, prices: &Prices) {
        self.seconds += seconds;
        match parts.and_then(|parts| prices.price(region, parts)) {
            Some((rate, source)) => {
                self.rate_seconds += rate.units() as i128 * seconds as i128;
                self.sources.insert(source);
            }
            None => self.unpriced_seconds += seconds,
        }
    }

    fn savings(&self) -> Option<Money> {
        (!self.sources.is_empty()).then(|| Money { cents: div_round(self.rate_seconds, HOUR * RATE_UNITS_PER_CENT) as i64 })
    }

    fn source(&self) -> PriceSource {
        let mut sources = self.sources.clone();
        if self.unpriced_seconds > 0 && !sources.is_empty() {
            sources.insert(PriceSource::None);
        }
        PriceSource::of(&sources)
    }
}

/// The hours off and their estimated worth, grouped `by`.
pub fn report(intervals: &[Interval], prices: &Prices, by: GroupBy) -> Report {
    let mut groups: BTreeMap<String, Sum> = BTreeMap::new();
    let mut all = Sum::default();
    for interval in intervals {
        groups.entry(by.key(interval)).or_default().add(interval, prices);
        all.add(interval, prices);
    }
    figures(groups, all, prices)
}

/// Rows and total from exact sums.
pub(super) fn figures(groups: BTreeMap<String, Sum>, all: Sum, prices: &Prices) -> Report {
    let rows = groups
        .into_iter()
        .map(|(key, sum)| Row {
            key,
            resource_hours_off: Hours { seconds: sum.seconds },
            estimated_savings: sum.savings(),
            price_source: sum.source(),
            unpriced_hours_off: Hours { seconds: sum.unpriced_seconds },
        })
        .collect();
    let total = Total {
        resource_hours_off: Hours { seconds: all.seconds },
        estimated_savings: all.savings(),
        currency: prices.currency.clone(),
        price_source: all.source(),
        unpriced_hours_off: Hours { seconds: all.unpriced_seconds },
    };
    Report { rows, total }
}
