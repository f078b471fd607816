//! Schedules people write on their own resources (`[tag_schedules]`): a time and days
//! in a tag value, in characters every taggable AWS service accepts (RDS allows only
//! letters, digits, spaces and `_ . : / = + - @`, so no `*` and no `,`):
//!
//! - `offhours:stop = "19:00 mon-fri"`, `offhours:start = "07:30 mon-fri"`
//! - days: `daily`, one day (`sat`), a range (`mon-fri`), days joined by `+`
//!   (`sat+sun`, `mon-wed+fri`)
//! - `offhours:timezone = "Europe/Berlin"` (else the file's timezone)
//!
//! Each value becomes a cron expression; what is wrong names the tag and the value.
//! Pure.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono_tz::Tz;

use super::CronExpr;

pub const START_TAG: &str = "offhours:start";
pub const STOP_TAG: &str = "offhours:stop";
pub const TIMEZONE_TAG: &str = "offhours:timezone";

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// What a resource's tags ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct TagTimes {
    pub start: Option<CronExpr>,
    pub stop: Option<CronExpr>,
    /// `None`: the file's timezone.
    pub timezone: Option<Tz>,
}

/// One tag that does not read, with what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{tag}={value:?}: {why}")]
pub struct TagError {
    pub tag: &'static str,
    pub value: String,
    pub why: String,
}

/// The schedule a resource's tags ask for: `Ok(None)` when it has neither time tag.
pub fn read(tags: &BTreeMap<String, String>) -> Result<Option<TagTimes>, Vec<TagError>> {
    let mut errors = Vec::new();
    let mut cron = |tag: &'static str| {
        let value = tags.get(tag)?;
        match to_cron(value).and_then(|c| CronExpr::parse(&c).map_err(|e| e.to_string())) {
            Ok(expr) => Some(expr),
            Err(why) => {
                errors.push(TagError { tag, value: value.clone(), why });
                None
            }
        }
    };
    let (start, stop) = (cron(START_TAG), cron(STOP_TAG));
    let timezone = tags.get(TIMEZONE_TAG).and_then(|v| match Tz::from_str(v.trim()) {
        Ok(tz) => Some(tz),
        Err(_) => {
            errors.push(TagError { tag: TIMEZONE_TAG, value: v.clone(), why: "not an IANA timezone such as Europe/Berlin".into() });
            None
        }
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((start.is_some() || stop.is_some()).then_some(TagTimes { start, stop, timezone }))
}

/// `"19:00 mon-fri"` -> `"0 19 * * MON-FRI"`.
pub fn to_cron(value: &str) -> Result<String, String> {
    let mut words = value.split_whitespace();
    let (Some(time), days, None) = (words.next(), words.next(), words.next()) else {
        return Err("expected a time and days, such as \"19:00 mon-fri\"".into());
    };
    let (hour, minute) = time_of(time)?;
    let days = days_of(days.unwrap_or("daily"))?;
    Ok(format!("{minute} {hour} * * {days}"))
}

fn time_of(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`{text}` is not a time of day (HH:MM, 00:00 to 23:59)");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let hour: u32 = h.parse().map_err(|_| bad())?;
    let minute: u32 = m.parse().map_err(|_| bad())?;
    if hour > 23 || minute > 59 || m.len() != 2 || h.is_empty() || h.len() > 2 {
        return Err(bad());
    }
    Ok((hour, minute))
}

fn day(text: &str) -> Result<usize, String> {
    DAYS.iter()
        .position(|d| d.eq_ignore_ascii_case(text))
        .ok_or_else(|| format!("`{text}` is not a day (mon, tue, wed, thu, fri, sat, sun; or daily)"))
}

/// `mon-fri` -> `MON-FRI`, `sat+sun` -> `SAT,SUN`, `daily` -> `*`.
fn days_of(text: &str) -> Result<String, String> {
    if text.eq_ignore_ascii_case("daily") {
        return Ok("*".into());
    }
    let mut parts = Vec::new();
    for part in text.split('+') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (from, to) = (day(a)?, day(b)?);
                if to <= from {
                    return Err(format!(
                        "`{part}` runs backwards: a range runs from mon towards sun (join days with +, e.g. fri+sat+sun+mon)"
                    ));
                }
                parts.push(format!("{}-{}", DAYS[from].to_uppercase(), DAYS[to].to_uppercase()));
            }
            None => parts.push(DAYS[day(part)?].to_uppercase()),
        }
    }
    Ok(parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_cron_expressions() {
        let cases = [
            ("19:00 mon-fri", Ok("0 19 * * MON-FRI")),
            ("7:30 MON-FRI", Ok("30 7 * * MON-FRI")),
            ("08:05 sat+sun", Ok("5 8 * * SAT,SUN")),
            ("22:00 daily", Ok("0 22 * * *")),
            ("22:00", Ok("0 22 * * *")),
            ("06:00 mon-wed+fri", Ok("0 6 * * MON-WED,FRI")),
            ("  18:30   thu ", Ok("30 18 * * THU")),
            ("24:00 mon-fri", Err("`24:00` is not a time of day (HH:MM, 00:00 to 23:59)")),
            ("7pm mon-fri", Err("`7pm` is not a time of day (HH:MM, 00:00 to 23:59)")),
            ("19:0 mon", Err("`19:0` is not a time of day (HH:MM, 00:00 to 23:59)")),
            ("19:00 weekdays", Err("`weekdays` is not a day (mon, tue, wed, thu, fri, sat, sun; or daily)")),
            ("19:00 fri-mon", Err("`fri-mon` runs backwards: a range runs from mon towards sun (join days with +, e.g. fri+sat+sun+mon)")),
            ("19:00 mon-fri extra", Err("expected a time and days, such as \"19:00 mon-fri\"")),
            ("", Err("expected a time and days, such as \"19:00 mon-fri\"")),
        ];
        for (value, want) in cases {
            assert_eq!(to_cron(value).as_deref(), want.map_err(str::to_string).as_deref(), "{value}");
        }
    }

    #[test]
    fn a_resources_tags_read_as_one_schedule_or_say_what_is_wrong() {
        let tags = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
        let ok =
            read(&tags(&[(STOP_TAG, "19:00 mon-fri"), (START_TAG, "07:30 mon-fri"), (TIMEZONE_TAG, "Europe/Berlin"), ("Name", "web")]))
                .unwrap()
                .unwrap();
        assert_eq!((ok.start.unwrap().as_str(), ok.stop.unwrap().as_str()), ("30 7 * * MON-FRI", "0 19 * * MON-FRI"));
        assert_eq!(ok.timezone, Some(chrono_tz::Europe::Berlin));
        let stop_only = read(&tags(&[(STOP_TAG, "20:00 daily")])).unwrap().unwrap();
        assert!(stop_only.start.is_none() && stop_only.timezone.is_none());
        assert_eq!(read(&tags(&[("Name", "web"), (TIMEZONE_TAG, "UTC")])), Ok(None), "no time: not self-scheduled");
        let errors = read(&tags(&[(STOP_TAG, "19:00 weekdays"), (TIMEZONE_TAG, "Berlin")])).unwrap_err();
        let said: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            said,
            [
                "offhours:stop=\"19:00 weekdays\": `weekdays` is not a day (mon, tue, wed, thu, fri, sat, sun; or daily)",
                "offhours:timezone=\"Berlin\": not an IANA timezone such as Europe/Berlin",
            ]
        );
    }
}
