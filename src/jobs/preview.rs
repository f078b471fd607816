//! `offhours plan`: which resources each schedule governs and what its most recent
//! fire would do to them. Read-only: only DescribeInstances is called.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::aws::AwsError;
use crate::aws::CallCounter;
use crate::config::{Config, Schedule};
use crate::jobs::listing;
use crate::jobs::targets::{Target, applies};
use crate::kinds::Rules;
use crate::model::{AccountFailure, Action, Kind, Mode, Resource};
use crate::plan::{self, Fire, Verdict};

#[derive(Debug, Clone, Serialize)]
pub struct FireView {
    pub action: Action,
    pub at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedResource {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    pub kind: Kind,
    pub id: String,
    pub region: String,
    pub name: Option<String>,
    pub state: String,
    /// `start`, `stop`, `none` or `skip`.
    pub decision: &'static str,
    pub reason: Option<String>,
    /// Until when a snooze (the override tag set to a date or instant) leaves it alone,
    /// in the schedule's timezone.
    pub snoozed_until: Option<String>,
}

/// An alarm watching a governed resource, for a schedule with `mute_alarms`.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedAlarm {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account: String,
    pub region: String,
    pub name: String,
    /// Whether its actions are on now (a stop turns off only those that are).
    pub actions_enabled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchedulePlan {
    pub schedule: String,
    pub timezone: String,
    pub last_fire: Option<FireView>,
    pub next_fire: Option<FireView>,
    /// The groups of kinds acted on one after the other; absent: every kind at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<plan::order::OrderView>,
    pub resources: Vec<PlannedResource>,
    /// With `mute_alarms`: the alarms watching its resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarms: Option<Vec<PlannedAlarm>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    pub at: String,
    pub schedules: Vec<SchedulePlan>,
    /// Accounts that could not be read (with why); the others are planned.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed_accounts: Vec<AccountFailure>,
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("schedule {schedule}: cannot list resources: {source}")]
    Describe {
        schedule: String,
        #[source]
        source: AwsError,
    },
}

fn view(schedule: &Schedule, fire: Option<Fire>) -> Option<FireView> {
    fire.map(|f| FireView { action: f.action, at: f.at.with_timezone(&schedule.timezone).to_rfc3339() })
}

/// The plan of every schedule at `at`, in every account it applies to.
pub async fn preview(targets: &[Target], config: &Config, at: DateTime<Utc>) -> Result<PlanReport, PreviewError> {
    let calls = Arc::new(CallCounter::default());
    let calls = &calls;
    let mut failed_accounts: Vec<AccountFailure> = Vec::new();
    let mut reads = Vec::new();
    for schedule in &config.schedules {
        for t in targets.iter().filter(|t| applies(schedule, &t.account)) {
            let regions = match &t.regions {
                Ok(r) => r,
                Err(e) => {
                    if !failed_accounts.iter().any(|f| f.account == t.account.id) {
                        failed_accounts.push(AccountFailure {
                            account: t.account.id.clone(),
                            account_name: t.account.name.clone(),
                            error: e.clone(),
                        });
                    }
                    continue;
                }
            };
            // Every (schedule, account) listing at once; the regions' bounds on calls in
            // flight pace them.
            reads.push(async move {
                let selector = schedule.selector(&config.tag_key);
                let (read, regions) = listing::of_schedule(schedule, &selector, regions);
                let listings = listing::read(&t.aws, &schedule.kinds, regions, read, calls).await;
                let found = listing::whole(listings).map_err(|f| f.error);
                let alarms = match &found {
                    Ok(resources) if schedule.mute_alarms => super::alarms::watching(&t.aws, resources, calls).await,
                    _ => Vec::new(),
                };
                (schedule.name.as_str(), t, found.map(|f| (f, alarms)))
            });
        }
    }
    let single = targets.len() == 1;
    let mut by_schedule: std::collections::BTreeMap<&str, Vec<(&Target, Found)>> = Default::default();
    for (name, t, read) in futures_util::future::join_all(reads).await {
        match read {
            Ok(found) => by_schedule.entry(name).or_default().push((t, found)),
            Err(source) if single => return Err(PreviewError::Describe { schedule: name.to_string(), source }),
            Err(e) => {
                if !failed_accounts.iter().any(|f| f.account == t.account.id) {
                    failed_accounts.push(AccountFailure {
                        account: t.account.id.clone(),
                        account_name: t.account.name.clone(),
                        error: e.to_string(),
                    });
                }
            }
        }
    }
    failed_accounts.sort_by(|a, b| a.account.cmp(&b.account));
    let schedules = config
        .schedules
        .iter()
        .map(|schedule| schedule_plan(config, schedule, at, by_schedule.remove(schedule.name.as_str()).unwrap_or_default()))
        .collect();
    Ok(PlanReport {
        at: at.with_timezone(&config.timezone).to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        schedules,
        failed_accounts,
    })
}

/// What one account holds of a schedule: its resources, and the alarms watching them.
type Found = (Vec<Resource>, Vec<(String, crate::aws::alarms::AlarmInfo)>);

/// One schedule's plan at `at`: what its last fire would do to each resource found in
/// each account.
fn schedule_plan(config: &Config, schedule: &Schedule, at: DateTime<Utc>, found: Vec<(&Target, Found)>) -> SchedulePlan {
    let last = plan::last_fire(schedule, at);
    let snoozed = |tags: &std::collections::BTreeMap<String, String>| {
        plan::snooze::snoozed_until(tags.get(&config.skip_tag).map(String::as_str), at, schedule.timezone)
            .map(|t| t.with_timezone(&schedule.timezone).to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
    };
    let mut resources = Vec::new();
    let mut alarms = Vec::new();
    for (t, (found, watching)) in found {
        alarms.extend(watching.into_iter().map(|(region, a)| PlannedAlarm {
            account: t.account.id.clone(),
            region,
            name: a.name,
            actions_enabled: a.actions_enabled,
        }));
        let row = |r: Resource, decision: &'static str, reason: Option<String>| PlannedResource {
            account: t.account.id.clone(),
            account_name: t.account.name.clone(),
            snoozed_until: snoozed(&r.tags),
            kind: r.kind,
            name: r.name().map(str::to_string),
            id: r.id,
            region: r.region,
            state: r.state,
            decision,
            reason,
        };
        let Some(fire) = last else {
            resources.extend(found.into_iter().map(|r| row(r, "none", Some("the schedule has not fired yet".into()))));
            continue;
        };
        for d in plan::plan(schedule, fire.action, &config.skip_tag, at, &found) {
            let (decision, reason) = match d.verdict {
                Verdict::Act { mode } if mode != Mode::PLAIN => (fire.action.as_str(), Some(mode.name.to_string())),
                Verdict::Act { .. } => (fire.action.as_str(), d.warning.clone()),
                Verdict::Unchanged => ("none", Some(format!("already {}", d.resource.state))),
                Verdict::Skip(r) => ("skip", Some(r.to_string())),
            };
            resources.push(row(d.resource, decision, reason));
        }
    }
    resources.sort_by(|a, b| (&a.account, a.kind, &a.region, &a.id).cmp(&(&b.account, b.kind, &b.region, &b.id)));
    SchedulePlan {
        schedule: schedule.name.clone(),
        timezone: schedule.timezone.name().to_string(),
        last_fire: view(schedule, last),
        next_fire: view(schedule, plan::next_fire(schedule, at)),
        order: plan::order::view(schedule),
        resources,
        alarms: schedule.mute_alarms.then_some(alarms),
    }
}
