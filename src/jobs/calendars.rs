//! Reading a file's `[calendars]`: a file from disk, a feed over HTTPS (rustls). A feed
//! that reads and parses is kept in the state directory (`calendars/NAME.ics`, beside
//! `NAME.json` naming its source by a SHA-256 of the URL, never the URL); when a fetch
//! fails or brings back something that is not a calendar, that last good copy is used
//! and the failure is an event. A calendar with no good text at all is an error: the
//! daemon does not start (or reload) and `check` fails, naming it and why.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::config::calendar::{Texts, covered};
use crate::config::{Calendar, CalendarSource};

/// The state directory's folder of last good copies.
pub const CACHE_DIR: &str = "calendars";
/// A holiday feed is a few kilobytes; anything past this is not one.
const MAX_BYTES: usize = 5 * 1024 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a calendar's text came from this time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File,
    Fetched,
    /// The fetch failed (`error`): the copy fetched at `fetched_at` is used.
    Cached {
        fetched_at: DateTime<Utc>,
        error: String,
    },
}

impl Origin {
    pub fn as_str(&self) -> &'static str {
        match self {
            Origin::File => "file",
            Origin::Fetched => "fetched",
            Origin::Cached { .. } => "cached",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("calendars.{name}: {source_shown}: {reason}")]
pub struct CalendarError {
    pub name: String,
    pub source_shown: String,
    pub reason: String,
}

/// Every calendar's text and where it came from.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub texts: Texts,
    pub origins: BTreeMap<String, Origin>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheMeta {
    /// SHA-256 of the URL, hex: a copy is used only for the URL it was fetched from.
    source_sha256: String,
    fetched_at: DateTime<Utc>,
}

/// The one HTTP client calendar feeds are fetched with.
pub fn client() -> reqwest::Client {
    // A redirect may not leave https (the file's own rule), but to this machine.
    let redirects = reqwest::redirect::Policy::custom(|attempt| {
        let url = attempt.url();
        let host = url.host_str().unwrap_or_default();
        let local = host == "localhost" || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if attempt.previous().len() >= 5 {
            attempt.error("more than 5 redirects")
        } else if url.scheme() == "https" || local {
            attempt.follow()
        } else {
            attempt.error("a redirect away from https")
        }
    });
    reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .redirect(redirects)
        .user_agent(concat!("offhours/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client with a timeout and a user agent builds")
}

/// Reads every calendar at once: the texts read, and an error for each calendar that
/// has no good text (start-up, a reload and `check` refuse the file then; a refresh
/// keeps the text it had).
pub async fn load(calendars: &[Calendar], state_dir: &Path, http: &reqwest::Client, now: DateTime<Utc>) -> (Loaded, Vec<CalendarError>) {
    let reads = calendars.iter().map(|c| read(c, state_dir, http, now));
    let mut loaded = Loaded::default();
    let mut errors = Vec::new();
    for (c, outcome) in calendars.iter().zip(futures_util::future::join_all(reads).await) {
        let source = c.source.describe();
        match outcome {
            Ok((text, origin)) => {
                let error = match &origin {
                    Origin::Cached { error, .. } => Some(error.as_str()),
                    _ => None,
                };
                crate::events::emit(crate::events::Event::CalendarRead {
                    calendar: &c.name,
                    source: &source,
                    outcome: origin.as_str(),
                    error,
                });
                loaded.texts.insert(c.name.clone(), text);
                loaded.origins.insert(c.name.clone(), origin);
            }
            Err(e) => {
                let event =
                    crate::events::Event::CalendarRead { calendar: &c.name, source: &source, outcome: "failed", error: Some(&e.reason) };
                crate::events::emit(event);
                errors.push(e);
            }
        }
    }
    (loaded, errors)
}

async fn read(c: &Calendar, state_dir: &Path, http: &reqwest::Client, now: DateTime<Utc>) -> Result<(Arc<str>, Origin), CalendarError> {
    let fail = |reason: String| CalendarError { name: c.name.clone(), source_shown: c.source.describe(), reason };
    match &c.source {
        CalendarSource::File(path) => {
            let text = tokio::fs::read_to_string(path).await.map_err(|e| fail(format!("cannot read it: {e}")))?;
            check(&text, now).map_err(fail)?;
            Ok((Arc::from(text), Origin::File))
        }
        CalendarSource::Url { url, .. } => {
            let (ics, meta) = cache_paths(state_dir, &c.name);
            let fetched = fetch(http, url.expose()).await.and_then(|text| check(&text, now).map(|()| text));
            match fetched {
                Ok(text) => {
                    keep(&ics, &meta, url.expose(), &text, now);
                    Ok((Arc::from(text), Origin::Fetched))
                }
                Err(error) => match cached(&ics, &meta, url.expose(), now) {
                    Some((text, fetched_at)) => Ok((text, Origin::Cached { fetched_at, error })),
                    None => Err(fail(format!("{error}; no copy was ever fetched, so the schedules that skip it cannot run"))),
                },
            }
        }
    }
}

/// A text that parses as a calendar (its events around `now` expand).
fn check(text: &str, now: DateTime<Utc>) -> Result<(), String> {
    covered(text, chrono_tz::UTC, now.date_naive()).map(|_| ())
}

async fn fetch(http: &reqwest::Client, url: &str) -> Result<String, String> {
    // reqwest's errors may quote the URL, which is a secret: say what failed, not where.
    let mut response = http.get(url).send().await.map_err(|e| describe(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the server answered {status}"));
    }
    let mut body: Vec<u8> = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BYTES {
            return Err(format!("larger than {} MiB: not a holiday calendar", MAX_BYTES / (1024 * 1024)));
        }
    }
    String::from_utf8(body).map_err(|_| "not UTF-8 text".to_string())
}

fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "the body could not be read"
    } else {
        "the request failed"
    };
    let mut cause = std::error::Error::source(e);
    let mut innermost = None;
    while let Some(c) = cause {
        innermost = Some(c.to_string());
        cause = c.source();
    }
    match innermost {
        Some(c) if !c.contains("://") => format!("{what}: {c}"),
        _ => what.to_string(),
    }
}

fn cache_paths(state_dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let dir = state_dir.join(CACHE_DIR);
    (dir.join(format!("{name}.ics")), dir.join(format!("{name}.json")))
}

fn sha256_hex(text: &str) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Keeps a good copy; a copy that cannot be written costs only the fallback (warned).
fn keep(ics: &Path, meta: &Path, url: &str, text: &str, now: DateTime<Utc>) {
    let written = (|| {
        std::fs::create_dir_all(ics.parent().unwrap_or(Path::new(".")))?;
        crate::store::state::write_atomic(ics, text.as_bytes())?;
        let m = CacheMeta { source_sha256: sha256_hex(url), fetched_at: now };
        crate::store::state::write_atomic(meta, &serde_json::to_vec_pretty(&m).expect("serializable"))
    })();
    if let Err(e) = written {
        tracing::warn!(job = "calendars", path = %ics.display(), error = %e, "Cannot keep the calendar's copy: a later failed fetch has nothing to fall back on.");
    }
}

/// The last good copy of this URL's calendar, if there is one that still parses.
fn cached(ics: &Path, meta: &Path, url: &str, now: DateTime<Utc>) -> Option<(Arc<str>, DateTime<Utc>)> {
    let m: CacheMeta = serde_json::from_slice(&std::fs::read(meta).ok()?).ok()?;
    if m.source_sha256 != sha256_hex(url) {
        return None;
    }
    let text = std::fs::read_to_string(ics).ok()?;
    check(&text, now).ok()?;
    Some((Arc::from(text), m.fetched_at))
}
