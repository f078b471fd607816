//! A schedule's week as on and off periods, and its picture for the status page (inline
//! SVG). Pure: `now` is an argument, nothing here reads a clock.
//!
//! The week starts at the local Monday 00:00 of the week containing `now`, in the
//! schedule's timezone. Periods are real-time ranges; each day row maps them to the
//! local wall clock (0-24 h), so a spring-forward day shows its missing hour as a gap
//! and a fall-back day draws its repeated hour twice, the first pass in the upper half
//! of the bar and the second in the lower half.

use std::fmt::Write;

use chrono::{DateTime, Datelike, Days, NaiveDate, Offset, TimeDelta, Utc};
use chrono_tz::Tz;

use super::html::escape;
use crate::config::Schedule;
use crate::model::Action;
use crate::schedule::Fire;
use crate::schedule::first_instant_at_or_after;

/// Fires are followed one by one unless more than this many fall in one [`SLOT`]: such a
/// stretch is drawn as [`State::Mixed`] (a schedule firing every few seconds would
/// otherwise cost hundreds of thousands of cron steps and rectangles a week).
const MAX_FIRES_PER_SLOT: usize = 2;
const SLOT_SECS: i64 = 600;

/// What the schedule leaves its resources in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    On,
    Off,
    /// No fire before: the schedule has not said yet.
    Unknown,
    /// Fires more often than every few minutes: on and off in quick turns.
    Mixed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::On => "on",
            State::Off => "off",
            State::Unknown => "unknown",
            State::Mixed => "mixed",
        }
    }

    fn after(action: Action) -> State {
        match action {
            Action::Start => State::On,
            Action::Stop => State::Off,
        }
    }
}

/// One stretch of real time in one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub state: State,
}

/// Part of a day with one UTC offset, and how it maps to the day's wall clock.
#[derive(Debug, Clone, PartialEq)]
struct Piece {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// Seconds to add to a Unix time to get the local date's wall-clock seconds.
    shift: f64,
    /// From this wall-clock second on, the piece shares the wall clock with the next
    /// one (the first pass of a repeated hour): drawn in the upper half.
    top_from: Option<f64>,
    /// Until this wall-clock second, the piece shares the wall clock with the previous
    /// one (the second pass of a repeated hour): drawn in the lower half.
    bottom_until: Option<f64>,
}

impl Piece {
    fn wall(&self, t: DateTime<Utc>) -> f64 {
        t.timestamp_millis() as f64 / 1000.0 + self.shift
    }
}

/// One local day of the week.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// A skip date: no fire this local day, the state carries over.
    pub skip: bool,
    /// What a calendar says of it (`CALENDAR: SUMMARY`), when a calendar makes it one.
    pub holiday: Option<String>,
    pieces: Vec<Piece>,
    /// Wall-clock ranges (seconds) that do not exist this day (clocks went forward).
    gaps: Vec<(f64, f64)>,
}

impl Day {
    fn new(tz: &Tz, date: NaiveDate, skip: bool) -> Day {
        let midnight = |d: NaiveDate| first_instant_at_or_after(tz, d.and_hms_opt(0, 0, 0).expect("midnight exists"));
        let start = midnight(date);
        let end = midnight(date.checked_add_days(Days::new(1)).expect("in range"));
        let date_secs = date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc().timestamp() as f64;
        let mut cuts = vec![start];
        while let Some(t) = next_transition(tz, *cuts.last().expect("not empty"), end) {
            cuts.push(t);
        }
        cuts.push(end);
        let mut pieces: Vec<Piece> = cuts
            .windows(2)
            .map(|w| Piece { from: w[0], to: w[1], shift: offset(tz, w[0]) as f64 - date_secs, top_from: None, bottom_until: None })
            .collect();
        let mut gaps = Vec::new();
        let first = pieces[0].wall(start);
        if first > 0.0 {
            gaps.push((0.0, first));
        }
        for i in 1..pieces.len() {
            let at = pieces[i].from;
            let (before, after) = (pieces[i - 1].wall(at), pieces[i].wall(at));
            if after > before {
                gaps.push((before, after));
            } else if after < before {
                pieces[i - 1].top_from = Some(after);
                pieces[i].bottom_until = Some(before);
            }
        }
        Day { date, start, end, skip, holiday: None, pieces, gaps }
    }

