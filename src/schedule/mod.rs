//! Fire instants of a cron expression in an IANA timezone, with offhours' DST policy.
//! Pure: every function takes the instant it counts from; nothing here reads a clock.
//!
//! The cron crate (croner) only enumerates *wall-clock* times: it is run over naive
//! local times, and this module maps each wall-clock time to real instants:
//!
//! - a fixed-hour job (hour field not `*`): a time inside a spring-forward gap fires once
//!   at the first instant after the gap; a time that occurs twice fires at its first
//!   occurrence only; times that land on the same instant fire once;
//! - a wildcard-hour job (hour field `*` or `*/n`) follows the wall clock: it fires at
//!   every real instant whose local time matches, so an hourly job runs in both passes
//!   of a repeated hour and not at all in a skipped one.
//!
//! `skip_dates` suppress fires whose local date is listed.

mod fires;
pub mod ics;
pub mod tags;

use std::collections::BTreeSet;

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};

pub use fires::{Fire, Triggers};

/// The largest UTC-offset change a timezone makes at one transition, with margin.
/// (Real zones shift by 30 minutes to 2 hours.)
const TRANSITION_WINDOW: TimeDelta = TimeDelta::hours(3);

/// Expressions parsed so far, by their text: parsing is most of what loading a file of
/// a thousand schedules costs, files repeat the same few expressions, and a reload
/// parses again every expression it did not change. A memo of a pure function: the
/// same text always parses to the same expression.
fn parsed() -> &'static std::sync::Mutex<std::collections::HashMap<String, CronExpr>> {
    static PARSED: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, CronExpr>>> = std::sync::OnceLock::new();
    PARSED.get_or_init(Default::default)
}

/// Expressions the memo holds at most (it starts again when full).
const MEMO_SIZE: usize = 8192;

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub struct CronExpr {
    source: String,
    // Shared: a trigger, its jobs and the memo clone expressions often, and croner's
    // pattern is some hundreds of bytes in vectors.
    cron: std::sync::Arc<Cron>,
    follows_wall_clock: bool,
    day_rule: Option<DayRule>,
}

/// How a day is chosen when both day-of-month and day-of-week are given, as crontab(5)
/// says: "If either field begins with an asterisk, the command is run only on days
/// that match both; otherwise, on days that match either".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayRule {
    /// Neither field begins with `*`: a day matching either fires.
    Either,
    /// One begins with `*` but is not `*` alone (`*/5`): a day must match both.
    /// Before this release such an expression fired on days matching either: its
    /// meaning changed, and `check` says so (for one release).
    Both,
}

impl DayRule {
    /// The rule for these day-of-month and day-of-week fields; `None` when one of them
    /// is `*` (or `?`) alone, which leaves the other to choose.
    fn of(dom: &str, dow: &str) -> Option<DayRule> {
        let any = |f: &str| f == "*" || f == "?";
        let starred = |f: &str| f.starts_with('*') || f.starts_with('?');
        if any(dom) || any(dow) {
            None
        } else if starred(dom) || starred(dow) {
            Some(DayRule::Both)
        } else {
            Some(DayRule::Either)
        }
    }

    /// One line for `check`.
    pub fn describe(self) -> &'static str {
        match self {
            DayRule::Either => "days: a day matching either day-of-month or day-of-week fires (crontab(5): neither field begins with `*`)",
            DayRule::Both => "days: a day must match both day-of-month and day-of-week (crontab(5): a field begins with `*`)",
        }
    }
}

/// Why a cron expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error("expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, found {0}")]
    FieldCount(usize),
    #[error("{field} field `{value}`: {reason}")]
    Field { field: &'static str, value: String, reason: String },
    #[error("`{0}` is not a valid cron expression")]
    Invalid(String),
    #[error("never fires (no matching date exists)")]
    NeverFires,
}

const FIVE_FIELDS: [&str; 5] = ["minute", "hour", "day-of-month", "month", "day-of-week"];
const SIX_FIELDS: [&str; 6] = ["second", "minute", "hour", "day-of-month", "month", "day-of-week"];

fn expand_macro(expr: &str) -> Option<&'static str> {
    Some(match expr.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * SUN",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => return None,
    })
}

impl PartialEq for CronExpr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl CronExpr {
    /// Parses 5-field crontab syntax, or 6 fields with seconds first; names
    /// (`MON`, `JAN`), ranges, lists, steps and `@daily`-style macros. Both day fields
    /// follow crontab(5)'s rule ([`DayRule`]).
    pub fn parse(source: &str) -> Result<Self, CronError> {
        let source = source.trim();
        if let Some(known) = parsed().lock().expect("cron memo lock").get(source) {
            return Ok(known.clone());
        }
        let expr = Self::parse_new(source)?;
        let mut memo = parsed().lock().expect("cron memo lock");
        if memo.len() >= MEMO_SIZE {
            memo.clear();
        }
        memo.insert(source.to_string(), expr.clone());
        Ok(expr)
    }

