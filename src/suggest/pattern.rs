//! A resource's weekly pattern, in local time: for each weekday and local hour, busy if
//! it was busy in any observed week, idle if idle in at least `min_weeks` of them, else
//! unknown. Busy hours give each weekday an on-window; the union over the busy weekdays,
//! widened by the margin, becomes one start and one stop cron; wholly idle weekdays
//! (weekends) stay off. Local hours make a DST week no different from another: the
//! hour skipped in spring does not exist and counts as idle, the hour repeated in
//! autumn is busy if either of its two was.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::offset::LocalResult;
use chrono::{Datelike, NaiveDate, TimeDelta, TimeZone, Timelike};
use chrono_tz::Tz;

use super::Hours;
use crate::model::Action;
use crate::schedule::{CronExpr, Trigger, Triggers};

/// How the pattern is read (`[suggest]` and the command line).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub timezone: Tz,
    /// Hours kept on before the first busy hour and after the last.
    pub margin_hours: u32,
    /// Of how many observed weeks an hour must have been idle to count as idle.
    pub min_weeks: u32,
}

/// A resource's suggested schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// Cron expressions (5 fields, local time), as a schedule in the file has them.
    pub start: String,
    pub stop: String,
    /// Hours a week the schedule keeps the resource off.
    pub hours_off_per_week: u32,
    /// Hours of the week the data shows idle.
    pub idle_hours_per_week: u32,
}

/// Why a resource gets no schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeftOut {
    /// Some hour the schedule would have it off was idle in too few weeks, or not read.
    NotEnoughData { weekday: chrono::Weekday, hour: u32 },
    /// Busy at every hour a schedule could keep it off.
    AlwaysBusy,
    /// Busy here and there over the day: the hours off would be too few to count.
    Irregular,
    /// Never busy in the window: a schedule would keep it off for good.
    AlwaysIdle,
    /// The crons made would stop it during an hour the data shows busy (a check of
    /// the suggestion against the data; not expected).
    WouldStopWhileBusy { hours: usize },
}

impl fmt::Display for LeftOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeftOut::NotEnoughData { weekday, hour } => {
                write!(f, "not enough data: {weekday} {hour:02}:00 was idle in too few of the weeks read, or not read")
            }
            LeftOut::AlwaysBusy => f.write_str("always busy"),
            LeftOut::Irregular => f.write_str("busy at irregular hours"),
            LeftOut::AlwaysIdle => f.write_str("idle in every hour read: no start needed (stop it, or delete it)"),
            LeftOut::WouldStopWhileBusy { hours } => write!(f, "the schedule found would stop it during {hours} busy hours"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Busy,
    Idle,
    Unknown,
}

/// Each local date's 24 local hours as observed (`None`: not in the window, or an hour
/// the date does not have).
fn by_local_date(hours: &Hours, tz: Tz) -> BTreeMap<NaiveDate, [Option<Slot>; 24]> {
    let mut out: BTreeMap<NaiveDate, [Option<Slot>; 24]> = BTreeMap::new();
    for (at, idle) in hours {
        let local = at.with_timezone(&tz);
        let slot = match idle {
            Some(true) => Slot::Idle,
            Some(false) => Slot::Busy,
            None => Slot::Unknown,
        };
        let cell = &mut out.entry(local.date_naive()).or_insert([None; 24])[local.hour() as usize];
        // The hour repeated in autumn: busy beats unknown beats idle.
        *cell = Some(match (*cell, slot) {
            (Some(Slot::Busy), _) | (_, Slot::Busy) => Slot::Busy,
            (Some(Slot::Unknown), _) | (_, Slot::Unknown) => Slot::Unknown,
            _ => Slot::Idle,
        });
    }
    out
}

/// Whether local `hour` exists on `date` (not the hour skipped in spring).
fn exists(tz: Tz, date: NaiveDate, hour: u32) -> bool {
    let Some(t) = date.and_hms_opt(hour, 0, 0) else { return false };
    !matches!(tz.from_local_datetime(&t), LocalResult::None)
}

/// The week as 7 × 24 slots (Monday first), from every observed date.
fn week(hours: &Hours, s: &Settings) -> [[Slot; 24]; 7] {
    let mut busy = [[false; 24]; 7];
    let mut idle_weeks = [[0u32; 24]; 7];
    for (date, slots) in by_local_date(hours, s.timezone) {
        let day = date.weekday().num_days_from_monday() as usize;
        for (h, slot) in slots.iter().enumerate() {
            match slot {
                Some(Slot::Busy) => busy[day][h] = true,
                Some(Slot::Idle) => idle_weeks[day][h] += 1,
                // An hour the date does not have is idle on it (nothing ran).
                None if !exists(s.timezone, date, h as u32) => idle_weeks[day][h] += 1,
                _ => {}
            }
        }
    }
    let mut out = [[Slot::Unknown; 24]; 7];
    for day in 0..7 {
        for h in 0..24 {
            out[day][h] = if busy[day][h] {
                Slot::Busy
            } else if idle_weeks[day][h] >= s.min_weeks.max(1) {
                Slot::Idle
            } else {
                Slot::Unknown
            };
        }
    }
    out
}

