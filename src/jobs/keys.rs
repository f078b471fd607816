//! The access-key audit: read the credential report (a few calls however many users),
//! apply the rules, resolve key ids only for the users with findings, and, when asked,
//! deactivate stale keys behind every guard.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::audit::{self, Finding, Limits, ROOT_USER, ReportError};
use crate::aws::iam::{self, AccessKey};
use crate::aws::{Aws, AwsError};
use crate::config::IamAudit;

/// One finding as shown and logged.
#[derive(Debug, Clone, Serialize)]
pub struct FindingView {
    pub user: String,
    pub arn: String,
    pub slot: u8,
    pub access_key_id: Option<String>,
    pub rule: &'static str,
    pub severity: audit::Severity,
    pub created: Option<String>,
    pub last_used: Option<String>,
    pub last_used_service: Option<String>,
    pub last_used_region: Option<String>,
    pub age_days: Option<i64>,
    pub idle_days: Option<i64>,
    /// The key offhours itself runs with.
    pub own_key: bool,
    /// `none`, `deactivated`, `would-deactivate`, `exempt`, `protected` or `failed`.
    pub action: &'static str,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub evaluated_at: String,
    pub report_generated_at: Option<String>,
    pub users: usize,
    pub active_keys: usize,
    pub findings: Vec<FindingView>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

#[derive(Debug, Clone, Copy)]
pub struct AuditRun<'a> {
    pub cfg: &'a IamAudit,
    /// Evaluate as of this instant.
    pub at: DateTime<Utc>,
    pub deactivate: bool,
    pub dry_run: bool,
    /// Times are shown in this zone.
    pub tz: Tz,
    pub job: &'static str,
}

fn show(t: Option<DateTime<Utc>>, tz: Tz) -> Option<String> {
    t.map(|t| t.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::Secs, false))
}

/// The key id in `slot` of a user: matched by creation date (the report's
/// "last rotated"), else by order (slot 1 is the older key).
fn key_in_slot(keys: &[AccessKey], f: &Finding) -> Option<String> {
    let same_second = |k: &&AccessKey| k.created.is_some() && k.created.map(|c| c.timestamp()) == f.created.map(|c| c.timestamp());
    if let Some(k) = keys.iter().find(same_second) {
        return Some(k.id.clone());
    }
    let mut sorted: Vec<&AccessKey> = keys.iter().collect();
    sorted.sort_by_key(|k| k.created);
    sorted.get(usize::from(f.slot) - 1).map(|k| k.id.clone())
}

