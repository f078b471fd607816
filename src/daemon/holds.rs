//! Following the holds (`offhours hold`) in the state backend: read every few seconds,
//! so that a hold set from any machine takes effect within that time on whichever
//! replica leads; what changed is told once (log, notices, metrics) by the leader.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::config::{Config, Keep};
use crate::plan::hold::{self, Change, Hold};
use crate::store::holds::Holds;

/// How often the store is read.
pub const HOLD_REFRESH: Duration = Duration::from_secs(5);

pub struct HoldWatch {
    store: Holds,
    /// The live holds at the last good reading.
    live: Vec<Hold>,
    next: Instant,
    /// The last reading's error, told once until a reading works again.
    failing: Option<String>,
    /// Entries that could not be read, told once each.
    told: std::collections::BTreeSet<String>,
}

impl HoldWatch {
    pub fn new(store: Holds) -> Self {
        HoldWatch { store, live: Vec::new(), next: Instant::now(), failing: None, told: Default::default() }
    }

    pub fn live(&self) -> &[Hold] {
        &self.live
    }

    /// How long until the next reading is due.
    pub fn wait(&self) -> Duration {
        self.next.saturating_duration_since(Instant::now())
    }

    /// The schedules with a hold in force, for the metric (every replica).
    pub fn publish(&self) {
        let schedules: Vec<&str> = self.live.iter().map(|h| h.schedule.as_str()).collect();
        crate::events::emit(crate::events::Event::HoldsInForce { schedules: &schedules });
    }

    /// At start-up: the holds in force, logged, not told as news.
    pub async fn first(&mut self, config: &Config, now: DateTime<Utc>) {
        self.refresh(now).await;
        self.publish();
        for h in &self.live {
            let not_applied = hold::unfit(config, h);
            tracing::info!(
                job = "hold",
                schedule = %h.schedule,
                keep = ?h.keep,
                until = %h.until.to_rfc3339(),
                set_by = %h.set_by,
                not_applied = not_applied.as_deref(),
                "Hold in force."
            );
        }
    }

    /// Reads the store when due: the changes since the last good reading (none when it
    /// failed: the holds known stay in force).
    pub async fn refresh(&mut self, now: DateTime<Utc>) -> Vec<Change> {
        if Instant::now() < self.next {
            return Vec::new();
        }
        self.next = Instant::now() + HOLD_REFRESH;
        let reading = match self.store.read().await {
            Ok(r) => r,
            Err(e) => {
                let e = e.to_string();
                if self.failing.as_deref() != Some(e.as_str()) {
                    tracing::warn!(job = "hold", store = %self.store.describe(), error = %e, "Cannot read the holds; the ones known stay in force.");
                }
                self.failing = Some(e);
                return Vec::new();
            }
        };
        if self.failing.take().is_some() {
            tracing::info!(job = "hold", store = %self.store.describe(), "Holds readable again.");
        }
        for bad in reading.unreadable {
            if self.told.insert(bad.clone()) {
                tracing::warn!(job = "hold", store = %self.store.describe(), error = %bad, "A stored hold cannot be read; it is left out.");
            }
        }
        let changes = hold::changes(&self.live, &reading.holds, now);
        self.live = reading.holds.into_iter().filter(|h| h.live(now)).collect();
        changes
    }
}

/// The change's event: its name, and the hold it is about.
pub fn tell(change: &Change, config: &Config) {
    let (name, h) = match change {
        Change::Set(h) => ("set", h),
        Change::Replaced(h) => ("replaced", h),
        Change::Cleared(h) => ("cleared", h),
        Change::Expired(h) => ("expired", h),
    };
    let timezone = config.schedules.iter().find(|s| s.name == h.schedule).map_or(config.timezone, |s| s.timezone);
    crate::events::emit(crate::events::Event::Hold {
        change: name,
        schedule: &h.schedule,
        keep: if h.keep == Keep::On { "on" } else { "off" },
        from: h.from,
        until: h.until,
        timezone,
        reason: h.reason.as_deref(),
        set_by: &h.set_by,
    });
    if let Some(why) = hold::unfit(config, h).filter(|_| matches!(change, Change::Set(_) | Change::Replaced(_))) {
        tracing::warn!(job = "hold", schedule = %h.schedule, reason = %why, "Hold not applied.");
    }
}

/// A hold kept on that began at or before `handled` (set with a past or present
/// `--from`, or read a few seconds late): its start is due now.
pub fn started_before(change: &Change, handled: DateTime<Utc>) -> Option<&Hold> {
    match change {
        Change::Set(h) | Change::Replaced(h) if h.keep == Keep::On && h.from <= handled => Some(h),
        _ => None,
    }
}
