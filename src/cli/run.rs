//! `offhours run`: the daemon, wired to the system clock, AWS and Unix signals.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::{Cli, EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::daemon::clock::SystemClock;
use crate::daemon::service::AwsExecutor;
use crate::daemon::{self, Control, DaemonError, Options};

/// `--state-dir`, else systemd's `$STATE_DIRECTORY`, else /var/lib/offhours.
pub fn state_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("STATE_DIRECTORY").and_then(|v| v.to_str().and_then(|s| s.split(':').next().map(PathBuf::from))))
        .unwrap_or_else(|| PathBuf::from("/var/lib/offhours"))
}

pub async fn run(cli: &Cli, state_dir: PathBuf) -> u8 {
    // Handlers first: until they exist, SIGHUP would kill the process.
    let (tx, rx) = mpsc::unbounded_channel();
    let (mut hup, mut term, mut int) =
        match (signal(SignalKind::hangup()), signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(h), Ok(t), Ok(i)) => (h, t, i),
            _ => {
                eprintln!("offhours: cannot install signal handlers");
                return EXIT_FAILED;
            }
        };
    tokio::spawn(async move {
        loop {
            // Signals that arrive together are delivered as one: each means "at least one".
            let request = tokio::select! {
                _ = hup.recv() => Control::Reload,
                _ = term.recv() => Control::Shutdown,
                _ = int.recv() => Control::Shutdown,
            };
            tracing::info!(request = ?request, "Signal received.");
            if tx.send(request).is_err() {
                break;
            }
        }
    });
    let mut opts = Options::new(cli.config.clone(), state_dir);
    opts.force_dry_run = cli.dry_run;
    match daemon::run(opts, Arc::new(AwsExecutor), Arc::new(SystemClock), rx).await {
        Ok(()) => EXIT_OK,
        Err(DaemonError::Config(e)) => {
            eprintln!("{e}");
            EXIT_USAGE
        }
        Err(e @ DaemonError::Prepare(_)) => {
            eprintln!("offhours: {e}");
            EXIT_USAGE
        }
    }
}

/// `offhours health`: exit 0 when the daemon's loop has run within `max_age`.
pub fn health(state_dir: PathBuf, max_age: std::time::Duration) -> u8 {
    let path = state_dir.join(daemon::HEARTBEAT_FILE);
    let beat = std::fs::read_to_string(&path).ok().and_then(|s| chrono::DateTime::parse_from_rfc3339(s.trim()).ok());
    match beat {
        Some(t) => {
            let age = chrono::Utc::now() - t.with_timezone(&chrono::Utc);
            if age.to_std().unwrap_or_default() <= max_age {
                out!("ok: last loop {}s ago", age.num_seconds());
                EXIT_OK
            } else {
                out!("stale: last loop {}s ago (more than {}s)", age.num_seconds(), max_age.as_secs());
                EXIT_FAILED
            }
        }
        None => {
            out!("no heartbeat at {}", path.display());
            EXIT_FAILED
        }
    }
}
