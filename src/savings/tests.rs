use chrono::{DateTime, Utc};
use serde_json::Value;

/// A GetProducts item for t3.micro (Linux, shared, eu-west-1), reconstructed from the
/// documented item shape: see tests/fixtures/pricing/README.md.
const EC2_T3_MICRO: &str = include_str!("../../tests/fixtures/pricing/ec2-t3.micro-eu-west-1.json");
/// db.t3.micro, MySQL, Single-AZ, eu-west-1; reconstructed likewise.
const RDS_DB_T3_MICRO: &str = include_str!("../../tests/fixtures/pricing/rds-db.t3.micro-mysql-eu-west-1.json");
/// db.m5.large, PostgreSQL, Multi-AZ, eu-west-1, with a reserved term; likewise.
const RDS_DB_M5_LARGE_PG_MULTI_AZ: &str = include_str!("../../tests/fixtures/pricing/rds-db.m5.large-postgres-multi-az-eu-west-1.json");

fn usd(text: &str) -> Option<Price> {
    Some(Price { per_hour: text.parse().unwrap(), currency: "USD".into() })
}

#[test]
fn parse_on_demand_reads_the_recorded_answers() {
    assert_eq!(parse_on_demand(EC2_T3_MICRO), Ok(usd("0.0114")));
    assert_eq!(parse_on_demand(RDS_DB_T3_MICRO), Ok(usd("0.018")));
    assert_eq!(parse_on_demand(RDS_DB_M5_LARGE_PG_MULTI_AZ), Ok(usd("0.382")));
}

/// An item with these on-demand dimensions `(unit, {currency: price})`.
fn item(dimensions: &[(&str, Value)]) -> String {
    let dims: serde_json::Map<String, Value> = dimensions
        .iter()
        .enumerate()
        .map(|(i, (unit, per_unit))| (format!("SKU.TERM.R{i}"), serde_json::json!({"unit": unit, "pricePerUnit": per_unit})))
        .collect();
    serde_json::json!({"product": {"sku": "SKU"}, "terms": {"OnDemand": {"SKU.TERM": {"priceDimensions": dims}}}}).to_string()
}

