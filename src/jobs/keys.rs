//! The access-key audit: read the credential report (a few calls however many users),
//! apply the rules, tie findings to key ids only for the users with findings (or judge
//! their keys one by one where the report cannot say which key is which), and, when
//! asked, deactivate stale keys behind every guard.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::audit::{self, Finding, Limits, ROOT_USER, ReportError, ReportRow, SlotMatch};

use crate::aws::iam;
use crate::aws::iam::LastUsed;
use crate::aws::{Aws, AwsError};
use crate::config::IamAudit;

/// One finding as shown and logged.
#[derive(Debug, Clone, Serialize)]
pub struct FindingView {
    pub user: String,
    pub arn: String,
    /// The credential report's slot; `None` when the keys were judged one by one.
    pub slot: Option<u8>,
    /// As ListAccessKeys names it, never inferred; `None` for root's keys.
    pub access_key_id: Option<String>,
    /// Where the facts came from: `credential-report` or `access-keys`.
    pub source: audit::Source,
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

/// Emits one [`crate::events::Event::AuditFinished`] for an audit over every account:
/// the findings of all `reports` by rule (what the metrics and the notice show).
pub fn emit_finished<'a>(reports: impl IntoIterator<Item = &'a AuditReport>) {
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for report in reports {
        for f in &report.findings {
            *by_rule.entry(f.rule).or_default() += 1;
        }
    }
    crate::events::emit(crate::events::Event::AuditFinished { findings: &by_rule });
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("cannot list the access keys of {user}: {source}")]
    ListKeys { user: String, source: AwsError },
    #[error("cannot read when access key {access_key_id} of {user} was last used: {source}")]
    LastUsed { user: String, access_key_id: String, source: AwsError },
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
    /// The account audited, when offhours acts in several (for the log).
    pub account: Option<&'a str>,
}

fn show(t: Option<DateTime<Utc>>, tz: Tz) -> Option<String> {
    t.map(|t| t.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::Secs, false))
}

/// Ties every finding to its key id for certain, for the users with findings: the
/// report's findings where the user's slots match the listed keys one to one, else the
/// user's keys judged one by one (ListAccessKeys, GetAccessKeyLastUsed). Root's
/// findings keep their slot and no id: its keys cannot be listed.
async fn resolve(
    client: &aws_sdk_iam::Client,
    rows: &[ReportRow],
    found: Vec<Finding>,
    run: &AuditRun<'_>,
    limits: Limits,
) -> Result<Vec<Finding>, AuditError> {
    let mut by_user: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    for f in found {
        by_user.entry(f.user.clone()).or_default().push(f);
    }
    let mut out = Vec::new();
    for row in rows {
        let Some(mut of_user) = by_user.remove(&row.user) else { continue };
        if row.user == ROOT_USER {
            out.append(&mut of_user);
            continue;
        }
        let keys = match iam::access_keys(client, &row.user).await {
            Ok(keys) => keys,
            // Deleted since the report: its keys went with it; nothing to judge or act on.
            Err(e) if e.kind == crate::aws::ErrorKind::NotFound => {
                tracing::info!(job = run.job, account = run.account, user = %row.user, code = e.code.as_deref(), "User deleted since the credential report; its findings are dropped.");
                continue;
            }
            Err(source) => return Err(AuditError::ListKeys { user: row.user.clone(), source }),
        };
        match audit::match_slots(row, &keys) {
            SlotMatch::Matched(ids) => {
                audit::name_keys(&mut of_user, &ids);
                out.append(&mut of_user);
            }
            SlotMatch::Ambiguous(why) => {
                tracing::info!(
                    job = run.job, account = run.account,
                    user = %row.user,
                    reason = %why,
                    keys = keys.len(),
                    "Access keys judged one by one: the credential report cannot say which key is which."
                );
                let mut known = Vec::with_capacity(keys.len());
                for key in &keys {
                    // Inactive keys are not judged: when they were used does not matter.
                    let used = if key.active {
                        iam::key_last_used(client, &key.id).await.map_err(|source| AuditError::LastUsed {
                            user: row.user.clone(),
                            access_key_id: key.id.clone(),
                            source,
                        })?
                    } else {
                        LastUsed::default()
                    };
                    known.push(key.with_last_used(used));
                }
                out.extend(audit::direct_findings(&row.user, &row.arn, &known, run.at, limits));
            }
        }
    }
    audit::sort(&mut out);
    Ok(out)
}

pub async fn audit(aws: &Aws, run: AuditRun<'_>) -> Result<AuditReport, AuditError> {
    let client = aws.iam();
    let (csv, generated) = iam::credential_report(&client, Duration::from_secs(60)).await?;
    let rows = audit::parse_report(&csv)?;
    let limits = Limits { max_key_age_days: run.cfg.max_key_age_days, max_unused_days: run.cfg.max_unused_days };
    let found = resolve(&client, &rows, audit::findings(&rows, run.at, limits), &run, limits).await?;
    let own = aws.own_key_ids().await;
    let caller = iam::caller_arn(&aws.sts()).await.ok();

    let deactivating = run.deactivate || run.cfg.deactivate;
    let mut acted_on: BTreeSet<String> = BTreeSet::new();
    let mut actions = 0u32;
    let mut tags_of: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut views = Vec::with_capacity(found.len());
    for f in &found {
        let key_id = f.access_key_id.clone();
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
        views.push(finding_view(f, &run, key_id, own_key, action, note));
    }

    for v in &views {
        log_finding(&run, v);
    }
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for v in &views {
        *by_rule.entry(v.rule).or_default() += 1;
    }
    let active_keys = rows.iter().map(|r| r.keys.iter().filter(|k| k.active).count()).sum();
    tracing::info!(
        job = run.job, account = run.account,
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
        match iam::key_last_used(client, id).await.map(|u| u.date) {
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
        tracing::info!(job = run.job, account = run.account, user = %f.user, access_key_id = id, rule = f.rule.as_str(), dry_run = true, undo = %undo, "Access key would be deactivated.");
        return ("would-deactivate", None);
    }
    match iam::deactivate_key(client, &f.user, id).await {
        Ok(()) => {
            tracing::warn!(job = run.job, account = run.account, user = %f.user, access_key_id = id, rule = f.rule.as_str(), dry_run = false, undo = %undo, "Access key deactivated.");
            ("deactivated", Some(format!("undo: {undo}")))
        }
        Err(e) => {
            tracing::error!(job = run.job, account = run.account, user = %f.user, access_key_id = id, error = %e, request_id = e.request_id.as_deref(), "Access key deactivation failed.");
            ("failed", Some(e.to_string()))
        }
    }
}

/// A finding as the report shows it, with what was done about it.
fn finding_view(
    f: &Finding,
    run: &AuditRun<'_>,
    key_id: Option<String>,
    own_key: bool,
    action: &'static str,
    note: Option<String>,
) -> FindingView {
    FindingView {
        user: f.user.clone(),
        arn: f.arn.clone(),
        slot: f.slot,
        access_key_id: key_id,
        source: f.source,
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
    }
}

/// One event per finding: a warning unless it is only informational.
fn log_finding(run: &AuditRun<'_>, v: &FindingView) {
    let sev = v.severity;
    macro_rules! event {
        ($level:ident) => {
            tracing::$level!(
                job = run.job, account = run.account,
                user = %v.user,
                access_key_id = v.access_key_id.as_deref(),
                slot = v.slot,
                source = v.source.as_str(),
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
