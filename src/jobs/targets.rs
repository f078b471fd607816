//! The accounts an action fans out over, each with its own clients and regions: the
//! own account as before, or every `[[accounts]]` entry and the organization's
//! accounts, each reached through one AssumeRole. Built once per config generation
//! (and when the organization is listed again); one account's trouble stays its own.

use crate::accounts::{role_arn, select};

use crate::aws::{Aws, AwsError, ErrorKind, RegionError};
use crate::config::{Config, Schedule};
use crate::model::AccountRef;

/// One account to act in.
#[derive(Debug, Clone)]
pub struct Target {
    pub account: AccountRef,
    pub aws: Aws,
    /// The regions to act in there; `Err` when the account cannot be acted in (a
    /// region not enabled there, its role refused): every action reports it as that
    /// account's failure without calling AWS.
    pub regions: Result<Vec<String>, String>,
    /// The role assumed there (none for the own account).
    pub role_arn: Option<String>,
    /// Its role could not be assumed: prepared again at the next refresh.
    pub refused: bool,
}

impl Target {
    /// Offhours' own account, acted in with its own credentials.
    pub fn own(account: AccountRef, aws: Aws, regions: Vec<String>) -> Target {
        Target { account, aws, regions: Ok(regions), role_arn: None, refused: false }
    }
}

/// Why no target could be built at all.
#[derive(Debug, thiserror::Error)]
pub enum TargetsError {
    #[error(transparent)]
    Region(#[from] RegionError),
    #[error("organization: cannot list the accounts: {0}")]
    Organization(AwsError),
}

/// Whether the schedule applies to the account (`accounts` names its id or name).
pub fn applies(schedule: &Schedule, account: &AccountRef) -> bool {
    schedule.accounts.as_ref().is_none_or(|names| names.iter().any(|n| *n == account.id || Some(n) == account.name.as_ref()))
}

/// Whether the file acts in other accounts than offhours' own.
pub fn multi_account(config: &Config) -> bool {
    !config.accounts.is_empty() || config.organization.is_some()
}

/// The accounts of the file: with neither `[[accounts]]` nor `[organization]`, the own
/// account, whose region check failing fails the whole (as before); otherwise every
/// account, each checked on its own.
pub async fn targets(hub: &Aws, config: &Config) -> Result<Vec<Target>, TargetsError> {
    refresh(hub, config, &[]).await
}

/// [`targets`] again, keeping the accounts of `known` whose role is the same and was
/// assumed (their clients, credentials and checked regions): only new accounts and
/// refused roles are prepared, so a refresh of hundreds of accounts costs the
/// organization's listing and little else.
pub async fn refresh(hub: &Aws, config: &Config, known: &[Target]) -> Result<Vec<Target>, TargetsError> {
    if !multi_account(config) {
        let (id, regions) = tokio::join!(hub.account_id(), hub.regions(&config.regions));
        let account = AccountRef { id: id.unwrap_or_default(), name: None };
        return Ok(vec![Target::own(account, hub.clone(), regions?)]);
    }
    let mut wanted: Vec<(AccountRef, String, Option<String>)> = config
        .accounts
        .iter()
        .map(|a| (AccountRef { id: a.id.clone(), name: a.name.clone() }, a.role_arn.clone(), a.external_id.clone()))
        .collect();
    if let Some(org) = &config.organization {
        let client = hub.organizations();
        let (found, partition) = tokio::join!(crate::aws::organizations::discover(&client, &org.ous), hub.partition());
        let found = found.map_err(TargetsError::Organization)?;
        let seen: Vec<(String, Option<String>)> = found.iter().map(|d| (d.id.clone(), d.status.clone())).collect();
        let chosen = select(found, &org.exclude);
        for (id, status) in seen.iter().filter(|(id, _)| !chosen.iter().any(|a| &a.id == id)) {
            let why = if org.exclude.contains(id) { "excluded" } else { "not ACTIVE" };
            tracing::info!(account = %id, status = status.as_deref().unwrap_or("none"), reason = why, "Organization account left out.");
        }
        for account in chosen {
            // An account listed in the file keeps the file's role and name.
            if !wanted.iter().any(|(a, _, _)| a.id == account.id) {
                let arn = role_arn(&partition, &account.id, &org.role_name);
                wanted.push((account, arn, org.external_id.clone()));
            }
        }
    }
    let session = &config.aws.session_name;
    // Every account at once: its calls take slots of the bound every account shares
    // (`[aws] max_calls_in_flight`), so hundreds of accounts never open hundreds of
    // connections beyond it.
    let mut preparing = Vec::with_capacity(wanted.len());
    for (account, arn, external_id) in wanted {
        let kept = known.iter().find(|t| t.account.id == account.id && t.role_arn.as_deref() == Some(arn.as_str()) && !t.refused);
        preparing.push(async move {
            if let Some(kept) = kept {
                return Target { account, ..kept.clone() };
            }
            let aws = hub.assume(&arn, external_id.as_deref(), session).await;
            let mut refused = false;
            let regions = match aws.regions(&config.regions).await {
                Ok(r) => Ok(r),
                // A region the account lacks is that account's failure at every action.
                Err(e @ (RegionError::Unknown { .. } | RegionError::NoRegion)) => Err(e.to_string()),
                // The role refused: left out, and tried again at the next refresh
                // rather than at every fire.
                Err(RegionError::Check(e)) if e.kind == ErrorKind::Credentials => {
                    tracing::error!(account = %account.id, account_name = account.name.as_deref(), role_arn = %arn, error = %e, "Account left out until the next refresh: its role cannot be assumed.");
                    refused = true;
                    Err(format!("role {arn} cannot be assumed (tried again at the next refresh): {e}"))
                }
                // AWS unreachable: the actions will say so in their own words and try
                // again each time.
                Err(RegionError::Check(e)) => {
                    tracing::error!(account = %account.id, account_name = account.name.as_deref(), role_arn = %arn, error = %e, "Cannot check the account's regions; using the configured ones.");
                    Ok(aws.configured_regions(&config.regions).unwrap_or_default())
                }
            };
            Target { account, aws, regions, role_arn: Some(arn), refused }
        });
    }
    let prepared = futures_util::future::join_all(preparing).await;
    let mut prepared = prepared;
    prepared.sort_by(|a, b| a.account.id.cmp(&b.account.id));
    Ok(prepared)
}