#[test]
fn parse_on_demand_cases() {
    use serde_json::json;
    let check = |text: &str, expect: Result<Option<Price>, &str>| {
        assert_eq!(parse_on_demand(text), expect.map_err(str::to_string), "{text}");
    };
    check(&item(&[("Hrs", json!({"USD": "0.0104000000"}))]), Ok(usd("0.0104")));
    // The same price twice (two terms or dimensions) is one price.
    check(&item(&[("Hrs", json!({"USD": "0.0104"})), ("Hrs", json!({"USD": "0.0104000000"}))]), Ok(usd("0.0104")));
    // Other units are not hourly prices.
    check(&item(&[("Quantity", json!({"USD": "812"})), ("Hrs", json!({"USD": "0.5"}))]), Ok(usd("0.5")));
    check(&item(&[("GB-Mo", json!({"USD": "0.115"}))]), Ok(None));
    // USD first; else the only currency given.
    check(&item(&[("Hrs", json!({"CNY": "0.1", "USD": "0.02"}))]), Ok(usd("0.02")));
    check(&item(&[("Hrs", json!({"CNY": "0.1"}))]), Ok(Some(Price { per_hour: "0.1".parse().unwrap(), currency: "CNY".into() })));
    // No on-demand terms (a reserved-only item), or none at all.
    check(r#"{"product": {}, "terms": {"Reserved": {}}}"#, Ok(None));
    check(r#"{"product": {}}"#, Ok(None));
    check(r#"{"terms": {"OnDemand": {}}}"#, Ok(None));
    // Errors name what is wrong.
    check("not json", Err("not JSON: expected ident at line 1 column 2"));
    check("[1]", Err("not a JSON object"));
    check(r#"{"terms": {"OnDemand": []}}"#, Err("terms.OnDemand is not an object"));
    check(
        &item(&[("Hrs", json!({"USD": "0.0104"})), ("Hrs", json!({"USD": "0.02"}))]),
        Err("several on-demand hourly prices: 0.0104 USD and 0.02 USD"),
    );
    check(&item(&[("Hrs", json!({"USD": "free"}))]), Err(r#"SKU.TERM.R0: not a price: "free" (expected a decimal such as 0.0104)"#));
    check(&item(&[("Hrs", json!({"USD": 0.01}))]), Err("SKU.TERM.R0: the USD price is not a string"));
    check(&item(&[("Hrs", json!({"CNY": "1", "EUR": "1"}))]), Err(r#"SKU.TERM.R0: no USD price among ["CNY", "EUR"]"#));
    check(&item(&[("Hrs", json!("0.1"))]), Err("SKU.TERM.R0: no pricePerUnit"));
}

use super::*;
use crate::config::Schedule;
use crate::model::{Deployment, Kind, Resource};
use chrono::NaiveDateTime;

/// `"11-02 19:00"`: that minute of 2026, UTC.
fn t(text: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(&format!("2026-{text}"), "%Y-%m-%d %H:%M").unwrap().and_utc()
}

fn key(id: &str) -> ResourceKey {
    ResourceKey { account: "111111111111".into(), region: "eu-west-1".into(), kind: crate::kinds::ec2::KIND, id: id.into() }
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
        engine: None,
        deployment: None,
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
    stop.engine = Some("postgres".into());
    stop.deployment = Some(Deployment::MultiAz);
    stop.schedule = "nights".into();
    stop.resource.kind = crate::kinds::rds::INSTANCE;
    let mut start = change("11-03 08:00 i-1 start");
    start.resource.kind = crate::kinds::rds::INSTANCE;
    start.schedule = "other".into();
    let got = hours_off(&[stop.clone(), start], t(SINCE), t(UNTIL));
    assert_eq!(
        got,
        vec![Interval {
            resource: stop.resource,
            size: Some("db.t3.micro".into()),
            engine: Some("postgres".into()),
            deployment: Some(Deployment::MultiAz),
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
    let usd = |text: &str| Price { per_hour: rate(text), currency: "USD".into() };
    assert!(prices.set_api(&ec2("eu-west-1", "t3.micro"), &usd("0.5")));
    assert!(prices.set_api(&ec2("eu-west-1", "m5.large"), &usd("0.107")));
    assert!(!prices.set_api(&ec2("eu-west-1", "m5.xlarge"), &Price { per_hour: rate("0.2"), currency: "CNY".into() }));
    assert!(prices.set_api(&rds("eu-west-1", "db.t3.micro", "postgres", Deployment::MultiAz), &usd("0.036")));
    let lookup = |region: &str, size: &str| prices.lookup(region, Some(size), Some(&ec2(region, size)));
    assert_eq!(lookup("eu-west-1", "t3.micro"), Some((rate("0.0114"), PriceSource::File)));
    assert_eq!(lookup("us-east-1", "t3.micro"), Some((rate("0.0104"), PriceSource::File)));
    assert_eq!(lookup("eu-west-1", "m5.large"), Some((rate("0.107"), PriceSource::Api)));
    assert_eq!(lookup("us-east-1", "m5.large"), None);
    assert_eq!(lookup("eu-west-1", "m5.xlarge"), None);
    // A database: by its product, so another engine or deployment is another price.
    let db = |engine: &str, deployment| {
        prices.lookup("eu-west-1", Some("db.t3.micro"), Some(&rds("eu-west-1", "db.t3.micro", engine, deployment)))
    };
    assert_eq!(db("postgres", Deployment::MultiAz), Some((rate("0.036"), PriceSource::Api)));
    assert_eq!(db("postgres", Deployment::SingleAz), None);
    assert_eq!(db("mysql", Deployment::MultiAz), None);
    assert_eq!(prices.lookup("eu-west-1", Some("db.t3.micro"), None), None, "no product, no API price");
    assert_eq!(prices.lookup("eu-west-1", None, None), None);
    for bad in ["", ":t3.micro", "eu-west-1:", "a:b:c"] {
        assert!(prices.set_file(bad, rate("1")).is_err(), "{bad:?} accepted");
    }
}

fn ec2(region: &str, size: &str) -> ApiProduct {
    crate::kinds::ec2::price::product(region, size)
}

fn rds(region: &str, class: &str, engine: &str, deployment: Deployment) -> ApiProduct {
    crate::kinds::rds::price::product(region, class, engine, deployment)
}

/// An interval of `hours` and `minutes`; a DB instance's is MySQL, Single-AZ.
fn interval(account: &str, kind: Kind, region: &str, size: Option<&str>, schedule: &str, hours: i64, minutes: i64) -> Interval {
    let start = t("11-02 19:00");
    let db = kind == crate::kinds::rds::INSTANCE;
    Interval {
        resource: ResourceKey { account: account.into(), region: region.into(), kind, id: format!("r-{hours}-{minutes}") },
        size: size.map(str::to_string),
        engine: db.then(|| "mysql".to_string()),
        deployment: db.then_some(Deployment::SingleAz),
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
    prices.set_api(&ec2("eu-west-1", "m5.large"), &Price { per_hour: rate("0.1070000000"), currency: "USD".into() });
    let mysql = rds("eu-west-1", "db.t3.micro", "mysql", Deployment::SingleAz);
    prices.set_api(&mysql, &Price { per_hour: rate("0.0180000000"), currency: "USD".into() });
    prices
}

const A: &str = "111111111111";
const B: &str = "222222222222";

#[test]
fn report_three_nights_of_a_t3_micro_to_the_cent() {
    // 3 x 13 h x 0.0104 = 0.4056 -> 0.41.
    let nights: Vec<Interval> =
        (0..3).map(|_| interval(A, crate::kinds::ec2::KIND, "eu-west-1", Some("t3.micro"), "office", 13, 0)).collect();
    check_report(&nights, &usd_prices(), GroupBy::Schedule, &["office 39.00h 0.41 file 0.00h", "total(USD) 39.00h 0.41 file 0.00h"]);
}

#[test]
fn report_groups_and_prices_each_row() {
    let intervals = vec![
        // 13 h x 0.0104 = 0.1352
        interval(A, crate::kinds::ec2::KIND, "eu-west-1", Some("t3.micro"), "office", 13, 0),
        // 62.5 h x 0.107 = 6.6875
        interval(A, crate::kinds::ec2::KIND, "eu-west-1", Some("m5.large"), "office", 62, 30),
        // 10 h x 0.018 = 0.18
        interval(B, crate::kinds::rds::INSTANCE, "eu-west-1", Some("db.t3.micro"), "nights", 10, 0),
        // No price: 5 h counted, no money.
        interval(B, crate::kinds::ec2::KIND, "ap-south-1", Some("m5.large"), "nights", 5, 0),
        // No size (a group): 2 h 15 min counted, no money.
        interval(B, crate::kinds::asg::KIND, "eu-west-1", None, "weekend", 2, 15),
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
    let one = interval(A, crate::kinds::ec2::KIND, "eu-west-1", Some("t3.nano"), "a", 1, 0);
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
    let nights: Vec<Interval> =
        (0..3).map(|_| interval(A, crate::kinds::ec2::KIND, "eu-west-1", Some("t3.micro"), "office", 13, 0)).collect();
    let json = serde_json::to_string(&report(&nights, &usd_prices(), GroupBy::Schedule)).unwrap();
    assert_eq!(
        json,
        r#"{"rows":[{"key":"office","resource_hours_off":39.0,"estimated_savings":0.41,"price_source":"file","unpriced_hours_off":0.0}],"total":{"resource_hours_off":39.0,"estimated_savings":0.41,"currency":"USD","price_source":"file","unpriced_hours_off":0.0}}"#
    );
}

#[test]
fn api_products_of_each_kind() {
    use Deployment::*;
    let product = |kind, size: Option<&str>, engine: Option<&str>, deployment| {
        api_product(kind, "eu-west-1", size, engine, deployment).map_or("-".to_string(), |p| format!("{} {p}", p.service()))
    };
    // (kind, size, engine, deployment, what the Price List is asked, or "-")
    let cases = [
        (crate::kinds::ec2::KIND, Some("t3.micro"), None, None, "AmazonEC2 t3.micro in eu-west-1"),
        (crate::kinds::ec2::KIND, None, None, None, "-"),
        (
            crate::kinds::rds::INSTANCE,
            Some("db.t3.micro"),
            Some("postgres"),
            Some(MultiAz),
            "AmazonRDS db.t3.micro (postgres, Multi-AZ) in eu-west-1",
        ),
        (
            crate::kinds::rds::INSTANCE,
            Some("db.t3.micro"),
            Some("mysql"),
            Some(SingleAz),
            "AmazonRDS db.t3.micro (mysql, Single-AZ) in eu-west-1",
        ),
        (
            crate::kinds::rds::INSTANCE,
            Some("db.r5.large"),
            Some("sqlserver-se"),
            Some(MultiAz),
            "AmazonRDS db.r5.large (sqlserver-se, Multi-AZ) in eu-west-1",
        ),
        // Aurora instances: always Single-AZ.
        (
            crate::kinds::rds::INSTANCE,
            Some("db.r5.large"),
            Some("aurora-postgresql"),
            None,
            "AmazonRDS db.r5.large (aurora-postgresql, Single-AZ) in eu-west-1",
        ),
        // Not known, or not priced from the Price List: the file's only.
        (crate::kinds::rds::INSTANCE, Some("db.t3.micro"), None, None, "-"),
        (crate::kinds::rds::INSTANCE, Some("db.t3.micro"), Some("postgres"), None, "-"),
        (crate::kinds::rds::INSTANCE, Some("db.t3.micro"), Some("db2-se"), Some(SingleAz), "-"),
        (crate::kinds::rds::INSTANCE, None, Some("postgres"), Some(SingleAz), "-"),
        (crate::kinds::rds::CLUSTER, None, Some("aurora-postgresql"), Some(MultiAz), "-"),
        (crate::kinds::asg::KIND, None, None, None, "-"),
        (crate::kinds::ecs::KIND, None, None, None, "-"),
    ];
    for (kind, size, engine, deployment, expect) in cases {
        assert_eq!(product(kind, size, engine, deployment), expect, "{kind} {size:?} {engine:?} {deployment:?}");
    }
}

#[test]
fn parts_of_each_kind() {
    use Deployment::*;
    let show = |kind, size: Option<&str>, engine: Option<&str>, deployment| {
        parts(kind, "eu-west-1", size, engine, deployment).map_or("-".to_string(), |parts| {
            let part = |p: &Part| match &p.product {
                Some(product) => format!("{} x {} [{product}]", p.count, p.size),
                None => format!("{} x {}", p.count, p.size),
            };
            parts.iter().map(part).collect::<Vec<_>>().join(" + ")
        })
    };
    // (kind, size, engine, deployment, what its price is the sum of: "count x size
    // [the Price List's product]", or "-": nothing prices it)
    let cases = [
        (crate::kinds::ec2::KIND, Some("t3.micro"), None, None, "1 x t3.micro [t3.micro in eu-west-1]"),
        (crate::kinds::ec2::KIND, None, None, None, "-"),
        (
            crate::kinds::rds::INSTANCE,
            Some("db.t3.micro"),
            Some("postgres"),
            Some(MultiAz),
            "1 x db.t3.micro [db.t3.micro (postgres, Multi-AZ) in eu-west-1]",
        ),
        (crate::kinds::rds::INSTANCE, Some("db.t3.micro"), None, None, "1 x db.t3.micro"),
        // Aurora: each member on its own, Single-AZ, whatever the cluster's spread.
        (
            crate::kinds::rds::CLUSTER,
            Some("db.r6g.large*2+db.r6g.xlarge"),
            Some("aurora-postgresql"),
            Some(MultiAz),
            "2 x db.r6g.large [db.r6g.large (aurora-postgresql, Single-AZ) in eu-west-1] + 1 x db.r6g.xlarge [db.r6g.xlarge (aurora-postgresql, Single-AZ) in eu-west-1]",
        ),
        (
            crate::kinds::rds::CLUSTER,
            Some("db.r5.large"),
            Some("aurora"),
            None,
            "1 x db.r5.large [db.r5.large (aurora, Single-AZ) in eu-west-1]",
        ),
        // Engine unknown, or not Aurora (a Multi-AZ DB cluster, Neptune, DocumentDB):
        // the file's prices only.
        (crate::kinds::rds::CLUSTER, Some("db.r6g.large*2"), None, None, "2 x db.r6g.large"),
        (crate::kinds::rds::CLUSTER, Some("db.m5d.large*3"), Some("postgres"), Some(MultiAz), "3 x db.m5d.large"),
        (crate::kinds::rds::CLUSTER, Some("db.r5.large"), Some("neptune"), Some(SingleAz), "1 x db.r5.large"),
        (crate::kinds::rds::CLUSTER, Some("db.r5.large"), Some("docdb"), None, "1 x db.r5.large"),
        // Serverless v2 members, no size (recorded before clusters had one, or no
        // members), a size that does not read: nothing.
        (crate::kinds::rds::CLUSTER, Some("db.serverless"), Some("aurora-postgresql"), None, "-"),
        (crate::kinds::rds::CLUSTER, Some("db.r6g.large+db.serverless*2"), Some("aurora-mysql"), None, "-"),
        (crate::kinds::rds::CLUSTER, None, Some("aurora-postgresql"), Some(MultiAz), "-"),
        (crate::kinds::rds::CLUSTER, Some("db.r6g.large*0"), Some("aurora-postgresql"), None, "-"),
        (crate::kinds::asg::KIND, None, None, None, "-"),
        (crate::kinds::ecs::KIND, None, None, None, "-"),
    ];
    for (kind, size, engine, deployment, expect) in cases {
        assert_eq!(show(kind, size, engine, deployment), expect, "{kind} {size:?} {engine:?} {deployment:?}");
    }
}

/// An Aurora PostgreSQL cluster of `size` (Multi-AZ) off `hours` for `nights`.
fn cluster(size: Option<&str>, engine: Option<&str>, hours: i64) -> Interval {
    Interval {
        engine: engine.map(str::to_string),
        deployment: Some(Deployment::MultiAz),
        ..interval(B, crate::kinds::rds::CLUSTER, "eu-west-1", size, "nights", hours, 0)
    }
}

/// The file prices db.r6g.large at 0.26; the Price List db.r6g.xlarge at 0.52 for
/// Aurora PostgreSQL (Single-AZ, as it prices Aurora's instances).
fn cluster_prices() -> Prices {
    let mut prices = usd_prices();
    prices.set_file("db.r6g.large", rate("0.26")).unwrap();
    let usd = |text: &str| Price { per_hour: rate(text), currency: "USD".into() };
    prices.set_api(&rds("eu-west-1", "db.r6g.xlarge", "aurora-postgresql", Deployment::SingleAz), &usd("0.52"));
    prices.set_api(&rds("eu-west-1", "db.r6g.xlarge", "postgres", Deployment::MultiAz), &usd("0.99"));
    prices
}

#[test]
fn a_cluster_is_priced_as_the_sum_of_its_members() {
    let prices = cluster_prices();
    // (size, engine, 10 h at the sum of its members' prices, and its source)
    let cases = [
        // 2 x 0.26 = 0.52 an hour.
        (Some("db.r6g.large*2"), Some("aurora-postgresql"), "5.20 file"),
        (Some("db.r6g.xlarge"), Some("aurora-postgresql"), "5.20 api"),
        // 2 x 0.26 + 0.52 = 1.04 an hour, from both.
        (Some("db.r6g.large*2+db.r6g.xlarge"), Some("aurora-postgresql"), "10.40 mixed"),
        // Not Aurora: the file's prices only (not the Price List's Multi-AZ instance).
        (Some("db.r6g.large*3"), Some("postgres"), "7.80 file"),
        (Some("db.r6g.xlarge"), Some("postgres"), "- none"),
        (Some("db.r6g.large"), Some("neptune"), "2.60 file"),
        // One member without a price: the cluster is priced whole or not at all.
        (Some("db.r6g.large+db.r6g.4xlarge"), Some("aurora-postgresql"), "- none"),
        (Some("db.r6g.large+db.serverless"), Some("aurora-postgresql"), "- none"),
        (Some("db.serverless*2"), Some("aurora-postgresql"), "- none"),
        // Recorded before clusters had a size: counted, not priced, as before.
        (None, Some("aurora-postgresql"), "- none"),
    ];
    for (size, engine, expect) in cases {
        let r = report(&[cluster(size, engine, 10)], &prices, GroupBy::Kind);
        let t = &r.total;
        assert_eq!(t.resource_hours_off.to_string(), "10.00");
        let money = t.estimated_savings.map_or("-".to_string(), |m| m.to_string());
        assert_eq!(format!("{money} {}", t.price_source.as_str()), expect, "{size:?} {engine:?}");
    }
    // Grouped by type, a cluster's key is its size; rounded once overall.
    let intervals = [
        cluster(Some("db.r6g.large*2+db.r6g.xlarge"), Some("aurora-postgresql"), 13),
        cluster(Some("db.r6g.large*2+db.r6g.xlarge"), Some("aurora-postgresql"), 61),
        cluster(None, Some("aurora-postgresql"), 13),
        interval(B, crate::kinds::rds::INSTANCE, "eu-west-1", Some("db.t3.micro"), "nights", 10, 0),
    ];
    check_report(
        &intervals,
        &prices,
        GroupBy::Type,
        &[
            "- 13.00h - none 13.00h",
            // 74 h x 1.04 = 76.96
            "db.r6g.large*2+db.r6g.xlarge 74.00h 76.96 mixed 0.00h",
            "db.t3.micro 10.00h 0.18 api 0.00h",
            "total(USD) 97.00h 77.14 mixed 13.00h",
        ],
    );
    let tally = Tally::of(&intervals, t(SINCE), t(UNTIL));
    assert_eq!(tally.by_schedule(&prices), report(&intervals, &prices, GroupBy::Schedule), "the daemon's figures price clusters too");
}

#[test]
fn a_cluster_s_members_are_asked_of_the_price_list_unless_the_file_prices_them() {
    let prices = cluster_prices();
    let intervals = [
        cluster(Some("db.r6g.large*2+db.r6g.xlarge+db.r6g.2xlarge"), Some("aurora-postgresql"), 1),
        cluster(Some("db.r6g.4xlarge"), Some("aurora-mysql"), 1),
        // Not Aurora, Serverless v2, no size: nothing to ask.
        cluster(Some("db.r6g.8xlarge"), Some("postgres"), 1),
        cluster(Some("db.r6g.12xlarge+db.serverless"), Some("aurora-postgresql"), 1),
        cluster(None, Some("aurora-postgresql"), 1),
    ];
    let aurora = |class: &str, engine: &str| rds("eu-west-1", class, engine, Deployment::SingleAz);
    assert_eq!(
        needed(&intervals, &prices).into_iter().collect::<Vec<_>>(),
        [
            aurora("db.r6g.2xlarge", "aurora-postgresql"),
            aurora("db.r6g.4xlarge", "aurora-mysql"),
            aurora("db.r6g.xlarge", "aurora-postgresql")
        ],
        "db.r6g.large is the file's"
    );
}

#[test]
fn a_governed_cluster_is_projected_at_its_members_prices() {
    let prices = cluster_prices();
    let aurora = |size: Option<&str>| Governed {
        kind: crate::kinds::rds::CLUSTER,
        region: "eu-west-1".into(),
        size: size.map(str::to_string),
        engine: Some("aurora-postgresql".into()),
        deployment: Some(Deployment::MultiAz),
    };
    // 7 h a week x 30.44 / 7 = 30.44 h a cluster; 30.44 x 1.04 = 31.6576 -> 31.66.
    let p = projected_monthly(7 * 3600, &[aurora(Some("db.r6g.large*2+db.r6g.xlarge")), aurora(Some("db.serverless"))], &prices);
    assert_eq!(p.resource_hours_off.to_string(), "60.88");
    assert_eq!((p.estimated_savings, p.price_source, p.unpriced_resources), (Some(Money { cents: 3166 }), PriceSource::Mixed, 1));
}

#[test]
fn a_database_is_priced_by_its_engine_and_deployment() {
    let mut prices = usd_prices();
    prices.set_api(
        &rds("eu-west-1", "db.t3.micro", "postgres", Deployment::MultiAz),
        &Price { per_hour: rate("0.036"), currency: "USD".into() },
    );
    let db = |engine: Option<&str>, deployment| Interval {
        engine: engine.map(str::to_string),
        deployment,
        ..interval(B, crate::kinds::rds::INSTANCE, "eu-west-1", Some("db.t3.micro"), "nights", 10, 0)
    };
    let intervals = [
        // 10 h x 0.018 = 0.18
        db(Some("mysql"), Some(Deployment::SingleAz)),
        // 10 h x 0.036 = 0.36
        db(Some("postgres"), Some(Deployment::MultiAz)),
        // Recorded before engines were: unpriced.
        db(None, None),
    ];
    check_report(&intervals, &prices, GroupBy::Type, &["db.t3.micro 30.00h 0.54 mixed 10.00h", "total(USD) 30.00h 0.54 mixed 10.00h"]);
    // The file's price for the class wins over every engine's.
    prices.set_file("db.t3.micro", rate("0.01")).unwrap();
    check_report(&intervals, &prices, GroupBy::Type, &["db.t3.micro 30.00h 0.30 file 0.00h", "total(USD) 30.00h 0.30 file 0.00h"]);
}

#[test]
fn needed_lists_what_the_file_does_not_price() {
    let intervals = vec![
        interval(A, crate::kinds::ec2::KIND, "eu-west-1", Some("t3.micro"), "office", 1, 0),
        interval(A, crate::kinds::ec2::KIND, "eu-west-1", Some("m5.large"), "office", 1, 0),
        interval(A, crate::kinds::ec2::KIND, "eu-west-1", Some("m5.large"), "nights", 1, 0),
        interval(A, crate::kinds::rds::INSTANCE, "us-east-1", Some("db.t3.micro"), "office", 1, 0),
        interval(A, crate::kinds::asg::KIND, "us-east-1", None, "office", 1, 0),
        // A database recorded before its engine was: the file's only; a cluster
        // recorded before its size was: nothing prices it.
        Interval { engine: None, ..interval(A, crate::kinds::rds::INSTANCE, "us-east-1", Some("db.m5.large"), "office", 1, 0) },
        interval(A, crate::kinds::rds::CLUSTER, "us-east-1", None, "office", 1, 0),
    ];
    let got: Vec<_> = needed(&intervals, &usd_prices()).into_iter().collect();
    assert_eq!(got, vec![ec2("eu-west-1", "m5.large"), rds("us-east-1", "db.t3.micro", "mysql", Deployment::SingleAz)]);
    // What the file prices is not asked for, a database included.
    let mut prices = usd_prices();
    prices.set_file("us-east-1:db.t3.micro", rate("0.02")).unwrap();
    assert_eq!(needed(&intervals, &prices).into_iter().collect::<Vec<_>>(), vec![ec2("eu-west-1", "m5.large")]);
}

fn governed(region: &str, size: Option<&str>) -> Governed {
    Governed { kind: crate::kinds::ec2::KIND, region: region.into(), size: size.map(str::to_string), engine: None, deployment: None }
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

fn schedule(body: &str) -> Schedule {
    let text = format!("timezone = \"Europe/Berlin\"\n[schedules.s]\n{body}\n");
    let config =
        crate::config::from_str(&text, "t.toml", &crate::config::HostTimezone::fixed(chrono_tz::UTC)).unwrap_or_else(|e| panic!("{e}"));
    config.schedules.into_iter().next().unwrap()
}

/// The schedule (TOML body of `[schedules.s]`, Berlin) is off `expect` in the week
/// from `now` (RFC 3339), as `"113h"`, `"112h30m"` or `"too many fires"`.
#[track_caller]
fn check_week(body: &str, now: &str, expect: &str) {
    let now = DateTime::parse_from_rfc3339(now).unwrap().with_timezone(&Utc);
    let got = match off_seconds_per_week(&schedule(body), now) {
        None => "too many fires".to_string(),
        Some(s) if s % 3600 == 0 => format!("{}h", s / 3600),
        Some(s) if s % 60 == 0 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        Some(s) => format!("{s}s"),
    };
    assert_eq!(got, expect, "{body} from {now}");
}

const OFFICE: &str = "start = \"0 8 * * MON-FRI\"\nstop = \"0 19 * * MON-FRI\"";

#[test]
fn off_seconds_per_week_follow_the_fires_from_now() {
    // Off 13 h on four weeknights, and Friday 19:00 to Monday 08:00 (61 h): 113 h.
    check_week(OFFICE, "2026-11-02T00:00:00+01:00", "113h");
    // From any instant of an ordinary week, the same.
    check_week(OFFICE, "2026-11-04T12:34:56+01:00", "113h");
    check_week(OFFICE, "2026-11-06T19:00:00+01:00", "113h");
    // Fall back (Sun 25 Oct 2026): the weekend is an hour longer. Spring forward (Sun
    // 29 Mar 2026): an hour shorter. (The week is 168 real hours: from a Monday
    // 00:00 it ends at Sunday 23:00 or Monday 01:00, and the hour evens out.)
    check_week(OFFICE, "2026-10-21T12:00:00+02:00", "114h");
    check_week(OFFICE, "2026-03-25T12:00:00+01:00", "112h");
    check_week(OFFICE, "2026-10-19T00:00:00+02:00", "113h");
    check_week(OFFICE, "2026-03-23T00:00:00+01:00", "113h");
    // A skip date (Wed 4 Nov): no start that morning, no stop that night: off from
    // Tuesday 19:00 to Thursday 08:00.
    check_week(&format!("{OFFICE}\nskip_dates = [\"2026-11-04\"]"), "2026-11-02T00:00:00+01:00", "124h");
    // Half hours.
    check_week("start = \"30 8 * * *\"\nstop = \"0 18 * * *\"", "2026-11-02T00:00:00+01:00", "101h30m");
    // Stop only: off from the first stop for good; already off: the whole week.
    check_week("stop = \"0 19 * * FRI\"", "2026-11-02T00:00:00+01:00", "168h");
    check_week("stop = \"0 19 1 1 *\"", "2026-11-02T00:00:00+01:00", "168h");
    check_week("start = \"0 8 * * MON\"\nstop = \"0 19 * * FRI\"", "2026-11-02T09:00:00+01:00", "61h");
    // Start only: never off.
    check_week("start = \"0 8 * * *\"", "2026-11-02T00:00:00+01:00", "0h");
    // A stop and a start at the same instant: the stop wins, as at a fire.
    check_week("start = \"0 19 * * *\"\nstop = \"0 19 * * 0-6\"", "2026-11-02T20:00:00+01:00", "168h");
    // Every few seconds: not followed.
    check_week("start = \"*/10 * * * * *\"\nstop = \"5-59/10 * * * * *\"", "2026-11-02T00:00:00+01:00", "too many fires");
    // Every 10 minutes, off half of it: followed.
    check_week("start = \"*/10 * * * *\"\nstop = \"5-59/10 * * * *\"", "2026-11-02T00:00:00+01:00", "84h");
}

fn resource(kind: Kind, state: &str, size: Option<&str>, tags: &[(&str, &str)]) -> Resource {
    use crate::model::Detail;
    let instance = kind == crate::kinds::ec2::KIND;
    let detail = match instance {
        true => Detail::new(crate::kinds::ec2::InstanceDetail { root_device_type: Some("ebs".into()), ..Default::default() }),
        false => Detail::new(crate::kinds::rds::InstanceDetail::default()),
    };
    let (engine, deployment) = if instance { (None, None) } else { (Some("postgres".into()), Some(Deployment::MultiAz)) };
    Resource {
        kind,
        id: format!("{kind}-{state}"),
        region: "eu-west-1".into(),
        state: state.into(),
        tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        state_reason: None,
        size: size.map(str::to_string),
        engine,
        deployment,
        detail,
    }
}

#[test]
fn governed_are_those_a_stop_acts_on_or_leaves_alone_for_now() {
    let office = schedule(OFFICE);
    let now = t("11-03 12:00");
    let check = |r: Resource, expect: bool| {
        let got = super::governed(&office, "offhours:skip", now, std::slice::from_ref(&r));
        assert_eq!(got.len() == 1, expect, "{r:?}");
        if expect {
            assert_eq!(
                got[0],
                Governed {
                    kind: r.kind,
                    region: r.region.clone(),
                    size: r.size.clone(),
                    engine: r.engine.clone(),
                    deployment: r.deployment
                }
            );
        }
    };
    check(resource(crate::kinds::ec2::KIND, "running", Some("t3.micro"), &[]), true);
    check(resource(crate::kinds::ec2::KIND, "stopped", Some("t3.micro"), &[]), true);
    check(resource(crate::kinds::ec2::KIND, "stopping", Some("t3.micro"), &[]), true);
    check(resource(crate::kinds::ec2::KIND, "running", Some("t3.micro"), &[("offhours:skip", "2026-12-01")]), true);
    check(resource(crate::kinds::ec2::KIND, "running", Some("t3.micro"), &[("offhours:skip", "true")]), false);
    check(resource(crate::kinds::ec2::KIND, "running", Some("t3.micro"), &[("offhours:skip", "whenever")]), false);
    check(resource(crate::kinds::ec2::KIND, "terminated", Some("t3.micro"), &[]), false);
    // The kind's own rule: a member of an Auto Scaling group is the group's.
    check(resource(crate::kinds::ec2::KIND, "running", Some("t3.micro"), &[("aws:autoscaling:groupName", "web")]), false);
    let mut replica = resource(crate::kinds::rds::INSTANCE, "available", Some("db.t3.micro"), &[]);
    replica.detail =
        crate::model::Detail::new(crate::kinds::rds::InstanceDetail { replica_of: Some("db-main".into()), ..Default::default() });
    (replica.engine, replica.deployment) = (None, None);
    check(replica, false);
    check(resource(crate::kinds::rds::INSTANCE, "available", Some("db.t3.micro"), &[]), true);
}

#[test]
fn projected_totals_round_once_and_leave_out_what_fires_too_often() {
    let mut prices = Prices::new("USD");
    prices.set_file("t3.nano", rate("0.0052")).unwrap();
    let week = 113 * 3600;
    let nano = || governed("eu-west-1", Some("t3.nano"));
    let p = projected(
        &[
            ("a".into(), Some(week), vec![nano()]),
            ("b".into(), Some(week), vec![nano()]),
            ("blink".into(), None, vec![nano(), nano()]),
            ("groups".into(), Some(week), vec![governed("eu-west-1", None)]),
        ],
        &prices,
    );
    // 491.3886 h x 0.0052 = 2.5552 each: 2.56 per row, 5.11 (not 5.12) together.
    let rows: Vec<String> = p
        .rows
        .iter()
        .map(|r| {
            let off = r.off_hours_per_week.map_or("-".into(), |h| h.to_string());
            let money = r.figures.as_ref().and_then(|f| f.estimated_savings).map_or("-".into(), |m| m.to_string());
            format!("{} {} {off} {money}", r.schedule, r.resources)
        })
        .collect();
    assert_eq!(rows, ["a 1 113.00 2.56", "b 1 113.00 2.56", "blink 2 - -", "groups 1 113.00 -"]);
    assert_eq!(p.total.resource_hours_off.to_string(), "1474.17");
    assert_eq!(
        (p.total.estimated_savings, p.total.price_source, p.total.unpriced_resources),
        (Some(Money { cents: 511 }), PriceSource::Mixed, 1)
    );
    let json = serde_json::to_value(&p.rows[2]).unwrap();
    assert_eq!(json, serde_json::json!({"schedule": "blink", "resources": 2, "off_hours_per_week": null}));
}

#[test]
fn a_tally_prices_like_the_report_by_schedule() {
    let intervals = vec![
        interval(A, crate::kinds::ec2::KIND, "eu-west-1", Some("t3.micro"), "office", 13, 0),
        interval(A, crate::kinds::ec2::KIND, "eu-west-1", Some("m5.large"), "office", 62, 30),
        interval(B, crate::kinds::rds::INSTANCE, "eu-west-1", Some("db.t3.micro"), "nights", 10, 0),
        interval(B, crate::kinds::ec2::KIND, "ap-south-1", Some("m5.large"), "nights", 5, 0),
        interval(B, crate::kinds::asg::KIND, "eu-west-1", None, "weekend", 2, 15),
        interval(A, crate::kinds::ec2::KIND, "eu-west-1", Some("t3.micro"), "office", 13, 0),
    ];
    let tally = Tally::of(&intervals, t(SINCE), t(UNTIL));
    assert_eq!(tally.groups.len(), 5);
    assert_eq!(tally.by_schedule(&usd_prices()), report(&intervals, &usd_prices(), GroupBy::Schedule));
}

#[test]
fn the_price_cache_keeps_one_answer_per_product_and_knows_its_age() {
    let mut cache = PriceCache::default();
    let usd = |text: &str| Price { per_hour: rate(text), currency: "USD".into() };
    let mysql = rds("eu-west-1", "db.t3.micro", "mysql", Deployment::SingleAz);
    let mysql_multi = rds("eu-west-1", "db.t3.micro", "mysql", Deployment::MultiAz);
    cache.put(&ec2("eu-west-1", "t3.micro"), Some(&usd("0.0114")), t("11-01 00:00"));
    cache.put(&ec2("eu-west-1", "m5.large"), Some(&usd("0.107")), t("11-01 00:00"));
    cache.put(&ec2("eu-west-1", "t9.none"), None, t("11-01 00:00"));
    cache.put(&mysql_multi, Some(&usd("0.036")), t("11-01 00:00"));
    cache.put(&mysql, Some(&usd("0.018")), t("11-01 00:00"));
    cache.put(&ec2("eu-west-1", "t3.micro"), Some(&usd("0.0104")), t("11-05 00:00"));
    let back = PriceCache::from_json(&cache.to_json()).unwrap();
    assert_eq!(back, cache);
    let sizes: Vec<String> = cache.prices.iter().map(|p| p.product().unwrap().to_string()).collect();
    assert_eq!(
        sizes,
        [
            "m5.large in eu-west-1",
            "t3.micro in eu-west-1",
            "t9.none in eu-west-1",
            "db.t3.micro (mysql, Single-AZ) in eu-west-1",
            "db.t3.micro (mysql, Multi-AZ) in eu-west-1"
        ],
        "EC2 first, then RDS; one t3.micro"
    );
    // An instance's entry has no engine nor deployment: the file earlier releases wrote.
    let json: serde_json::Value = serde_json::from_str(&cache.to_json()).unwrap();
    assert_eq!(
        json["prices"][0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["service", "region", "size", "per_hour", "currency", "read_at"]
    );
    assert_eq!((&json["prices"][4]["engine"], &json["prices"][4]["deployment"]), (&"mysql".into(), &"Multi-AZ".into()));
    let week = std::time::Duration::from_secs(7 * 86_400);
    let t3 = cache.get(&ec2("eu-west-1", "t3.micro")).unwrap();
    assert_eq!(t3.price(), Some(usd("0.0104")));
    assert!(t3.fresh(t("11-11 23:59"), week) && !t3.fresh(t("11-12 00:00"), week));
    assert_eq!(cache.get(&ec2("eu-west-1", "t9.none")).unwrap().price(), None);
    assert!(cache.get(&ec2("us-east-1", "t3.micro")).is_none());
    // What to ask: what has no answer, or one older than the refresh.
    let want = [
        ec2("eu-west-1", "t3.micro"),
        ec2("eu-west-1", "m5.large"),
        mysql.clone(),
        ec2("eu-west-1", "t9.none"),
        ec2("us-east-1", "t3.micro"),
    ];
    assert_eq!(cache.to_ask(&want, t("11-07 00:00"), week), [ec2("us-east-1", "t3.micro")]);
    assert_eq!(
        cache.to_ask(&want, t("11-09 00:00"), week),
        [ec2("eu-west-1", "m5.large"), mysql.clone(), ec2("eu-west-1", "t9.none"), ec2("us-east-1", "t3.micro")]
    );
    let mut prices = Prices::new("USD");
    cache.apply(&mut prices);
    let lookup = |prices: &Prices, product: &ApiProduct| prices.lookup(product.region(), Some(product.size()), Some(product));
    assert_eq!(lookup(&prices, &ec2("eu-west-1", "t3.micro")), Some((rate("0.0104"), PriceSource::Api)));
    assert_eq!(lookup(&prices, &mysql), Some((rate("0.018"), PriceSource::Api)));
    assert_eq!(lookup(&prices, &mysql_multi), Some((rate("0.036"), PriceSource::Api)));
    assert_eq!(lookup(&prices, &rds("eu-west-1", "db.t3.micro", "postgres", Deployment::SingleAz)), None);
    let mut eur = Prices::new("EUR");
    cache.apply(&mut eur);
    assert_eq!(lookup(&eur, &ec2("eu-west-1", "t3.micro")), None, "USD prices are not EUR prices");
    // An entry this offhours does not know (an RDS price without its engine) is not used.
    let unknown = PriceCache::from_json(
        r#"{"prices":[{"service":"AmazonRDS","region":"eu-west-1","size":"db.t3.micro","per_hour":"0.018","currency":"USD","read_at":"2026-11-01T00:00:00Z"}]}"#,
    )
    .unwrap();
    assert_eq!(unknown.prices[0].product(), None);
    let mut prices = Prices::new("USD");
    unknown.apply(&mut prices);
    assert_eq!(prices, Prices::new("USD"));
    let savings = crate::config::Savings {
        prices: [("t3.micro".to_string(), 0.01), ("eu-west-1:m5.large".to_string(), 0.1)].into(),
        ..Default::default()
    };
    let daemon = Prices::of(&savings, &cache);
    assert_eq!(lookup(&daemon, &ec2("eu-west-1", "t3.micro")), Some((rate("0.01"), PriceSource::File)), "the file's first");
    assert_eq!(lookup(&daemon, &ec2("eu-west-1", "m5.large")), Some((rate("0.1"), PriceSource::File)));
    assert_eq!(lookup(&Prices::of(&Default::default(), &cache), &ec2("eu-west-1", "m5.large")), Some((rate("0.107"), PriceSource::Api)));
    assert_eq!(lookup(&daemon, &mysql), Some((rate("0.018"), PriceSource::Api)), "the daemon's figures price databases too");
    assert!(PriceCache::from_json("{").is_err());
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