pub async fn audit(aws: &Aws, run: AuditRun<'_>) -> Result<AuditReport, AuditError> {
    let client = aws.iam();
    let (csv, generated) = iam::credential_report(&client, Duration::from_secs(60)).await?;
    let rows = audit::parse_report(&csv)?;
    let limits = Limits { max_key_age_days: run.cfg.max_key_age_days, max_unused_days: run.cfg.max_unused_days };
    let found = audit::findings(&rows, run.at, limits);
    let own = aws.own_key_ids().await;
    let caller = iam::caller_arn(&aws.sts()).await.ok();

    // Key ids only for the users with findings (root's cannot be listed).
    let mut keys_of: BTreeMap<String, Vec<AccessKey>> = BTreeMap::new();
    for user in found.iter().map(|f| &f.user).collect::<BTreeSet<_>>() {
        if user != ROOT_USER {
            keys_of.insert(user.clone(), iam::access_keys(&client, user).await?);
        }
    }

    let deactivating = run.deactivate || run.cfg.deactivate;
    let mut acted_on: BTreeSet<String> = BTreeSet::new();
    let mut actions = 0u32;
    let mut tags_of: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut views = Vec::with_capacity(found.len());
    for f in &found {
        let key_id = keys_of.get(&f.user).and_then(|keys| key_in_slot(keys, f));
        let own_key = key_id.as_ref().is_some_and(|id| own.contains(id)) || (key_id.is_none() && caller.as_deref() == Some(f.arn.as_str()));
        let (action, note) = if !(deactivating && f.rule.stale()) {
            ("none", None)
        } else if key_id.as_ref().is_some_and(|id| acted_on.contains(id)) {
            ("none", Some("same key as the finding above".to_string()))
        } else if own_key {
            ("protected", Some("offhours itself runs with this key".to_string()))
        } else if run.cfg.exempt_users.contains(&f.user) {
            ("exempt", Some("listed in exempt_users".to_string()))
        } else if let Some(id) = &key_id {
            let exempt_by_tag = match &run.cfg.exempt_tag {
                Some(tag) => {
                    if !tags_of.contains_key(&f.user) {
                        tags_of.insert(f.user.clone(), iam::user_tags(&client, &f.user).await?);
                    }
                    tags_of[&f.user].contains_key(tag)
                }
                None => false,
            };
            if exempt_by_tag {
                ("exempt", Some(format!("user carries the tag {}", run.cfg.exempt_tag.as_deref().unwrap_or_default())))
            } else if actions >= run.cfg.max_deactivations_per_run {
                ("none", Some(format!("max_deactivations_per_run = {} reached", run.cfg.max_deactivations_per_run)))
            } else {
                acted_on.insert(id.clone());
                deactivate(&client, &run, f, id, limits, &mut actions).await
            }
        } else {
            ("none", Some("access key id not resolved".to_string()))
        };
        views.push(FindingView {
            user: f.user.clone(),
            arn: f.arn.clone(),
            slot: f.slot,
            access_key_id: key_id,
            rule: f.rule.as_str(),
            severity: f.rule.severity(),
            created: show(f.created, run.tz),
            last_used: show(f.last_used, run.tz),
            last_used_service: f.last_used_service.clone(),
            last_used_region: f.last_used_region.clone(),
            age_days: f.age_days,
            idle_days: f.idle_days,
            own_key,
            action,
            note,
        });
    }

    for v in &views {
        let sev = v.severity;
        macro_rules! event {
            ($level:ident) => {
                tracing::$level!(
                    job = run.job,
                    user = %v.user,
                    access_key_id = v.access_key_id.as_deref(),
                    slot = v.slot,
                    rule = v.rule,
                    severity = ?sev,
                    age_days = v.age_days,
                    idle_days = v.idle_days,
                    last_used = v.last_used.as_deref(),
                    own_key = v.own_key,
                    action = v.action,
                    note = v.note.as_deref(),
                    dry_run = run.dry_run,
                    "Access key finding."
                )
            };
        }
        if sev == audit::Severity::Info { event!(info) } else { event!(warn) }
    }
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for v in &views {
        *by_rule.entry(v.rule).or_default() += 1;
    }
    let active_keys = rows.iter().map(|r| r.keys.iter().filter(|k| k.active).count()).sum();
    tracing::info!(
        job = run.job,
        users = rows.len(),
        active_keys,
        findings = %serde_json::to_string(&by_rule).unwrap_or_default(),
        deactivated = views.iter().filter(|v| v.action == "deactivated").count(),
        dry_run = run.dry_run,
        "Access key audit finished."
    );
    Ok(AuditReport {
        evaluated_at: run.at.with_timezone(&run.tz).to_rfc3339_opts(SecondsFormat::Secs, false),
        report_generated_at: show(generated, run.tz),
        users: rows.len(),
        active_keys,
        findings: views,
    })
}

/// Re-checks the key's last use right before acting, then sets it Inactive (or says
/// it would); each action is one event with the command that undoes it.
async fn deactivate(
    client: &aws_sdk_iam::Client,
    run: &AuditRun<'_>,
    f: &Finding,
    id: &str,
    limits: Limits,
    actions: &mut u32,
) -> (&'static str, Option<String>) {
    if f.rule == audit::Rule::KeyUnused {
        match iam::key_last_used(client, id).await {
            Ok(Some(used)) if run.at - used < chrono::TimeDelta::days(i64::from(limits.max_unused_days)) => {
                return ("none", Some(format!("used since the report ({})", show(Some(used), run.tz).unwrap_or_default())));
            }
            Ok(_) => {}
            Err(e) => return ("failed", Some(format!("cannot re-check the last use: {e}"))),
        }
    }
    *actions += 1;
    let undo = format!("aws iam update-access-key --user-name {} --access-key-id {id} --status Active", f.user);
    if run.dry_run {
        tracing::info!(job = run.job, user = %f.user, access_key_id = id, rule = f.rule.as_str(), dry_run = true, undo = %undo, "Access key would be deactivated.");
        return ("would-deactivate", None);
    }
    match iam::deactivate_key(client, &f.user, id).await {
        Ok(()) => {
            tracing::warn!(job = run.job, user = %f.user, access_key_id = id, rule = f.rule.as_str(), dry_run = false, undo = %undo, "Access key deactivated.");
            ("deactivated", Some(format!("undo: {undo}")))
        }
        Err(e) => {
            tracing::error!(job = run.job, user = %f.user, access_key_id = id, error = %e, request_id = e.request_id.as_deref(), "Access key deactivation failed.");
            ("failed", Some(e.to_string()))
        }
    }
}
