//! The state file: up to when each job's fires have been handled, so that a fire
//! missed while the daemon was down is found on start-up. Written atomically (temp
//! file, fsync, rename, fsync of the directory); a missing or unreadable file means
//! "no history" and is logged, never fatal.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const FILE_NAME: &str = "state.json";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// Job key -> the instant up to which its fires are handled.
    pub handled_until: BTreeMap<String, DateTime<Utc>>,
}

impl State {
    /// Records that `key`'s fires are handled up to `at` (never moves back).
    pub fn advance(&mut self, key: &str, at: DateTime<Utc>) {
        let entry = self.handled_until.entry(key.to_string()).or_insert(at);
        if *entry < at {
            *entry = at;
        }
    }
}

/// Where the state lives.
#[derive(Debug, Clone)]
pub struct StateFile {
    pub path: PathBuf,
}

impl StateFile {
    pub fn in_dir(dir: &Path) -> Self {
        StateFile { path: dir.join(FILE_NAME) }
    }

    pub fn load(&self) -> State {
        match std::fs::read(&self.path) {
            Ok(bytes) => match serde_json::from_slice::<State>(&bytes) {
                Ok(state) => state,
                Err(e) => {
                    tracing::error!(path = %self.path.display(), error = %e, "State file is corrupt; starting with no history.");
                    State::default()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::info!(path = %self.path.display(), "No state file yet; starting with no history.");
                State::default()
            }
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "Cannot read the state file; starting with no history.");
                State::default()
            }
        }
    }

    pub fn save(&self, state: &State) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let bytes = serde_json::to_vec_pretty(&State { version: 1, ..state.clone() }).expect("serializable");
        write_atomic(&self.path, &bytes)?;
        // The rename is durable only once the directory is synced.
        std::fs::File::open(dir)?.sync_all()
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = tmp_path(path);
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::in_dir(&dir.path().join("nested"));
        assert_eq!(file.load(), State::default(), "missing file: no history");
        let mut state = State::default();
        let t: DateTime<Utc> = "2026-11-23T18:00:00Z".parse().unwrap();
        state.advance("schedule:office:stop", t);
        state.advance("schedule:office:stop", t - chrono::TimeDelta::hours(1));
        file.save(&state).unwrap();
        let loaded = file.load();
        assert_eq!(loaded.handled_until["schedule:office:stop"], t, "never moves back");
        std::fs::write(&file.path, b"{ not json").unwrap();
        assert_eq!(file.load(), State::default(), "corrupt file: no history");
    }
}
