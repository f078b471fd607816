//! `offhours plan`: which instances each schedule governs and what its most recent
//! fire would do to them. Read-only: only DescribeInstances is called.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::aws::ec2::CallCounter;
use crate::aws::{Aws, AwsError};
use crate::config::{Action, Config, Schedule};
use crate::plan::{self, Fire, InstanceState, Verdict};

#[derive(Debug, Clone, Serialize)]
pub struct FireView {
    pub action: Action,
    pub at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedInstance {
    pub id: String,
    pub region: String,
    pub name: Option<String>,
    pub state: InstanceState,
    /// `start`, `stop`, `none` or `skip`.
    pub decision: &'static str,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchedulePlan {
    pub schedule: String,
    pub timezone: String,
    pub last_fire: Option<FireView>,
    pub next_fire: Option<FireView>,
    pub instances: Vec<PlannedInstance>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    pub at: String,
    pub schedules: Vec<SchedulePlan>,
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("schedule {schedule}: cannot list instances: {source}")]
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
            let api = aws.ec2_api(region, calls);
            async move { api.describe_tagged(&schedule.selector(&config.tag_key)).await }
        })
    });
    let mut listed = futures_util::future::join_all(reads).await.into_iter();
    let mut schedules = Vec::with_capacity(config.schedules.len());
    for schedule in &config.schedules {
        let last = plan::last_fire(schedule, at);
        let mut instances = Vec::new();
        for _ in regions {
            let found = listed
                .next()
                .expect("one listing per schedule and region")
                .map_err(|source| PreviewError::Describe { schedule: schedule.name.clone(), source })?;
            match last {
                None => instances.extend(found.into_iter().map(|i| PlannedInstance {
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
                            Verdict::Unchanged => ("none", Some(format!("already {}", d.instance.state))),
                            Verdict::Skip(r) => ("skip", Some(r.to_string())),
                        };
                        instances.push(PlannedInstance {
                            name: d.instance.name().map(str::to_string),
                            id: d.instance.id,
                            region: d.instance.region,
                            state: d.instance.state,
                            decision,
                            reason,
                        });
                    }
                }
            }
        }
        instances.sort_by(|a, b| (&a.region, &a.id).cmp(&(&b.region, &b.id)));
        schedules.push(SchedulePlan {
            schedule: schedule.name.clone(),
            timezone: schedule.timezone.name().to_string(),
            last_fire: view(schedule, last),
            next_fire: view(schedule, plan::next_fire(schedule, at)),
            instances,
        });
    }
    Ok(PlanReport { at: at.with_timezone(&config.timezone).to_rfc3339_opts(chrono::SecondsFormat::Secs, false), schedules })
}
