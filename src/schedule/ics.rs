//! The local dates that the events of an iCalendar (RFC 5545) text cover.
//!
//! Parsing is `icalendar`'s parser (unfolding, components, properties, DATE / DATE-TIME values);
//! recurrence is `rrule` (RRULE, EXDATE, RDATE). This module only glues them and maps instances to dates.
//!
//! Semantics, beyond what [`covered_dates`] says:
//! - All-day events (`DTSTART;VALUE=DATE`) are floating dates: they cover `[DTSTART, DTEND)` whatever `tz` is.
//!   A missing DTEND is one day; a DURATION counts started days; an end not after the start still covers the start day.
//! - Timed events cover every date in `tz` that `[start, end)` touches; an end exactly at midnight does not cover the next date,
//!   and an event without DTEND/DURATION covers its start date. Floating times are read in `tz`.
//! - DTSTART is always an instance (RFC 5545), even if the RRULE does not match it (`rrule` alone would drop it);
//!   COUNT then counts the rule's own matches, so such an unsynchronised DTSTART comes on top (RFC 5545: undefined).
//! - EXDATE/RDATE may be DATE or DATE-TIME, with several values per line and several lines. A DATE on a timed event
//!   removes (or adds) that day's instance at DTSTART's wall-clock time; a DATE-TIME on an all-day event names its written date.
//! - A RRULE UNTIL without `Z` is read in the event's zone (floating dates for all-day events), never in the machine's;
//!   a `Z` UNTIL on an all-day event is read as its date in `tz` (Apple writes the end of the last day that way).
//!   An UNTIL before DTSTART leaves DTSTART as the only instance.
//! - RECURRENCE-ID overrides: the master event (same UID, no RECURRENCE-ID) loses the overridden instance, and the override
//!   is taken as an event of its own, so a moved instance covers its new dates and a cancelled one covers nothing.
//!   RANGE=THISANDFUTURE is not supported (only the one instance is replaced).
//! - VTIMEZONE definitions are not read: TZIDs must be IANA names. RDATE;VALUE=PERIOD is rejected as an invalid value.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone};
use icalendar::parser::{Component, Parameter, Property, read_components, unfold};
use icalendar::{CalendarDateTime, DatePerhapsTime};
use rrule::{RRule, RRuleSet, Unvalidated};

/// `rrule`'s zone type; always its `chrono_tz::Tz` variant here, never the machine's local zone.
type RTz = rrule::Tz;
/// One point in time as `rrule` computes it.
type Instant = DateTime<RTz>;

/// One event's coverage: a local date and the event's SUMMARY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covered {
    pub date: NaiveDate,
    /// The event's SUMMARY, unescaped; empty when the event has none.
    pub summary: String,
}

/// Why an ICS text could not be turned into dates.
#[derive(Debug, thiserror::Error)]
pub enum IcsError {
    /// The text does not even start like a calendar (an HTML error page, JSON, an empty body).
    #[error("text is not icalendar: it starts with {found:?} instead of BEGIN:VCALENDAR")]
    NotIcs { found: String },
    /// The text starts like a calendar but the parser rejected it; `line` is a line of `text` (the parser reports the
    /// start of the component it gave up on), `found` that line unfolded.
    #[error("malformed icalendar{}: {found:?}", near_line(*line))]
    Malformed { line: Option<usize>, found: String },
    #[error("missing DTSTART in {event}")]
    MissingDtstart { event: String },
    #[error("unknown time zone {tzid:?} in {property} of {event} (TZID must be an IANA name such as Europe/Berlin)")]
    UnknownTimeZone { tzid: String, property: String, event: String },
    #[error("invalid {property} value {value:?} in {event}")]
    InvalidValue { property: String, value: String, event: String },
    #[error("invalid RRULE {rule:?} in {event}: {reason}")]
    InvalidRule {
        rule: String,
        event: String,
        /// Boxed: `rrule`'s error is large, and every `Result` of this module would carry its size.
        reason: Box<rrule::RRuleError>,
    },
}

fn near_line(line: Option<usize>) -> String {
    line.map(|n| format!(" near line {n}")).unwrap_or_default()
}

/// Every local date in `tz` that some event of `text` covers, within [from, to] (inclusive), sorted by date.
///
/// When several events cover one date, the summary of the instance that starts first is kept
/// (all-day instances start at 00:00 in `tz`; ties go to the event that comes first in the text).
/// `from > to` gives an empty map.
pub fn covered_dates(text: &str, tz: chrono_tz::Tz, from: NaiveDate, to: NaiveDate) -> Result<BTreeMap<NaiveDate, String>, IcsError> {
    let mut dates = BTreeMap::new();
    for covered in covered_events(text, tz, from, to)? {
        // `covered_events` is sorted by instance start within a date, so the first entry wins.
        dates.entry(covered.date).or_insert(covered.summary);
    }
    Ok(dates)
}

/// Every (date, summary) pair behind [`covered_dates`], duplicates across events kept; sorted by date, then by
/// the start of the covering instance in `tz`, then by position in the text.
pub fn covered_events(text: &str, tz: chrono_tz::Tz, from: NaiveDate, to: NaiveDate) -> Result<Vec<Covered>, IcsError> {
    // icalendar's parser does not accept a byte-order mark (which Windows tools like to write) or leading blank lines.
    let body = text.trim_start_matches('\u{feff}').trim_start();
    check_starts_like_ics(body)?;
    let unfolded = unfold(body);
    // Like `read_calendar` but without its case-sensitive unwrapping of VCALENDAR: `collect_vevents` walks the tree.
    let roots = read_components(&unfolded).map_err(|report| malformed(text, body, &report))?;
    let mut events = Vec::new();
    collect_vevents(&roots, &mut events);
    let hits = hits(&events, &Window { tz, from, to })?;
    Ok(hits.into_iter().map(|hit| hit.covered).collect())
}

