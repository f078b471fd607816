use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc, Weekday};
use chrono_tz::Europe::Berlin;

use super::pattern::{LeftOut, Settings};
use super::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

const SETTINGS: Settings = Settings { timezone: Berlin, margin_hours: 1, min_weeks: 2 };

/// `days` of hours from `since`, each as `state` says of its local weekday and hour.
fn hours(since: &str, days: i64, state: impl Fn(Weekday, u32) -> Option<bool>) -> Hours {
    let since = at(since);
    (0..days * 24)
        .map(|i| {
            let t = since + TimeDelta::hours(i);
            let local = t.with_timezone(&Berlin);
            (t, state(local.weekday(), local.hour()))
        })
        .collect()
}

fn weekday(d: Weekday) -> bool {
    !matches!(d, Weekday::Sat | Weekday::Sun)
}

/// Busy Monday to Friday 08:00-18:00 local.
fn office(d: Weekday, h: u32) -> Option<bool> {
    Some(!(weekday(d) && (8..18).contains(&h)))
}

#[test]
fn weekly_patterns_become_crons_or_a_reason() {
    // (case, hours, the crons or why not)
    type Want = Result<(&'static str, &'static str, u32), LeftOut>;
    let cases: Vec<(&str, Hours, Want)> = vec![
        ("office hours", hours("2026-11-01T23:00:00Z", 14, office), Ok(("0 7 * * MON-FRI", "0 19 * * MON-FRI", 168 - 5 * 12))),
        ("a 24/7 server", hours("2026-11-01T23:00:00Z", 14, |_, _| Some(false)), Err(LeftOut::AlwaysBusy)),
        (
            "a batch machine 01-03",
            hours("2026-11-01T23:00:00Z", 14, |_, h| Some(!(1..3).contains(&h))),
            Ok(("0 0 * * *", "0 4 * * *", 168 - 7 * 4)),
        ),
        (
            "a database with evening connections",
            hours("2026-11-01T23:00:00Z", 14, |d, h| Some(!(weekday(d) && (19..23).contains(&h)))),
            Ok(("0 18 * * MON-FRI", "0 0 * * TUE-SAT", 168 - 5 * 6)),
        ),
        (
            "a week of missing data",
            {
                let mut h = hours("2026-11-01T23:00:00Z", 14, office);
                h.values_mut().skip(7 * 24).for_each(|v| *v = None);
                h
            },
            Err(LeftOut::NotEnoughData { weekday: Weekday::Mon, hour: 0 }),
        ),
        (
            "busy at scattered hours",
            hours("2026-11-01T23:00:00Z", 14, |d, h| Some(!(d == Weekday::Tue && (h == 1 || h == 22)))),
            Err(LeftOut::Irregular),
        ),
        ("never busy", hours("2026-11-01T23:00:00Z", 14, |_, _| Some(true)), Err(LeftOut::AlwaysIdle)),
        (
            "weekends never read",
            hours("2026-11-01T23:00:00Z", 14, |d, h| if weekday(d) { office(d, h) } else { None }),
            Err(LeftOut::NotEnoughData { weekday: Weekday::Sat, hour: 0 }),
        ),
        // A week with the spring-forward Sunday (29 March 2026 in Berlin) and one with the
        // autumn Sunday (25 October): the same hours as any other week.
        (
            "office hours over the spring change",
            hours("2026-03-22T23:00:00Z", 14, office),
            Ok(("0 7 * * MON-FRI", "0 19 * * MON-FRI", 108)),
        ),
        (
            "office hours over the autumn change",
            hours("2026-10-18T22:00:00Z", 15, office),
            Ok(("0 7 * * MON-FRI", "0 19 * * MON-FRI", 108)),
        ),
        (
            "a night job over the spring change",
            hours("2026-03-22T23:00:00Z", 14, |_, h| Some(!(3..5).contains(&h))),
            Ok(("0 2 * * *", "0 6 * * *", 168 - 7 * 4)),
        ),
    ];
    for (case, hours, want) in cases {
        let got = find(&hours, &SETTINGS).map(|p| (p.start, p.stop, p.hours_off_per_week));
        let want = want.map(|(a, b, n)| (a.to_string(), b.to_string(), n));
        assert_eq!(got, want, "{case}");
        if let Ok((start, stop, _)) = &got {
            assert!(crate::schedule::CronExpr::parse(start).is_ok() && crate::schedule::CronExpr::parse(stop).is_ok(), "{case}");
        }
    }
}

