use super::*;

fn tz(name: &str) -> Tz {
    name.parse().expect("known timezone")
}

fn instant(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).expect("rfc3339").with_timezone(&Utc)
}

fn show(zone: &Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(zone).to_rfc3339()
}

/// The next `expect.len()` fires of `cron` in `zone` after `from` are exactly `expect`,
/// and walking back from each one finds the one before it.
#[track_caller]
fn check_fires(cron: &str, zone: &str, from: &str, expect: &[&str]) {
    check_fires_skipping(cron, zone, &[], from, expect)
}

#[track_caller]
fn check_fires_skipping(cron: &str, zone: &str, skip: &[&str], from: &str, expect: &[&str]) {
    let zone = tz(zone);
    let skip = skip.iter().map(|d| d.parse().expect("date")).collect();
    let trigger = Trigger::new(CronExpr::parse(cron).expect("cron parses"), zone).with_skip_dates(skip);
    let got: Vec<String> = trigger.upcoming(instant(from), expect.len()).into_iter().map(|t| show(&zone, t)).collect();
    assert_eq!(got, expect, "{cron} in {zone} after {from}");
    for pair in got.windows(2) {
        let later = instant(&pair[1]);
        let back = trigger.last_at_or_before(later - TimeDelta::seconds(1));
        assert_eq!(back.map(|t| show(&zone, t)).as_deref(), Some(pair[0].as_str()), "{cron}: walking back from {}", pair[1]);
        assert_eq!(trigger.last_at_or_before(later).map(|t| show(&zone, t)).as_deref(), Some(pair[1].as_str()));
    }
}

#[test]
fn berlin_spring_forward() {
    // 2026-03-29 02:00 CET -> 03:00 CEST: 02:00-02:59 do not exist.
    let z = "Europe/Berlin";
    check_fires(
        "30 2 * * *",
        z,
        "2026-03-28T00:00:00+01:00",
        &["2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"],
    );
    check_fires("30 1 * * *", z, "2026-03-28T12:00:00+01:00", &["2026-03-29T01:30:00+01:00", "2026-03-30T01:30:00+02:00"]);
    check_fires(
        "0 * * * *",
        z,
        "2026-03-29T00:30:00+01:00",
        &["2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"],
    );
    check_fires(
        "*/15 * * * *",
        z,
        "2026-03-29T01:30:00+01:00",
        &["2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:15:00+02:00"],
    );
    check_fires(
        "0 1-3 * * *",
        z,
        "2026-03-29T00:00:00+01:00",
        &["2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T01:00:00+02:00"],
    );
    check_fires("15 0,2,23 * * *", z, "2026-03-29T00:30:00+01:00", &["2026-03-29T03:00:00+02:00", "2026-03-29T23:15:00+02:00"]);
}