/// The hits of all events, sorted for [`covered_events`].
fn hits(events: &[&Component], window: &Window) -> Result<Vec<Hit>, IcsError> {
    let overrides = overridden_instances(events);
    let mut hits = Vec::new();
    for (order, component) in events.iter().enumerate() {
        let event = Event::new(component, order, window.tz);
        if !event.is_cancelled() {
            event.cover(window, overrides.get(event.uid()).map(Vec::as_slice).unwrap_or_default(), &mut hits)?;
        }
    }
    hits.sort_by_key(|hit| (hit.covered.date, hit.start, hit.order));
    Ok(hits)
}

/// Rejects non-calendar text up front: the parser's own report for, say, HTML would only talk about nom tags.
fn check_starts_like_ics(body: &str) -> Result<(), IcsError> {
    let first = body.lines().next().unwrap_or_default().trim_end();
    if first.eq_ignore_ascii_case("BEGIN:VCALENDAR") { Ok(()) } else { Err(IcsError::NotIcs { found: first.chars().take(60).collect() }) }
}

/// Condenses nom's multi-line report ("error: 0: at line N, in Kind:\n<line>\n^ ...") to its innermost line and text.
/// nom counts lines of the unfolded `body`; they are mapped back to lines of the caller's `text`.
fn malformed(text: &str, body: &str, report: &str) -> IcsError {
    let mut lines = report.lines().skip_while(|l| !l.contains("at line "));
    let header = lines.next().unwrap_or_default();
    let digits = header.split("at line ").nth(1).unwrap_or_default().split(|c: char| !c.is_ascii_digit()).next();
    let found = lines.next().unwrap_or(report).trim().chars().take(80).collect();
    let skipped = text[..text.len() - body.len()].matches('\n').count();
    let line = digits.and_then(|n| n.parse().ok()).and_then(|n| original_line(body, n)).map(|n| n + skipped);
    IcsError::Malformed { line, found }
}

/// Line number in `body` of its `unfolded`-th unfolded line: folded continuation lines start with a space or a tab.
fn original_line(body: &str, unfolded: usize) -> Option<usize> {
    let (index, _) = body.lines().enumerate().filter(|(_, line)| !line.starts_with([' ', '\t'])).nth(unfolded.checked_sub(1)?)?;
    Some(index + 1)
}

/// VEVENTs anywhere under the root (a VCALENDAR in any letter case).
fn collect_vevents<'c, 'a>(components: &'c [Component<'a>], out: &mut Vec<&'c Component<'a>>) {
    for component in components {
        if component.name.as_str().eq_ignore_ascii_case("VEVENT") {
            out.push(component);
        } else {
            collect_vevents(&component.components, out);
        }
    }
}

/// RECURRENCE-ID properties by UID: the master event must drop those instances because the overrides stand for them.
fn overridden_instances<'c, 'a>(events: &[&'c Component<'a>]) -> HashMap<&'c str, Vec<&'c Property<'a>>> {
    let mut overrides: HashMap<&str, Vec<&Property>> = HashMap::new();
    for event in events {
        if let (Some(uid), Some(id)) = (prop(event, "UID"), prop(event, "RECURRENCE-ID")) {
            overrides.entry(uid.val.as_str()).or_default().push(id);
        }
    }
    overrides
}

/// Property names are case-insensitive in RFC 5545, the parser keeps them as written.
fn props<'c, 'a>(component: &'c Component<'a>, name: &str) -> impl Iterator<Item = &'c Property<'a>> {
    component.properties.iter().filter(move |p| p.name.as_str().eq_ignore_ascii_case(name))
}

fn prop<'c, 'a>(component: &'c Component<'a>, name: &str) -> Option<&'c Property<'a>> {
    props(component, name).next()
}

/// The dates asked for, and the zone they are in.
struct Window {
    tz: chrono_tz::Tz,
    from: NaiveDate,
    to: NaiveDate,
}

impl Window {
    /// The first instant after the window, in the carrier of `kind`; expansion stops there, which bounds endless rules.
    fn end(&self, kind: Kind) -> Instant {
        let day_after = self.to.succ_opt().unwrap_or(self.to).and_time(NaiveTime::MIN);
        match kind {
            Kind::AllDay => utc_instant(day_after),
            Kind::Timed => localize(RTz::Tz(self.tz), day_after),
        }
    }

    /// The window's share of the dates `first..=last`.
    fn dates(&self, first: NaiveDate, last: NaiveDate) -> impl Iterator<Item = NaiveDate> {
        let last = last.min(self.to);
        first.max(self.from).iter_days().take_while(move |d| *d <= last)
    }
}

/// All-day instances are carried as UTC midnights so `rrule` can expand them without any real zone moving the date.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    AllDay,
    Timed,
}

/// How long each instance lasts: whole floating days, or an exact span for timed events.
#[derive(Clone, Copy)]
enum Length {
    Days(u64),
    Exact(TimeDelta),
}

/// One date one instance covers, with what ordering between events needs.
struct Hit {
    covered: Covered,
    /// The instance's start, as wall-clock time in the target zone.
    start: NaiveDateTime,
    /// Position of the event in the text.
    order: usize,
}

/// One VEVENT with what error messages and ordering need.
struct Event<'c, 'a> {
    component: &'c Component<'a>,
    label: String,
    summary: String,
    order: usize,
    /// The caller's zone: floating DTSTARTs are read in it, and UNTIL with `Z` of all-day rules.
    tz: chrono_tz::Tz,
}

impl<'c, 'a> Event<'c, 'a> {
    fn new(component: &'c Component<'a>, order: usize, tz: chrono_tz::Tz) -> Self {
        let summary = prop(component, "SUMMARY").map(summary_text).unwrap_or_default();
        let uid = prop(component, "UID").map(|p| p.val.as_str());
        let label = match (summary.as_str(), uid) {
            ("", Some(uid)) => format!("event with uid {uid}"),
            ("", None) => format!("event #{} of the calendar", order + 1),
            (summary, Some(uid)) => format!("event {summary:?} (uid {uid})"),
            (summary, None) => format!("event {summary:?}"),
        };
        Self { component, label, summary, order, tz }
    }

