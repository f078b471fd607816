//! `[calendars.NAME]` (an ICS file or feed) and a schedule's `skip_calendars`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use super::notify::secret_url;
use super::{Checker, SecretRef};
use crate::config::raw::{RawCalendar, RawSchedule};
use crate::config::{Calendar, CalendarSource, Schedule, closest};

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
