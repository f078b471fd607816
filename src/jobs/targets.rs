//! The accounts an action fans out over, each with its own clients and regions: the
//! own account as before, or every `[[accounts]]` entry and the organization's
//! accounts, each reached through one AssumeRole. Built once per config generation
//! (and when the organization is listed again); one account's trouble stays its own.

use std::collections::BTreeSet;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use crate::accounts::{Discovered, eligible, role_arn, select};

use crate::aws::{Aws, AwsError, ErrorKind, RegionError};
use crate::config::{AccountTarget, Config, Organization, Schedule};
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
    /// Its regions could not be checked (no answer): acted in with the configured ones,
    /// and prepared again at the next refresh.
    pub unchecked: bool,
}

impl Target {
    /// Offhours' own account, acted in with its own credentials.
    pub fn own(account: AccountRef, aws: Aws, regions: Vec<String>) -> Target {
        Target { account, aws, regions: Ok(regions), role_arn: None, refused: false, unchecked: false }
    }

    /// Whether the next refresh prepares it again rather than keeping it.
    pub fn prepare_again(&self) -> bool {
        self.refused || self.unchecked
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
    // Every account at once: its calls take slots of the bound every account shares
    // (`[aws] max_calls_in_flight`), so hundreds of accounts never open hundreds of
    // connections beyond it.
    let mut prepared = match &config.organization {
        Some(org) => with_organization(hub, config, known, org).await?,
        None => config.accounts.iter().map(|a| prepare(hub, config, known, listed(a))).collect::<FuturesUnordered<_>>().collect().await,
    };
    prepared.sort_by(|a, b| a.account.id.cmp(&b.account.id));
    Ok(prepared)
}

/// The file's accounts (being prepared) and the organization's: each account is
/// prepared as soon as the listing finds it, so that the listing's levels of units and
/// the accounts' AssumeRoles overlap. An account listed in the file keeps the file's
/// role and name.
async fn with_organization(hub: &Aws, config: &Config, known: &[Target], org: &Organization) -> Result<Vec<Target>, TargetsError> {
    let mut preparing: FuturesUnordered<_> = config.accounts.iter().map(|a| prepare(hub, config, known, listed(a))).collect();
    let client = hub.organizations();
    let (pages, mut found_pages) = tokio::sync::mpsc::unbounded_channel::<Vec<Discovered>>();
    let listing = async {
        let found = crate::aws::organizations::discover(&client, &org.ous, move |page| {
            // The receiver outlives the listing; nothing to do if it went away.
            let _ = pages.send(page.to_vec());
        });
        found.await.map_err(TargetsError::Organization)
    };
    let mut started: BTreeSet<String> = config.accounts.iter().map(|a| a.id.clone()).collect();
    let consuming = async {
        let partition = hub.partition().await;
        let mut done = Vec::new();
        loop {
            tokio::select! {
                page = found_pages.recv() => {
                    let Some(page) = page else { break };
                    for account in page.into_iter().filter(|a| eligible(a, &org.exclude) && started.insert(a.id.clone())) {
                        let arn = role_arn(&partition, &account.id, &org.role_name);
                        let account = AccountRef { id: account.id, name: account.name };
                        preparing.push(prepare(hub, config, known, (account, arn, org.external_id.clone())));
                    }
                }
                Some(target) = preparing.next(), if !preparing.is_empty() => done.push(target),
            }
        }
        done.extend(preparing.collect::<Vec<_>>().await);
        Ok(done)
    };
    // A listing that fails drops the accounts being prepared: the refresh failed.
    let (found, mut prepared) = tokio::try_join!(listing, consuming)?;
    let seen: Vec<(String, Option<String>)> = found.iter().map(|d| (d.id.clone(), d.status.clone())).collect();
    let chosen = select(found, &org.exclude);
    for (id, status) in seen.iter().filter(|(id, _)| !chosen.iter().any(|a| &a.id == id)) {
        let why = if org.exclude.contains(id) { "excluded" } else { "not ACTIVE" };
        tracing::info!(account = %id, status = status.as_deref().unwrap_or("none"), reason = why, "Organization account left out.");
    }
    // A name another unit's answer gave (the same account found twice); the file's
    // accounts keep the file's.
    for target in prepared.iter_mut().filter(|t| t.account.name.is_none() && !config.accounts.iter().any(|a| a.id == t.account.id)) {
        target.account.name = chosen.iter().find(|a| a.id == target.account.id).and_then(|a| a.name.clone());
    }
    Ok(prepared)
}

/// An account of the file, with its role and external id.
fn listed(a: &AccountTarget) -> (AccountRef, String, Option<String>) {
    (AccountRef { id: a.id.clone(), name: a.name.clone() }, a.role_arn.clone(), a.external_id.clone())
}

/// One account with its role and external id: kept from `known` when its role is the
/// same and was assumed, else its role assumed and its regions checked.
async fn prepare(
    hub: &Aws,
    config: &Config,
    known: &[Target],
    (account, arn, external_id): (AccountRef, String, Option<String>),
) -> Target {
    let kept = known.iter().find(|t| t.account.id == account.id && t.role_arn.as_deref() == Some(arn.as_str()) && !t.prepare_again());
    if let Some(kept) = kept {
        return Target { account, ..kept.clone() };
    }
    let aws = hub.assume(&arn, external_id.as_deref(), &config.aws.session_name).await;
    let (mut refused, mut unchecked) = (false, false);
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
            unchecked = true;
            Ok(aws.configured_regions(&config.regions).unwrap_or_default())
        }
    };
    Target { account, aws, regions, role_arn: Some(arn), refused, unchecked }
}
