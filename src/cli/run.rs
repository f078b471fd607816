//! `offhours run`: the daemon, wired to the system clock, AWS and Unix signals.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::{Cli, EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::daemon::clock::SystemClock;
use crate::daemon::service::AwsExecutor;
use crate::daemon::status::{self, Verdict};
use crate::daemon::{self, Control, DaemonError, Options, notify};

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
    opts.watchdog = notify::watchdog_interval();
    let notify = Arc::new(crate::notify::queue::Dispatcher::new(crate::notify::queue::Policy::default()));
    crate::events::subscribe(notify.clone());
    match daemon::run(opts, Arc::new(AwsExecutor::new(notify)), Arc::new(SystemClock), rx).await {
        Ok(()) => EXIT_OK,
        Err(DaemonError::Config(e)) => {
            eprintln!("{e}");
            EXIT_USAGE
        }
        Err(e @ DaemonError::Prepare(_)) => {
            eprintln!("offhours: {e}");
            EXIT_USAGE
        }
        Err(e @ DaemonError::Http { .. }) => {
            tracing::error!(error = %e, "Cannot start: the HTTP endpoint cannot listen.");
            eprintln!("offhours: {e}");
            EXIT_FAILED
        }
        Err(e @ DaemonError::Calendars(_)) => {
            tracing::error!(error = %e, "Cannot start: a calendar cannot be read.");
            for line in e.to_string().lines() {
                eprintln!("offhours: {line}");
            }
            EXIT_FAILED
        }
        Err(e @ DaemonError::StateDir(_)) => {
            tracing::error!(error = %e, "Cannot start: the state directory is not writable.");
            eprintln!("offhours: {e}");
            EXIT_FAILED
        }
    }
}

/// `offhours health`: exit 0 when the daemon's loop has run within `max_age` and its
/// last state write succeeded.
pub fn health(state_dir: PathBuf, max_age: Duration) -> u8 {
    let path = state_dir.join(daemon::HEARTBEAT_FILE);
    let beat = std::fs::read_to_string(&path).ok().and_then(|text| status::parse_heartbeat(&text));
    let verdict = status::judge(beat.as_ref(), chrono::Utc::now(), max_age);
    match &verdict {
        Verdict::Healthy { age_s } => match beat.as_ref().and_then(|b| b.role.as_deref()) {
            Some(role) => out!("ok: last loop {age_s}s ago; {role}"),
            None => out!("ok: last loop {age_s}s ago"),
        },
        Verdict::StateUnwritable { error } => out!("unhealthy: the state file cannot be written ({error}); fix the state directory"),
        Verdict::Stale { age_s, max_age_s } => out!("stale: last loop {age_s}s ago (more than {max_age_s}s)"),
        Verdict::Stopped { at } => out!("stopped: the daemon shut down at {}", at.to_rfc3339()),
        Verdict::NoHeartbeat => out!("no heartbeat at {}", path.display()),
    }
    if verdict.healthy() { EXIT_OK } else { EXIT_FAILED }
}

/// `offhours reload`: validate, signal, and wait until the daemon reports a reload that
/// began after the signal (earlier reloads, or several signals folded into one, cannot
/// be mistaken for it: the daemon stamps each reload with the host's monotonic clock).
pub async fn reload(cli: &Cli, pid: Option<i32>, state_dir: PathBuf, timeout: Duration) -> u8 {
    if super::load_config(cli).is_err() {
        eprintln!("offhours: {}: not reloaded: the file is invalid; the daemon keeps its running schedules", cli.config.display());
        return EXIT_USAGE;
    }
    let Some(pid) = pid.and_then(rustix::process::Pid::from_raw) else {
        eprintln!("offhours: no daemon to reload: pass --pid, or run this as systemd's ExecReload (which sets $MAINPID)");
        return EXIT_USAGE;
    };
    let path = state_dir.join(status::RELOAD_FILE);
    let sent = notify::monotonic_usec();
    if let Err(e) = rustix::process::kill_process(pid, rustix::process::Signal::HUP) {
        eprintln!("offhours: cannot signal the daemon (pid {}): {e}", pid.as_raw_nonzero());
        return EXIT_FAILED;
    }
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let report = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<status::ReloadStatus>(&b).ok());
        if let Some(report) = report.filter(|r| r.began_monotonic_usec >= sent) {
            return if report.outcome == "applied" {
                out!("reload applied");
                EXIT_OK
            } else {
                for e in &report.errors {
                    eprintln!("{e}");
                }
                eprintln!("offhours: reload rejected; the daemon keeps its running schedules");
                EXIT_FAILED
            };
        }
        if tokio::time::Instant::now() >= deadline {
            eprintln!(
                "offhours: the daemon (pid {}) did not report a reload within {}s (see its log; {} was not updated)",
                pid.as_raw_nonzero(),
                timeout.as_secs(),
                path.display()
            );
            return EXIT_FAILED;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
