//! Where holds (`offhours hold`) are kept: `holds.json` in the state directory, or the
//! shared table, so that every replica sees them. The command writes; the daemon reads
//! them every few seconds and binds the live ones into its schedules.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::state::write_atomic;
use super::table::StateTable;
use crate::plan::hold::Hold;

pub const HOLDS_FILE: &str = "holds.json";

/// The holds of one `[state]`.
#[derive(Debug, Clone)]
pub enum Holds {
    File(PathBuf),
    Table(StateTable),
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct HoldsFile {
    version: u32,
    holds: Vec<Hold>,
}

/// What a reading found: the holds, and the entries that could not be read.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Reading {
    pub holds: Vec<Hold>,
    pub unreadable: Vec<String>,
}

impl Holds {
    pub fn in_dir(dir: &std::path::Path) -> Self {
        Holds::File(dir.join(HOLDS_FILE))
    }

    /// Where, for messages: a path, or a table and region.
    pub fn describe(&self) -> String {
        match self {
            Holds::File(path) => path.display().to_string(),
            Holds::Table(t) => format!("dynamodb table {} in {}", t.table, t.region),
        }
    }

    /// Every hold stored, expired ones included (the caller knows `now`).
    pub async fn read(&self) -> Result<Reading, StoreError> {
        match self {
            Holds::File(path) => Ok(Reading {
                holds: read_file(path).map_err(|source| StoreError::Read { path: path.display().to_string(), source })?.holds,
                unreadable: Vec::new(),
            }),
            Holds::Table(t) => {
                let items = t.holds().await.map_err(|source| StoreError::Aws { table: t.table.clone(), source })?;
                let (holds, bad): (Vec<_>, Vec<_>) = items.into_iter().partition(Result::is_ok);
                Ok(Reading { holds: holds.into_iter().flatten().collect(), unreadable: bad.into_iter().filter_map(Result::err).collect() })
            }
        }
    }

    /// Stores `hold` in place of its schedule's (dropping holds expired at `now`); the
    /// one it replaced.
    pub async fn put(&self, hold: &Hold, now: DateTime<Utc>) -> Result<Option<Hold>, StoreError> {
        match self {
            Holds::File(path) => {
                let mut file = read_file(path).map_err(|source| StoreError::Read { path: path.display().to_string(), source })?;
                let old = take(&mut file.holds, &hold.schedule);
                file.holds.retain(|h| h.live(now));
                file.holds.push(hold.clone());
                write_file(path, file).map_err(|source| StoreError::Io { path: path.display().to_string(), source })?;
                Ok(old)
            }
            Holds::Table(t) => t.put_hold(hold).await.map_err(|source| StoreError::Aws { table: t.table.clone(), source }),
        }
    }

    /// Removes `schedule`'s hold; the one removed.
    pub async fn clear(&self, schedule: &str, now: DateTime<Utc>) -> Result<Option<Hold>, StoreError> {
        match self {
            Holds::File(path) => {
                let mut file = read_file(path).map_err(|source| StoreError::Read { path: path.display().to_string(), source })?;
                let old = take(&mut file.holds, schedule);
                file.holds.retain(|h| h.live(now));
                write_file(path, file).map_err(|source| StoreError::Io { path: path.display().to_string(), source })?;
                Ok(old)
            }
            Holds::Table(t) => t.delete_hold(schedule).await.map_err(|source| StoreError::Aws { table: t.table.clone(), source }),
        }
    }
}

fn read_file(path: &std::path::Path) -> std::io::Result<HoldsFile> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HoldsFile::default()),
        Err(e) => Err(e),
    }
}

fn write_file(path: &std::path::Path, mut file: HoldsFile) -> std::io::Result<()> {
    file.version = 1;
    file.holds.sort_by(|a, b| a.schedule.cmp(&b.schedule));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_atomic(path, &serde_json::to_vec_pretty(&file).expect("serializable"))
}

fn take(holds: &mut Vec<Hold>, schedule: &str) -> Option<Hold> {
    let i = holds.iter().position(|h| h.schedule == schedule)?;
    Some(holds.remove(i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Keep;

    fn hold(schedule: &str, until: &str) -> Hold {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        Hold {
            schedule: schedule.into(),
            keep: Keep::On,
            from: at("2026-12-04T00:00:00Z"),
            until: at(until),
            reason: None,
            set_by: "ops@host".into(),
            set_at: at("2026-12-04T00:00:00Z"),
        }
    }

    #[tokio::test]
    async fn the_file_keeps_one_hold_per_schedule_and_drops_expired_ones() {
        let dir = tempfile::tempdir().unwrap();
        let holds = Holds::in_dir(&dir.path().join("state"));
        let now: DateTime<Utc> = "2026-12-05T00:00:00Z".parse().unwrap();
        assert_eq!(holds.read().await.unwrap(), Reading::default(), "no file: no holds");
        assert_eq!(holds.put(&hold("old", "2026-12-04T12:00:00Z"), now - chrono::TimeDelta::days(1)).await.unwrap(), None);
        assert_eq!(holds.put(&hold("qa", "2026-12-09T00:00:00Z"), now).await.unwrap(), None, "the expired one is dropped");
        let replaced = holds.put(&hold("qa", "2026-12-10T00:00:00Z"), now).await.unwrap();
        assert_eq!(replaced.map(|h| h.until.to_rfc3339()), Some("2026-12-09T00:00:00+00:00".into()));
        let read = holds.read().await.unwrap().holds;
        assert_eq!(
            read.iter().map(|h| (h.schedule.as_str(), h.until.to_rfc3339())).collect::<Vec<_>>(),
            [("qa", "2026-12-10T00:00:00+00:00".into())]
        );
        assert!(holds.clear("qa", now).await.unwrap().is_some());
        assert_eq!(holds.clear("qa", now).await.unwrap(), None, "nothing left to clear");
        std::fs::write(dir.path().join("state").join(HOLDS_FILE), b"{ nope").unwrap();
        let err = holds.read().await.unwrap_err().to_string();
        assert!(err.contains("holds.json") && err.contains("key must be a string"), "{err}");
    }
}
