//! Binding read calendars into a file's schedules: every local date an event of a
//! schedule's `skip_calendars` covers (in the schedule's timezone) is skipped exactly
//! like a `skip_dates` date. Pure: the texts and `today` are arguments.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use chrono_tz::Tz;

use super::Config;
use crate::schedule::ics;

/// The ICS text of each calendar of a file, by name, as last read.
pub type Texts = BTreeMap<String, Arc<str>>;

/// How far back and ahead of `today` events are expanded: enough for any catch-up,
/// `check --from`, `plan --at` and a year of timelines; the daemon binds again at every
/// refresh (at least monthly), so the window moves with it.
const BEHIND: Days = Days::new(400);
const AHEAD: Days = Days::new(800);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindError {
    #[error("calendars.{0}: not read yet")]
    Missing(String),
    #[error("calendars.{calendar}: {error}")]
    Invalid { calendar: String, error: String },
}

/// The dates `text` covers around `today` in `tz`, each with its event's summary.
pub fn covered(text: &str, tz: Tz, today: NaiveDate) -> Result<BTreeMap<NaiveDate, String>, String> {
    let from = today.checked_sub_days(BEHIND).unwrap_or(today);
    let to = today.checked_add_days(AHEAD).unwrap_or(today);
    ics::covered_dates(text, tz, from, to).map_err(|e| e.to_string())
}

/// `config` with each schedule's calendar dates bound in (`holidays`, `skip_dates` and
/// both triggers).
pub fn bind(config: &Config, texts: &Texts, today: NaiveDate) -> Result<Config, BindError> {
    let mut out = config.clone();
    // Parsed once per calendar and timezone, however many schedules share them.
    let mut memo: BTreeMap<(String, &'static str), BTreeMap<NaiveDate, String>> = BTreeMap::new();
    for s in out.schedules.iter_mut().filter(|s| !s.skip_calendars.is_empty()) {
        let mut holidays: BTreeMap<NaiveDate, String> = BTreeMap::new();
        for name in &s.skip_calendars {
            let key = (name.clone(), s.timezone.name());
            if !memo.contains_key(&key) {
                let text = texts.get(name).ok_or_else(|| BindError::Missing(name.clone()))?;
                let dates = covered(text, s.timezone, today).map_err(|error| BindError::Invalid { calendar: name.clone(), error })?;
                memo.insert(key.clone(), dates);
            }
            for (date, summary) in &memo[&key] {
                let label = if summary.is_empty() { name.clone() } else { format!("{name}: {summary}") };
                holidays.entry(*date).or_insert(label);
            }
        }
        s.skip_dates.extend(holidays.keys().copied());
        for t in [&mut s.start, &mut s.stop].into_iter().flatten() {
            t.skip_dates = s.skip_dates.clone();
        }
        s.holidays = holidays;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    const FIXTURE: &str = include_str!("../../tests/fixtures/holidays.ics");

    fn config() -> Config {
        let text = "timezone = \"Europe/Berlin\"\nregions = [\"eu-west-1\"]\n[calendars.company]\nfile = \"holidays.ics\"\n\
                    [schedules.office]\nstart = \"0 8 * * *\"\nstop = \"0 19 * * *\"\nskip_calendars = [\"company\"]\nskip_dates = [2027-01-04]\n\
                    [schedules.other]\nstop = \"0 22 * * *\"\n";
        crate::config::from_str(text, "/etc/offhours/offhours.toml", &crate::config::HostTimezone::fixed(chrono_tz::UTC)).expect("valid")
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_schedules_calendar_dates_are_skipped_like_skip_dates_across_the_year_boundary() {
        let file = config();
        assert_eq!(
            file.calendars[0].source,
            crate::config::CalendarSource::File("/etc/offhours/holidays.ics".into()),
            "relative to the file"
        );
        let texts = Texts::from([("company".to_string(), Arc::from(FIXTURE))]);
        let bound = bind(&file, &texts, NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()).unwrap();
        let office = &bound.schedules[0];
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let around: Vec<(String, String)> =
            office.holidays.range(d("2026-12-20")..d("2027-01-13")).map(|(date, label)| (date.to_string(), label.clone())).collect();
        let want = [
            ("2026-12-28", "company: Company shutdown"),
            ("2026-12-29", "company: Company shutdown"),
            ("2026-12-30", "company: Company shutdown"),
            ("2027-01-01", "company: New Year's Day"),
            ("2027-01-06", "company: Maintenance window"),
            ("2027-01-11", "company: Late shift"),
        ];
        assert_eq!(around, want.map(|(a, b)| (a.to_string(), b.to_string())), "Christmas Eve 2026 is an EXDATE");
        let start = office.start.as_ref().unwrap();
        let fires = start.upcoming(at("2026-12-27T12:00:00Z"), 4);
        let want = ["2026-12-31T07:00:00Z", "2027-01-02T07:00:00Z", "2027-01-03T07:00:00Z", "2027-01-05T07:00:00Z"];
        assert_eq!(fires, want.map(at), "the shutdown, New Year's Day and the file's own 4 January are skipped");
        assert!(office.skip_dates.contains(&d("2027-01-04")) && office.skip_dates.contains(&d("2027-01-01")));
        assert_eq!(bound.schedules[1], file.schedules[1], "a schedule without calendars is untouched");
    }

    #[test]
    fn a_calendar_not_read_or_not_ics_is_named() {
        let file = config();
        let today = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        assert_eq!(bind(&file, &Texts::new(), today), Err(BindError::Missing("company".into())));
        let html = Texts::from([("company".to_string(), Arc::from("<html>sign in</html>"))]);
        let err = bind(&file, &html, today).unwrap_err().to_string();
        assert!(err.starts_with("calendars.company: text is not icalendar"), "{err}");
    }
}
