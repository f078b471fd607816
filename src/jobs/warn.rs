//! The warning before a stop: what the stop at `stop_at` would stop, decided as the
//! stop will decide it (override tags and snoozes read at that instant). Read-only.

use chrono::{DateTime, Utc};

use crate::aws::Aws;
use crate::config::{Action, Config, Schedule};
use crate::events::{Event, ResourceRef, emit};
use crate::jobs::apply::{ApplyError, Cause, Request, list};
use crate::plan::{Verdict, plan};

/// Lists the schedule's resources, and tells people which the stop would stop (no
/// notice when none would be).
pub async fn warn(
    aws: &Aws,
    config: &Config,
    schedule: &Schedule,
    regions: &[String],
    stop_at: DateTime<Utc>,
) -> Result<Vec<ResourceRef>, ApplyError> {
    let req = Request { config, schedule, regions, action: Action::Stop, dry_run: true, now: stop_at, cause: Cause::Scheduled };
    let listed = list(aws, &req).await?;
    let mut stopping: Vec<ResourceRef> = plan(schedule, Action::Stop, &config.skip_tag, stop_at, listed.resources())
        .into_iter()
        .filter(|d| matches!(d.verdict, Verdict::Act { .. }))
        .map(|d| ResourceRef {
            kind: d.resource.kind,
            name: d.resource.name().map(str::to_string),
            id: d.resource.id,
            region: d.resource.region,
        })
        .collect();
    stopping.sort_by(|a, b| (a.kind, &a.region, &a.id).cmp(&(b.kind, &b.region, &b.id)));
    if stopping.is_empty() {
        tracing::info!(job = "warn", schedule = %schedule.name, stop_at = %stop_at.to_rfc3339(), "Stop warning not sent: the stop has nothing to stop.");
    } else {
        emit(Event::StopWarning { schedule: &schedule.name, stop_at, timezone: schedule.timezone, resources: &stopping });
    }
    Ok(stopping)
}
