//! What the running daemon tells other processes through its state directory: the
//! heartbeat (`offhours health`: is the loop alive, can it record what it handled, did
//! it stop) and the last reload's outcome (`offhours reload`: did my reload apply).
//! Both files are replaced atomically, so a reader never sees half a file. The
//! verdicts are pure functions of the file and `now`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::store::state::write_atomic;

/// The heartbeat file's name in the state directory.
pub const HEARTBEAT_FILE: &str = "heartbeat";
/// The last reload's outcome, in the state directory.
pub const RELOAD_FILE: &str = "reload.json";
/// The probe written at start-up to prove the directory writable.
const PROBE_FILE: &str = ".write-probe";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// The loop's last wall-clock reading.
    pub loop_at: Option<DateTime<Utc>>,
    /// Why the last state file write failed; `None` once a write succeeds again.
    #[serde(default)]
    pub state_error: Option<String>,
    /// Set when the daemon shut down cleanly.
    #[serde(default)]
    pub stopped_at: Option<DateTime<Utc>>,
    /// `leader`, or `standby: why`, with shared state (`leader` on a state file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// What `offhours health` concludes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Healthy {
        age_s: i64,
    },
    /// The loop runs but cannot record what it handled: missed fires would not be
    /// caught up after a restart.
    StateUnwritable {
        error: String,
    },
    Stale {
        age_s: i64,
        max_age_s: u64,
    },
    Stopped {
        at: DateTime<Utc>,
    },
    NoHeartbeat,
}

impl Verdict {
    pub fn healthy(&self) -> bool {
        matches!(self, Verdict::Healthy { .. })
    }
}

/// Reads the heartbeat file's text: JSON, or a bare RFC 3339 instant (older releases).
pub fn parse_heartbeat(text: &str) -> Option<Heartbeat> {
    serde_json::from_str(text).ok().or_else(|| {
        DateTime::parse_from_rfc3339(text.trim()).ok().map(|t| Heartbeat { loop_at: Some(t.with_timezone(&Utc)), ..Heartbeat::default() })
    })
}

/// Judges a heartbeat at `now`. A stop and an unwritable state file outrank age.
pub fn judge(beat: Option<&Heartbeat>, now: DateTime<Utc>, max_age: Duration) -> Verdict {
    let Some(beat) = beat else {
        return Verdict::NoHeartbeat;
    };
    if let Some(at) = beat.stopped_at {
        return Verdict::Stopped { at };
    }
    let Some(loop_at) = beat.loop_at else {
        return Verdict::NoHeartbeat;
    };
    let age = now - loop_at;
    if age.to_std().unwrap_or_default() > max_age {
        return Verdict::Stale { age_s: age.num_seconds(), max_age_s: max_age.as_secs() };
    }
    match &beat.state_error {
        Some(error) => Verdict::StateUnwritable { error: error.clone() },
        None => Verdict::Healthy { age_s: age.num_seconds() },
    }
}

/// How one reload ended, for `offhours reload` to report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReloadStatus {
    /// `CLOCK_MONOTONIC` (µs) when the daemon began this reload.
    pub began_monotonic_usec: u64,
    /// `applied` or `rejected`.
    pub outcome: String,
    /// Why it was rejected: every error, one per entry.
    #[serde(default)]
    pub errors: Vec<String>,
}

/// Why the state directory cannot be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "state directory {}: cannot {what}: {source}; make it writable by the user offhours runs as (uid {uid}), or choose another with --state-dir or $STATE_DIRECTORY",
    dir.display()
)]
pub struct StateDirError {
    pub dir: PathBuf,
    pub what: &'static str,
    pub uid: u32,
    #[source]
    pub source: std::io::Error,
}

/// Creates the directory if missing and proves it writable the way the state file
/// is written (a file written, synced and renamed), then removes the probe.
pub fn probe_state_dir(dir: &Path) -> Result<(), StateDirError> {
    let fail = |what, source| StateDirError { dir: dir.to_path_buf(), what, uid: rustix::process::getuid().as_raw(), source };
    std::fs::create_dir_all(dir).map_err(|e| fail("create it", e))?;
    let probe = dir.join(PROBE_FILE);
    write_atomic(&probe, b"offhours can write here\n").map_err(|e| fail("write and rename a file in it", e))?;
    std::fs::remove_file(&probe).map_err(|e| fail("remove a file from it", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const NOW: &str = "2026-11-23T12:00:00Z";

    #[track_caller]
    fn check(beat: Option<Heartbeat>, expect: Verdict) {
        assert_eq!(judge(beat.as_ref(), t(NOW), Duration::from_secs(90)), expect);
    }

    fn beat(loop_at: &str, state_error: Option<&str>, stopped_at: Option<&str>) -> Option<Heartbeat> {
        Some(Heartbeat { loop_at: Some(t(loop_at)), state_error: state_error.map(String::from), stopped_at: stopped_at.map(t), role: None })
    }

    #[test]
    fn verdicts() {
        check(beat("2026-11-23T11:59:30Z", None, None), Verdict::Healthy { age_s: 30 });
        check(beat("2026-11-23T11:58:30Z", None, None), Verdict::Healthy { age_s: 90 });
        check(beat("2026-11-23T11:58:29Z", None, None), Verdict::Stale { age_s: 91, max_age_s: 90 });
        check(beat("2026-11-23T11:59:59Z", Some("disk full"), None), Verdict::StateUnwritable { error: "disk full".into() });
        // A stale loop is reported as stale even if the state file also failed.
        check(beat("2026-11-23T11:00:00Z", Some("disk full"), None), Verdict::Stale { age_s: 3600, max_age_s: 90 });
        check(beat("2026-11-23T11:59:59Z", None, Some("2026-11-23T11:59:59Z")), Verdict::Stopped { at: t("2026-11-23T11:59:59Z") });
        check(None, Verdict::NoHeartbeat);
    }

    #[test]
    fn heartbeat_files_old_and_new() {
        let old = parse_heartbeat("2026-11-23T11:59:30+00:00\n").unwrap();
        assert_eq!(old.loop_at, Some(t("2026-11-23T11:59:30Z")));
        let new = Heartbeat { loop_at: Some(t(NOW)), state_error: Some("x".into()), stopped_at: None, role: Some("leader".into()) };
        assert_eq!(parse_heartbeat(&serde_json::to_string(&new).unwrap()), Some(new));
        assert_eq!(parse_heartbeat("garbage"), None);
    }

    #[test]
    fn probe_creates_and_cleans_up_or_names_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("a/b");
        probe_state_dir(&state).unwrap();
        assert_eq!(std::fs::read_dir(&state).unwrap().count(), 0, "the probe is removed");
        // A path under a regular file can never be created (root included).
        std::fs::write(dir.path().join("file"), "").unwrap();
        let bad = dir.path().join("file/state");
        let e = probe_state_dir(&bad).unwrap_err().to_string();
        assert!(e.starts_with(&format!("state directory {}: cannot create it: ", bad.display())), "{e}");
        assert!(e.contains("--state-dir"), "{e}");
    }
}
