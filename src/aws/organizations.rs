//! AWS Organizations (global; its client is pinned to us-east-1): the accounts of the
//! whole organization, or of some organizational units searched recursively.
//!
//! Called from the management account or a delegated administrator. Every call is
//! paginated; the accounts come back as found ([`crate::accounts::select`] decides).

use std::collections::BTreeSet;

use futures_util::StreamExt;

use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::Account;

use super::{AwsError, ErrorKind, GLOBAL_REGION};

/// Organizational units visited at most in one search: twice what an organization may
/// hold (2,000), so only an answer that keeps inventing units stops here.
const MAX_PARENTS: usize = 4_000;

/// Units of one level searched at once (two calls each): Organizations throttles per
/// account at a few requests a second, shared with everything else there.
const UNITS_AT_ONCE: usize = 4;

/// The largest page Organizations serves (its default is smaller).
const PAGE: i32 = 20;

/// The organization's accounts (ListAccounts) when `ous` is empty; else the accounts
/// under each of `ous` (OU ids `ou-...` or the root `r-...`) and under every unit below
/// them, breadth-first, the units of each level at once. An account may come back twice
/// when `ous` overlap; each unit is searched once. `found_now` is told the accounts of
/// each unit as its search ends (each page, for the whole organization), so that they
/// can be prepared while deeper units are still searched.
pub async fn discover(client: &Client, ous: &[String], mut found_now: impl FnMut(&[Discovered])) -> Result<Vec<Discovered>, AwsError> {
    if ous.is_empty() {
        return list_accounts(client, &mut found_now).await;
    }
    let mut found = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut level: Vec<String> = ous.iter().filter(|ou| seen.insert((*ou).clone())).cloned().collect();
    while !level.is_empty() {
        let searches: Vec<_> = std::mem::take(&mut level).into_iter().map(|parent| search(client, parent)).collect();
        let mut answers = futures_util::stream::iter(searches).buffer_unordered(UNITS_AT_ONCE);
        let mut next = Vec::new();
        while let Some(answer) = answers.next().await {
            let (accounts, children) = answer?;
            found_now(&accounts);
            found.extend(accounts);
            next.extend(children);
        }
        drop(answers);
        // Units in a stable order whatever order their parents answered in.
        next.sort();
        for child in next {
            if seen.contains(&child) {
                continue;
            }
            if seen.len() >= MAX_PARENTS {
                return Err(AwsError {
                    operation: "ListOrganizationalUnitsForParent",
                    region: GLOBAL_REGION.to_string(),
                    kind: ErrorKind::Other,
                    code: None,
                    message: format!("more than {MAX_PARENTS} organizational units under {}; stopped searching", ous.join(", ")),
                    request_id: None,
                });
            }
            seen.insert(child.clone());
            level.push(child);
        }
    }
    Ok(found)
}

/// The accounts and units directly under one unit or root.
async fn search(client: &Client, parent: String) -> Result<(Vec<Discovered>, Vec<String>), AwsError> {
    tokio::try_join!(accounts_for_parent(client, &parent), units_for_parent(client, &parent))
}

/// Every account of the organization.
async fn list_accounts(client: &Client, found_now: &mut impl FnMut(&[Discovered])) -> Result<Vec<Discovered>, AwsError> {
    let mut pages = client.list_accounts().max_results(PAGE).into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify(AwsError::from_sdk("ListAccounts", GLOBAL_REGION, e)))?;
        let accounts: Vec<Discovered> = page.accounts().iter().filter_map(discovered).collect();
        found_now(&accounts);
        out.extend(accounts);
    }
    Ok(out)
}

/// The accounts directly under one unit or root.
async fn accounts_for_parent(client: &Client, parent: &str) -> Result<Vec<Discovered>, AwsError> {
    let mut pages = client.list_accounts_for_parent().parent_id(parent).max_results(PAGE).into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify(AwsError::from_sdk("ListAccountsForParent", GLOBAL_REGION, e)))?;
        out.extend(page.accounts().iter().filter_map(discovered));
    }
    Ok(out)
}

/// The ids of the units directly under one unit or root.
async fn units_for_parent(client: &Client, parent: &str) -> Result<Vec<String>, AwsError> {
    let mut pages = client.list_organizational_units_for_parent().parent_id(parent).max_results(PAGE).into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify(AwsError::from_sdk("ListOrganizationalUnitsForParent", GLOBAL_REGION, e)))?;
        out.extend(page.organizational_units().iter().filter_map(|u| u.id().map(str::to_string)));
    }
    Ok(out)
}

/// The account's id, name and status. The SDK in use (aws-sdk-organizations 1.83) has
/// `Status` only; the newer `State` (which AWS asks callers to move to) needs a newer
/// crate. An account without an id is skipped.
fn discovered(account: &Account) -> Option<Discovered> {
    Some(Discovered {
        id: account.id()?.to_string(),
        name: account.name().map(str::to_string),
        status: account.status().map(|s| s.as_str().to_string()),
    })
}

/// The Organizations codes the shared classification does not know: its throttling
/// code, and a unit or root that does not exist.
fn classify(mut e: AwsError) -> AwsError {
    match e.code.as_deref() {
        Some("TooManyRequestsException") => e.kind = ErrorKind::Throttled,
        Some("ParentNotFoundException" | "OrganizationalUnitNotFoundException") => e.kind = ErrorKind::NotFound,
        _ => {}
    }
    e
}

/// An account as Organizations lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// The 12-digit account id.
    pub id: String,
    /// The account's friendly name, when the answer has one.
    pub name: Option<String>,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`; `None` when the answer had none.
    pub status: Option<String>,
}