    fn parse_new(source: &str) -> Result<Self, CronError> {
        let expanded = match expand_macro(source) {
            Some(m) => m,
            None if source.starts_with('@') => return Err(CronError::Invalid(source.into())),
            None => source,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        let names: &[&str] = match fields.len() {
            5 => &FIVE_FIELDS,
            6 => &SIX_FIELDS,
            n => return Err(CronError::FieldCount(n)),
        };
        let (dom, dow) = (fields[names.len() - 3], fields[names.len() - 1]);
        let day_rule = DayRule::of(dom, dow);
        let both = day_rule == Some(DayRule::Both);
        let parser = CronParser::builder().seconds(Seconds::Optional).dom_and_dow(both).build();
        let cron = match parser.parse(expanded) {
            Ok(cron) => cron,
            Err(_) => {
                // croner names no field in its errors: parse each field alone, with the
                // others wildcarded, to say which one is wrong. Only on failure: parsing is
                // most of what loading a file of a thousand schedules costs.
                for (i, value) in fields.iter().enumerate() {
                    let probe: Vec<&str> = (0..fields.len()).map(|j| if j == i { *value } else { "*" }).collect();
                    if let Err(e) = parser.parse(&probe.join(" ")) {
                        return Err(CronError::Field { field: names[i], value: (*value).to_string(), reason: describe_croner_error(&e) });
                    }
                }
                return Err(CronError::Invalid(source.into()));
            }
        };
        let hour = fields[names.iter().position(|n| *n == "hour").expect("hour field")];
        let expr =
            CronExpr { source: source.to_string(), cron: std::sync::Arc::new(cron), follows_wall_clock: hour.starts_with('*'), day_rule };
        // A pattern such as `0 0 30 2 *` parses but matches no date at all.
        let probe_from = NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).expect("valid date");
        if expr.cron.find_next_occurrence(&probe_from, false).is_err() {
            return Err(CronError::NeverFires);
        }
        Ok(expr)
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// How a day is chosen when both day fields are given; `None` otherwise.
    pub fn day_rule(&self) -> Option<DayRule> {
        self.day_rule
    }

    /// True when the hour field is a wildcard: such jobs follow the wall clock.
    pub fn follows_wall_clock(&self) -> bool {
        self.follows_wall_clock
    }

    /// The real instants one wall-clock time stands for under the DST policy,
    /// in ascending order.
    fn instants(&self, tz: &Tz, local: NaiveDateTime) -> Vec<DateTime<Utc>> {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) => vec![t.with_timezone(&Utc)],
            LocalResult::Ambiguous(first, second) if self.follows_wall_clock => {
                vec![first.with_timezone(&Utc), second.with_timezone(&Utc)]
            }
            LocalResult::Ambiguous(first, _) => vec![first.with_timezone(&Utc)],
            LocalResult::None if self.follows_wall_clock => vec![],
            LocalResult::None => vec![first_instant_at_or_after(tz, local)],
        }
    }

    /// The first fire strictly after `after`, ignoring skip dates.
    pub fn next_after(&self, tz: &Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // When the clock goes back within the next few hours, wall-clock times just
        // before `after`'s local time still lie ahead: start the walk that far back.
        let lookback = (offset(tz, after) - offset(tz, after + TRANSITION_WINDOW)).max(TimeDelta::zero());
        let mut local = naive_local(tz, after) - lookback;
        let mut best: Option<DateTime<Utc>> = None;
        loop {
            local = match self.cron.find_next_occurrence(&local, false) {
                Ok(next) => next,
                Err(_) => return best,
            };
            let instants = self.instants(tz, local);
            // Instants grow with wall-clock time, but for the second pass of a repeated
            // hour: once a wall-clock time's first instant is past the best, none later
            // can beat it.
            if let (Some(b), Some(first)) = (best, instants.first())
                && *first > b
            {
                return best;
            }
            for t in instants {
                if t > after && best.is_none_or(|b| t < b) {
                    best = Some(t);
                }
            }
        }
    }

    /// The last fire at or before `at`, ignoring skip dates.
    pub fn last_at_or_before(&self, tz: &Tz, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let lookahead = (offset(tz, at - TRANSITION_WINDOW) - offset(tz, at)).max(TimeDelta::zero());
        let mut local = naive_local(tz, at) + lookahead;
        let mut inclusive = true;
        let mut best: Option<DateTime<Utc>> = None;
        loop {
            local = match self.cron.find_previous_occurrence(&local, inclusive) {
                Ok(prev) => prev,
                Err(_) => return best,
            };
            inclusive = false;
            let instants = self.instants(tz, local);
            if let (Some(b), Some(last)) = (best, instants.last())
                && *last < b
            {
                return best;
            }
            for t in instants {
                if t <= at && best.is_none_or(|b| t > b) {
                    best = Some(t);
                }
            }
        }
    }
}

fn describe_croner_error(e: &croner::errors::CronError) -> String {
    use croner::errors::CronError as E;
    match e {
        E::IllegalCharacters(_) => "unknown name or character".to_string(),
        E::ComponentError(m) | E::InvalidPattern(m) => m.trim_end_matches('.').to_lowercase(),
        other => other.to_string().trim_end_matches('.').to_lowercase(),
    }
}

