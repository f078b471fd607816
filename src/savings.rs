//! What offhours saved (pure, no I/O, no clock): the resource-hours it kept resources
//! off, from the ledger's changes, and their estimated worth at hourly prices.
//!
//! Layout: [`hours_off`] turns [`Change`]s into [`Interval`]s (from each stop offhours
//! made to the next start, clipped to a window); [`report`] groups them ([`GroupBy`])
//! and prices them with [`Prices`] (`[savings.prices]` overrides first, then prices
//! from the Price List API); [`projected_monthly`] estimates a month ahead from a
//! schedule's off hours per week. Money is fixed-point: hourly prices ([`Rate`]) to
//! 10 decimal places, as the Price List gives them, amounts ([`Money`]) in cents, each
//! figure rounded once (half away from zero) from its exact value.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::kinds::Kind;

/// Seconds in an hour, the unit of every price.
const HOUR: i128 = 3_600;
/// A [`Rate`]'s units per unit of currency.
const RATE_SCALE: i64 = 10_000_000_000;
/// [`Rate`] units in a cent.
const RATE_UNITS_PER_CENT: i128 = (RATE_SCALE / 100) as i128;
/// A month, for [`projected_monthly`], is 30.44 days: 3044/700 weeks.
const MONTH_PER_WEEK: (i128, i128) = (3_044, 700);

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

/// What happened to a resource, as the ledger records it.
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

    /// The name stored in the ledger and shown in outputs.
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
            out.push(Interval { resource: stop.resource.clone(), size: stop.size.clone(), schedule: stop.schedule.clone(), start, end });
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

/// An hourly price, fixed-point to 10 decimal places (the Price List's precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rate(i64);

impl Rate {
    /// From its units of 10^-10 of the currency.
    pub const fn from_units(units: i64) -> Rate {
        Rate(units)
    }

    /// Its units of 10^-10 of the currency.
    pub const fn units(self) -> i64 {
        self.0
    }

    /// From a number as the config file gives it, rounded to 10 decimal places.
    pub fn from_f64(value: f64) -> Result<Rate, String> {
        let units = (value * RATE_SCALE as f64).round();
        if !value.is_finite() || value < 0.0 || units >= i64::MAX as f64 {
            return Err(format!("a price must be a number from 0 up, got {value}"));
        }
        Ok(Rate(units as i64))
    }
}

impl FromStr for Rate {
    type Err = String;

    /// A decimal such as `0.0104000000`: digits, at most 10 of them (not counting
    /// trailing zeros) after the point.
    fn from_str(text: &str) -> Result<Rate, String> {
        let bad = || format!("not a price: {text:?} (expected a decimal such as 0.0104)");
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let fraction = fraction.trim_end_matches('0');
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if fraction.len() > 10 {
            return Err(format!("not a price: {text:?} has more than 10 decimal places"));
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let fraction: i64 = if fraction.is_empty() { 0 } else { format!("{fraction:0<10}").parse().map_err(|_| bad())? };
        whole.checked_mul(RATE_SCALE).and_then(|w| w.checked_add(fraction)).map(Rate).ok_or_else(bad)
    }
}

impl fmt::Display for Rate {
    /// At least two decimals, more only when they are not zero: `0.0104`, `1.50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fraction = format!("{:010}", self.0 % RATE_SCALE);
        let fraction = fraction.trim_end_matches('0');
        write!(f, "{}.{fraction:0<2}", self.0 / RATE_SCALE)
    }
}

/// An hourly price in a currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub per_hour: Rate,
    /// ISO 4217 code, `USD` from the Price List.
    pub currency: String,
}

/// An amount of money, exact to the cent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money {
    pub cents: i64,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.cents < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{:02}", self.cents.unsigned_abs() / 100, self.cents.unsigned_abs() % 100)
    }
}

impl Serialize for Money {
    /// A JSON number with at most two decimals (`12.3` for 12.30).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.cents as f64 / 100.0)
    }
}