#[test]
fn tagging_goes_through_the_same_brake_as_an_action() {
    let counts = |pairs: &[(&str, usize)]| pairs.iter().map(|(a, n)| (a.to_string(), *n)).collect::<BTreeMap<_, _>>();
    // (resources by account, per-account limit, overall limit, refused?)
    let cases = [
        (counts(&[("111", 50), ("222", 50)]), 50, 0, None),
        (counts(&[("111", 51)]), 50, 0, Some("would tag 51 resources in account 111, more than max_instances_per_action = 50")),
        (counts(&[("111", 51)]), 0, 0, None),
        (counts(&[("111", 40), ("222", 40)]), 50, 60, Some("would tag 80 resources, more than max_instances_per_action_total = 60")),
    ];
    for (per_account, limit, total, want) in cases {
        assert_eq!(over_brake(&per_account, limit, total).as_deref(), want, "{per_account:?}");
    }
}

#[test]
fn a_schedule_is_named_by_its_days_and_hours() {
    assert_eq!(name("0 7 * * MON-FRI", "0 19 * * MON-FRI"), "mon-fri-07-19");
    assert_eq!(name("0 0 * * *", "0 4 * * *"), "daily-00-04");
    assert_eq!(name("0 18 * * MON,WED", "0 0 * * TUE,THU"), "mon+wed-18-00");
}

#[test]
fn a_schedule_in_use_is_held_against_the_data() {
    use crate::schedule::{CronExpr, Trigger, Triggers};
    let hours = hours("2026-11-01T23:00:00Z", 14, office);
    let trigger = |cron: &str| Trigger::new(CronExpr::parse(cron).unwrap(), Berlin);
    let (start, early_stop, stop) = (trigger("0 7 * * MON-FRI"), trigger("0 17 * * MON-FRI"), trigger("0 19 * * MON-FRI"));
    assert_eq!(pattern::busy_hours_off(Triggers { start: Some(&start), stop: Some(&stop) }, &hours), 0);
    // Stopping at 17:00 cuts the last busy hour of each of the 10 weekdays.
    assert_eq!(pattern::busy_hours_off(Triggers { start: Some(&start), stop: Some(&early_stop) }, &hours), 10);
}

#[test]
fn one_week_is_enough_when_asked_and_the_margin_widens_the_hours() {
    let one_week = hours("2026-11-01T23:00:00Z", 7, office);
    assert!(matches!(find(&one_week, &SETTINGS), Err(LeftOut::NotEnoughData { .. })), "2 of 2 weeks by default");
    let p = find(&one_week, &Settings { min_weeks: 1, ..SETTINGS }).unwrap();
    assert_eq!((p.start.as_str(), p.stop.as_str()), ("0 7 * * MON-FRI", "0 19 * * MON-FRI"));
    let p = find(&hours("2026-11-01T23:00:00Z", 14, office), &Settings { margin_hours: 0, ..SETTINGS }).unwrap();
    assert_eq!((p.start.as_str(), p.stop.as_str(), p.hours_off_per_week), ("0 8 * * MON-FRI", "0 18 * * MON-FRI", 168 - 50));
    assert_eq!(p.idle_hours_per_week, 168 - 50);
}

#[test]
fn an_hour_is_idle_only_when_every_metric_was_read_and_under_its_threshold() {
    let h = at("2026-11-02T10:00:00Z");
    let series =
        |pairs: &[(Measure, f64)]| -> Series { pairs.iter().map(|(m, v)| (*m, BTreeMap::from([(h, *v)]))).collect::<BTreeMap<_, _>>() };
    let t = Thresholds::default();
    // (values, idle?)
    type Values<'a> = &'a [(Measure, f64)];
    let cases: [(Values, Option<bool>); 8] = [
        (&[(Measure::Cpu, 2.0), (Measure::Network, 1e6)], Some(true)),
        (&[(Measure::Cpu, 7.0), (Measure::Network, 1e6)], Some(false)),
        (&[(Measure::Cpu, 2.0), (Measure::Network, 6e6)], Some(false)),
        (&[(Measure::Cpu, 2.0), (Measure::Connections, 0.0)], Some(true)),
        (&[(Measure::Cpu, 2.0), (Measure::Connections, 1.0)], Some(false)),
        // A group without instances in service is idle, whatever else was read.
        (&[(Measure::InService, 0.0)], Some(true)),
        (&[(Measure::InService, 2.0), (Measure::Cpu, 30.0)], Some(false)),
        (&[], None),
    ];
    for (values, want) in cases {
        assert_eq!(idle_at(&series(values), h, &t), want, "{values:?}");
    }
    // One metric missing: unknown, never idle; busy wins over missing.
    let mut partial = series(&[(Measure::Cpu, 2.0)]);
    partial.insert(Measure::Network, BTreeMap::new());
    assert_eq!(idle_at(&partial, h, &t), None);
    partial.insert(Measure::Cpu, BTreeMap::from([(h, 90.0)]));
    assert_eq!(idle_at(&partial, h, &t), Some(false));
}
