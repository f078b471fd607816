//! Ensure the billing alarm: read it, compare it with the file, create or restore it
//! if it is offhours' own, warn about what would keep it from ever notifying anyone.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::aws::cloudwatch;
use crate::aws::{Aws, AwsError, ErrorKind};
use crate::billing::{self, MANAGED_TAG_KEY, MANAGED_TAG_VALUE, Plan};
use crate::config::BillingAlarm;

#[derive(Debug, Clone, Serialize)]
pub struct BillingReport {
    pub alarm_name: String,
    /// `created`, `updated`, `unchanged`, `foreign`, `would-create` or `would-update`.
    pub outcome: &'static str,
    pub changed: Vec<&'static str>,
    pub warnings: Vec<String>,
}

impl BillingReport {
    /// True when the alarm is (or, in a dry run, would be) as the file describes.
    pub fn as_desired(&self) -> bool {
        self.outcome != "foreign"
    }
}

const NOT_ENABLED: &str = "the account publishes no AWS/Billing metrics: billing alerts are not enabled, so the alarm will never have data. \
Enable them (there is no API for it) as the account's root user or an IAM user with billing access: Billing and Cost Management console, \
Billing preferences, Alert preferences, \"Receive CloudWatch billing alerts\"; metrics appear within about 15 minutes";

/// Runs the ensure once. `job` names the caller in the log (`billing-alarm`, `schedule`,
/// `startup`, `reload`).
pub async fn ensure(aws: &Aws, cfg: &BillingAlarm, dry_run: bool, job: &str) -> Result<BillingReport, AwsError> {
    let cw = aws.cloudwatch();
    let desired = billing::desired(cfg);
    let found = cloudwatch::find_alarm(&cw, &cfg.alarm_name).await?;
    let managed = match &found {
        Some((_, arn)) => cloudwatch::tags(&cw, arn).await?.get(MANAGED_TAG_KEY).map(String::as_str) == Some(MANAGED_TAG_VALUE),
        None => false,
    };
    let plan = billing::decide(&desired, found.as_ref().map(|(spec, _)| (spec, managed)));
    let tags = BTreeMap::from([(MANAGED_TAG_KEY.to_string(), MANAGED_TAG_VALUE.to_string())]);
    let (outcome, changed) = match plan {
        Plan::Unchanged => ("unchanged", Vec::new()),
        Plan::Create if dry_run => ("would-create", Vec::new()),
        Plan::Update { changed } if dry_run => ("would-update", changed),
        Plan::Create => {
            cloudwatch::put_alarm(&cw, &desired, &tags).await?;
            ("created", Vec::new())
        }
        Plan::Update { changed } => {
            cloudwatch::put_alarm(&cw, &desired, &tags).await?;
            ("updated", changed)
        }
        Plan::Foreign { changed } => ("foreign", changed),
    };

    let mut warnings = Vec::new();
    if outcome == "foreign" {
        warnings.push(format!(
            "an alarm named {} exists but does not carry the tag {MANAGED_TAG_KEY}={MANAGED_TAG_VALUE}: left alone; it differs in {} (tag it, delete it, or set billing_alarm.alarm_name)",
            cfg.alarm_name,
            changed.join(", ")
        ));
    }
    match cloudwatch::billing_metrics_published(&cw).await {
        Ok(true) => {}
        Ok(false) => warnings.push(NOT_ENABLED.to_string()),
        Err(e) => warnings.push(format!("cannot tell whether billing metrics are published: {e}")),
    }
    if let Some(topic) = &cfg.sns_topic_arn {
        match cloudwatch::confirmed_subscriptions(&aws.sns(), topic).await {
            Ok(0) => warnings.push(format!("SNS topic {topic} has no confirmed subscription: the alarm will notify nobody")),
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::Other && e.code.as_deref() == Some("NotFound") => {
                warnings.push(format!("SNS topic {topic} does not exist"))
            }
            Err(e) => warnings.push(format!("cannot read the subscriptions of {topic}: {e}")),
        }
    }

    tracing::info!(
        job,
        alarm_name = %cfg.alarm_name,
        outcome,
        changed = %changed.join(","),
        threshold = cfg.threshold,
        currency = %cfg.currency,
        dry_run,
        "Billing alarm checked."
    );
    crate::events::emit(crate::events::Event::AlarmChecked { outcome, alarm_name: &cfg.alarm_name });
    for w in &warnings {
        tracing::warn!(job, alarm_name = %cfg.alarm_name, warning = %w, "Billing alarm needs attention.");
    }
    Ok(BillingReport { alarm_name: cfg.alarm_name.clone(), outcome, changed, warnings })
}
