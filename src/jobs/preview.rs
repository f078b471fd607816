//! `offhours plan`: which resources each schedule governs and what its most recent
//! fire would do to them. Read-only: only DescribeInstances is called.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::aws::ec2::CallCounter;
use crate::aws::{Aws, AwsError};
use crate::config::{Action, Config, Schedule};
use crate::kinds::Kind;
use crate::plan::{self, Fire, Verdict};

#[derive(Debug, Clone, Serialize)]
pub struct FireView {
    pub action: Action,
    pub at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedResource {
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

#[derive(Debug, Clone, Serialize)]
pub struct SchedulePlan {
    pub schedule: String,
    pub timezone: String,
    pub last_fire: Option<FireView>,
    pub next_fire: Option<FireView>,
    pub resources: Vec<PlannedResource>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    pub at: String,
    pub schedules: Vec<SchedulePlan>,
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

/// The plan of every schedule at `at`.
pub async fn preview(aws: &Aws, config: &Config, regions: &[String], at: DateTime<Utc>) -> Result<PlanReport, PreviewError> {
    let calls = Arc::new(CallCounter::default());
    let calls = &calls;
    // Every (schedule, region) listing at once; the regions' bounds on calls in flight pace them.
    let reads = config.schedules.iter().flat_map(|schedule| {
        regions.iter().map(move |region| {
            let api = aws.api(region, calls);
            async move {
                let selector = schedule.selector(&config.tag_key);
                let mut found = Vec::new();
                for kind in &schedule.kinds {
                    found.extend(crate::aws::adapter(*kind).list(&api, &selector).await?);
                }
                Ok::<_, AwsError>(found)
            }
        })
    });
    let mut listed = futures_util::future::join_all(reads).await.into_iter();
    let mut schedules = Vec::with_capacity(config.schedules.len());
    for schedule in &config.schedules {
        let last = plan::last_fire(schedule, at);
        let snoozed = |tags: &std::collections::BTreeMap<String, String>| {
            plan::snooze::snoozed_until(tags.get(&config.skip_tag).map(String::as_str), at, schedule.timezone)
                .map(|t| t.with_timezone(&schedule.timezone).to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
        };
        let mut resources = Vec::new();
        for _ in regions {
            let found = listed
                .next()
                .expect("one listing per schedule and region")
                .map_err(|source| PreviewError::Describe { schedule: schedule.name.clone(), source })?;
            match last {
                None => resources.extend(found.into_iter().map(|i| PlannedResource {
                    snoozed_until: snoozed(&i.tags),
                    kind: i.kind,
                    name: i.name().map(str::to_string),
                    id: i.id,
                    region: i.region,
                    state: i.state,
                    decision: "none",
                    reason: Some("the schedule has not fired yet".into()),
                })),
                Some(fire) => {
                    for d in plan::plan(schedule, fire.action, &config.skip_tag, at, &found) {
                        let (decision, reason) = match d.verdict {
                            Verdict::Act { hibernate: true } => (fire.action.as_str(), Some("hibernate".to_string())),
                            Verdict::Act { hibernate: false } => (fire.action.as_str(), d.warning.clone()),
                            Verdict::Unchanged => ("none", Some(format!("already {}", d.resource.state))),
                            Verdict::Skip(r) => ("skip", Some(r.to_string())),
                        };
                        resources.push(PlannedResource {
                            snoozed_until: snoozed(&d.resource.tags),
                            kind: d.resource.kind,
                            name: d.resource.name().map(str::to_string),
                            id: d.resource.id,
                            region: d.resource.region,
                            state: d.resource.state,
                            decision,
                            reason,
                        });
                    }
                }
            }
        }
        resources.sort_by(|a, b| (a.kind, &a.region, &a.id).cmp(&(b.kind, &b.region, &b.id)));
        schedules.push(SchedulePlan {
            schedule: schedule.name.clone(),
            timezone: schedule.timezone.name().to_string(),
            last_fire: view(schedule, last),
            next_fire: view(schedule, plan::next_fire(schedule, at)),
            resources,
        });
    }
    Ok(PlanReport { at: at.with_timezone(&config.timezone).to_rfc3339_opts(chrono::SecondsFormat::Secs, false), schedules })
}