#[test]
fn berlin_fall_back() {
    // 2026-10-25 03:00 CEST -> 02:00 CET: 02:00-02:59 happen twice.
    let z = "Europe/Berlin";
    check_fires("30 2 * * *", z, "2026-10-24T12:00:00+02:00", &["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]);
    check_fires("30 1 * * *", z, "2026-10-24T12:00:00+02:00", &["2026-10-25T01:30:00+02:00", "2026-10-26T01:30:00+01:00"]);
    check_fires(
        "0 * * * *",
        z,
        "2026-10-25T01:30:00+02:00",
        &["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00"],
    );
    check_fires(
        "*/15 * * * *",
        z,
        "2026-10-25T02:30:00+02:00",
        &["2026-10-25T02:45:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T02:15:00+01:00"],
    );
    check_fires(
        "0 1-3 * * *",
        z,
        "2026-10-25T00:00:00+02:00",
        &["2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00", "2026-10-25T03:00:00+01:00", "2026-10-26T01:00:00+01:00"],
    );
}

#[test]
fn new_york_spring_forward() {
    // 2026-03-08 02:00 EST -> 03:00 EDT.
    let z = "America/New_York";
    check_fires("30 2 * * *", z, "2026-03-07T12:00:00-05:00", &["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]);
    check_fires("30 1 * * *", z, "2026-03-07T12:00:00-05:00", &["2026-03-08T01:30:00-05:00", "2026-03-09T01:30:00-04:00"]);
    check_fires("0 * * * *", z, "2026-03-08T00:30:00-05:00", &["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"]);
    check_fires("*/15 * * * *", z, "2026-03-08T01:40:00-05:00", &["2026-03-08T01:45:00-05:00", "2026-03-08T03:00:00-04:00"]);
    check_fires(
        "0 1-3 * * *",
        z,
        "2026-03-08T00:00:00-05:00",
        &["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T01:00:00-04:00"],
    );
}

#[test]
fn new_york_fall_back() {
    // 2026-11-01 02:00 EDT -> 01:00 EST: 01:00-01:59 happen twice.
    let z = "America/New_York";
    check_fires("30 2 * * *", z, "2026-10-31T12:00:00-04:00", &["2026-11-01T02:30:00-05:00", "2026-11-02T02:30:00-05:00"]);
    check_fires("30 1 * * *", z, "2026-10-31T12:00:00-04:00", &["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]);
    check_fires(
        "0 * * * *",
        z,
        "2026-11-01T00:30:00-04:00",
        &["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"],
    );
    check_fires(
        "*/15 * * * *",
        z,
        "2026-11-01T01:40:00-04:00",
        &["2026-11-01T01:45:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T01:15:00-05:00"],
    );
    check_fires(
        "0 1-3 * * *",
        z,
        "2026-11-01T00:00:00-04:00",
        &["2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"],
    );
    // From inside the second pass, the first pass's 01:30 is history.
    check_fires("30 1 * * *", z, "2026-11-01T01:10:00-05:00", &["2026-11-02T01:30:00-05:00"]);
}

#[test]
fn sydney_southern_hemisphere() {
    // 2026-04-05 03:00 AEDT -> 02:00 AEST; 2026-10-04 02:00 AEST -> 03:00 AEDT.
    let z = "Australia/Sydney";
    check_fires("30 2 * * *", z, "2026-04-04T12:00:00+11:00", &["2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00"]);
    check_fires(
        "0 * * * *",
        z,
        "2026-04-05T01:30:00+11:00",
        &["2026-04-05T02:00:00+11:00", "2026-04-05T02:00:00+10:00", "2026-04-05T03:00:00+10:00"],
    );
    check_fires(
        "0 1-3 * * *",
        z,
        "2026-04-05T00:00:00+11:00",
        &["2026-04-05T01:00:00+11:00", "2026-04-05T02:00:00+11:00", "2026-04-05T03:00:00+10:00"],
    );
    check_fires("30 2 * * *", z, "2026-10-03T12:00:00+10:00", &["2026-10-04T03:00:00+11:00", "2026-10-05T02:30:00+11:00"]);
    check_fires("30 1 * * *", z, "2026-10-03T12:00:00+10:00", &["2026-10-04T01:30:00+10:00", "2026-10-05T01:30:00+11:00"]);
    check_fires("*/15 * * * *", z, "2026-10-04T01:40:00+10:00", &["2026-10-04T01:45:00+10:00", "2026-10-04T03:00:00+11:00"]);
    check_fires(
        "0 1-3 * * *",
        z,
        "2026-10-04T00:00:00+10:00",
        &["2026-10-04T01:00:00+10:00", "2026-10-04T03:00:00+11:00", "2026-10-05T01:00:00+11:00"],
    );
}

#[test]
fn zones_without_dst() {
    check_fires("30 2 * * *", "Asia/Kolkata", "2026-03-28T12:00:00+05:30", &["2026-03-29T02:30:00+05:30", "2026-03-30T02:30:00+05:30"]);
    check_fires(
        "0 1-3 * * *",
        "Asia/Kolkata",
        "2026-10-25T00:00:00+05:30",
        &["2026-10-25T01:00:00+05:30", "2026-10-25T02:00:00+05:30", "2026-10-25T03:00:00+05:30"],
    );
    check_fires("*/15 * * * *", "Asia/Kolkata", "2026-11-01T01:40:00+05:30", &["2026-11-01T01:45:00+05:30", "2026-11-01T02:00:00+05:30"]);
    check_fires("30 2 * * *", "UTC", "2026-03-28T12:00:00+00:00", &["2026-03-29T02:30:00+00:00", "2026-03-30T02:30:00+00:00"]);
    check_fires(
        "0 * * * *",
        "UTC",
        "2026-10-25T00:30:00+00:00",
        &["2026-10-25T01:00:00+00:00", "2026-10-25T02:00:00+00:00", "2026-10-25T03:00:00+00:00"],
    );
}

/// crontab(5): "If either field begins with an asterisk, the command is run only on
/// days that match both; otherwise, on days that match either". Every pair of the
/// issue's forms, against a day-by-day evaluation of the rule over a year.
#[test]
fn the_star_rule_of_crontab_5() {
    use chrono::{Datelike, NaiveDate};
    type Pred = fn(NaiveDate) -> bool;
    let doms: [(&str, Pred); 4] =
        [("*", |_| true), ("*/5", |d| (d.day() - 1) % 5 == 0), ("1-31", |_| true), ("1,15", |d| d.day() == 1 || d.day() == 15)];
    let dows: [(&str, Pred); 4] = [
        ("*", |_| true),
        ("MON", |d| d.weekday() == chrono::Weekday::Mon),
        ("*/2", |d| d.weekday().num_days_from_sunday() % 2 == 0),
        ("1-5", |d| d.weekday().num_days_from_sunday() >= 1 && d.weekday().num_days_from_sunday() <= 5),
    ];
    let zone = tz("UTC");
    for (dom, dom_ok) in doms {
        for (dow, dow_ok) in dows {
            let cron = CronExpr::parse(&format!("0 9 {dom} * {dow}")).unwrap();
            let starred = dom.starts_with('*') || dow.starts_with('*');
            let rule = if dom == "*" || dow == "*" {
                None
            } else if starred {
                Some(DayRule::Both)
            } else {
                Some(DayRule::Either)
            };
            assert_eq!(cron.day_rule(), rule, "{dom} {dow}");
            let fires_on = |d: NaiveDate| if starred { dom_ok(d) && dow_ok(d) } else { dom_ok(d) || dow_ok(d) };
            let trigger = Trigger::new(cron, zone);
            let got: Vec<NaiveDate> = trigger
                .fires_between(instant("2026-01-01T00:00:00Z"), instant("2027-01-01T00:00:00Z"))
                .iter()
                .map(|t| t.date_naive())
                .collect();
            let want: Vec<NaiveDate> = NaiveDate::from_ymd_opt(2026, 1, 1)
                .unwrap()
                .iter_days()
                .take_while(|d| d.year() == 2026)
                .filter(|d| fires_on(*d))
                .collect();
            assert_eq!(got, want, "{dom} {dow}");
        }
    }
    // The case, with the L, W and # forms: a starred field makes both required.
    let first = |cron: &str, zone: &str, from: &str| {
        Trigger::new(CronExpr::parse(cron).unwrap(), tz(zone)).next_after(instant(from)).map(|t| show(&tz(zone), t))
    };
    assert_eq!(first("0 1 */5 */2 SAT,SUN", "America/Sao_Paulo", "2026-03-28T20:00:00Z").as_deref(), Some("2026-05-16T01:00:00-03:00"));
    assert_eq!(CronExpr::parse("0 0 L * FRI").unwrap().day_rule(), Some(DayRule::Either));
    assert_eq!(CronExpr::parse("0 0 */2 * 5#3").unwrap().day_rule(), Some(DayRule::Both));
    assert_eq!(CronExpr::parse("0 0 15W * *").unwrap().day_rule(), None);
    assert_eq!(CronExpr::parse("0 0 0 */5 * SAT,SUN").unwrap().day_rule(), Some(DayRule::Both), "six fields");
}

#[test]
fn day_of_month_or_day_of_week() {
    check_fires(
        "0 8 1 * MON",
        "Europe/Berlin",
        "2026-06-30T00:00:00+02:00",
        &[
            "2026-07-01T08:00:00+02:00",
            "2026-07-06T08:00:00+02:00",
            "2026-07-13T08:00:00+02:00",
            "2026-07-20T08:00:00+02:00",
            "2026-07-27T08:00:00+02:00",
            "2026-08-01T08:00:00+02:00",
            "2026-08-03T08:00:00+02:00",
        ],
    );
}

#[test]
fn syntax_variants() {
    let z = "UTC";
    let from = "2026-01-01T00:00:00+00:00";
    check_fires("@daily", z, from, &["2026-01-02T00:00:00+00:00"]);
    check_fires("@hourly", z, from, &["2026-01-01T01:00:00+00:00"]);
    check_fires("@weekly", z, from, &["2026-01-04T00:00:00+00:00"]);
    check_fires(
        "30 8 * JAN-MAR mon-fri",
        z,
        from,
        &["2026-01-01T08:30:00+00:00", "2026-01-02T08:30:00+00:00", "2026-01-05T08:30:00+00:00"],
    );
    check_fires("0 9-17/4 * * *", z, from, &["2026-01-01T09:00:00+00:00", "2026-01-01T13:00:00+00:00", "2026-01-01T17:00:00+00:00"]);
    check_fires("*/20 * * * * *", z, from, &["2026-01-01T00:00:20+00:00", "2026-01-01T00:00:40+00:00", "2026-01-01T00:01:00+00:00"]);
    check_fires("0 0 L * *", z, from, &["2026-01-31T00:00:00+00:00", "2026-02-28T00:00:00+00:00"]);
}

#[test]
fn skip_dates_silence_whole_local_days() {
    check_fires_skipping(
        "30 8 * * MON-FRI",
        "Europe/Berlin",
        &["2026-12-24", "2026-12-25"],
        "2026-12-23T12:00:00+01:00",
        &["2026-12-28T08:30:00+01:00", "2026-12-29T08:30:00+01:00"],
    );
    check_fires_skipping("0 */6 * * *", "America/New_York", &["2026-07-04"], "2026-07-03T19:00:00-04:00", &["2026-07-05T00:00:00-04:00"]);
    check_fires_skipping(
        "*/30 * * * * *",
        "UTC",
        &["2026-01-01"],
        "2025-12-31T23:59:00+00:00",
        &["2025-12-31T23:59:30+00:00", "2026-01-02T00:00:00+00:00"],
    );
}

/// Over a whole year in zones with 30-minute and 1-hour shifts in both hemispheres:
/// a fixed-time daily job fires exactly once on every local date, at its wall-clock
/// time or, where that does not exist, at the end of the gap; fires strictly increase.
#[test]
fn fixed_time_jobs_fire_once_per_day_everywhere() {
    let zones = [
        "Europe/Berlin",
        "America/New_York",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "America/Santiago",
        "Pacific/Chatham",
        "UTC",
    ];
    for zone in zones {
        let z = tz(zone);
        for (h, m) in [(0, 0), (0, 30), (1, 30), (2, 0), (2, 30), (3, 0), (23, 59)] {
            let trigger = Trigger::new(CronExpr::parse(&format!("{m} {h} * * *")).unwrap(), z);
            let fires = trigger.fires_between(instant("2026-01-01T00:00:00Z"), instant("2027-01-01T00:00:00Z"));
            let mut dates: Vec<NaiveDate> = fires.iter().map(|t| t.with_timezone(&z).date_naive()).collect();
            assert!(fires.windows(2).all(|w| w[0] < w[1]), "{zone} {h}:{m}: not increasing");
            dates.dedup();
            assert_eq!(dates.len(), fires.len(), "{zone} {h:02}:{m:02}: two fires on one local date");
            assert!((364..=366).contains(&fires.len()), "{zone} {h:02}:{m:02}: {} fires", fires.len());
            for t in &fires {
                let local = t.with_timezone(&z).naive_local();
                let wanted = local.date().and_hms_opt(h, m, 0).unwrap();
                assert!(
                    local == wanted || (local > wanted && z.from_local_datetime(&wanted).single().is_none()),
                    "{zone}: {local} for {h:02}:{m:02}"
                );
            }
            // Walking backwards meets the same fires.
            let mut back = Vec::new();
            let mut at = instant("2027-01-01T00:00:00Z");
            while let Some(t) = trigger.last_at_or_before(at) {
                if t <= instant("2026-01-01T00:00:00Z") {
                    break;
                }
                back.push(t);
                at = t - TimeDelta::seconds(1);
            }
            back.reverse();
            assert_eq!(back, fires, "{zone} {h:02}:{m:02} backwards");
        }
    }
}

/// An hourly job fires at every real hour: 23 on a spring-forward day, 25 on a
/// fall-back day, and every fire is an exact hour boundary of real time.
#[test]
fn hourly_jobs_follow_the_wall_clock() {
    for (zone, spring, fall) in [("Europe/Berlin", "2026-03-29", "2026-10-25"), ("America/New_York", "2026-03-08", "2026-11-01")] {
        let z = tz(zone);
        let trigger = Trigger::new(CronExpr::parse("0 * * * *").unwrap(), z);
        for (day, count) in [(spring, 23), (fall, 25)] {
            let date: NaiveDate = day.parse().unwrap();
            let start = first_instant_at_or_after(&z, date.and_hms_opt(0, 0, 0).unwrap());
            let end = first_instant_at_or_after(&z, date.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap());
            let fires = trigger.fires_between(start - TimeDelta::seconds(1), end - TimeDelta::seconds(1));
            assert_eq!(fires.len(), count, "{zone} {day}");
            assert!(fires.windows(2).all(|w| w[1] - w[0] == TimeDelta::hours(1)), "{zone} {day}");
        }
    }
}

#[track_caller]
fn check_parse_error(expr: &str, expect: &str) {
    let err = CronExpr::parse(expr).expect_err(expr);
    assert_eq!(err.to_string(), expect, "{expr}");
}

#[test]
fn parse_errors_name_the_field() {
    check_parse_error("0 25 * * *", "hour field `25`: number out of bounds");
    check_parse_error("61 8 * * *", "minute field `61`: number out of bounds");
    check_parse_error("0 8 * * FUNDAY", "day-of-week field `FUNDAY`: unknown name or character");
    check_parse_error("0 8 * 13 *", "month field `13`: number out of bounds");
    check_parse_error("0 8 32 * *", "day-of-month field `32`: number out of bounds");
    check_parse_error("0 8 * *", "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, found 4");
    check_parse_error("", "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, found 0");
    check_parse_error("@fortnightly", "`@fortnightly` is not a valid cron expression");
    check_parse_error("0 0 30 2 *", "never fires (no matching date exists)");
    check_parse_error("70 0 8 * * *", "second field `70`: number out of bounds");
}

#[test]
fn a_quiet_window_silences_the_cron_and_extra_instants_fire_besides_it() {
    let tz = chrono_tz::Europe::Berlin;
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    // Kept on from Saturday 10 July to Tuesday 20 July 2027 included (local days).
    let window = Window { from: at("2027-07-10T00:00:00+02:00"), to: at("2027-07-21T00:00:00+02:00") };
    let stop = Trigger::new(CronExpr::parse("0 19 * * *").unwrap(), tz).with_exceptions(vec![window], BTreeSet::new());
    let start = Trigger::new(CronExpr::parse("0 8 * * MON-FRI").unwrap(), tz).with_exceptions(Vec::new(), [window.from].into());
    // (trigger, instant, next fire after it, last fire at or before it)
    let cases = [
        (&stop, "2027-07-09T18:00:00+02:00", "2027-07-09T19:00:00+02:00", "2027-07-08T19:00:00+02:00"),
        (&stop, "2027-07-09T20:00:00+02:00", "2027-07-21T19:00:00+02:00", "2027-07-09T19:00:00+02:00"),
        (&stop, "2027-07-15T12:00:00+02:00", "2027-07-21T19:00:00+02:00", "2027-07-09T19:00:00+02:00"),
        (&stop, "2027-07-21T20:00:00+02:00", "2027-07-22T19:00:00+02:00", "2027-07-21T19:00:00+02:00"),
        // The start fires at the window's start (a Saturday, when its cron does not).
        (&start, "2027-07-09T20:00:00+02:00", "2027-07-10T00:00:00+02:00", "2027-07-09T08:00:00+02:00"),
        (&start, "2027-07-10T12:00:00+02:00", "2027-07-12T08:00:00+02:00", "2027-07-10T00:00:00+02:00"),
        (&start, "2027-07-12T09:00:00+02:00", "2027-07-13T08:00:00+02:00", "2027-07-12T08:00:00+02:00"),
    ];
    for (trigger, instant, next, last) in cases {
        assert_eq!(trigger.next_after(at(instant)), Some(at(next)), "next after {instant}");
        assert_eq!(trigger.last_at_or_before(at(instant)), Some(at(last)), "last at or before {instant}");
    }
    assert_eq!(stop.fires_between(at("2027-07-09T00:00:00+02:00"), at("2027-07-22T00:00:00+02:00")).len(), 2, "the 9th and the 21st");
}
