//! Keeping a generation's calendars fresh: a task reads each calendar again every
//! `refresh` (off the loop, so a slow feed never delays a fire) and hands the texts to
//! the loop, which binds them into a new generation. A calendar that cannot be read
//! keeps the text it had (the read says so: a warning event and the metric).

use std::collections::BTreeMap;
use std::path::PathBuf;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::AbortOnDrop;
use crate::config::Calendar;
use crate::config::calendar::Texts;
use crate::jobs::calendars::{CalendarError, load};

/// Reads the calendars of the file, for start-up and reloads: every one must have a
/// good text.
pub async fn first(calendars: &[Calendar], state_dir: &std::path::Path, http: &reqwest::Client) -> Result<Texts, Vec<CalendarError>> {
    let (loaded, errors) = load(calendars, state_dir, http, chrono::Utc::now()).await;
    if errors.is_empty() { Ok(loaded.texts) } else { Err(errors) }
}

/// The refresh task of one generation's calendars; dropping it stops it.
pub struct Refresher {
    _task: Option<AbortOnDrop>,
}

impl Refresher {
    /// Reads each of `calendars` again every its `refresh`, starting from `texts`, and
    /// sends the whole set after each round that read something.
    pub fn start(
        calendars: Vec<Calendar>,
        texts: Texts,
        state_dir: PathBuf,
        http: reqwest::Client,
        tx: mpsc::UnboundedSender<Texts>,
    ) -> Self {
        if calendars.is_empty() {
            return Refresher { _task: None };
        }
        Refresher { _task: Some(AbortOnDrop(tokio::spawn(refresh(calendars, texts, state_dir, http, tx)))) }
    }
}

async fn refresh(calendars: Vec<Calendar>, mut texts: Texts, state_dir: PathBuf, http: reqwest::Client, tx: mpsc::UnboundedSender<Texts>) {
    let mut next: BTreeMap<String, Instant> = calendars.iter().map(|c| (c.name.clone(), Instant::now() + c.refresh)).collect();
    loop {
        let Some(at) = next.values().min().copied() else { return };
        tokio::time::sleep_until(at).await;
        let now = Instant::now();
        let due: Vec<Calendar> = calendars.iter().filter(|c| next[&c.name] <= now).cloned().collect();
        for c in &due {
            next.insert(c.name.clone(), now + c.refresh);
        }
        // Failures were told by the read itself; the text they had stays.
        let (loaded, _) = load(&due, &state_dir, &http, chrono::Utc::now()).await;
        if loaded.texts.is_empty() {
            continue;
        }
        texts.extend(loaded.texts);
        if tx.send(texts.clone()).is_err() {
            return;
        }
    }
}
