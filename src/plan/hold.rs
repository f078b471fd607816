//! Holds: a schedule's exception set from the command line (`offhours hold`) and kept
//! in the state backend, so that every replica sees it. A hold is bound into its
//! schedule exactly like an exception of the file; inside its window it wins over the
//! file's exceptions. Pure: `now` is an argument.

use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::config::{Config, Exception, Keep, Schedule};
use crate::schedule::{Window, first_instant_at_or_after};

/// One schedule's hold (at most one each: a new one replaces it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub schedule: String,
    pub keep: Keep,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who set it (user@host), for the log, notices and the status page.
    pub set_by: String,
    pub set_at: DateTime<Utc>,
}

impl Hold {
    pub fn window(&self) -> Window {
        Window { from: self.from, to: self.until }
    }

    /// Whether it still has an effect at `now` (an expired hold is as if cleared).
    pub fn live(&self, now: DateTime<Utc>) -> bool {
        self.until > now
    }

    /// "on until 2027-07-20T00:00:00+02:00", in the schedule's timezone.
    pub fn describe(&self, tz: Tz) -> String {
        let t = |at: DateTime<Utc>| at.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::Secs, false);
        let keep = match self.keep {
            Keep::On => "on",
            Keep::Off => "off",
        };
        format!("{keep} from {} until {}", t(self.from), t(self.until))
    }
}

/// Why a stored hold cannot be bound into the running file (it stays stored).
pub fn unfit(config: &Config, hold: &Hold) -> Option<String> {
    match config.schedules.iter().find(|s| s.name == hold.schedule) {
        None => Some(format!("schedule {} is not in the file", hold.schedule)),
        Some(s) if hold.keep == Keep::Off && s.start.is_none() => {
            Some(format!("schedules.{} has no `start`: a hold that keeps it off has nothing to hold", s.name))
        }
        Some(_) => None,
    }
}

/// `config` with every live hold that fits bound into its schedule.
pub fn apply(config: &Config, holds: &[Hold], now: DateTime<Utc>) -> Config {
    let mut out = config.clone();
    for hold in holds.iter().filter(|h| h.live(now) && unfit(config, h).is_none()) {
        if let Some(s) = out.schedules.iter_mut().find(|s| s.name == hold.schedule) {
            bind(s, hold);
        }
    }
    out
}

/// The hold's window cut out of the file's exceptions, the hold added, and the
/// schedule's triggers bound again.
fn bind(schedule: &mut Schedule, hold: &Hold) {
    let cut = hold.window();
    let mut kept: Vec<Exception> = Vec::new();
    for e in schedule.exceptions.drain(..) {
        kept.extend(subtract(e.window, cut).into_iter().map(|window| Exception { window, ..e.clone() }));
    }
    kept.push(Exception { window: cut, keep: hold.keep, reason: hold.reason.clone(), held_by: Some(hold.set_by.clone()) });
    kept.sort_by_key(|e| e.window.from);
    schedule.exceptions = kept;
    schedule.bind_exceptions();
}

/// What is left of `w` outside `cut`: none, one or two windows.
fn subtract(w: Window, cut: Window) -> Vec<Window> {
    if cut.to <= w.from || w.to <= cut.from {
        return vec![w];
    }
    let before = Window { from: w.from, to: cut.from };
    let after = Window { from: cut.to, to: w.to };
    [before, after].into_iter().filter(|p| p.from < p.to).collect()
}

/// A hold's time from the command line, in the schedule's timezone: a date (its first
/// moment; as an end, the next day's: a date covers its whole day), a local time
/// (`21:00`, `2027-07-10 08:00`) or an RFC 3339 instant.
pub fn parse_time(text: &str, now: DateTime<Utc>, tz: Tz, end: bool) -> Result<DateTime<Utc>, String> {
    match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        Ok(d) => {
            let d = if end { d.succ_opt().ok_or_else(|| format!("`{text}` is out of range"))? } else { d };
            Ok(first_instant_at_or_after(&tz, d.and_time(NaiveTime::MIN)))
        }
        Err(_) => super::snooze::parse_until(text, now, tz),
    }
}

/// A new hold from the command's arguments, checked against the file.
pub fn new_hold(config: &Config, args: HoldArgs<'_>, now: DateTime<Utc>) -> Result<Hold, String> {
    let schedule = config
        .schedules
        .iter()
        .find(|s| s.name == args.schedule)
        .ok_or_else(|| format!("schedule {} is not in the file (it has: {})", args.schedule, names(config)))?;
    let tz = schedule.timezone;
    let from = match args.from {
        Some(text) => parse_time(text, now, tz, false).map_err(|e| format!("--from: {e}"))?,
        None => now,
    };
    let until = parse_time(args.until, now, tz, true).map_err(|e| format!("--until: {e}"))?;
    if until <= from {
        return Err(format!("--until {} is not after --from", args.until));
    }
    if until <= now {
        return Err(format!("--until: `{}` is in the past", args.until));
    }
    let hold = Hold {
        schedule: schedule.name.clone(),
        keep: args.keep,
        from,
        until,
        reason: args.reason.map(str::to_string),
        set_by: args.set_by.to_string(),
        set_at: now,
    };
    match unfit(config, &hold) {
        Some(why) => Err(why),
        None => Ok(hold),
    }
}

