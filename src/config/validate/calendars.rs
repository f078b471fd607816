//! `[calendars.NAME]` (an ICS file or feed) and a schedule's `skip_calendars`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use super::notify::secret_url;
use super::{Checker, SecretRef};
use crate::config::raw::{RawCalendar, RawSchedule};
use crate::config::{Calendar, CalendarSource, ChangeCalendar, ClosedSkips, Schedule, closest};

/// A calendar is read again once a day unless the file says otherwise.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(24 * 3600);
/// More often than this would only load the feed's server.
const MIN_REFRESH: Duration = Duration::from_secs(60);

/// The file's calendars, sorted by name; `source` is the config file's path (relative
/// `file`s are read from its directory).
pub fn calendars(
    c: &mut Checker,
    raw: &BTreeMap<Spanned<String>, Spanned<RawCalendar>>,
    source: &str,
    secrets: fn(&SecretRef<'_>) -> Result<String, String>,
) -> Vec<Calendar> {
    let dir = Path::new(source).parent().unwrap_or(Path::new(""));
    raw.iter().filter_map(|(name, body)| calendar(c, name, body, dir, secrets)).collect()
}

fn calendar(
    c: &mut Checker,
    name: &Spanned<String>,
    body: &Spanned<RawCalendar>,
    dir: &Path,
    secrets: fn(&SecretRef<'_>) -> Result<String, String>,
) -> Option<Calendar> {
    let n = name.get_ref();
    let prefix = format!("calendars.{n}.");
    let errors_before = c.errors.len();
    if n.is_empty() || n.len() > 64 || !n.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
        c.error(name.span(), format!("calendars.{n}"), "a calendar name is 1 to 64 letters, digits, `-` or `_`");
    }
    let raw = body.get_ref();
    let url_given = raw.url.is_some() || raw.url_env.is_some() || raw.url_file.is_some();
    let source = match (&raw.file, url_given) {
        (Some(f), false) if f.get_ref().trim().is_empty() => {
            c.error(f.span(), format!("{prefix}file"), "is empty");
            None
        }
        (Some(f), false) => Some(CalendarSource::File(dir.join(f.get_ref().trim()))),
        (None, true) => feed(c, body, &prefix, secrets),
        (Some(f), true) => {
            c.error(f.span(), format!("{prefix}file"), "set either file or url (url_env, url_file), not both");
            None
        }
        (None, false) => {
            c.error(body.span(), format!("calendars.{n}"), "needs a source: file = PATH or url = \"https://...\" (or url_env, url_file)");
            None
        }
    };
    let refresh = match &raw.refresh {
        Some(v) => match c.duration(v, &format!("{prefix}refresh")) {
            Some(d) if d < MIN_REFRESH => {
                c.error(v.span(), format!("{prefix}refresh"), "must be at least 1m");
                None
            }
            d => d,
        },
        None => Some(DEFAULT_REFRESH),
    };
    if c.errors.len() > errors_before {
        return None;
    }
    Some(Calendar { name: n.clone(), source: source?, refresh: refresh? })
}

/// A feed's URL: https, or plain http to this machine only (a calendar read in the
/// clear could be changed on its way).
fn feed(
    c: &mut Checker,
    body: &Spanned<RawCalendar>,
    prefix: &str,
    secrets: fn(&SecretRef<'_>) -> Result<String, String>,
) -> Option<CalendarSource> {
    let raw = body.get_ref();
    let (url, parsed) = secret_url(c, body.span(), [&raw.url, &raw.url_env, &raw.url_file], prefix, secrets)?;
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host == "localhost" || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if parsed.scheme() != "https" && !loopback {
        let span = [&raw.url, &raw.url_env, &raw.url_file].into_iter().flatten().next().map_or(body.span(), |v| v.span());
        c.error(span, format!("{prefix}url"), "must be https (plain http only to this machine: localhost, 127.0.0.1, ::1)");
        return None;
    }
    let shown = format!("{}://{}/...", parsed.scheme(), parsed.host_str().unwrap_or_default());
    Some(CalendarSource::Url { url, shown })
}

/// Each schedule's `change_calendar` (an SSM Change Calendar's name or ARN) and
/// `change_calendar_closed`; a name is read in the file's first region.
pub fn change_calendars(
    c: &mut Checker,
    raw_schedules: &BTreeMap<Spanned<String>, Spanned<RawSchedule>>,
    regions: &[String],
    schedules: &mut [Schedule],
) {
    for (name, body) in raw_schedules {
        let raw = body.get_ref();
        let field = |f: &str| format!("schedules.{}.{f}", name.get_ref());
        let closed = match &raw.change_calendar_closed {
            Some(v) => match ClosedSkips::parse(v.get_ref()) {
                Some(_) if raw.change_calendar.is_none() => {
                    c.error(v.span(), field("change_calendar_closed"), "needs a change_calendar");
                    continue;
                }
                Some(k) => k,
                None => {
                    c.error(v.span(), field("change_calendar_closed"), format!("`{}` is not `skip-starts` or `skip-stops`", v.get_ref()));
                    continue;
                }
            },
            None => ClosedSkips::default(),
        };
        let Some(v) = &raw.change_calendar else { continue };
        let text = v.get_ref().trim();
        let region = match text.strip_prefix("arn:") {
            Some(rest) => match rest.split(':').collect::<Vec<_>>().as_slice() {
                [_, "ssm", region, account, doc]
                    if super::is_region_name(region) && account.len() == 12 && doc.starts_with("document/") =>
                {
                    Some(region.to_string())
                }
                _ => {
                    c.error(
                        v.span(),
                        field("change_calendar"),
                        format!("`{text}` is not an SSM document ARN (arn:aws:ssm:REGION:ACCOUNT:document/NAME)"),
                    );
                    continue;
                }
            },
            None if text.len() < 3 || text.len() > 128 || !text.chars().all(|ch| ch.is_ascii_alphanumeric() || "_.-".contains(ch)) => {
                c.error(
                    v.span(),
                    field("change_calendar"),
                    format!("`{text}` is not a Change Calendar name (3 to 128 letters, digits, `_`, `.`, `-`) or ARN"),
                );
                continue;
            }
            None => regions.first().cloned(),
        };
        let Some(region) = region else {
            c.error(
                v.span(),
                field("change_calendar"),
                "a calendar named without its ARN is read in the file's first region: set `regions`, or give the calendar's ARN",
            );
            continue;
        };
        if let Some(s) = schedules.iter_mut().find(|s| &s.name == name.get_ref()) {
            s.change_calendar = Some(ChangeCalendar { name: text.to_string(), region, closed });
        }
    }
}

/// Each schedule's `skip_calendars`: names of `[calendars]`, each once.
pub fn skip_calendars(
    c: &mut Checker,
    raw_schedules: &BTreeMap<Spanned<String>, Spanned<RawSchedule>>,
    calendars: &[Calendar],
    schedules: &mut [Schedule],
) {
    for (name, body) in raw_schedules {
        let Some(list) = &body.get_ref().skip_calendars else { continue };
        let field = format!("schedules.{}.skip_calendars", name.get_ref());
        let mut names: Vec<String> = Vec::new();
        for v in list.get_ref() {
            let n = v.get_ref();
            if names.contains(n) {
                c.error(v.span(), &field, format!("`{n}` is named twice"));
            } else if calendars.iter().any(|cal| &cal.name == n) {
                names.push(n.clone());
            } else if !c.errors.iter().any(|(_, f, _)| f.starts_with(&format!("calendars.{n}"))) {
                let hint = closest(n, calendars.iter().map(|cal| cal.name.as_str()))
                    .map(|h| format!(" (did you mean `{h}`?)"))
                    .unwrap_or_default();
                c.error(v.span(), &field, format!("`{n}` is not a [calendars.NAME] of this file{hint}"));
            }
        }
        if let Some(s) = schedules.iter_mut().find(|s| &s.name == name.get_ref()) {
            s.skip_calendars = names;
        }
    }
}