    /// Hours this day lasts (23 or 25 on a DST change).
    pub fn hours(&self) -> f64 {
        (self.end - self.start).num_seconds() as f64 / 3600.0
    }

    /// The row's label: `Mon 23 Nov`, with the day's length when it is not 24 h and a
    /// skip date marked.
    pub fn label(&self) -> String {
        let mut label = self.date.format("%a %-d %b").to_string();
        let hours = self.hours();
        if hours != 24.0 {
            let _ = write!(label, " ({hours} h)");
        }
        match (&self.holiday, self.skip) {
            (Some(h), _) => {
                let _ = write!(label, " (skip date: {h})");
            }
            (None, true) => label.push_str(" (skip date)"),
            (None, false) => {}
        }
        label
    }

    /// The row's label in the picture, shorter: `Sun 25 Oct · 25 h · skip`.
    fn short_label(&self) -> String {
        let mut label = self.date.format("%a %-d %b").to_string();
        let hours = self.hours();
        if hours != 24.0 {
            let _ = write!(label, " \u{b7} {hours} h");
        }
        if self.skip {
            label.push_str(" \u{b7} skip");
        }
        label
    }

    /// The wall-clock ranges `[from, to)` covers this day, with the lane each is drawn in.
    fn spans(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(f64, f64, Lane)> {
        let mut out = Vec::new();
        for p in &self.pieces {
            let (a, b) = (from.max(p.from), to.min(p.to));
            if a >= b {
                continue;
            }
            let (mut lo, hi) = (p.wall(a), p.wall(b));
            if let Some(until) = p.bottom_until
                && lo < until
            {
                out.push((lo, hi.min(until), Lane::Bottom));
                lo = until;
            }
            match p.top_from {
                Some(f) if hi > f => {
                    if lo < f {
                        out.push((lo, f, Lane::Full));
                    }
                    out.push((lo.max(f), hi, Lane::Top));
                }
                _ if lo < hi => out.push((lo, hi, Lane::Full)),
                _ => {}
            }
        }
        out
    }

    /// Local time of an instant of this day, as people read it: `08:00`, seconds when
    /// there are some, the zone's abbreviation on a DST-change day, `24:00` at its end.
    fn clock(&self, tz: &Tz, t: DateTime<Utc>) -> String {
        if t >= self.end {
            return "24:00".into();
        }
        let local = t.with_timezone(tz);
        let mut text = local.format(if local.timestamp() % 60 == 0 { "%H:%M" } else { "%H:%M:%S" }).to_string();
        if self.pieces.len() > 1 {
            let _ = write!(text, " {}", local.format("%Z"));
        }
        text
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    Full,
    Top,
    Bottom,
}

/// A schedule's week: its days and its periods.
#[derive(Debug, Clone, PartialEq)]
pub struct Week {
    pub tz: Tz,
    pub now: DateTime<Utc>,
    pub days: Vec<Day>,
    /// Consecutive, covering the week from its first day's start to its last day's end.
    pub periods: Vec<Period>,
}

/// The week containing `now` in the schedule's timezone.
pub fn week(schedule: &Schedule, now: DateTime<Utc>) -> Week {
    let tz = schedule.timezone;
    let today = now.with_timezone(&tz).date_naive();
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    let days: Vec<Day> = (0..7)
        .map(|i| {
            let date = monday + Days::new(i);
            let mut day = Day::new(&tz, date, schedule.skip_dates.contains(&date));
            day.holiday = schedule.holidays.get(&date).cloned();
            day
        })
        .collect();
    let periods = periods(schedule, days[0].start, days[6].end);
    Week { tz, now, days, periods }
}

/// The schedule's states over `[start, end)`: what the last fire before `start` left,
/// then each fire's (a stop wins over a start at the same instant, as in
/// `plan::last_fire`). Skip dates have no fires, so their state carries over.
pub fn periods(schedule: &Schedule, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<Period> {
    let before = |t: DateTime<Utc>| t - TimeDelta::nanoseconds(1);
    let triggers = schedule.triggers();
    let state_after = |t: DateTime<Utc>| triggers.last_fire(t).map_or(State::Unknown, |f| State::after(f.action));
    let mut out = Periods(Vec::new());
    let mut state = state_after(before(start));
    let mut cursor = start;
    let mut from = before(start);
    while let Some(first) = triggers.next_fire(from).filter(|f| f.at < end) {
        let slot = (first.at - start).num_seconds() / SLOT_SECS;
        let slot_end = (start + TimeDelta::seconds((slot + 1) * SLOT_SECS)).min(end);
        let fires: Vec<Fire> = std::iter::once(first).chain(triggers.fires(first.at, slot_end)).take(MAX_FIRES_PER_SLOT + 1).collect();
        if fires.len() <= MAX_FIRES_PER_SLOT {
            for f in &fires {
                out.push(cursor, f.at, state);
                state = State::after(f.action);
                cursor = f.at;
            }
            from = cursor;
        } else {
            out.push(cursor, first.at, state);
            out.push(first.at, slot_end, State::Mixed);
            state = state_after(before(slot_end));
            cursor = slot_end;
            from = before(slot_end);
        }
    }
    out.push(cursor, end, state);
    out.0
}

/// Periods being built: equal neighbours merge, and mixed stretches less than a slot
/// apart become one.
struct Periods(Vec<Period>);

impl Periods {
    fn push(&mut self, from: DateTime<Utc>, to: DateTime<Utc>, state: State) {
        if from >= to {
            return;
        }
        if state == State::Mixed
            && let Some(i) = self.0.iter().rposition(|p| p.state == State::Mixed)
            && (from - self.0[i].to).num_seconds() < SLOT_SECS
        {
            self.0.truncate(i + 1);
            self.0[i].to = to;
            return;
        }
        match self.0.last_mut() {
            Some(last) if last.state == state && last.to == from => last.to = to,
            _ => self.0.push(Period { from, to, state }),
        }
    }
}

impl Week {
    /// One line per day: its label, then each period that day in local time, e.g.
    /// `Mon 23 Nov: off 00:00-08:00, on 08:00-18:00, off 18:00-24:00`.
    pub fn summary(&self) -> Vec<String> {
        self.days
            .iter()
            .map(|day| {
                let parts: Vec<String> = self
                    .periods
                    .iter()
                    .filter(|p| p.from < day.end && p.to > day.start)
                    .map(|p| {
                        let (from, to) = (p.from.max(day.start), p.to.min(day.end));
                        format!("{} {}-{}", p.state.as_str(), day.clock(&self.tz, from), day.clock(&self.tz, to))
                    })
                    .collect();
                format!("{}: {}", day.label(), parts.join(", "))
            })
            .collect()
    }

    /// The picture: seven rows (Monday to Sunday), 0 to 24 h local time, on green, off
    /// grey, unknown light, mixed striped, skip dates hatched, a missing hour left blank
    /// and hatched, a red line at `now`. `id` makes the SVG's internal ids unique in the
    /// page; `title` names it for screen readers (escaped here).
    pub fn svg(&self, id: &str, title: &str) -> String {
        let height = ROWS_H + 24.0;
        let summary = self.summary();
        let mut s = String::new();
        let _ = write!(
            s,
            r##"<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}-t {id}-d" font-size="11">"##
        );
        let _ = write!(s, r#"<title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#, escape(title), escape(&summary.join("; ")));
        let _ = write!(
            s,
            concat!(
                r##"<defs><pattern id="{id}-mixed" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">"##,
                r##"<rect width="3" height="6" fill="#2da44e"/><rect x="3" width="3" height="6" fill="#8c959f"/></pattern>"##,
                r##"<pattern id="{id}-skip" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">"##,
                r##"<rect width="2" height="6" fill="#1f2328" fill-opacity="0.45"/></pattern>"##,
                r##"<pattern id="{id}-gap" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)">"##,
                r##"<rect width="4" height="4" fill="#ffffff"/><rect width="1" height="4" fill="#afb8c1"/></pattern></defs>"##
            ),
            id = id
        );
        svg_hours(&mut s);
        for (i, day) in self.days.iter().enumerate() {
            self.svg_day(&mut s, id, i, day, &summary[i]);
        }
        svg_legend(&mut s, id);
        s.push_str("</svg>");
        s
    }

    /// One day's row: its periods, DST gaps, a skip date's hatching, and now.
    fn svg_day(&self, s: &mut String, id: &str, i: usize, day: &Day, summary: &str) {
        let y = AXIS_H + i as f64 * ROW_STEP + (ROW_STEP - ROW_H) / 2.0;
        let today = day.start <= self.now && self.now < day.end;
        let weight = if today { r#" font-weight="bold""# } else { "" };
        let _ = write!(s, r##"<text x="0" y="{}" fill="#1f2328"{weight}>{}</text>"##, y + ROW_H - 4.0, escape(&day.short_label()));
        let _ = write!(s, r#"<g><title>{}</title>"#, escape(summary));
        let _ = write!(s, r#"<rect x="{}" y="{y}" width="{PLOT_W}" height="{ROW_H}" fill="{}"/>"#, x(0.0), fill(id, State::Unknown));
        for p in self.periods.iter().filter(|p| p.from < day.end && p.to > day.start) {
            for (a, b, lane) in day.spans(p.from, p.to) {
                let (ly, lh) = match lane {
                    Lane::Full => (y, ROW_H),
                    Lane::Top => (y, ROW_H / 2.0),
                    Lane::Bottom => (y + ROW_H / 2.0, ROW_H / 2.0),
                };
                let _ = write!(
                    s,
                    r#"<rect class="{}" x="{:.2}" y="{ly}" width="{:.2}" height="{lh}" fill="{}"/>"#,
                    p.state.as_str(),
                    x(a),
                    x(b) - x(a),
                    fill(id, p.state)
                );
            }
        }
        for &(a, b) in &day.gaps {
            let _ = write!(
                s,
                r#"<rect class="gap" x="{:.2}" y="{y}" width="{:.2}" height="{ROW_H}" fill="url(#{id}-gap)"/>"#,
                x(a),
                x(b) - x(a)
            );
        }
        if day.skip {
            let _ = write!(s, r#"<rect class="skip" x="{}" y="{y}" width="{PLOT_W}" height="{ROW_H}" fill="url(#{id}-skip)"/>"#, x(0.0));
        }
        s.push_str("</g>");
        if today && let Some(piece) = day.pieces.iter().find(|p| p.from <= self.now && self.now < p.to) {
            let nx = x(piece.wall(self.now));
            let _ = write!(
                s,
                r##"<line class="now" x1="{nx:.2}" y1="{}" x2="{nx:.2}" y2="{}" stroke="#cf222e" stroke-width="2"><title>now, {}</title></line>"##,
                y - 3.0,
                y + ROW_H + 3.0,
                day.clock(&self.tz, self.now)
            );
        }
    }
}

/// The timeline's picture: labels, the day's plot, the axis and the rows.
const LABEL_W: f64 = 140.0;
const PLOT_W: f64 = 672.0;
const AXIS_H: f64 = 20.0;
const ROW_H: f64 = 16.0;
const ROW_STEP: f64 = 22.0;
const WIDTH: f64 = LABEL_W + PLOT_W + 16.0;
const ROWS_H: f64 = AXIS_H + 7.0 * ROW_STEP;

/// Where a wall-clock second of the day is drawn.
fn x(wall: f64) -> f64 {
    LABEL_W + wall.clamp(0.0, 86_400.0) / 86_400.0 * PLOT_W
}

/// Hour ticks and labels.
fn svg_hours(s: &mut String) {
    for h in 0..=24 {
        let hx = x(f64::from(h) * 3600.0);
        let (top, stroke) = if h % 3 == 0 { (AXIS_H - 6.0, "#8c959f") } else { (AXIS_H - 3.0, "#d0d7de") };
        let _ = write!(s, r#"<line x1="{hx}" y1="{top}" x2="{hx}" y2="{ROWS_H}" stroke="{stroke}" stroke-width="0.5"/>"#);
        if h % 3 == 0 {
            let _ = write!(s, r##"<text x="{hx}" y="{}" text-anchor="middle" fill="#57606a">{h:02}</text>"##, AXIS_H - 8.0);
        }
    }
}

/// What the fills and the line mean.
fn svg_legend(s: &mut String, id: &str) {
    let ly = ROWS_H + 8.0;
    let mut lx = LABEL_W;
    for (state, text) in [
        (Some(State::On), "on"),
        (Some(State::Off), "off"),
        (Some(State::Unknown), "unknown (no fire yet)"),
        (Some(State::Mixed), "switching every few minutes"),
        (None, "skip date"),
    ] {
        let paint = state.map_or_else(|| format!("url(#{id}-skip)"), |st| fill(id, st));
        let _ = write!(
            s,
            r##"<rect x="{lx}" y="{ly}" width="12" height="10" fill="{paint}" stroke="#d0d7de" stroke-width="0.5"/><text x="{}" y="{}" fill="#57606a">{text}</text>"##,
            lx + 16.0,
            ly + 9.0
        );
        lx += 16.0 + text.len() as f64 * 6.0 + 14.0;
    }
    let _ = write!(
        s,
        r##"<line x1="{lx}" y1="{}" x2="{lx}" y2="{}" stroke="#cf222e" stroke-width="2"/><text x="{}" y="{}" fill="#57606a">now</text>"##,
        ly - 1.0,
        ly + 11.0,
        lx + 6.0,
        ly + 9.0
    );
}

fn fill(id: &str, state: State) -> String {
    match state {
        State::On => "#2da44e".into(),
        State::Off => "#8c959f".into(),
        State::Unknown => "#eaeef2".into(),
        State::Mixed => format!("url(#{id}-mixed)"),
    }
}

/// Seconds east of UTC at `t`.
fn offset(tz: &Tz, t: DateTime<Utc>) -> i64 {
    i64::from(t.with_timezone(tz).offset().fix().local_minus_utc())
}

/// The first instant in `(from, to)` whose UTC offset differs from `from`'s, if the
/// offset at the end differs (one change per call; offsets change on whole seconds).
fn next_transition(tz: &Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let at = |secs: i64| DateTime::from_timestamp(secs, 0).expect("in range");
    let o = offset(tz, from);
    let (mut lo, mut hi) = (from.timestamp(), to.timestamp() - 1);
    if hi <= lo || offset(tz, at(hi)) == o {
        return None;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if offset(tz, at(mid)) == o {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(at(hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{HostTimezone, from_str};

    fn schedule(body: &str) -> Schedule {
        let text = format!("timezone = \"Europe/Berlin\"\n[schedules.s]\n{body}\n");
        let config = from_str(&text, "t.toml", &HostTimezone::fixed(chrono_tz::UTC)).unwrap_or_else(|e| panic!("{e}"));
        config.schedules.into_iter().next().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// The week of `now` for the schedule (TOML body of `[schedules.s]`, Berlin unless
    /// it names a timezone) reads exactly `expect`, one line per day.
    #[track_caller]
    fn check(body: &str, now: &str, expect: &str) {
        let week = week(&schedule(body), at(now));
        let got = week.summary().join("\n");
        assert_eq!(got, expect.trim(), "\n{got}");
        // The periods cover the week without a hole.
        assert_eq!(week.periods.first().map(|p| p.from), Some(week.days[0].start));
        assert_eq!(week.periods.last().map(|p| p.to), Some(week.days[6].end));
        assert!(week.periods.windows(2).all(|w| w[0].to == w[1].from && w[0].state != w[1].state), "{:?}", week.periods);
    }

    const OFFICE: &str = "start = \"0 8 * * MON-FRI\"\nstop = \"0 18 * * MON-FRI\"";

    #[test]
    fn office_hours_in_an_ordinary_week() {
        check(
            OFFICE,
            "2026-11-25T12:00:00Z",
            "
Mon 23 Nov: off 00:00-08:00, on 08:00-18:00, off 18:00-24:00
Tue 24 Nov: off 00:00-08:00, on 08:00-18:00, off 18:00-24:00
Wed 25 Nov: off 00:00-08:00, on 08:00-18:00, off 18:00-24:00
Thu 26 Nov: off 00:00-08:00, on 08:00-18:00, off 18:00-24:00
Fri 27 Nov: off 00:00-08:00, on 08:00-18:00, off 18:00-24:00
Sat 28 Nov: off 00:00-24:00
Sun 29 Nov: off 00:00-24:00",
        );
    }

    #[test]
    fn the_week_is_the_local_one_from_monday_midnight() {
        // Sunday 23:30 in Berlin is Sunday 22:30 UTC: still the week of Monday 23 Nov.
        let week = week(&schedule(OFFICE), at("2026-11-29T22:30:00Z"));
        assert_eq!(week.days[0].date.to_string(), "2026-11-23");
        assert_eq!(week.days[0].start, at("2026-11-22T23:00:00Z"));
        // 23:30 UTC on Sunday is Monday 00:30 in Berlin: the next week.
        let week = super::week(&schedule(OFFICE), at("2026-11-29T23:30:00Z"));
        assert_eq!(week.days[0].date.to_string(), "2026-11-30");
        // A schedule in another zone counts in its own.
        let ny = super::week(&schedule(&format!("timezone = \"America/New_York\"\n{OFFICE}")), at("2026-11-30T03:00:00Z"));
        assert_eq!(ny.days[0].date.to_string(), "2026-11-23", "Sunday 22:00 in New York");
    }

    #[test]
    fn the_spring_forward_day_has_23_hours_and_a_moved_fire() {
        // 2026-03-29: 02:00 CET -> 03:00 CEST. The 02:30 stop fires at 03:00.
        check(
            "start = \"0 6 * * *\"\nstop = \"30 2 * * *\"",
            "2026-03-26T12:00:00Z",
            "
Mon 23 Mar: on 00:00-02:30, off 02:30-06:00, on 06:00-24:00
Tue 24 Mar: on 00:00-02:30, off 02:30-06:00, on 06:00-24:00
Wed 25 Mar: on 00:00-02:30, off 02:30-06:00, on 06:00-24:00
Thu 26 Mar: on 00:00-02:30, off 02:30-06:00, on 06:00-24:00
Fri 27 Mar: on 00:00-02:30, off 02:30-06:00, on 06:00-24:00
Sat 28 Mar: on 00:00-02:30, off 02:30-06:00, on 06:00-24:00
Sun 29 Mar (23 h): on 00:00 CET-03:00 CEST, off 03:00 CEST-06:00 CEST, on 06:00 CEST-24:00",
        );
    }

    #[test]
    fn the_fall_back_day_has_25_hours_and_fires_once() {
        // 2026-10-25: 03:00 CEST -> 02:00 CET. The 02:30 stop fires at the first 02:30.
        check(
            "start = \"0 6 * * *\"\nstop = \"30 2 * * *\"",
            "2026-10-25T20:00:00Z",
            "
Mon 19 Oct: on 00:00-02:30, off 02:30-06:00, on 06:00-24:00
Tue 20 Oct: on 00:00-02:30, off 02:30-06:00, on 06:00-24:00
Wed 21 Oct: on 00:00-02:30, off 02:30-06:00, on 06:00-24:00
Thu 22 Oct: on 00:00-02:30, off 02:30-06:00, on 06:00-24:00
Fri 23 Oct: on 00:00-02:30, off 02:30-06:00, on 06:00-24:00
Sat 24 Oct: on 00:00-02:30, off 02:30-06:00, on 06:00-24:00
Sun 25 Oct (25 h): on 00:00 CEST-02:30 CEST, off 02:30 CEST-06:00 CET, on 06:00 CET-24:00",
        );
    }

    #[test]
    fn an_hourly_job_runs_in_both_passes_of_the_repeated_hour() {
        // Wildcard hours follow the wall clock: 02:00 CEST and 02:00 CET both stop.
        let week = week(&schedule("stop = \"0 * * * *\"\nstart = \"30 * * * *\""), at("2026-10-25T12:00:00Z"));
        let sunday = &week.summary()[6];
        assert!(
            sunday.contains("on 01:30 CEST-02:00 CEST, off 02:00 CEST-02:30 CEST, on 02:30 CEST-02:00 CET, off 02:00 CET-02:30 CET"),
            "{sunday}"
        );
    }

    #[test]
    fn a_skip_date_has_no_fire_and_keeps_the_state() {
        check(
            &format!("{OFFICE}\nskip_dates = [2026-11-25, \"2026-11-27\"]"),
            "2026-11-23T12:00:00Z",
            "
Mon 23 Nov: off 00:00-08:00, on 08:00-18:00, off 18:00-24:00
Tue 24 Nov: off 00:00-08:00, on 08:00-18:00, off 18:00-24:00
Wed 25 Nov (skip date): off 00:00-24:00
Thu 26 Nov: off 00:00-08:00, on 08:00-18:00, off 18:00-24:00
Fri 27 Nov (skip date): off 00:00-24:00
Sat 28 Nov: off 00:00-24:00
Sun 29 Nov: off 00:00-24:00",
        );
        // A skipped stop leaves the resources on through the skip date.
        let week = week(&schedule("start = \"0 8 * * MON\"\nstop = \"0 18 * * *\"\nskip_dates = [2026-11-23]"), at("2026-11-23T12:00:00Z"));
        assert_eq!(week.summary()[0], "Mon 23 Nov (skip date): off 00:00-24:00");
        let week = super::week(
            &schedule("start = \"0 8 * * MON\"\nstop = \"0 18 * * WED\"\nskip_dates = [2026-11-25]"),
            at("2026-11-23T12:00:00Z"),
        );
        assert_eq!(week.summary()[2], "Wed 25 Nov (skip date): on 00:00-24:00");
        assert_eq!(week.summary()[6], "Sun 29 Nov: on 00:00-24:00");
    }

    #[test]
    fn one_trigger_only_and_ties() {
        // Stop only: off since the last stop, all week.
        check(
            "stop = \"0 22 * * *\"",
            "2026-11-23T12:00:00Z",
            "
Mon 23 Nov: off 00:00-24:00
Tue 24 Nov: off 00:00-24:00
Wed 25 Nov: off 00:00-24:00
Thu 26 Nov: off 00:00-24:00
Fri 27 Nov: off 00:00-24:00
Sat 28 Nov: off 00:00-24:00
Sun 29 Nov: off 00:00-24:00",
        );
        // Start and stop at the same instant: the stop wins, as in `plan::last_fire`.
        let week = week(&schedule("start = \"0 12 * * *\"\nstop = \"0 12 * * MON\""), at("2026-11-23T12:00:00Z"));
        assert_eq!(week.summary()[0], "Mon 23 Nov: on 00:00-12:00, off 12:00-24:00");
        assert_eq!(week.summary()[1], "Tue 24 Nov: off 00:00-12:00, on 12:00-24:00");
        let week = super::week(&schedule("start = \"0 12 * * TUE\"\nstop = \"0 12 * * *\""), at("2026-11-23T12:00:00Z"));
        assert_eq!(week.summary()[1], "Tue 24 Nov: off 00:00-24:00");
    }

    #[test]
    fn no_fire_before_the_week_is_unknown_and_seconds_are_shown() {
        let s = schedule(OFFICE);
        let none = Schedule { start: None, stop: None, ..s.clone() };
        assert_eq!(week(&none, at("2026-11-23T12:00:00Z")).summary()[0], "Mon 23 Nov: unknown 00:00-24:00");
        let start_only = schedule("start = \"15 30 8 * * MON\"");
        assert_eq!(week(&start_only, at("2026-11-23T12:00:00Z")).summary()[0], "Mon 23 Nov: on 00:00-24:00");
        let both = schedule("start = \"15 30 8 * * MON\"\nstop = \"0 9 * * MON\"");
        assert_eq!(
            week(&both, at("2026-11-23T12:00:00Z")).summary()[0],
            "Mon 23 Nov: off 00:00-08:30:15, on 08:30:15-09:00, off 09:00-24:00"
        );
    }

    #[test]
    fn fires_every_few_seconds_are_one_mixed_stretch_and_cheap() {
        let started = std::time::Instant::now();
        let week = week(&schedule("stop = \"*/3 * * * * *\"\nstart = \"1-59/3 * * * * *\""), at("2026-11-25T12:00:00Z"));
        assert_eq!(week.periods.len(), 1, "{:?}", &week.periods[..3.min(week.periods.len())]);
        assert_eq!(week.summary()[0], "Mon 23 Nov: mixed 00:00-24:00");
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
        // Busy in working hours only: mixed there, off the rest.
        let week = super::week(&schedule("start = \"*/2 * 8-17 * * MON\"\nstop = \"1-59/2 * 8-17 * * MON\""), at("2026-11-25T12:00:00Z"));
        assert_eq!(week.summary()[0], "Mon 23 Nov: off 00:00-08:00, mixed 08:00-18:00, off 18:00-24:00");
    }

    #[test]
    fn the_picture_has_seven_rows_a_now_line_and_the_dst_shapes() {
        let s = schedule("start = \"0 6 * * *\"\nstop = \"30 2 * * *\"");
        let svg = week(&s, at("2026-03-29T10:00:00Z")).svg("tl0", "Week of <s>");
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img" aria-labelledby="tl0-t tl0-d""#));
        assert!(svg.contains(r#"<title id="tl0-t">Week of &lt;s&gt;</title>"#), "the title is escaped");
        assert!(svg.contains("Sun 29 Mar (23 h): on 00:00 CET-03:00 CEST"), "the text summary is in the description");
        for day in ["Mon 23 Mar", "Tue 24 Mar", "Wed 25 Mar", "Thu 26 Mar", "Fri 27 Mar", "Sat 28 Mar", ">Sun 29 Mar \u{b7} 23 h<"] {
            assert!(svg.contains(day), "{day}");
        }
        assert_eq!(svg.matches(r#"class="now""#).count(), 1);
        // 10:00 UTC is 12:00 CEST: half way along the plot.
        assert!(svg.contains(r#"<line class="now" x1="476.00""#), "{svg}");
        // The missing hour: 02:00-03:00 on Sunday, 28 px wide.
        assert!(svg.contains(r#"<rect class="gap" x="196.00" y="155" width="28.00""#), "{svg}");
        assert_eq!(svg.matches(r#"class="gap""#).count(), 1);
        // Sunday's row label is bold (today).
        assert!(svg.contains(r#"font-weight="bold">Sun 29 Mar · 23 h<"#));

        // Fall back: the repeated hour 02:00-03:00 drawn in two lanes of 8 px.
        let svg = week(&s, at("2026-10-25T10:00:00Z")).svg("tl1", "t");
        assert!(svg.contains(r#"<rect class="on" x="196.00" y="155" width="14.00" height="8""#), "first pass, 02:00-02:30 on: {svg}");
        assert!(svg.contains(r#"<rect class="off" x="210.00" y="155" width="14.00" height="8""#), "first pass, 02:30-03:00 off");
        assert!(svg.contains(r#"<rect class="off" x="196.00" y="163" width="28.00" height="8""#), "second pass, off");
        assert!(!svg.contains(r#"class="gap""#));

        // Skip dates are hatched across the row.
        let s = schedule(&format!("{OFFICE}\nskip_dates = [2026-11-25]"));
        let svg = week(&s, at("2026-11-23T10:00:00Z")).svg("tl2", "t");
        assert_eq!(svg.matches(r#"<rect class="skip""#).count(), 1);
        assert!(svg.contains(">Wed 25 Nov \u{b7} skip<"));
        assert!(svg.contains("<title>Wed 25 Nov (skip date): off 00:00-24:00</title>"));
    }
}
