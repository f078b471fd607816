//! `mute_alarms`: after a stop, the CloudWatch alarms watching what is now off have
//! their actions turned off, so nobody is paged for an instance that is meant to be
//! down; after a verified start, the same alarms are turned on again. Each alarm is
//! tagged `offhours:muted=SCHEDULE` before its actions go off, so a start turns on
//! exactly those (on any replica, after any restart) and an alarm someone silenced by
//! hand stays silent. A failure here is logged and never fails the action.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::apply::Request;
use crate::aws::alarms::{self, AlarmInfo};
use crate::aws::{Aws, CallCounter};
use crate::model::{Action, Outcome, Resource, ResourceResult};
use crate::plan::alarms::{Identity, MUTED_TAG, may_unmute, to_mute};

/// The identities of the resources the action left as it wanted (off after a stop, on
/// after a start), by region.
fn settled<'a>(action: Action, resources: &'a [Resource], results: &[ResourceResult]) -> BTreeMap<&'a str, Vec<Identity>> {
    let wanted: &[Outcome] = match action {
        Action::Stop => &[Outcome::Stopped, Outcome::Hibernated, Outcome::Unchanged, Outcome::WouldStop],
        Action::Start => &[Outcome::Started, Outcome::Unchanged, Outcome::WouldStart],
    };
    let mut by_region: BTreeMap<&str, Vec<Identity>> = BTreeMap::new();
    for r in results.iter().filter(|r| wanted.contains(&r.outcome)) {
        let Some(res) = resources.iter().find(|x| x.kind == r.kind && x.region == r.region && x.id == r.id) else { continue };
        let who = crate::kinds::of(res.kind).alarm_identity(res);
        if !who.is_empty() {
            by_region.entry(res.region.as_str()).or_default().push(who);
        }
    }
    by_region
}

/// Mutes or unmutes, region by region at once, after `req`'s action.
pub async fn follow(aws: &Aws, req: &Request<'_>, calls: &Arc<CallCounter>, resources: &[Resource], results: &[ResourceResult]) {
    let regions = settled(req.action, resources, results);
    let each = regions.iter().map(|(region, who)| async move {
        let api = aws.api(region, calls);
        let found = match alarms::metric_alarms(&api).await {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(job = req.cause.as_str(), schedule = %req.schedule.name, account = %req.account.id, region = %region, error = %e, "Cannot list the alarms to mute or unmute.");
                return;
            }
        };
        match req.action {
            Action::Stop => mute(&api, req, &to_mute(&found, who)).await,
            Action::Start => unmute(&api, req, &may_unmute(&found, who)).await,
        }
    });
    futures_util::future::join_all(each).await;
}

/// The alarms watching any of `resources`, by region (for `plan`); a region whose
/// alarms cannot be read is left out with a warning.
pub async fn watching(aws: &Aws, resources: &[Resource], calls: &Arc<CallCounter>) -> Vec<(String, AlarmInfo)> {
    let mut by_region: BTreeMap<&str, Vec<Identity>> = BTreeMap::new();
    for r in resources {
        let who = crate::kinds::of(r.kind).alarm_identity(r);
        if !who.is_empty() {
            by_region.entry(r.region.as_str()).or_default().push(who);
        }
    }
    let each = by_region.into_iter().map(|(region, who)| async move {
        let api = aws.api(region, calls);
        match alarms::metric_alarms(&api).await {
            Ok(found) => found
                .into_iter()
                .filter(|a| who.iter().any(|w| crate::plan::alarms::names(a, w)))
                .map(|a| (region.to_string(), a))
                .collect(),
            Err(e) => {
                tracing::warn!(job = "plan", region, error = %e, "Cannot list the alarms; plan leaves them out.");
                Vec::new()
            }
        }
    });
    futures_util::future::join_all(each).await.into_iter().flatten().collect()
}

fn event(api: &crate::aws::Api, req: &Request<'_>, alarm: &AlarmInfo, outcome: &str, error: Option<&str>) {
    macro_rules! at {
        ($level:ident, $msg:literal) => {
            tracing::$level!(
                job = req.cause.as_str(),
                schedule = %req.schedule.name,
                action = %req.action,
                account = %req.account.id,
                region = %api.region,
                alarm = %alarm.name,
                outcome,
                error,
                dry_run = req.dry_run,
                $msg
            )
        };
    }
    match error {
        Some(_) => at!(error, "Alarm not changed."),
        None => at!(info, "Alarm actions changed."),
    }
}

/// Tags each alarm, then turns the actions of those tagged off in one call a hundred.
async fn mute(api: &crate::aws::Api, req: &Request<'_>, targets: &[&AlarmInfo]) {
    if req.dry_run {
        targets.iter().for_each(|a| event(api, req, a, "would-mute", None));
        return;
    }
    let mut tagged: Vec<&AlarmInfo> = Vec::new();
    for a in targets {
        match alarms::tag(api, &a.arn, MUTED_TAG, &req.schedule.name).await {
            Ok(()) => tagged.push(a),
            // Untagged, it would never be turned on again: leave it on.
            Err(e) => event(api, req, a, "failed", Some(&e.to_string())),
        }
    }
    // A call a hundred: a refused call untags only its own alarms (the others are off
    // and must stay tagged to come back on).
    for chunk in tagged.chunks(alarms::PER_CALL) {
        let names: Vec<String> = chunk.iter().map(|a| a.name.clone()).collect();
        match alarms::set_actions(api, &names, false).await {
            Ok(()) => chunk.iter().for_each(|a| event(api, req, a, "muted", None)),
            Err(e) => {
                for a in chunk {
                    event(api, req, a, "failed", Some(&e.to_string()));
                    let _ = alarms::untag(api, &a.arn, MUTED_TAG).await;
                }
            }
        }
    }
}

/// Turns on the actions of the candidates this schedule muted (by their tag), then
/// removes the tag.
async fn unmute(api: &crate::aws::Api, req: &Request<'_>, candidates: &[&AlarmInfo]) {
    let mut ours: Vec<&AlarmInfo> = Vec::new();
    for a in candidates {
        match alarms::tag_value(api, &a.arn, MUTED_TAG).await {
            Ok(Some(by)) if by == req.schedule.name => ours.push(a),
            Ok(_) => {}
            Err(e) => event(api, req, a, "failed", Some(&e.to_string())),
        }
    }
    if req.dry_run {
        ours.iter().for_each(|a| event(api, req, a, "would-unmute", None));
        return;
    }
    let names: Vec<String> = ours.iter().map(|a| a.name.clone()).collect();
    if let Err(e) = alarms::set_actions(api, &names, true).await {
        ours.iter().for_each(|a| event(api, req, a, "failed", Some(&e.to_string())));
        return;
    }
    for a in ours {
        match alarms::untag(api, &a.arn, MUTED_TAG).await {
            Ok(()) => event(api, req, a, "unmuted", None),
            Err(e) => {
                event(api, req, a, "unmuted", None);
                tracing::warn!(region = %api.region, alarm = %a.name, tag = MUTED_TAG, error = %e, "Alarm unmuted, but its tag stays.");
            }
        }
    }
}
