//! The warning before a stop: what the stop at `stop_at` would stop, decided as the
//! stop will decide it (override tags and snoozes read at that instant). Read-only.

use chrono::{DateTime, Utc};

use crate::config::{Config, Schedule};
use crate::kinds::Rules;

use crate::events::{Event, ResourceRef, emit};
use crate::jobs::apply::{Cause, Request, list};
use crate::jobs::targets::{Target, applies, multi_account};
use crate::model::Action;
use crate::plan::{Verdict, plan};

/// Lists the schedule's resources, and tells people which the stop would stop (no
/// notice when none would be).
pub async fn warn(targets: &[Target], config: &Config, schedule: &Schedule, stop_at: DateTime<Utc>) -> Vec<ResourceRef> {
    let multi = multi_account(config);
    let reads = targets.iter().filter(|t| applies(schedule, &t.account)).filter_map(|t| {
        let regions = t.regions.as_ref().ok()?;
        Some(async move {
            let req = Request {
                config,
                account: &t.account,
                schedule,
                regions,
                action: Action::Stop,
                dry_run: true,
                now: stop_at,
                cause: Cause::Scheduled,
                enforce: None,
                leads: None,
            };
            (t, list(&t.aws, &req).await)
        })
    });
    let mut stopping: Vec<ResourceRef> = Vec::new();
    for (t, listed) in futures_util::future::join_all(reads).await {
        let listed = match listed {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(job = "warn", schedule = %schedule.name, account = %t.account.id, error = %e, "Stop warning could not list the account's resources.");
                continue;
            }
        };
        stopping.extend(
            plan(schedule, Action::Stop, &config.skip_tag, stop_at, listed.resources())
                .into_iter()
                .filter(|d| matches!(d.verdict, Verdict::Act { .. }))
                .map(|d| ResourceRef {
                    account: multi.then(|| t.account.clone()),
                    kind: d.resource.kind,
                    name: d.resource.name().map(str::to_string),
                    id: d.resource.id,
                    region: d.resource.region,
                }),
        );
    }
    stopping.sort_by(|a, b| (&a.account, a.kind, &a.region, &a.id).cmp(&(&b.account, b.kind, &b.region, &b.id)));
    if stopping.is_empty() {
        tracing::info!(job = "warn", schedule = %schedule.name, stop_at = %stop_at.to_rfc3339(), "Stop warning not sent: the stop has nothing to stop.");
    } else {
        emit(Event::StopWarning { schedule: &schedule.name, stop_at, timezone: schedule.timezone, resources: &stopping });
    }
    stopping
}
