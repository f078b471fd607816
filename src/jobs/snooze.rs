//! The snooze: find one resource by id among the file's kinds, regions and accounts,
//! and set or remove its override tag. `offhours snooze` parses and prints around it.

use std::sync::Arc;

use crate::aws::{Aws, CallCounter};
use crate::config::Config;
use crate::jobs::listing::{self, Read};
use crate::jobs::targets::{Target, multi_account, targets};
use crate::model::{AccountRef, Kind, Resource};

/// Where to look: one account (with its clients) and its regions.
pub struct Place {
    /// `None`: the own account, when the file names no other.
    pub account: Option<AccountRef>,
    pub aws: Aws,
    pub regions: Vec<String>,
}

/// The resource found, and where.
pub struct Found {
    pub account: Option<AccountRef>,
    pub aws: Aws,
    pub resource: Resource,
}

/// Why no one resource was found; each says what the operator can do.
#[derive(Debug, thiserror::Error)]
pub enum SnoozeError {
    /// The accounts or regions cannot be settled (AWS refused, no region).
    #[error("{0}")]
    Setup(String),
    #[error("no account {0} in the file")]
    NoSuchAccount(String),
    /// Nowhere: `errors` are the reads that failed (an id of another kind can be
    /// refused as malformed, so they are only worth showing now).
    #[error("{id} not found as {searched}")]
    NotFound { id: String, searched: String, errors: Vec<String> },
    #[error("{id} is more than one resource ({}): say which with --kind, --region or --account", seen.join(", "))]
    Ambiguous { id: String, seen: Vec<String> },
}

/// The kinds to look among: the one asked for, else the one whose own id prefix the id
/// has (an instance's `i-`), else every kind the file uses.
pub fn kinds_for(id: &str, asked: Option<Kind>, config: &Config) -> Vec<Kind> {
    let claimed = crate::kinds::ids().into_iter().find(|k| k.info().id_prefix.is_some_and(|p| id.starts_with(p)));
    match asked.or(claimed) {
        Some(k) => vec![k],
        None => {
            let mut used: Vec<Kind> = config.kinds.clone();
            used.extend(config.schedules.iter().flat_map(|s| s.kinds.iter().copied()));
            used.sort();
            used.dedup();
            used
        }
    }
}

/// The own account, or the file's accounts (`account`: the one with that id or name),
/// each in `region` or in its regions.
pub async fn places(hub: Aws, config: &Config, account: Option<&str>, region: Option<&str>) -> Result<Vec<Place>, SnoozeError> {
    if !multi_account(config) {
        let regions = match region {
            Some(r) => vec![r.to_string()],
            None => hub.configured_regions(&config.regions).map_err(|e| SnoozeError::Setup(e.to_string()))?,
        };
        return Ok(vec![Place { account: None, aws: hub, regions }]);
    }
    let all = targets(&hub, config).await.map_err(|e| SnoozeError::Setup(e.to_string()))?;
    let chosen: Vec<Target> =
        all.into_iter().filter(|t| account.is_none_or(|a| a == t.account.id || Some(a) == t.account.name.as_deref())).collect();
    if chosen.is_empty() {
        return Err(SnoozeError::NoSuchAccount(account.unwrap_or_default().to_string()));
    }
    Ok(chosen
        .into_iter()
        .map(|t| {
            let regions = match region {
                Some(r) => vec![r.to_string()],
                None => t.regions.clone().unwrap_or_default(),
            };
            Place { account: Some(t.account), aws: t.aws, regions }
        })
        .collect())
}

/// The one resource of that id among `kinds` in every place, all read at once.
pub async fn find(places: Vec<Place>, kinds: &[Kind], id: &str, calls: &Arc<CallCounter>) -> Result<Found, SnoozeError> {
    let ids = [id.to_string()];
    let reads = places.iter().map(|p| listing::read(&p.aws, kinds, &p.regions, Read::Ids(&ids), calls));
    let answers = futures_util::future::join_all(reads).await;
    let mut found: Vec<Found> = Vec::new();
    let mut errors = Vec::new();
    for (place, listings) in places.iter().zip(answers) {
        for l in listings {
            match l.found {
                Ok(list) => found.extend(list.into_iter().filter(|r| r.id == id).map(|resource| Found {
                    account: place.account.clone(),
                    aws: place.aws.clone(),
                    resource,
                })),
                Err(e) => errors.push(format!("{} in {}: {e}", l.kind, l.region)),
            }
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => {
            let mut regions: Vec<String> = places.iter().flat_map(|p| p.regions.clone()).collect();
            regions.sort();
            regions.dedup();
            let searched = format!("{} in {}", kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "), regions.join(", "));
            Err(SnoozeError::NotFound { id: id.to_string(), searched, errors })
        }
        _ => {
            let seen = found
                .iter()
                .map(|f| {
                    let of = f.account.as_ref().map(|a| format!(" of account {a}")).unwrap_or_default();
                    format!("{} in {}{of}", f.resource.kind, f.resource.region)
                })
                .collect();
            Err(SnoozeError::Ambiguous { id: id.to_string(), seen })
        }
    }
}

/// Sets the override tag to `value`, or removes it (`None`); one log event either way.
pub async fn set(found: &Found, tag: &str, value: Option<&str>, calls: &Arc<CallCounter>) -> Result<(), crate::aws::AwsError> {
    let r = &found.resource;
    let api = found.aws.api(&r.region, calls);
    let outcome = crate::kinds::of(r.kind).adapter().tag(&api, r, tag, value).await;
    if let Err(e) = &outcome {
        tracing::error!(job = "snooze", kind = %r.kind, id = %r.id, region = %r.region, tag = %tag, error = %e, "Snooze not set.");
    }
    outcome
}
