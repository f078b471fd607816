//! Snooze: the override tag set to an instant, so that a resource is left alone until
//! then. Pure: reading `--until`, the tag's value, and what `plan` shows.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::schedule::first_instant_at_or_after;

/// When `--until TIME` ends, read in `tz`: an RFC 3339 instant, a local date and time
/// (`2026-11-24 21:00` or with `T`), or a local time of day (the next one to come).
pub fn parse_until(text: &str, now: DateTime<Utc>, tz: Tz) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    let until = if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        at.with_timezone(&Utc)
    } else if let Some(local) = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
    {
        first_instant_at_or_after(&tz, local)
    } else if let Some(time) = ["%H:%M:%S", "%H:%M"].iter().find_map(|f| NaiveTime::parse_from_str(t, f).ok()) {
        let today = now.with_timezone(&tz).date_naive();
        let at = first_instant_at_or_after(&tz, today.and_time(time));
        if at > now { at } else { first_instant_at_or_after(&tz, (today + TimeDelta::days(1)).and_time(time)) }
    } else {
        return Err(format!(
            "`{text}` is not a time: use 21:00, 2026-11-24 21:00 (in {}) or an RFC 3339 instant such as 2026-11-24T21:00:00+01:00",
            tz.name()
        ));
    };
    if until <= now {
        return Err(format!("`{text}` is in the past ({})", until.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::Secs, false)));
    }
    Ok(until)
}

/// The tag value that snoozes until `until`.
pub fn tag_value(until: DateTime<Utc>) -> String {
    until.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Whether a snooze may replace the override tag's current value: never a permanent
/// override (`true`), which a snooze would turn into a temporary one.
pub fn may_replace(tag: &str, current: Option<&str>) -> Result<(), String> {
    match current {
        Some(v) if v.trim().eq_ignore_ascii_case("true") => Err(format!(
            "it has {tag}=true (always left alone); a snooze would end that protection: --clear first if that is what you want"
        )),
        _ => Ok(()),
    }
}

/// Until when the override tag leaves a resource alone, if it names a future date or
/// instant (a date means the start of that day in `tz`).
pub fn snoozed_until(value: Option<&str>, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    let v = value?.trim();
    let until = if let Ok(date) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        first_instant_at_or_after(&tz, date.and_hms_opt(0, 0, 0)?)
    } else {
        DateTime::parse_from_rfc3339(v).ok()?.with_timezone(&Utc)
    };
    (until > now).then_some(until)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn until_is_read_in_the_file_timezone() {
        let now = at("2026-11-24T18:50:00+01:00");
        for (text, want) in [
            ("2026-11-24T21:00:00Z", Ok("2026-11-24T21:00:00Z")),
            ("2026-11-24 21:00", Ok("2026-11-24T20:00:00Z")),
            ("2026-11-24T21:00:30", Ok("2026-11-24T20:00:30Z")),
            // A time of day: the next one.
            ("21:00", Ok("2026-11-24T20:00:00Z")),
            ("08:00", Ok("2026-11-25T07:00:00Z")),
            ("2026-11-24 18:00", Err("`2026-11-24 18:00` is in the past (2026-11-24T18:00:00+01:00)")),
            ("tomorrow", Err("`tomorrow` is not a time")),
        ] {
            let got = parse_until(text, now, Berlin).map(tag_value);
            match want {
                Ok(w) => assert_eq!(got.as_deref(), Ok(w), "{text}"),
                Err(w) => assert!(got.as_ref().is_err_and(|e| e.starts_with(w)), "{text}: {got:?}"),
            }
        }
        // 02:30 does not exist on 2026-03-29 in Berlin: the first instant after the gap.
        let spring = at("2026-03-28T12:00:00+01:00");
        assert_eq!(parse_until("2026-03-29 02:30", spring, Berlin).map(tag_value).as_deref(), Ok("2026-03-29T01:00:00Z"));
    }

    #[test]
    fn a_permanent_override_is_never_shortened() {
        assert!(may_replace("offhours:skip", Some("true")).unwrap_err().contains("--clear first"));
        assert!(may_replace("offhours:skip", Some("TRUE ")).is_err());
        assert_eq!(may_replace("offhours:skip", Some("2026-11-24T20:00:00Z")), Ok(()));
        assert_eq!(may_replace("offhours:skip", None), Ok(()));
    }

    #[test]
    fn snoozed_until_only_while_it_lasts() {
        let now = at("2026-11-24T18:50:00+01:00");
        assert_eq!(snoozed_until(Some("2026-11-24T20:00:00Z"), now, Berlin), Some(at("2026-11-24T20:00:00Z")));
        assert_eq!(snoozed_until(Some("2026-11-24T17:00:00Z"), now, Berlin), None, "expired");
        assert_eq!(snoozed_until(Some("2026-11-25"), now, Berlin), Some(at("2026-11-25T00:00:00+01:00")));
        assert_eq!(snoozed_until(Some("true"), now, Berlin), None, "not a snooze");
        assert_eq!(snoozed_until(None, now, Berlin), None);
    }
}