    fn uid(&self) -> &str {
        prop(self.component, "UID").map(|p| p.val.as_str()).unwrap_or_default()
    }

    fn is_cancelled(&self) -> bool {
        prop(self.component, "STATUS").is_some_and(|p| p.val.as_str().eq_ignore_ascii_case("CANCELLED"))
    }

    /// Pushes one hit per date in the window that an instance of this event covers.
    fn cover(&self, window: &Window, overridden: &[&Property<'a>], hits: &mut Vec<Hit>) -> Result<(), IcsError> {
        let (kind, start) = self.start()?;
        let length = self.length(kind, &start)?;
        // A master event with overrides keeps the overridden instances out; an override itself must not drop its own.
        let overridden = if prop(self.component, "RECURRENCE-ID").is_some() { &[] } else { overridden };
        let set = self.recurrence(kind, start, overridden)?;
        let end = window.end(kind);
        let mut previous = None;
        // `rrule` yields instances in order, so stopping at the window's end bounds even rules without COUNT or UNTIL.
        for instance in set.into_iter().take_while(|instance| *instance < end) {
            // DTSTART is added as an RDATE and usually also matches the rule: skip the duplicate.
            if previous != Some(instance) {
                self.hits(instance, length, window, hits);
            }
            previous = Some(instance);
        }
        Ok(())
    }

    fn hits(&self, instance: Instant, length: Length, window: &Window, hits: &mut Vec<Hit>) {
        let (first, last, start) = span(instance, length, window.tz);
        for date in window.dates(first, last) {
            hits.push(Hit { covered: Covered { date, summary: self.summary.clone() }, start, order: self.order });
        }
    }

    fn start(&self) -> Result<(Kind, Instant), IcsError> {
        let property = prop(self.component, "DTSTART").ok_or_else(|| IcsError::MissingDtstart { event: self.label.clone() })?;
        match self.parse_value(property, property.val.as_str())? {
            DatePerhapsTime::Date(date) => Ok((Kind::AllDay, utc_instant(date.and_time(NaiveTime::MIN)))),
            DatePerhapsTime::DateTime(value) => Ok((Kind::Timed, self.date_time(value, RTz::Tz(self.tz), "DTSTART")?)),
        }
    }

    /// DTEND (exclusive), else DURATION, else RFC 5545's defaults: one day for all-day events, no span for timed ones.
    fn length(&self, kind: Kind, start: &Instant) -> Result<Length, IcsError> {
        if let Some(property) = prop(self.component, "DTEND") {
            let end = self.instant(self.parse_value(property, property.val.as_str())?, kind, start, "DTEND")?;
            return Ok(length_of(kind, end.signed_duration_since(*start)));
        }
        if let Some(property) = prop(self.component, "DURATION") {
            return Ok(length_of(kind, self.duration(property)?));
        }
        Ok(length_of(kind, TimeDelta::zero()))
    }

    fn duration(&self, property: &Property) -> Result<TimeDelta, IcsError> {
        let value = property.val.as_str();
        iso8601::duration(value)
            .ok()
            .and_then(|duration| TimeDelta::from_std(duration.into()).ok())
            .ok_or_else(|| self.invalid_value(property, value))
    }

    /// DTSTART, RRULEs, RDATEs and EXDATEs (plus overridden instances) as one `rrule` set.
    fn recurrence(&self, kind: Kind, start: Instant, overridden: &[&Property<'a>]) -> Result<RRuleSet, IcsError> {
        // RFC 5545 makes DTSTART the first instance even when the rule does not match it; `rrule` yields only matches.
        // `limit()` makes `rrule` give up on rules that never match instead of searching up to year 10000.
        let mut set = RRuleSet::new(start).limit().rdate(start);
        for property in props(self.component, "RRULE") {
            if let Some(rule) = self.rule(property, kind, start)? {
                set = set.rrule(rule);
            }
        }
        for rdate in self.instants(props(self.component, "RDATE"), kind, &start)? {
            set = set.rdate(rdate);
        }
        for exdate in self.instants(props(self.component, "EXDATE").chain(overridden.iter().copied()), kind, &start)? {
            set = set.exdate(exdate);
        }
        Ok(set)
    }

    /// One RRULE, or `None` when its UNTIL lies before DTSTART (`rrule` rejects that; RFC 5545 leaves just DTSTART).
    fn rule(&self, property: &Property, kind: Kind, start: Instant) -> Result<Option<RRule>, IcsError> {
        let text = property.val.as_str();
        let invalid = |reason| IcsError::InvalidRule { rule: text.to_owned(), event: self.label.clone(), reason: Box::new(reason) };
        // `rrule` reads an UNTIL without `Z` in the machine's local zone (and rejects one in a DST gap there), so the
        // UNTIL part is lifted out, read by icalendar in the event's own zone, and handed back to `rrule` in UTC.
        let (parts, until): (Vec<&str>, Vec<&str>) = text.split(';').partition(|part| !is_until(part));
        let mut rule = RRule::<Unvalidated>::from_str(&parts.join(";")).map_err(invalid)?;
        if let Some((_, value)) = until.first().and_then(|part| part.split_once('=')) {
            let until = self.until(value.trim(), kind, &start)?;
            if until < start {
                return Ok(None);
            }
            rule = rule.until(until);
        }
        rule.validate(start).map(Some).map_err(invalid)
    }

    /// UNTIL is inclusive and anchored like DTSTART; a `Z` UNTIL on an all-day rule means its date in the caller's zone
    /// (Apple writes the end of the last day that way).
    fn until(&self, value: &str, kind: Kind, start: &Instant) -> Result<Instant, IcsError> {
        let property = Property::new_ref("RRULE", value);
        let until = match (kind, self.parse_value(&property, value)?) {
            (Kind::AllDay, DatePerhapsTime::DateTime(CalendarDateTime::Utc(utc))) => {
                utc_instant(utc.with_timezone(&self.tz).date_naive().and_time(NaiveTime::MIN))
            }
            (kind, parsed) => self.instant(parsed, kind, start, "RRULE")?,
        };
        Ok(until.with_timezone(&RTz::UTC))
    }

    /// All values of date-list properties (EXDATE, RDATE, RECURRENCE-ID), anchored like DTSTART.
    fn instants<'p>(
        &self,
        properties: impl Iterator<Item = &'p Property<'a>>,
        kind: Kind,
        start: &Instant,
    ) -> Result<Vec<Instant>, IcsError>
    where
        'a: 'p,
    {
        let mut instants = Vec::new();
        for property in properties {
            for value in property.val.as_str().split(',').map(str::trim).filter(|v| !v.is_empty()) {
                let parsed = self.parse_value(property, value)?;
                instants.push(self.instant(parsed, kind, start, property.name.as_str())?);
            }
        }
        Ok(instants)
    }

    /// A value of DTEND, EXDATE, RDATE or RECURRENCE-ID in the same carrier as DTSTART, so `rrule` can compare them exactly.
    fn instant(&self, value: DatePerhapsTime, kind: Kind, start: &Instant, property: &str) -> Result<Instant, IcsError> {
        let written_date = value.date_naive().and_time(NaiveTime::MIN);
        match (kind, value) {
            // A DATE-TIME on an all-day event is not RFC-conform but seen in the wild: its written date is what it means.
            (Kind::AllDay, _) => Ok(utc_instant(written_date)),
            // A DATE on a timed event names that day's instance, which starts at DTSTART's wall-clock time.
            (Kind::Timed, DatePerhapsTime::Date(date)) => Ok(localize(start.timezone(), date.and_time(start.naive_local().time()))),
            (Kind::Timed, DatePerhapsTime::DateTime(value)) => self.date_time(value, start.timezone(), property),
        }
    }

    /// A DATE-TIME as an instant; floating values are read in `floating`.
    fn date_time(&self, value: CalendarDateTime, floating: RTz, property: &str) -> Result<Instant, IcsError> {
        match value {
            CalendarDateTime::Utc(utc) => Ok(utc.with_timezone(&RTz::UTC)),
            CalendarDateTime::Floating(naive) => Ok(localize(floating, naive)),
            CalendarDateTime::WithTimezone { date_time, tzid } => Ok(localize(self.zone(&tzid, property)?, date_time)),
        }
    }

    /// VTIMEZONE blocks are not read, so a TZID must name an IANA zone (Outlook's Windows names do not).
    fn zone(&self, tzid: &str, property: &str) -> Result<RTz, IcsError> {
        let name = tzid.trim_matches('"');
        name.parse::<chrono_tz::Tz>().map(RTz::Tz).map_err(|_| IcsError::UnknownTimeZone {
            tzid: name.to_owned(),
            property: property.to_owned(),
            event: self.label.clone(),
        })
    }

    /// One DATE or DATE-TIME value of `property` (which may hold a list), parsed by icalendar with the property's TZID.
    fn parse_value(&self, property: &Property<'a>, value: &str) -> Result<DatePerhapsTime, IcsError> {
        // icalendar looks for the TZID parameter in upper case only; RFC 5545 names are case-insensitive.
        let params = property.params.iter().map(|p| Parameter { key: p.key.as_str().to_ascii_uppercase().into(), val: p.val.clone() });
        let single = Property { name: property.name.clone(), val: value.into(), params: params.collect() };
        DatePerhapsTime::try_from(&single).map_err(|_| self.invalid_value(property, value))
    }

    fn invalid_value(&self, property: &Property, value: &str) -> IcsError {
        IcsError::InvalidValue { property: property.name.as_str().to_owned(), value: value.to_owned(), event: self.label.clone() }
    }
}

fn is_until(rule_part: &str) -> bool {
    rule_part.split_once('=').is_some_and(|(name, _)| name.trim().eq_ignore_ascii_case("UNTIL"))
}

/// SUMMARY as plain text: the parser unescapes `\,` `\;` `\n` only when the property name is written in upper case.
fn summary_text(property: &Property) -> String {
    if property.name.as_str() == "SUMMARY" {
        property.val.as_str().to_owned()
    } else {
        property.val.clone().unescape_text().as_str().to_owned()
    }
}

/// All-day spans count started days and never less than one: DTEND is exclusive, and an end not after the start still means the start day.
fn length_of(kind: Kind, span: TimeDelta) -> Length {
    const DAY: i64 = 86_400;
    match kind {
        Kind::AllDay => Length::Days(u64::try_from((span.num_seconds() + DAY - 1) / DAY).unwrap_or(0).max(1)),
        Kind::Timed => Length::Exact(span.max(TimeDelta::zero())),
    }
}

/// First and last date an instance covers in `tz`, and its start there for ordering.
fn span(instance: Instant, length: Length, tz: chrono_tz::Tz) -> (NaiveDate, NaiveDate, NaiveDateTime) {
    match length {
        Length::Days(days) => {
            let first = instance.date_naive();
            (first, first.checked_add_days(Days::new(days.saturating_sub(1))).unwrap_or(NaiveDate::MAX), first.and_time(NaiveTime::MIN))
        }
        Length::Exact(exact) => {
            let start = instance.with_timezone(&tz);
            // The end is exclusive: an event ending at 00:00 does not touch that date, one of no length touches its start.
            let last =
                instance.checked_add_signed(exact - TimeDelta::nanoseconds(1)).filter(|_| exact > TimeDelta::zero()).unwrap_or(instance);
            (start.date_naive(), last.with_timezone(&tz).date_naive(), start.naive_local())
        }
    }
}

fn utc_instant(naive: NaiveDateTime) -> Instant {
    RTz::UTC.from_utc_datetime(&naive)
}

/// Wall-clock time in `zone` as an instant. RFC 5545 §3.3.5: an ambiguous time is its first occurrence, and a time
/// in a DST gap keeps the offset from before the gap (one hour later on the wall); failing both, it is read as UTC.
fn localize(zone: RTz, naive: NaiveDateTime) -> Instant {
    zone.from_local_datetime(&naive)
        .earliest()
        .or_else(|| zone.from_local_datetime(&(naive + TimeDelta::hours(1))).earliest())
        .unwrap_or_else(|| zone.from_utc_datetime(&naive))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Europe, UTC};

