//! IAM (global; its client is pinned to us-east-1) and STS identity: the credential
//! report, access keys and their last use, user tags.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::{ReportStateType, StatusType};
use chrono::{DateTime, Utc};

use super::{AwsError, GLOBAL_REGION};

pub fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// The credential report, generated if needed: its CSV and when it was generated.
/// Waits (bounded by `max_wait`) while IAM builds it.
pub async fn credential_report(client: &Client, max_wait: Duration) -> Result<(Vec<u8>, Option<DateTime<Utc>>), AwsError> {
    let deadline = tokio::time::Instant::now() + max_wait;
    let mut pause = Duration::from_millis(500);
    loop {
        match client.get_credential_report().send().await {
            Ok(out) => {
                let csv = out.content().map(|b| b.as_ref().to_vec()).unwrap_or_default();
                return Ok((csv, out.generated_time().and_then(to_chrono)));
            }
            Err(e) => {
                let e = AwsError::from_sdk("GetCredentialReport", GLOBAL_REGION, e);
                match e.code.as_deref() {
                    // Not there, or too old (4 h): ask for a fresh one, then read again.
                    Some("ReportNotPresent" | "ReportExpired") => generate(client).await?,
                    // Being built (or generation throttled): wait a little.
                    Some("ReportInProgress" | "LimitExceeded") => {}
                    _ => return Err(e),
                }
                if tokio::time::Instant::now() + pause > deadline {
                    return Err(AwsError { message: format!("the credential report was not ready within {}s", max_wait.as_secs()), ..e });
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(8));
            }
        }
    }
}

async fn generate(client: &Client) -> Result<(), AwsError> {
    match client.generate_credential_report().send().await {
        Ok(out) => {
            if out.state() == Some(&ReportStateType::Complete) {
                tracing::debug!("Credential report generated.");
            }
            Ok(())
        }
        Err(e) => {
            let e = AwsError::from_sdk("GenerateCredentialReport", GLOBAL_REGION, e);
            // Someone else asked for one a moment ago: it is on its way.
            if e.code.as_deref() == Some("LimitExceeded") { Ok(()) } else { Err(e) }
        }
    }
}

/// A user's access keys: id, status, creation date.
pub async fn access_keys(client: &Client, user: &str) -> Result<Vec<AccessKey>, AwsError> {
    let mut pages = client.list_access_keys().user_name(user).into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ListAccessKeys", GLOBAL_REGION, e))?;
        for k in page.access_key_metadata() {
            if let Some(id) = k.access_key_id() {
                out.push(AccessKey {
                    id: id.to_string(),
                    created: k.create_date().and_then(to_chrono),
                    active: k.status() == Some(&StatusType::Active),
                });
            }
        }
    }
    Ok(out)
}

/// When, with which service and in which region the key was last used, if ever.
pub async fn key_last_used(client: &Client, access_key_id: &str) -> Result<LastUsed, AwsError> {
    let out = client
        .get_access_key_last_used()
        .access_key_id(access_key_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("GetAccessKeyLastUsed", GLOBAL_REGION, e))?;
    let used = out.access_key_last_used();
    Ok(LastUsed::new(used.and_then(|u| u.last_used_date()).and_then(to_chrono), used.map(|u| u.service_name()), used.map(|u| u.region())))
}

pub async fn user_tags(client: &Client, user: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let mut pages = client.list_user_tags().user_name(user).into_paginator().send();
    let mut out = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ListUserTags", GLOBAL_REGION, e))?;
        for t in page.tags() {
            out.insert(t.key().to_string(), t.value().to_string());
        }
    }
    Ok(out)
}

/// Sets the key Inactive (never deletes it).
pub async fn deactivate_key(client: &Client, user: &str, access_key_id: &str) -> Result<(), AwsError> {
    client
        .update_access_key()
        .user_name(user)
        .access_key_id(access_key_id)
        .status(StatusType::Inactive)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("UpdateAccessKey", GLOBAL_REGION, e))?;
    Ok(())
}

/// The caller's ARN (GetCallerIdentity needs no permission).
pub async fn caller_arn(client: &aws_sdk_sts::Client) -> Result<String, AwsError> {
    let out = client.get_caller_identity().send().await.map_err(|e| AwsError::from_sdk("GetCallerIdentity", GLOBAL_REGION, e))?;
    Ok(out.arn().unwrap_or_default().to_string())
}

/// One of a user's access keys as ListAccessKeys lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub id: String,
    pub created: Option<DateTime<Utc>>,
    pub active: bool,
}

/// GetAccessKeyLastUsed's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LastUsed {
    pub date: Option<DateTime<Utc>>,
    pub service: Option<String>,
    pub region: Option<String>,
}