fn names(config: &Config) -> String {
    let names: Vec<&str> = config.schedules.iter().map(|s| s.name.as_str()).collect();
    if names.is_empty() { "no schedules".into() } else { names.join(", ") }
}

/// What `offhours hold SCHEDULE --on|--off` was given.
pub struct HoldArgs<'a> {
    pub schedule: &'a str,
    pub keep: Keep,
    pub from: Option<&'a str>,
    pub until: &'a str,
    pub reason: Option<&'a str>,
    pub set_by: &'a str,
}

/// How the live holds changed between two readings of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Set(Hold),
    /// Set again with other times or another reason.
    Replaced(Hold),
    Cleared(Hold),
    Expired(Hold),
}

/// The changes from `old` (live at the last reading) to `new` (stored now), at `now`.
pub fn changes(old: &[Hold], new: &[Hold], now: DateTime<Utc>) -> Vec<Change> {
    let live: Vec<&Hold> = new.iter().filter(|h| h.live(now)).collect();
    let mut out = Vec::new();
    for h in &live {
        match old.iter().find(|o| o.schedule == h.schedule) {
            None => out.push(Change::Set((*h).clone())),
            Some(o) if o != *h => out.push(Change::Replaced((*h).clone())),
            Some(_) => {}
        }
    }
    for o in old.iter().filter(|o| !live.iter().any(|h| h.schedule == o.schedule)) {
        out.push(if o.live(now) { Change::Cleared(o.clone()) } else { Change::Expired(o.clone()) });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn config(extra: &str) -> Config {
        let text = format!(
            "timezone = \"Europe/Berlin\"\nregions = [\"eu-west-1\"]\n[schedules.qa]\nstart = \"0 8 * * MON-FRI\"\nstop = \"0 19 * * MON-FRI\"\n{extra}\n[schedules.nightly]\nstop = \"0 22 * * *\"\n"
        );
        crate::config::from_str(&text, "t.toml", &crate::config::HostTimezone::fixed(chrono_tz::Europe::Berlin)).expect("valid")
    }

    fn hold(schedule: &str, keep: Keep, from: &str, until: &str) -> Hold {
        Hold {
            schedule: schedule.into(),
            keep,
            from: at(from),
            until: at(until),
            reason: Some("release".into()),
            set_by: "ops@host".into(),
            set_at: at(from),
        }
    }

    fn qa(c: &Config) -> &Schedule {
        c.schedules.iter().find(|s| s.name == "qa").unwrap()
    }

    #[test]
    fn a_hold_kept_on_silences_stops_and_starts_at_its_start() {
        let now = at("2026-12-04T12:00:00Z");
        let h = hold("qa", Keep::On, "2026-12-04T12:00:00Z", "2026-12-08T23:00:00Z");
        let c = apply(&config(""), &[h], now);
        let t = qa(&c).triggers();
        assert_eq!(t.start.unwrap().next_after(at("2026-12-04T11:00:00Z")), Some(at("2026-12-04T12:00:00Z")), "the hold's start");
        assert_eq!(t.stop.unwrap().next_after(now), Some(at("2026-12-09T18:00:00Z")), "no stop until the hold ends");
        assert_eq!(qa(&c).exceptions[0].held_by.as_deref(), Some("ops@host"));
    }

    #[test]
    fn an_expired_or_unfit_hold_changes_nothing() {
        let base = config("");
        let cases = [
            ("expired", hold("qa", Keep::On, "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"), None),
            (
                "unknown schedule",
                hold("gone", Keep::On, "2026-12-04T00:00:00Z", "2026-12-09T00:00:00Z"),
                Some("schedule gone is not in the file"),
            ),
            (
                "off without start",
                hold("nightly", Keep::Off, "2026-12-04T00:00:00Z", "2026-12-09T00:00:00Z"),
                Some("schedules.nightly has no `start`: a hold that keeps it off has nothing to hold"),
            ),
        ];
        for (name, h, why) in cases {
            assert_eq!(unfit(&base, &h).as_deref(), why, "{name}");
            assert_eq!(apply(&base, &[h], at("2026-12-04T12:00:00Z")), base, "{name}");
        }
    }

    #[test]
    fn a_hold_wins_over_the_files_exceptions_inside_its_window() {
        let file = "[[schedules.qa.exceptions]]\nfrom = \"2026-12-01\"\nto = \"2026-12-20\"\nkeep = \"off\"\n";
        let h = hold("qa", Keep::On, "2026-12-07T07:00:00Z", "2026-12-10T23:00:00Z");
        let c = apply(&config(file), &[h], at("2026-12-04T12:00:00Z"));
        let windows: Vec<(Keep, String, String)> =
            qa(&c).exceptions.iter().map(|e| (e.keep, e.window.from.to_rfc3339(), e.window.to.to_rfc3339())).collect();
        assert_eq!(
            windows,
            [
                (Keep::Off, "2026-11-30T23:00:00+00:00".into(), "2026-12-07T07:00:00+00:00".into()),
                (Keep::On, "2026-12-07T07:00:00+00:00".into(), "2026-12-10T23:00:00+00:00".into()),
                (Keep::Off, "2026-12-10T23:00:00+00:00".into(), "2026-12-20T23:00:00+00:00".into()),
            ]
        );
        let start = qa(&c).start.clone().unwrap();
        assert_eq!(start.next_after(at("2026-12-04T00:00:00Z")), Some(at("2026-12-07T07:00:00Z")), "held on starts at once");
        assert_eq!(start.next_after(at("2026-12-07T07:00:00Z")), Some(at("2026-12-08T07:00:00Z")), "then every morning");
        assert_eq!(start.next_after(at("2026-12-10T07:00:00Z")), Some(at("2026-12-21T07:00:00Z")), "off again after the hold");
    }

    #[test]
    fn times_from_the_command_line() {
        let now = at("2026-12-04T12:00:00Z");
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let cases = [
            ("2026-12-10", false, Ok("2026-12-09T23:00:00+00:00")),
            ("2026-12-10", true, Ok("2026-12-10T23:00:00+00:00")),
            ("2026-12-10 08:00", true, Ok("2026-12-10T07:00:00+00:00")),
            ("2026-12-10T08:00:00Z", true, Ok("2026-12-10T08:00:00+00:00")),
            ("21:00", true, Ok("2026-12-04T20:00:00+00:00")),
            ("2026-12-03T08:00:00Z", true, Err("is in the past")),
            ("next week", true, Err("is not a time")),
        ];
        for (text, end, want) in cases {
            let got = parse_time(text, now, tz, end).map(|t| t.to_rfc3339());
            match want {
                Ok(w) => assert_eq!(got.as_deref(), Ok(w), "{text}"),
                Err(part) => assert!(got.as_ref().is_err_and(|e| e.contains(part)), "{text}: {got:?}"),
            }
        }
    }

    #[test]
    fn a_new_hold_is_checked_against_the_file() {
        let c = config("");
        let now = at("2026-12-04T12:00:00Z");
        let args = |schedule, keep, from, until| HoldArgs { schedule, keep, from, until, reason: None, set_by: "me@here" };
        let ok = new_hold(&c, args("qa", Keep::Off, None, "2026-12-06"), now).unwrap();
        assert_eq!((ok.from, ok.until), (now, at("2026-12-06T23:00:00Z")));
        let cases = [
            (args("nope", Keep::On, None, "2026-12-06"), "schedule nope is not in the file (it has: nightly, qa)"),
            (args("nightly", Keep::Off, None, "2026-12-06"), "schedules.nightly has no `start`"),
            (args("qa", Keep::On, Some("2026-12-07"), "2026-12-06"), "--until 2026-12-06 is not after --from"),
            (args("qa", Keep::On, None, "soon"), "--until: `soon` is not a time"),
            (args("qa", Keep::On, Some("2026-12-01"), "2026-12-02"), "--until: `2026-12-02` is in the past"),
        ];
        for (a, want) in cases {
            let name = a.schedule;
            let err = new_hold(&c, a, now).unwrap_err();
            assert!(err.starts_with(want), "{name}: {err}");
        }
    }

    #[test]
    fn changes_between_two_readings() {
        let now = at("2026-12-04T12:00:00Z");
        let a = hold("qa", Keep::On, "2026-12-04T00:00:00Z", "2026-12-09T00:00:00Z");
        let b = hold("nightly", Keep::On, "2026-12-01T00:00:00Z", "2026-12-04T11:00:00Z");
        let a2 = Hold { until: at("2026-12-10T00:00:00Z"), ..a.clone() };
        type Case = (&'static str, Vec<Hold>, Vec<Hold>, Vec<Change>);
        let cases: Vec<Case> = vec![
            ("nothing", vec![a.clone()], vec![a.clone()], vec![]),
            ("set", vec![], vec![a.clone()], vec![Change::Set(a.clone())]),
            ("replaced", vec![a.clone()], vec![a2.clone()], vec![Change::Replaced(a2.clone())]),
            ("cleared", vec![a.clone()], vec![], vec![Change::Cleared(a.clone())]),
            ("expired, still stored", vec![b.clone()], vec![b.clone()], vec![Change::Expired(b.clone())]),
        ];
        for (name, old, new, want) in cases {
            assert_eq!(changes(&old, &new, now), want, "{name}");
        }
    }
}