/// A duration of resource time, exact to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hours {
    pub seconds: i64,
}

impl Hours {
    /// In hundredths of an hour, rounded half away from zero.
    pub fn hundredths(self) -> i64 {
        div_round(self.seconds as i128 * 100, HOUR) as i64
    }
}

impl fmt::Display for Hours {
    /// Hours to two decimals: `13.00`, `0.25`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.hundredths();
        let sign = if h < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{:02}", h.unsigned_abs() / 100, h.unsigned_abs() % 100)
    }
}

impl Serialize for Hours {
    /// A JSON number of hours, to two decimals.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.hundredths() as f64 / 100.0)
    }
}

/// Where a figure's prices came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PriceSource {
    /// `[savings.prices]` in the config file.
    File,
    /// The AWS Price List API (on-demand).
    Api,
    /// Some of the figure's resources from the file, others from the API or unpriced.
    Mixed,
    /// No price known: hours are counted, money is not.
    None,
}

impl PriceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceSource::File => "file",
            PriceSource::Api => "api",
            PriceSource::Mixed => "mixed",
            PriceSource::None => "none",
        }
    }

    /// The source of a figure made of parts priced from `sources`.
    fn of(sources: &BTreeSet<PriceSource>) -> PriceSource {
        match sources.len() {
            0 => PriceSource::None,
            1 => *sources.first().expect("one element"),
            _ => PriceSource::Mixed,
        }
    }
}

/// Hourly prices by instance type or DB class: the file's (`[savings.prices]`, for one
/// region or all) before the API's (per region). All in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prices {
    currency: String,
    /// (region or every region, size) -> price.
    file: BTreeMap<(Option<String>, String), Rate>,
    /// (region, size) -> price.
    api: BTreeMap<(String, String), Rate>,
}

impl Prices {
    /// No prices yet; every price given must be in `currency`.
    pub fn new(currency: impl Into<String>) -> Prices {
        Prices { currency: currency.into(), file: BTreeMap::new(), api: BTreeMap::new() }
    }

    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// A `[savings.prices]` entry: `key` is a type (`t3.micro`, `db.t3.micro`) or
    /// `REGION:TYPE` (`eu-west-1:t3.micro`), which wins over the type alone.
    pub fn set_file(&mut self, key: &str, per_hour: Rate) -> Result<(), String> {
        let (region, size) = match key.split_once(':') {
            Some((region, size)) => (Some(region), size),
            None => (None, key),
        };
        if size.is_empty() || size.contains(':') || region.is_some_and(str::is_empty) {
            return Err(format!("{key:?} is neither an instance type or DB class nor REGION:TYPE"));
        }
        self.file.insert((region.map(str::to_string), size.to_string()), per_hour);
        Ok(())
    }

    /// A price the Price List API gave for `size` in `region`. One in another currency
    /// than this set's cannot be used: `false`, and it is not kept.
    pub fn set_api(&mut self, region: &str, size: &str, price: &Price) -> bool {
        if price.currency != self.currency {
            return false;
        }
        self.api.insert((region.to_string(), size.to_string()), price.per_hour);
        true
    }

    /// Whether the file prices `size` in `region` (then the API need not be asked).
    pub fn in_file(&self, region: &str, size: &str) -> bool {
        self.lookup(region, size).is_some_and(|(_, source)| source == PriceSource::File)
    }

    /// The hourly price of `size` in `region`: the file's for the region, the file's
    /// for every region, then the API's.
    pub fn lookup(&self, region: &str, size: &str) -> Option<(Rate, PriceSource)> {
        let file = |region: Option<&str>| self.file.get(&(region.map(str::to_string), size.to_string()));
        if let Some(rate) = file(Some(region)).or_else(|| file(None)) {
            return Some((*rate, PriceSource::File));
        }
        self.api.get(&(region.to_string(), size.to_string())).map(|rate| (*rate, PriceSource::Api))
    }
}

