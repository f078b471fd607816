//! systemd's notification protocol, through the `sd-notify` crate: readiness, reloads
//! (with the monotonic time stamp `Type=notify-reload` requires), stopping, and the
//! watchdog. Without `$NOTIFY_SOCKET` (a terminal, a container) nothing is sent.

use std::time::Duration;

use sd_notify::NotifyState;

/// What the daemon tells its service manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// Started, or finished a reload (applied or rejected).
    Ready,
    /// A reload began at this `CLOCK_MONOTONIC` instant (µs).
    Reloading {
        monotonic_usec: u64,
    },
    Stopping,
    /// The scheduler loop is alive.
    Watchdog,
}

/// Where notes go: systemd in production, a recorder in tests.
pub trait Notifier: Send + Sync + 'static {
    fn notify(&self, note: Note);
}

/// Sends notes to `$NOTIFY_SOCKET`, if set.
#[derive(Debug, Clone, Copy, Default)]
pub struct Systemd;

impl Notifier for Systemd {
    fn notify(&self, note: Note) {
        let sent = match note {
            Note::Ready => sd_notify::notify(&[NotifyState::Ready, NotifyState::Status("running")]),
            Note::Reloading { monotonic_usec } => {
                sd_notify::notify(&[NotifyState::Reloading, NotifyState::MonotonicUsec(i128::from(monotonic_usec))])
            }
            Note::Stopping => sd_notify::notify(&[NotifyState::Stopping]),
            Note::Watchdog => sd_notify::notify(&[NotifyState::Watchdog]),
        };
        if let Err(e) = sent {
            tracing::warn!(note = ?note, error = %e, "Cannot notify systemd.");
        }
    }
}

/// The watchdog interval systemd set for this process (`WatchdogSec=`), if any.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled().filter(|d| !d.is_zero())
}

/// `CLOCK_MONOTONIC` in microseconds: the clock systemd reads a reload's
/// `MONOTONIC_USEC` against, shared by every process on the host, so `offhours reload`
/// can tell a reload that began after its signal from an earlier one.
pub fn monotonic_usec() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000 + u64::try_from(t.tv_nsec).unwrap_or(0) / 1_000
}