/// A weekday's on-window: its first and last busy hour; `None` for a day wholly idle.
fn window(day: usize, slots: &[Slot; 24]) -> Result<Option<(u32, u32)>, LeftOut> {
    let busy: Vec<u32> = (0..24).filter(|h| slots[*h as usize] == Slot::Busy).collect();
    let weekday = chrono::Weekday::try_from(day as u8).unwrap_or(chrono::Weekday::Mon);
    let (first, last) = match (busy.first(), busy.last()) {
        (Some(f), Some(l)) => (*f, *l),
        _ => (24, 0),
    };
    // Outside the busy hours every hour must be known idle.
    if let Some(h) = (0..24u32).find(|h| (*h < first || *h > last) && slots[*h as usize] == Slot::Unknown) {
        return Err(LeftOut::NotEnoughData { weekday, hour: h });
    }
    Ok(busy.first().map(|_| (first, last)))
}

/// Day-of-week field: `*`, or runs such as `MON-FRI` (Sunday on its own: `SAT,SUN`).
fn days_field(days: &BTreeSet<usize>) -> String {
    const NAMES: [&str; 7] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
    if days.len() == 7 {
        return "*".to_string();
    }
    let mut parts = Vec::new();
    let mut run: Option<(usize, usize)> = None;
    for d in 0..7 {
        let joins = days.contains(&d) && d != 6;
        match (&mut run, joins) {
            (Some((_, end)), true) if *end + 1 == d => *end = d,
            _ => {
                if let Some((a, b)) = run.take() {
                    parts.push(if a == b { NAMES[a].to_string() } else { format!("{}-{}", NAMES[a], NAMES[b]) });
                }
                run = joins.then_some((d, d));
            }
        }
    }
    if let Some((a, b)) = run {
        parts.push(if a == b { NAMES[a].to_string() } else { format!("{}-{}", NAMES[a], NAMES[b]) });
    }
    if days.contains(&6) {
        parts.push("SUN".to_string());
    }
    parts.join(",")
}

/// Weekdays moved by `by` days (-1 or +1).
fn shifted(days: &BTreeSet<usize>, by: i32) -> BTreeSet<usize> {
    days.iter().map(|d| (*d as i32 + by).rem_euclid(7) as usize).collect()
}

/// The busy hours the crons would have the resource off during.
fn stops_while_busy(start: &str, stop: &str, tz: Tz, hours: &Hours) -> usize {
    let (Ok(start), Ok(stop)) = (CronExpr::parse(start), CronExpr::parse(stop)) else { return usize::MAX };
    let (start, stop) = (Trigger::new(start, tz), Trigger::new(stop, tz));
    busy_hours_off(Triggers { start: Some(&start), stop: Some(&stop) }, hours)
}

/// The hours the data shows busy during which `triggers` (a schedule's) had the
/// resource off: what a schedule in use costs in the window.
pub fn busy_hours_off(triggers: Triggers<'_>, hours: &Hours) -> usize {
    hours
        .iter()
        .filter(|(_, idle)| **idle == Some(false))
        .filter(|(at, _)| triggers.last_fire(**at + TimeDelta::minutes(30)).is_some_and(|f| f.action == Action::Stop))
        .count()
}

/// The schedule for a resource's hours (each idle, busy or unknown), or why there is
/// none.
pub fn find(hours: &Hours, s: &Settings) -> Result<Pattern, LeftOut> {
    let week = week(hours, s);
    let mut active = BTreeSet::new();
    let (mut first, mut last) = (24u32, 0u32);
    for (day, slots) in week.iter().enumerate() {
        if let Some((f, l)) = window(day, slots)? {
            active.insert(day);
            (first, last) = (first.min(f), last.max(l));
        }
    }
    if active.is_empty() {
        return Err(LeftOut::AlwaysIdle);
    }
    let margin = s.margin_hours as i32;
    let (start_h, stop_h) = (first as i32 - margin, last as i32 + 1 + margin);
    let on = (stop_h - start_h) as u32;
    if on >= 24 {
        let busy = active.iter().map(|d| week[*d].iter().filter(|s| **s == Slot::Busy).count()).sum::<usize>();
        return Err(if busy * 2 >= active.len() * 24 { LeftOut::AlwaysBusy } else { LeftOut::Irregular });
    }
    let start_days = if start_h < 0 { shifted(&active, -1) } else { active.clone() };
    let stop_days = if stop_h >= 24 { shifted(&active, 1) } else { active.clone() };
    let start = format!("0 {} * * {}", start_h.rem_euclid(24), days_field(&start_days));
    let stop = format!("0 {} * * {}", stop_h.rem_euclid(24), days_field(&stop_days));
    let wrong = stops_while_busy(&start, &stop, s.timezone, hours);
    if wrong > 0 {
        return Err(LeftOut::WouldStopWhileBusy { hours: wrong });
    }
    let idle = week.iter().flatten().filter(|s| **s == Slot::Idle).count() as u32;
    Ok(Pattern { start, stop, hours_off_per_week: 168 - active.len() as u32 * on, idle_hours_per_week: idle })
}