/// The (kind, region, size) of every interval the file does not price: what to ask
/// the Price List API for.
pub fn needed(intervals: &[Interval], prices: &Prices) -> BTreeSet<(Kind, String, String)> {
    intervals
        .iter()
        .filter_map(|i| Some((i.resource.kind, i.resource.region.clone(), i.size.clone()?)))
        .filter(|(_, region, size)| !prices.in_file(region, size))
        .collect()
}

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
struct Sum {
    seconds: i64,
    unpriced_seconds: i64,
    /// Rate units times seconds: money in units of 10^-10 / 3600 of the currency.
    rate_seconds: i128,
    sources: BTreeSet<PriceSource>,
}

impl Sum {
    fn add(&mut self, interval: &Interval, prices: &Prices) {
        let seconds = interval.seconds();
        self.seconds += seconds;
        match interval.size.as_deref().and_then(|size| prices.lookup(&interval.resource.region, size)) {
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

/// A resource a schedule governs now, for [`projected_monthly`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Governed {
    pub region: String,
    /// The instance type or DB class, when the kind has one.
    pub size: Option<String>,
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
/// (the caller computes it from the schedule's triggers), for the `governed` resources
/// at `prices`.
pub fn projected_monthly(off_seconds_per_week: i64, governed: &[Governed], prices: &Prices) -> Projection {
    let (month, week) = MONTH_PER_WEEK;
    let off_week = off_seconds_per_week.max(0) as i128;
    let mut rate_sum: i128 = 0;
    let mut sources = BTreeSet::new();
    let mut unpriced = 0;
    for resource in governed {
        match resource.size.as_deref().and_then(|size| prices.lookup(&resource.region, size)) {
            Some((rate, source)) => {
                rate_sum += rate.units() as i128;
                sources.insert(source);
            }
            None => unpriced += 1,
        }
    }
    let priced = !sources.is_empty();
    if unpriced > 0 && priced {
        sources.insert(PriceSource::None);
    }
    let seconds = div_round(off_week * month * governed.len() as i128, week) as i64;
    let cents = div_round(rate_sum * off_week * month, week * HOUR * RATE_UNITS_PER_CENT) as i64;
    Projection {
        resource_hours_off: Hours { seconds },
        estimated_savings: priced.then_some(Money { cents }),
        currency: prices.currency.clone(),
        price_source: PriceSource::of(&sources),
        unpriced_resources: unpriced,
    }
}

/// `n / d` rounded half away from zero (`d` > 0).
fn div_round(n: i128, d: i128) -> i128 {
    let half = d / 2;
    if n >= 0 { (n + half) / d } else { -((-n + half) / d) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    /// `"11-02 19:00"`: that minute of 2026, UTC.
    fn t(text: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(&format!("2026-{text}"), "%Y-%m-%d %H:%M").unwrap().and_utc()
    }

    fn key(id: &str) -> ResourceKey {
        ResourceKey { account: "111111111111".into(), region: "eu-west-1".into(), kind: Kind::Ec2, id: id.into() }
    }

    /// `"11-02 19:00 i-1 stop"`; verbs `stop`, `start`, `seen`, `gone`.
    fn change(line: &str) -> Change {
        let words: Vec<&str> = line.split_whitespace().collect();
        let change = match words[3] {
            "stop" => Direction::StoppedByOffhours,
            "start" => Direction::StartedByOffhours,
            "seen" => Direction::SeenRunning,
            "gone" => Direction::Gone,
            other => panic!("unknown verb {other}"),
        };
        Change {
            at: t(&format!("{} {}", words[0], words[1])),
            resource: key(words[2]),
            size: Some("t3.micro".into()),
            schedule: "office".into(),
            change,
        }
    }

    /// The intervals of `changes` within `[since, until]`, as `"i-1 11-02 19:00..11-03 08:00"`.
    fn check_hours(changes: &[&str], since: &str, until: &str, expect: &[&str]) {
        let changes: Vec<Change> = changes.iter().map(|l| change(l)).collect();
        let got: Vec<String> = hours_off(&changes, t(since), t(until))
            .iter()
            .map(|i| format!("{} {}..{}", i.resource.id, i.start.format("%m-%d %H:%M"), i.end.format("%m-%d %H:%M")))
            .collect();
        assert_eq!(got, expect, "changes {changes:#?}");
    }

    const SINCE: &str = "11-01 00:00";
    const UNTIL: &str = "11-10 00:00";

    #[test]
    fn hours_off_from_each_stop_to_the_next_start() {
        check_hours(&[], SINCE, UNTIL, &[]);
        check_hours(&["11-02 19:00 i-1 stop", "11-03 08:00 i-1 start"], SINCE, UNTIL, &["i-1 11-02 19:00..11-03 08:00"]);
        check_hours(
            &["11-02 19:00 i-1 stop", "11-03 08:00 i-1 start", "11-03 19:00 i-1 stop", "11-04 08:00 i-1 start"],
            SINCE,
            UNTIL,
            &["i-1 11-02 19:00..11-03 08:00", "i-1 11-03 19:00..11-04 08:00"],
        );
        // Two resources, each its own.
        check_hours(
            &["11-02 19:00 i-1 stop", "11-02 19:00 i-2 stop", "11-03 08:00 i-2 start", "11-03 09:00 i-1 start"],
            SINCE,
            UNTIL,
            &["i-1 11-02 19:00..11-03 09:00", "i-2 11-02 19:00..11-03 08:00"],
        );
    }

    #[test]
    fn hours_off_counts_only_stops_offhours_made() {
        // Stopped by hand, started by offhours: nothing.
        check_hours(&["11-03 08:00 i-1 start"], SINCE, UNTIL, &[]);
        // Stopped by hand, then seen running, then gone: nothing.
        check_hours(&["11-03 08:00 i-1 seen", "11-04 08:00 i-1 gone"], SINCE, UNTIL, &[]);
    }

    #[test]
    fn hours_off_ends_when_seen_running_or_gone() {
        // Started by AWS (RDS after 7 days) or by hand.
        check_hours(
            &["11-02 19:00 i-1 stop", "11-03 02:30 i-1 seen", "11-03 08:00 i-1 start"],
            SINCE,
            UNTIL,
            &["i-1 11-02 19:00..11-03 02:30"],
        );
        // Seen running, stopped again by enforce, started at the fire.
        check_hours(
            &["11-02 19:00 i-1 stop", "11-02 21:00 i-1 seen", "11-02 23:00 i-1 stop", "11-03 08:00 i-1 start"],
            SINCE,
            UNTIL,
            &["i-1 11-02 19:00..11-02 21:00", "i-1 11-02 23:00..11-03 08:00"],
        );
        // Deleted while stopped.
        check_hours(&["11-02 19:00 i-1 stop", "11-04 12:00 i-1 gone"], SINCE, UNTIL, &["i-1 11-02 19:00..11-04 12:00"]);
    }

    #[test]
    fn hours_off_counts_a_resource_still_stopped_up_to_until() {
        check_hours(&["11-09 19:00 i-1 stop"], SINCE, UNTIL, &["i-1 11-09 19:00..11-10 00:00"]);
        // A start after `until` changes nothing.
        check_hours(&["11-09 19:00 i-1 stop", "11-10 08:00 i-1 start"], SINCE, UNTIL, &["i-1 11-09 19:00..11-10 00:00"]);
        // A stop after `until` counts nothing.
        check_hours(&["11-10 19:00 i-1 stop"], SINCE, UNTIL, &[]);
    }

    #[test]
    fn hours_off_clips_to_the_window() {
        // Stopped before `since`: counted from `since`.
        check_hours(&["10-31 19:00 i-1 stop", "11-01 08:00 i-1 start"], SINCE, UNTIL, &["i-1 11-01 00:00..11-01 08:00"]);
        // Stopped before `since` and never started: the whole window.
        check_hours(&["10-20 19:00 i-1 stop"], SINCE, UNTIL, &["i-1 11-01 00:00..11-10 00:00"]);
        // Wholly before the window.
        check_hours(&["10-30 19:00 i-1 stop", "10-31 08:00 i-1 start"], SINCE, UNTIL, &[]);
        // A window inside one interval.
        check_hours(&["11-02 19:00 i-1 stop", "11-03 08:00 i-1 start"], "11-02 22:00", "11-03 01:30", &["i-1 11-02 22:00..11-03 01:30"]);
        // Ends exactly at `since`: nothing.
        check_hours(&["10-31 19:00 i-1 stop", "11-01 00:00 i-1 start"], SINCE, UNTIL, &[]);
    }

    #[test]
    fn hours_off_sorts_its_input_first() {
        check_hours(
            &["11-04 08:00 i-1 start", "11-03 08:00 i-1 start", "11-03 19:00 i-1 stop", "11-02 19:00 i-1 stop"],
            SINCE,
            UNTIL,
            &["i-1 11-02 19:00..11-03 08:00", "i-1 11-03 19:00..11-04 08:00"],
        );
    }

    #[test]
    fn hours_off_takes_repeated_stops_as_one_stretch() {
        check_hours(
            &["11-02 19:00 i-1 stop", "11-02 19:15 i-1 stop", "11-03 08:00 i-1 start"],
            SINCE,
            UNTIL,
            &["i-1 11-02 19:00..11-03 08:00"],
        );
        // Repeated starts end nothing more.
        check_hours(
            &["11-02 19:00 i-1 stop", "11-03 08:00 i-1 start", "11-03 08:05 i-1 start"],
            SINCE,
            UNTIL,
            &["i-1 11-02 19:00..11-03 08:00"],
        );
    }

    #[test]
    fn hours_off_keeps_schedule_size_and_resource() {
        let mut stop = change("11-02 19:00 i-1 stop");
        stop.size = Some("db.t3.micro".into());
        stop.schedule = "nights".into();
        stop.resource.kind = Kind::Rds;
        let mut start = change("11-03 08:00 i-1 start");
        start.resource.kind = Kind::Rds;
        start.schedule = "other".into();
        let got = hours_off(&[stop.clone(), start], t(SINCE), t(UNTIL));
        assert_eq!(
            got,
            vec![Interval {
                resource: stop.resource,
                size: Some("db.t3.micro".into()),
                schedule: "nights".into(),
                start: t("11-02 19:00"),
                end: t("11-03 08:00"),
            }]
        );
        assert_eq!(got[0].seconds(), 13 * 3600);
    }

    fn rate(text: &str) -> Rate {
        text.parse().unwrap()
    }

    #[test]
    fn rates_parse_exactly() {
        assert_eq!(rate("0.0104000000").units(), 104_000_000);
        assert_eq!(rate("0.0104").units(), 104_000_000);
        assert_eq!(rate("1").units(), RATE_SCALE);
        assert_eq!(rate("12.5").units(), 125 * RATE_SCALE / 10);
        assert_eq!(rate("0.0000000001").units(), 1);
        assert_eq!(rate("0.01000000000000").units(), 100_000_000);
        for bad in ["", ".5", "-1", "1e3", "0.00000000001", "abc", "1.2.3", " 1"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad:?} parsed");
        }
        assert_eq!(Rate::from_f64(0.0104).unwrap(), rate("0.0104"));
        assert_eq!(Rate::from_f64(0.1 + 0.2).unwrap(), rate("0.3"));
        assert!(Rate::from_f64(-0.1).is_err());
        assert!(Rate::from_f64(f64::NAN).is_err());
        assert!(Rate::from_f64(f64::INFINITY).is_err());
        assert_eq!(rate("0.0104").to_string(), "0.0104");
        assert_eq!(rate("1.5").to_string(), "1.50");
        assert_eq!(rate("3").to_string(), "3.00");
        assert_eq!(Money { cents: 41 }.to_string(), "0.41");
        assert_eq!(Money { cents: 123_405 }.to_string(), "1234.05");
        assert_eq!(Money { cents: -5 }.to_string(), "-0.05");
        assert_eq!(Hours { seconds: 13 * 3600 }.to_string(), "13.00");
        assert_eq!(Hours { seconds: 900 }.to_string(), "0.25");
        // 18 s is 0.005 h: rounded half away from zero.
        assert_eq!(Hours { seconds: 18 }.to_string(), "0.01");
    }

    #[test]
    fn prices_prefer_the_file_for_the_region_then_the_file_then_the_api() {
        let mut prices = Prices::new("USD");
        prices.set_file("t3.micro", rate("0.0104")).unwrap();
        prices.set_file("eu-west-1:t3.micro", rate("0.0114")).unwrap();
        assert!(prices.set_api("eu-west-1", "t3.micro", &Price { per_hour: rate("0.5"), currency: "USD".into() }));
        assert!(prices.set_api("eu-west-1", "m5.large", &Price { per_hour: rate("0.107"), currency: "USD".into() }));
        assert!(!prices.set_api("eu-west-1", "m5.xlarge", &Price { per_hour: rate("0.2"), currency: "CNY".into() }));
        assert_eq!(prices.lookup("eu-west-1", "t3.micro"), Some((rate("0.0114"), PriceSource::File)));
        assert_eq!(prices.lookup("us-east-1", "t3.micro"), Some((rate("0.0104"), PriceSource::File)));
        assert_eq!(prices.lookup("eu-west-1", "m5.large"), Some((rate("0.107"), PriceSource::Api)));
        assert_eq!(prices.lookup("us-east-1", "m5.large"), None);
        assert_eq!(prices.lookup("eu-west-1", "m5.xlarge"), None);
        for bad in ["", ":t3.micro", "eu-west-1:", "a:b:c"] {
            assert!(prices.set_file(bad, rate("1")).is_err(), "{bad:?} accepted");
        }
    }

    fn interval(account: &str, kind: Kind, region: &str, size: Option<&str>, schedule: &str, hours: i64, minutes: i64) -> Interval {
        let start = t("11-02 19:00");
        Interval {
            resource: ResourceKey { account: account.into(), region: region.into(), kind, id: format!("r-{hours}-{minutes}") },
            size: size.map(str::to_string),
            schedule: schedule.into(),
            start,
            end: start + chrono::Duration::minutes(hours * 60 + minutes),
        }
    }

    /// Each row as `key hours savings source unpriced`, then the total the same way.
    fn check_report(intervals: &[Interval], prices: &Prices, by: GroupBy, expect: &[&str]) {
        let show = |key: &str, hours: Hours, money: Option<Money>, source: PriceSource, unpriced: Hours| {
            let money = money.map_or("-".to_string(), |m| m.to_string());
            format!("{key} {hours}h {money} {} {unpriced}h", source.as_str())
        };
        let r = report(intervals, prices, by);
        let mut got: Vec<String> =
            r.rows.iter().map(|r| show(&r.key, r.resource_hours_off, r.estimated_savings, r.price_source, r.unpriced_hours_off)).collect();
        let t = &r.total;
        got.push(show(&format!("total({})", t.currency), t.resource_hours_off, t.estimated_savings, t.price_source, t.unpriced_hours_off));
        assert_eq!(got, expect);
    }

    fn usd_prices() -> Prices {
        let mut prices = Prices::new("USD");
        prices.set_file("t3.micro", rate("0.0104")).unwrap();
        prices.set_api("eu-west-1", "m5.large", &Price { per_hour: rate("0.1070000000"), currency: "USD".into() });
        prices.set_api("eu-west-1", "db.t3.micro", &Price { per_hour: rate("0.0180000000"), currency: "USD".into() });
        prices
    }

    const A: &str = "111111111111";
    const B: &str = "222222222222";

    #[test]
    fn report_three_nights_of_a_t3_micro_to_the_cent() {
        // 3 x 13 h x 0.0104 = 0.4056 -> 0.41.
        let nights: Vec<Interval> = (0..3).map(|_| interval(A, Kind::Ec2, "eu-west-1", Some("t3.micro"), "office", 13, 0)).collect();
        check_report(&nights, &usd_prices(), GroupBy::Schedule, &["office 39.00h 0.41 file 0.00h", "total(USD) 39.00h 0.41 file 0.00h"]);
    }

    #[test]
    fn report_groups_and_prices_each_row() {
        let intervals = vec![
            // 13 h x 0.0104 = 0.1352
            interval(A, Kind::Ec2, "eu-west-1", Some("t3.micro"), "office", 13, 0),
            // 62.5 h x 0.107 = 6.6875
            interval(A, Kind::Ec2, "eu-west-1", Some("m5.large"), "office", 62, 30),
            // 10 h x 0.018 = 0.18
            interval(B, Kind::Rds, "eu-west-1", Some("db.t3.micro"), "nights", 10, 0),
            // No price: 5 h counted, no money.
            interval(B, Kind::Ec2, "ap-south-1", Some("m5.large"), "nights", 5, 0),
            // No size (a group): 2 h 15 min counted, no money.
            interval(B, Kind::Asg, "eu-west-1", None, "weekend", 2, 15),
        ];
        let prices = usd_prices();
        check_report(
            &intervals,
            &prices,
            GroupBy::Schedule,
            &[
                "nights 15.00h 0.18 mixed 5.00h",
                "office 75.50h 6.82 mixed 0.00h",
                "weekend 2.25h - none 2.25h",
                "total(USD) 92.75h 7.00 mixed 7.25h",
            ],
        );
        check_report(
            &intervals,
            &prices,
            GroupBy::Kind,
            &["asg 2.25h - none 2.25h", "ec2 80.50h 6.82 mixed 5.00h", "rds 10.00h 0.18 api 0.00h", "total(USD) 92.75h 7.00 mixed 7.25h"],
        );
        check_report(
            &intervals,
            &prices,
            GroupBy::Account,
            &["111111111111 75.50h 6.82 mixed 0.00h", "222222222222 17.25h 0.18 mixed 7.25h", "total(USD) 92.75h 7.00 mixed 7.25h"],
        );
        check_report(
            &intervals,
            &prices,
            GroupBy::Type,
            &[
                "- 2.25h - none 2.25h",
                "db.t3.micro 10.00h 0.18 api 0.00h",
                "m5.large 67.50h 6.69 mixed 5.00h",
                "t3.micro 13.00h 0.14 file 0.00h",
                "total(USD) 92.75h 7.00 mixed 7.25h",
            ],
        );
        check_report(&[], &prices, GroupBy::Type, &["total(USD) 0.00h - none 0.00h"]);
    }

    #[test]
    fn report_rounds_each_figure_once() {
        // 1 h at 0.005: exactly half a cent, rounded up; two of them are one cent, not two.
        let mut prices = Prices::new("EUR");
        prices.set_file("t3.nano", rate("0.005")).unwrap();
        let one = interval(A, Kind::Ec2, "eu-west-1", Some("t3.nano"), "a", 1, 0);
        let mut other = one.clone();
        other.schedule = "b".into();
        check_report(
            &[one, other],
            &prices,
            GroupBy::Schedule,
            &["a 1.00h 0.01 file 0.00h", "b 1.00h 0.01 file 0.00h", "total(EUR) 2.00h 0.01 file 0.00h"],
        );
    }

    #[test]
    fn report_serializes_rows_and_total() {
        let nights: Vec<Interval> = (0..3).map(|_| interval(A, Kind::Ec2, "eu-west-1", Some("t3.micro"), "office", 13, 0)).collect();
        let json = serde_json::to_string(&report(&nights, &usd_prices(), GroupBy::Schedule)).unwrap();
        assert_eq!(
            json,
            r#"{"rows":[{"key":"office","resource_hours_off":39.0,"estimated_savings":0.41,"price_source":"file","unpriced_hours_off":0.0}],"total":{"resource_hours_off":39.0,"estimated_savings":0.41,"currency":"USD","price_source":"file","unpriced_hours_off":0.0}}"#
        );
    }

    #[test]
    fn needed_lists_what_the_file_does_not_price() {
        let intervals = vec![
            interval(A, Kind::Ec2, "eu-west-1", Some("t3.micro"), "office", 1, 0),
            interval(A, Kind::Ec2, "eu-west-1", Some("m5.large"), "office", 1, 0),
            interval(A, Kind::Ec2, "eu-west-1", Some("m5.large"), "nights", 1, 0),
            interval(A, Kind::Rds, "us-east-1", Some("db.t3.micro"), "office", 1, 0),
            interval(A, Kind::Asg, "us-east-1", None, "office", 1, 0),
        ];
        let got: Vec<_> = needed(&intervals, &usd_prices()).into_iter().collect();
        assert_eq!(
            got,
            vec![
                (Kind::Ec2, "eu-west-1".to_string(), "m5.large".to_string()),
                (Kind::Rds, "us-east-1".to_string(), "db.t3.micro".to_string()),
            ]
        );
    }

    fn governed(region: &str, size: Option<&str>) -> Governed {
        Governed { region: region.into(), size: size.map(str::to_string) }
    }

    #[test]
    fn projected_monthly_from_off_hours_per_week() {
        let prices = usd_prices();
        // Off 13 h on 5 nights and the 48 h weekend: 113 h a week.
        let week = 113 * 3600;
        // One t3.micro: 113 x 30.44 / 7 = 491.3886 h; x 0.0104 = 5.1104 -> 5.11.
        let p = projected_monthly(week, &[governed("eu-west-1", Some("t3.micro"))], &prices);
        assert_eq!(
            (p.resource_hours_off.to_string(), p.estimated_savings, p.price_source),
            ("491.39".into(), Some(Money { cents: 511 }), PriceSource::File)
        );
        assert_eq!((p.currency.as_str(), p.unpriced_resources), ("USD", 0));
        // Plus an m5.large (API, 0.107: 52.5786 -> 52.58) and a group without a size:
        // 491.3886 h x 3 = 1474.17 h; 0.1174 x 491.3886 = 57.6890 -> 57.69.
        let p = projected_monthly(
            week,
            &[governed("eu-west-1", Some("t3.micro")), governed("eu-west-1", Some("m5.large")), governed("eu-west-1", None)],
            &prices,
        );
        assert_eq!(p.resource_hours_off.to_string(), "1474.17");
        assert_eq!((p.estimated_savings, p.price_source, p.unpriced_resources), (Some(Money { cents: 5769 }), PriceSource::Mixed, 1));
        // Nothing priced, nothing governed.
        let p = projected_monthly(week, &[governed("eu-west-1", None)], &prices);
        assert_eq!((p.estimated_savings, p.price_source, p.unpriced_resources), (None, PriceSource::None, 1));
        let p = projected_monthly(week, &[], &prices);
        assert_eq!((p.resource_hours_off.seconds, p.estimated_savings), (0, None));
    }

    #[test]
    fn directions_and_groupings_round_trip_their_names() {
        for d in Direction::ALL {
            assert_eq!(Direction::parse(d.as_str()), Some(d));
        }
        for g in GroupBy::ALL {
            assert_eq!(GroupBy::parse(g.as_str()), Some(g));
        }
        assert_eq!(GroupBy::parse("region"), None);
    }
}