    const HOLIDAYS: &str = include_str!("../../tests/fixtures/holidays.ics");

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    /// Wraps VEVENT lines in a minimal calendar.
    fn cal(events: &str) -> String {
        format!("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//ics-proto//tests//EN\n{events}END:VCALENDAR\n")
    }

    fn dates(text: &str, tz: chrono_tz::Tz, from: &str, to: &str) -> Vec<(String, String)> {
        let map = covered_dates(text, tz, d(from), d(to)).unwrap();
        map.into_iter().map(|(date, summary)| (date.to_string(), summary)).collect()
    }

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(date, summary)| (date.to_string(), summary.to_string())).collect()
    }

    struct Case {
        name: &'static str,
        text: String,
        tz: chrono_tz::Tz,
        from: &'static str,
        to: &'static str,
        want: &'static [(&'static str, &'static str)],
    }

    fn check(cases: Vec<Case>) {
        for case in cases {
            assert_eq!(dates(&case.text, case.tz, case.from, case.to), owned(case.want), "case {}", case.name);
        }
    }

    #[test]
    fn fixture_across_the_year_boundary() {
        let fixture = || HOLIDAYS.to_owned();
        check(vec![
            Case {
                name: "Berlin: the New York call lands on New Year's Day, maintenance after midnight, late shift ends at midnight",
                text: fixture(),
                tz: Europe::Berlin,
                from: "2026-12-01",
                to: "2027-01-31",
                want: &[
                    ("2026-12-28", "Company shutdown"),
                    ("2026-12-29", "Company shutdown"),
                    ("2026-12-30", "Company shutdown"),
                    ("2027-01-01", "New Year's Day"),
                    ("2027-01-06", "Maintenance window"),
                    ("2027-01-11", "Late shift"),
                ],
            },
            Case {
                name: "UTC: maintenance 23:30-00:30 touches two dates",
                text: fixture(),
                tz: UTC,
                from: "2026-12-01",
                to: "2027-01-31",
                want: &[
                    ("2026-12-28", "Company shutdown"),
                    ("2026-12-29", "Company shutdown"),
                    ("2026-12-30", "Company shutdown"),
                    ("2027-01-01", "New Year's Day"),
                    ("2027-01-05", "Maintenance window"),
                    ("2027-01-06", "Maintenance window"),
                    ("2027-01-11", "Late shift"),
                ],
            },
            Case {
                name: "New York: the call stays on Dec 31, all-day dates do not move",
                text: fixture(),
                tz: America::New_York,
                from: "2026-12-01",
                to: "2027-01-31",
                want: &[
                    ("2026-12-28", "Company shutdown"),
                    ("2026-12-29", "Company shutdown"),
                    ("2026-12-30", "Company shutdown"),
                    ("2026-12-31", "New York year-end call"),
                    ("2027-01-01", "New Year's Day"),
                    ("2027-01-05", "Maintenance window"),
                    ("2027-01-11", "Late shift"),
                ],
            },
            Case {
                name: "window is inclusive on both ends",
                text: fixture(),
                tz: Europe::Berlin,
                from: "2026-12-30",
                to: "2027-01-01",
                want: &[("2026-12-30", "Company shutdown"), ("2027-01-01", "New Year's Day")],
            },
            Case {
                name: "EXDATE removes 2026's Christmas Eve only",
                text: fixture(),
                tz: Europe::Berlin,
                from: "2025-12-24",
                to: "2027-12-24",
                want: &[
                    ("2025-12-24", "Christmas Eve"),
                    ("2026-01-01", "New Year's Day"),
                    ("2026-12-28", "Company shutdown"),
                    ("2026-12-29", "Company shutdown"),
                    ("2026-12-30", "Company shutdown"),
                    ("2027-01-01", "New Year's Day"),
                    ("2027-01-06", "Maintenance window"),
                    ("2027-01-11", "Late shift"),
                    ("2027-12-24", "Christmas Eve"),
                ],
            },
        ]);
    }

    #[test]
    fn fixture_keeps_every_event_of_a_date_in_covered_events() {
        let all = covered_events(HOLIDAYS, Europe::Berlin, d("2026-12-31"), d("2027-01-01")).unwrap();
        let want = vec![
            Covered { date: d("2027-01-01"), summary: "New Year's Day".into() },
            Covered { date: d("2027-01-01"), summary: "New York year-end call".into() },
        ];
        assert_eq!(all, want);
    }

    #[test]
    fn weekly_rules_and_until() {
        check(vec![
            Case {
                name: "weekly BYDAY with UNTIL in UTC, inclusive of the last instance",
                text: cal(
                    "BEGIN:VEVENT\nUID:sync\nSUMMARY:Sync\nDTSTART;TZID=Europe/Berlin:20260105T090000\nDTEND;TZID=Europe/Berlin:20260105T100000\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20260121T080000Z\nEND:VEVENT\n",
                ),
                tz: Europe::Berlin,
                from: "2026-01-01",
                to: "2026-02-28",
                want: &[
                    ("2026-01-05", "Sync"),
                    ("2026-01-07", "Sync"),
                    ("2026-01-12", "Sync"),
                    ("2026-01-14", "Sync"),
                    ("2026-01-19", "Sync"),
                    ("2026-01-21", "Sync"),
                ],
            },
            Case {
                name: "all-day weekly with date-only UNTIL (rrule alone reads it in the machine's zone)",
                text: cal(
                    "BEGIN:VEVENT\nUID:gym\nSUMMARY:Gym\nDTSTART;VALUE=DATE:20260302\nRRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20260316\nEND:VEVENT\n",
                ),
                tz: Europe::Berlin,
                from: "2026-01-01",
                to: "2026-12-31",
                want: &[("2026-03-02", "Gym"), ("2026-03-09", "Gym"), ("2026-03-16", "Gym")],
            },
            Case {
                name: "all-day rule with a Z UNTIL (as Apple writes it) ends on UNTIL's date in tz: Berlin",
                text: cal(
                    "BEGIN:VEVENT\nUID:gym\nSUMMARY:Gym\nDTSTART;VALUE=DATE:20260302\nRRULE:FREQ=WEEKLY;UNTIL=20260315T230000Z\nEND:VEVENT\n",
                ),
                tz: Europe::Berlin,
                from: "2026-01-01",
                to: "2026-12-31",
                want: &[("2026-03-02", "Gym"), ("2026-03-09", "Gym"), ("2026-03-16", "Gym")],
            },
            Case {
                name: "all-day rule with a Z UNTIL (as Apple writes it) ends on UNTIL's date in tz: UTC",
                text: cal(
                    "BEGIN:VEVENT\nUID:gym\nSUMMARY:Gym\nDTSTART;VALUE=DATE:20260302\nRRULE:FREQ=WEEKLY;UNTIL=20260315T230000Z\nEND:VEVENT\n",
                ),
                tz: UTC,
                from: "2026-01-01",
                to: "2026-12-31",
                want: &[("2026-03-02", "Gym"), ("2026-03-09", "Gym")],
            },
            Case {
                name: "floating UNTIL on a zoned rule is read in the event's zone, not the machine's",
                text: cal(
                    "BEGIN:VEVENT\nUID:d\nSUMMARY:D\nDTSTART;TZID=America/New_York:20260302T180000\nRRULE:FREQ=DAILY;UNTIL=20260304T180000\nEND:VEVENT\n",
                ),
                tz: America::New_York,
                from: "2026-01-01",
                to: "2026-12-31",
                want: &[("2026-03-02", "D"), ("2026-03-03", "D"), ("2026-03-04", "D")],
            },
            Case {
                name: "UNTIL before DTSTART leaves only DTSTART",
                text: cal("BEGIN:VEVENT\nUID:u\nSUMMARY:U\nDTSTART;VALUE=DATE:20260601\nRRULE:FREQ=WEEKLY;UNTIL=20250101\nEND:VEVENT\n"),
                tz: UTC,
                from: "2026-01-01",
                to: "2026-12-31",
                want: &[("2026-06-01", "U")],
            },
            Case {
                name: "weekly COUNT with INTERVAL",
                text: cal(
                    "BEGIN:VEVENT\nUID:retro\nSUMMARY:Retro\nDTSTART;VALUE=DATE:20260302\nRRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=3\nEND:VEVENT\n",
                ),
                tz: UTC,
                from: "2026-01-01",
                to: "2026-12-31",
                want: &[("2026-03-02", "Retro"), ("2026-03-16", "Retro"), ("2026-03-30", "Retro")],
            },
            Case {
                name: "EXDATE as date-time on a timed weekly rule, with TZID and in UTC, across the US DST change; ends at UTC midnight",
                text: cal(concat!(
                    "BEGIN:VEVENT\nUID:standup\nSUMMARY:Standup\n",
                    "DTSTART;TZID=America/New_York:20260302T180000\nDTEND;TZID=America/New_York:20260302T190000\n",
                    "RRULE:FREQ=WEEKLY;COUNT=4\n",
                    "EXDATE;TZID=America/New_York:20260309T180000\n",
                    "EXDATE:20260316T220000Z\n",
                    "END:VEVENT\n"
                )),
                tz: UTC,
                from: "2026-01-01",
                to: "2026-12-31",
                want: &[("2026-03-02", "Standup"), ("2026-03-23", "Standup")],
            },
        ]);
    }

    #[test]
    fn yearly_rules() {
        check(vec![
            Case {
                name: "yearly BYMONTH and BYMONTHDAY",
                text: cal(
                    "BEGIN:VEVENT\nUID:may\nSUMMARY:Labour Day\nDTSTART;VALUE=DATE:20240501\nRRULE:FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=1\nEND:VEVENT\n",
                ),
                tz: Europe::Berlin,
                from: "2025-01-01",
                to: "2027-12-31",
                want: &[("2025-05-01", "Labour Day"), ("2026-05-01", "Labour Day"), ("2027-05-01", "Labour Day")],
            },
            Case {
                name: "yearly BYMONTH with BYDAY=4TH",
                text: cal(
                    "BEGIN:VEVENT\nUID:tg\nSUMMARY:Thanksgiving\nDTSTART;VALUE=DATE:20201126\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH\nEND:VEVENT\n",
                ),
                tz: America::New_York,
                from: "2026-01-01",
                to: "2027-12-31",
                want: &[("2026-11-26", "Thanksgiving"), ("2027-11-25", "Thanksgiving")],
            },
            Case {
                name: "unbounded yearly rule stops at the window",
                text: cal("BEGIN:VEVENT\nUID:e\nSUMMARY:E\nDTSTART;VALUE=DATE:20200101\nRRULE:FREQ=YEARLY\nEND:VEVENT\n"),
                tz: UTC,
                from: "2026-06-01",
                to: "2027-06-01",
                want: &[("2027-01-01", "E")],
            },
        ]);
    }

    #[test]
    fn exdate_rdate_and_recurrence_id() {
        check(vec![
            Case {
                name: "several EXDATE lines with several values each",
                text: cal(
                    "BEGIN:VEVENT\nUID:ny\nSUMMARY:NY\nDTSTART;VALUE=DATE:20200101\nRRULE:FREQ=YEARLY;COUNT=6\nEXDATE;VALUE=DATE:20210101,20220101\nEXDATE;VALUE=DATE:20240101\nEND:VEVENT\n",
                ),
                tz: UTC,
                from: "2019-01-01",
                to: "2030-12-31",
                want: &[("2020-01-01", "NY"), ("2023-01-01", "NY"), ("2025-01-01", "NY")],
            },
            Case {
                name: "EXDATE as a date on a timed rule removes that day's instance",
                text: cal(
                    "BEGIN:VEVENT\nUID:t\nSUMMARY:T\nDTSTART;TZID=Europe/Berlin:20260105T090000\nRRULE:FREQ=DAILY;COUNT=3\nEXDATE;VALUE=DATE:20260106\nEND:VEVENT\n",
                ),
                tz: Europe::Berlin,
                from: "2026-01-01",
                to: "2026-01-31",
                want: &[("2026-01-05", "T"), ("2026-01-07", "T")],
            },
            Case {
                name: "RDATE adds dates, DTSTART counts even when the rule does not match it",
                text: cal(
                    "BEGIN:VEVENT\nUID:r\nSUMMARY:R\nDTSTART;VALUE=DATE:20260103\nRRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=1\nRDATE;VALUE=DATE:20260704,20260705\nEND:VEVENT\n",
                ),
                tz: UTC,
                from: "2026-01-01",
                to: "2026-12-31",
                want: &[("2026-01-03", "R"), ("2026-01-05", "R"), ("2026-07-04", "R"), ("2026-07-05", "R")],
            },
            Case {
                name: "RECURRENCE-ID: a moved instance covers its new date, a cancelled one nothing",
                text: cal(concat!(
                    "BEGIN:VEVENT\nUID:weekly@x\nSUMMARY:Weekly\nDTSTART;VALUE=DATE:20260105\nRRULE:FREQ=WEEKLY;COUNT=4\nEND:VEVENT\n",
                    "BEGIN:VEVENT\nUID:weekly@x\nSUMMARY:Weekly (moved)\nRECURRENCE-ID;VALUE=DATE:20260112\nDTSTART;VALUE=DATE:20260114\nEND:VEVENT\n",
                    "BEGIN:VEVENT\nUID:weekly@x\nSUMMARY:Weekly\nSTATUS:CANCELLED\nRECURRENCE-ID;VALUE=DATE:20260119\nDTSTART;VALUE=DATE:20260119\nEND:VEVENT\n",
                )),
                tz: UTC,
                from: "2026-01-01",
                to: "2026-01-31",
                want: &[("2026-01-05", "Weekly"), ("2026-01-14", "Weekly (moved)"), ("2026-01-26", "Weekly")],
            },
        ]);
    }

    #[test]
    fn event_shapes() {
        check(vec![
            Case {
                name: "all-day DTEND is exclusive, DURATION counts days",
                text: cal(concat!(
                    "BEGIN:VEVENT\nUID:a\nSUMMARY:A\nDTSTART;VALUE=DATE:20260601\nDTEND;VALUE=DATE:20260603\nEND:VEVENT\n",
                    "BEGIN:VEVENT\nUID:b\nSUMMARY:B\nDTSTART;VALUE=DATE:20260610\nDURATION:P3D\nEND:VEVENT\n",
                    "BEGIN:VEVENT\nUID:c\nSUMMARY:C\nDTSTART;VALUE=DATE:20260620\nEND:VEVENT\n",
                )),
                tz: Europe::Berlin,
                from: "2026-06-01",
                to: "2026-06-30",
                want: &[
                    ("2026-06-01", "A"),
                    ("2026-06-02", "A"),
                    ("2026-06-10", "B"),
                    ("2026-06-11", "B"),
                    ("2026-06-12", "B"),
                    ("2026-06-20", "C"),
                ],
            },
            Case {
                name: "floating times are read in tz; no DTEND covers the start date",
                text: cal(concat!(
                    "BEGIN:VEVENT\nUID:f\nSUMMARY:F\nDTSTART:20260601T230000\nDTEND:20260602T010000\nEND:VEVENT\n",
                    "BEGIN:VEVENT\nUID:g\nSUMMARY:G\nDTSTART:20260610T120000Z\nEND:VEVENT\n",
                )),
                tz: America::New_York,
                from: "2026-06-01",
                to: "2026-06-30",
                want: &[("2026-06-01", "F"), ("2026-06-02", "F"), ("2026-06-10", "G")],
            },
            Case {
                name: "on a shared date the earlier instance's summary wins",
                text: cal(concat!(
                    "BEGIN:VEVENT\nUID:late\nSUMMARY:Late\nDTSTART:20260601T200000Z\nEND:VEVENT\n",
                    "BEGIN:VEVENT\nUID:early\nSUMMARY:Early\nDTSTART:20260601T080000Z\nEND:VEVENT\n",
                )),
                tz: UTC,
                from: "2026-06-01",
                to: "2026-06-30",
                want: &[("2026-06-01", "Early")],
            },
            Case {
                name: "cancelled events, VTODO and VTIMEZONE are ignored",
                text: cal(concat!(
                    "BEGIN:VTIMEZONE\nTZID:Europe/Berlin\nBEGIN:STANDARD\nDTSTART:19701025T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nEND:STANDARD\nEND:VTIMEZONE\n",
                    "BEGIN:VEVENT\nUID:x\nSUMMARY:Off\nSTATUS:CANCELLED\nDTSTART;VALUE=DATE:20260601\nEND:VEVENT\n",
                    "BEGIN:VTODO\nUID:t\nSUMMARY:Todo\nDTSTART;VALUE=DATE:20260602\nEND:VTODO\n",
                )),
                tz: UTC,
                from: "2026-06-01",
                to: "2026-06-30",
                want: &[],
            },
            Case {
                name: "empty calendar",
                text: cal(""),
                tz: UTC,
                from: "2026-01-01",
                to: "2026-12-31",
                want: &[],
            },
            Case {
                name: "CRLF, folded lines, escaped text, lower-case names and a byte-order mark",
                text: "\u{feff}begin:vcalendar\r\nversion:2.0\r\nbegin:vevent\r\nuid:z\r\nsummary:Inventory\\, warehouse\r\n  A\r\ndtstart;value=date:20260\r\n 601\r\nend:vevent\r\n\
                       begin:vevent\r\nuid:y\r\nsummary:Call\r\ndtstart;tzid=America/New_York:20260610T220000\r\nend:vevent\r\nend:vcalendar\r\n"
                    .into(),
                tz: UTC,
                from: "2026-06-01",
                to: "2026-06-30",
                want: &[("2026-06-01", "Inventory, warehouse A"), ("2026-06-11", "Call")],
            },
        ]);
    }

    #[test]
    fn unbounded_yearly_rule_from_1970_gives_61_dates() {
        let text = cal("BEGIN:VEVENT\nUID:e\nSUMMARY:E\nDTSTART;VALUE=DATE:19700101\nRRULE:FREQ=YEARLY\nEND:VEVENT\n");
        let dates = covered_dates(&text, UTC, d("1970-01-01"), d("2030-12-31")).unwrap();
        assert_eq!(dates.len(), 61);
    }

    #[test]
    fn errors_say_what_and_where() {
        let cases: Vec<(&str, String, &str)> = vec![
            (
                "unknown TZID",
                cal("BEGIN:VEVENT\nUID:win@x\nSUMMARY:Board\nDTSTART;TZID=W. Europe Standard Time:20260601T090000\nEND:VEVENT\n"),
                "unknown time zone \"W. Europe Standard Time\" in DTSTART of event \"Board\" (uid win@x) (TZID must be an IANA name such as Europe/Berlin)",
            ),
            (
                "unknown TZID in EXDATE",
                cal(
                    "BEGIN:VEVENT\nUID:u\nSUMMARY:S\nDTSTART:20260601T090000Z\nRRULE:FREQ=DAILY\nEXDATE;TZID=Mars/Olympus:20260602T090000\nEND:VEVENT\n",
                ),
                "unknown time zone \"Mars/Olympus\" in EXDATE of event \"S\" (uid u)",
            ),
            (
                "missing DTSTART",
                cal("BEGIN:VEVENT\nUID:nostart@x\nSUMMARY:Ghost\nEND:VEVENT\n"),
                "missing DTSTART in event \"Ghost\" (uid nostart@x)",
            ),
            (
                "missing DTSTART, no summary",
                cal("BEGIN:VEVENT\nUID:nostart@x\nEND:VEVENT\n"),
                "missing DTSTART in event with uid nostart@x",
            ),
            ("missing DTSTART, nothing", cal("BEGIN:VEVENT\nEND:VEVENT\n"), "missing DTSTART in event #1 of the calendar"),
            (
                "HTML error page",
                "<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>\n".into(),
                "text is not icalendar: it starts with \"<!DOCTYPE html>\" instead of BEGIN:VCALENDAR",
            ),
            ("empty text", String::new(), "text is not icalendar: it starts with \"\" instead of BEGIN:VCALENDAR"),
            (
                "malformed line: the parser names the component it gave up on",
                "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:x\nthis is junk\nEND:VEVENT\nEND:VCALENDAR\n".into(),
                "malformed icalendar near line 3: \"BEGIN:VEVENT\"",
            ),
            (
                "malformed line after a BOM, a blank line and a folded line: line numbers are the caller's",
                "\u{feff}\r\nBEGIN:VCALENDAR\r\nX-WR-CALNAME:Company\r\n  holidays\r\nBEGIN:VEVENT\r\nUID:x\r\nthis is junk\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".into(),
                "malformed icalendar near line 5: \"BEGIN:VEVENT\"",
            ),
            (
                "several VCALENDARs in one text: icalendar's parser takes exactly one root",
                format!("{}{}", cal(""), cal("")),
                "malformed icalendar near line 5: \"BEGIN:VCALENDAR\"",
            ),
            (
                "trailing garbage",
                "BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n<html>\n".into(),
                "malformed icalendar near line 4: \"<html>\"",
            ),
            (
                "invalid date",
                cal("BEGIN:VEVENT\nUID:d\nSUMMARY:D\nDTSTART;VALUE=DATE:2026-06-01\nEND:VEVENT\n"),
                "invalid DTSTART value \"2026-06-01\" in event \"D\" (uid d)",
            ),
            (
                "invalid duration",
                cal("BEGIN:VEVENT\nUID:d\nSUMMARY:D\nDTSTART;VALUE=DATE:20260601\nDURATION:three days\nEND:VEVENT\n"),
                "invalid DURATION value \"three days\" in event \"D\" (uid d)",
            ),
            (
                "invalid RRULE",
                cal("BEGIN:VEVENT\nUID:r\nSUMMARY:R\nDTSTART;VALUE=DATE:20260601\nRRULE:FREQ=FORTNIGHTLY\nEND:VEVENT\n"),
                "invalid RRULE \"FREQ=FORTNIGHTLY\" in event \"R\" (uid r): ",
            ),
        ];
        for (name, text, want) in cases {
            let err = covered_dates(&text, UTC, d("2026-01-01"), d("2026-12-31")).unwrap_err().to_string();
            assert!(err.starts_with(want), "case {name}: got {err:?}, want it to start with {want:?}");
        }
    }
}
