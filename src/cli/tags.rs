//! Self-scheduled resources for `check --tags` and `plan`: found in every account and
//! region of the file, read, and shown with what is wrong with each tag that does not
//! read.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

pub use crate::jobs::tag_schedules::{Found, find};

#[derive(Serialize)]
pub struct Shown {
    schedule: String,
    account: String,
    kind: String,
    id: String,
    region: String,
    timezone: String,
    start: Option<String>,
    stop: Option<String>,
    next_start: Option<String>,
    next_stop: Option<String>,
}

#[derive(Serialize)]
pub struct ShownError {
    account: String,
    kind: String,
    id: String,
    region: String,
    error: String,
}

/// The JSON of what was found, its times from `from`.
pub fn shown(found: &Found, from: DateTime<Utc>) -> (Vec<Shown>, Vec<ShownError>) {
    let schedules = found
        .schedules
        .iter()
        .map(|s| {
            let next = |t: &Option<crate::schedule::Trigger>| {
                t.as_ref()
                    .and_then(|t| t.next_after(from))
                    .map(|at| at.with_timezone(&s.timezone).to_rfc3339_opts(SecondsFormat::Secs, false))
            };
            let only = s.only.as_ref();
            Shown {
                schedule: s.name.clone(),
                account: s.accounts.iter().flatten().next().cloned().unwrap_or_default(),
                kind: s.kinds[0].to_string(),
                id: only.and_then(|o| o.ids.first().cloned()).unwrap_or_default(),
                region: only.map(|o| o.region.clone()).unwrap_or_default(),
                timezone: s.timezone.name().to_string(),
                start: s.start.as_ref().map(|t| t.cron.as_str().to_string()),
                stop: s.stop.as_ref().map(|t| t.cron.as_str().to_string()),
                next_start: next(&s.start),
                next_stop: next(&s.stop),
            }
        })
        .collect();
    let mut errors: Vec<ShownError> = found
        .problems
        .iter()
        .map(|p| ShownError {
            account: p.account.clone(),
            kind: p.kind.to_string(),
            id: p.id.clone(),
            region: p.region.clone(),
            error: p.error.clone(),
        })
        .collect();
    errors.extend(found.unread.iter().map(|u| ShownError {
        account: u.account.clone(),
        kind: String::new(),
        id: String::new(),
        region: String::new(),
        error: format!("{} cannot be read: {}", u.what, u.error),
    }));
    (schedules, errors)
}

/// The text of what was found.
pub fn print(schedules: &[Shown], errors: &[ShownError]) {
    out!("\nself-scheduled resources: {}", schedules.len());
    for s in schedules {
        let account = if s.account.is_empty() { String::new() } else { format!(", account {}", s.account) };
        let mut times = Vec::new();
        if let (Some(c), Some(n)) = (&s.stop, &s.next_stop) {
            times.push(format!("stop `{c}` (next {n})"));
        }
        if let (Some(c), Some(n)) = (&s.start, &s.next_start) {
            times.push(format!("start `{c}` (next {n})"));
        }
        out!("  {} {} ({}{account}): {} in {}", s.kind, s.id, s.region, times.join(", "), s.timezone);
    }
    for e in errors {
        let account = if e.account.is_empty() { String::new() } else { format!(", account {}", e.account) };
        if e.id.is_empty() {
            out!("  error: account {}: {}", e.account, e.error);
        } else {
            out!("  error: {} {} ({}{account}): {}", e.kind, e.id, e.region, e.error);
        }
    }
}