fn naive_local(tz: &Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(tz).naive_local()
}

fn offset(tz: &Tz, t: DateTime<Utc>) -> TimeDelta {
    TimeDelta::seconds(i64::from(t.with_timezone(tz).offset().fix().local_minus_utc()))
}

/// The first real instant whose local time is `local` or later: for a time inside a
/// spring-forward gap, the instant the gap ends.
pub fn first_instant_at_or_after(tz: &Tz, local: NaiveDateTime) -> DateTime<Utc> {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return t.with_timezone(&Utc);
    }
    // Binary search, in whole seconds, over the real instants around the gap; local
    // time is monotonic there (no zone shifts back within hours of shifting forward).
    let at = |secs: i64| DateTime::from_timestamp(secs, 0).expect("in range");
    let mut lo = (local - TRANSITION_WINDOW).and_utc().timestamp() - 15 * 3600;
    let mut hi = (local + TRANSITION_WINDOW).and_utc().timestamp() + 15 * 3600;
    lo = lo.max(hi - 2 * 86_400);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if naive_local(tz, at(mid)) >= local {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    // Offsets change on whole seconds: `hi` is the transition.
    at(hi)
}

/// A span of time `[from, to)`: a schedule's exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Window {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }
}

/// A cron expression bound to a timezone and a set of local dates on which it is
/// silent: everything needed to say when a job fires. Exceptions add windows in which
/// it is silent (`quiet`) and instants at which it fires besides its cron (`extra`).
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub cron: CronExpr,
    pub tz: Tz,
    pub skip_dates: BTreeSet<NaiveDate>,
    pub quiet: Vec<Window>,
    pub extra: BTreeSet<DateTime<Utc>>,
}

impl Trigger {
    pub fn new(cron: CronExpr, tz: Tz) -> Self {
        Trigger { cron, tz, skip_dates: BTreeSet::new(), quiet: Vec::new(), extra: BTreeSet::new() }
    }

    pub fn with_skip_dates(mut self, dates: BTreeSet<NaiveDate>) -> Self {
        self.skip_dates = dates;
        self
    }

    /// The trigger silent inside `quiet` and firing at `extra` besides its cron.
    pub fn with_exceptions(mut self, quiet: Vec<Window>, extra: BTreeSet<DateTime<Utc>>) -> Self {
        self.quiet = quiet;
        self.extra = extra;
        self
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    fn quiet_at(&self, t: DateTime<Utc>) -> Option<&Window> {
        self.quiet.iter().find(|w| w.contains(t))
    }

    /// The first fire strictly after `after`: the cron's not on a skip date nor in a
    /// quiet window, or an extra instant, whichever comes first.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let extra = self.extra.range((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded)).next().copied();
        match (self.next_cron_after(after), extra) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn next_cron_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut from = after;
        loop {
            let t = self.cron.next_after(&self.tz, from)?;
            if let Some(w) = self.quiet_at(t) {
                from = (w.to - TimeDelta::nanoseconds(1)).max(t);
                continue;
            }
            let date = self.local_date(t);
            if !self.skip_dates.contains(&date) {
                return Some(t);
            }
            // Jump over the rest of the skipped day rather than walk each fire.
            let next_day = date.checked_add_days(Days::new(1))?.and_hms_opt(0, 0, 0)?;
            from = (first_instant_at_or_after(&self.tz, next_day) - TimeDelta::nanoseconds(1)).max(t);
        }
    }

    /// The last fire at or before `at`: the cron's not on a skip date nor in a quiet
    /// window, or an extra instant, whichever is later.
    pub fn last_at_or_before(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let extra = self.extra.range(..=at).next_back().copied();
        match (self.last_cron_at_or_before(at), extra) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    fn last_cron_at_or_before(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut upto = at;
        loop {
            let t = self.cron.last_at_or_before(&self.tz, upto)?;
            if let Some(w) = self.quiet_at(t) {
                upto = (w.from - TimeDelta::nanoseconds(1)).min(t - TimeDelta::nanoseconds(1));
                continue;
            }
            let date = self.local_date(t);
            if !self.skip_dates.contains(&date) {
                return Some(t);
            }
            let day_start = first_instant_at_or_after(&self.tz, date.and_hms_opt(0, 0, 0)?);
            upto = (day_start - TimeDelta::nanoseconds(1)).min(t - TimeDelta::nanoseconds(1));
        }
    }

    /// The next `n` fires strictly after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut from = after;
        while out.len() < n {
            match self.next_after(from) {
                Some(t) => {
                    out.push(t);
                    from = t;
                }
                None => break,
            }
        }
        out
    }

    /// Every fire in `(from, to]`, in order.
    pub fn fires_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut cursor = from;
        while let Some(t) = self.next_after(cursor) {
            if t > to {
                break;
            }
            out.push(t);
            cursor = t;
        }
        out
    }
}

#[cfg(test)]
mod tests;
