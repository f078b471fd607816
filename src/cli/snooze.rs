//! `offhours snooze ID [--for D | --until TIME | --clear]`: sets or clears the override
//! tag on one resource, so that its schedule leaves it alone until then.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::{Cli, EXIT_FAILED, EXIT_OK, EXIT_USAGE, Format, load_config, print_json};
use crate::aws::Aws;
use crate::aws::CallCounter;
use crate::jobs::targets::{Target, multi_account, targets};
use crate::model::{AccountRef, Kind, Resource};
use crate::plan::snooze::{may_replace, parse_until, tag_value};

pub struct Args<'a> {
    pub id: &'a str,
    pub kind: Option<Kind>,
    pub region: Option<&'a str>,
    pub account: Option<&'a str>,
    pub for_: Option<Duration>,
    pub until: Option<&'a str>,
    pub clear: bool,
}

#[derive(Debug, Serialize)]
struct Outcome {
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    kind: Kind,
    id: String,
    region: String,
    tag: String,
    /// The tag's value now; absent when cleared.
    value: Option<String>,
    /// The snooze's end in the file's timezone; absent when cleared.
    until: Option<String>,
    dry_run: bool,
}

pub async fn run(cli: &Cli, args: Args<'_>) -> u8 {
    let config = match load_config(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let now = Utc::now();
    let until: Option<DateTime<Utc>> = match (args.clear, args.for_, args.until) {
        (true, None, None) => None,
        (false, Some(d), None) if !d.is_zero() => Some(now + chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX)),
        (false, None, Some(text)) => match parse_until(text, now, config.timezone) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("offhours: --until: {e}");
                return EXIT_USAGE;
            }
        },
        _ => {
            eprintln!("offhours: say how long: --for 2h, --until 21:00 (or a date and time), or --clear");
            return EXIT_USAGE;
        }
    };
    // An id with a kind's own prefix (an instance's `i-`) says its kind; any other id is
    // looked for among the kinds the file uses.
    let claimed = crate::kinds::ids().into_iter().find(|k| k.info().id_prefix.is_some_and(|p| args.id.starts_with(p)));
    let kinds: Vec<Kind> = match args.kind.or(claimed) {
        Some(k) => vec![k],
        None => {
            let mut used: Vec<Kind> = config.kinds.clone();
            used.extend(config.schedules.iter().flat_map(|s| s.kinds.iter().copied()));
            used.sort();
            used.dedup();
            used
        }
    };
    let hub = Aws::connect(&config.aws).await;
    // Where to look: the own account, or the file's accounts (`--account` to say which).
    let places: Vec<(Option<AccountRef>, Aws, Vec<String>)> = if multi_account(&config) {
        let all = match targets(&hub, &config).await {
            Ok(t) => t,
            Err(e) => {
                eprintln!("offhours: {e}");
                return EXIT_FAILED;
            }
        };
        let chosen: Vec<Target> =
            all.into_iter().filter(|t| args.account.is_none_or(|a| a == t.account.id || Some(a) == t.account.name.as_deref())).collect();
        if chosen.is_empty() {
            eprintln!("offhours: no account {} in the file", args.account.unwrap_or_default());
            return EXIT_USAGE;
        }
        chosen
            .into_iter()
            .map(|t| {
                let regions = match args.region {
                    Some(r) => vec![r.to_string()],
                    None => t.regions.clone().unwrap_or_default(),
                };
                (Some(t.account), t.aws, regions)
            })
            .collect()
    } else {
        let regions = match args.region {
            Some(r) => vec![r.to_string()],
            None => match hub.configured_regions(&config.regions) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("offhours: {e}");
                    return EXIT_FAILED;
                }
            },
        };
        vec![(None, hub, regions)]
    };
    let calls = std::sync::Arc::new(CallCounter::default());
    let ids = [args.id.to_string()];
    let targets: Vec<(&Option<AccountRef>, &Aws, Kind, &String)> = places
        .iter()
        .flat_map(|(account, aws, regions)| kinds.iter().flat_map(move |k| regions.iter().map(move |r| (account, aws, *k, r))))
        .collect();
    let reads = targets.iter().map(|(_, aws, kind, region)| {
        let api = aws.api(region, &calls);
        let ids = &ids;
        async move { crate::kinds::of(*kind).adapter().describe(&api, ids).await }
    });
    let mut found: Vec<(Option<AccountRef>, &Aws, Resource)> = Vec::new();
    let mut errors = Vec::new();
    for ((account, aws, kind, region), read) in targets.iter().zip(futures_util::future::join_all(reads).await) {
        match read {
            Ok(list) => found.extend(list.into_iter().filter(|r| r.id == args.id).map(|r| ((*account).clone(), *aws, r))),
            // Looking for an id of another kind can be refused as malformed: only an
            // error when the resource is found nowhere.
            Err(e) => errors.push(format!("{kind} in {region}: {e}")),
        }
    }
    let regions: Vec<String> = {
        let mut all: Vec<String> = places.iter().flat_map(|(_, _, r)| r.clone()).collect();
        all.sort();
        all.dedup();
        all
    };
    let where_ = format!("{} in {}", kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "), regions.join(", "));
    let (account, aws, resource) = match found.len() {
        1 => found.remove(0),
        0 => {
            eprintln!("offhours: {} not found as {where_}", args.id);
            for e in &errors {
                eprintln!("  {e}");
            }
            return EXIT_FAILED;
        }
        _ => {
            let seen: Vec<String> = found
                .iter()
                .map(|(a, _, r)| {
                    format!("{} in {}{}", r.kind, r.region, a.as_ref().map(|a| format!(" of account {a}")).unwrap_or_default())
                })
                .collect();
            eprintln!(
                "offhours: {} is more than one resource ({}): say which with --kind, --region or --account",
                args.id,
                seen.join(", ")
            );
            return EXIT_USAGE;
        }
    };
    let tag = &config.skip_tag;
    let label = match &account {
        Some(a) => format!("{} {} ({}, account {a})", resource.kind, resource.id, resource.region),
        None => format!("{} {} ({})", resource.kind, resource.id, resource.region),
    };
    if until.is_some()
        && let Err(why) = may_replace(tag, resource.tags.get(tag).map(String::as_str))
    {
        eprintln!("offhours: {label}: {why}");
        return EXIT_FAILED;
    }
    let value = until.map(tag_value);
    let outcome = Outcome {
        account: account.as_ref().map(|a| a.id.clone()),
        kind: resource.kind,
        id: resource.id.clone(),
        region: resource.region.clone(),
        tag: tag.clone(),
        value: value.clone(),
        until: until.map(|t| t.with_timezone(&config.timezone).to_rfc3339_opts(SecondsFormat::Secs, false)),
        dry_run: config.dry_run,
    };
    if !config.dry_run {
        let api = aws.api(&resource.region, &calls);
        if let Err(e) = crate::kinds::of(resource.kind).adapter().tag(&api, &resource, tag, value.as_deref()).await {
            tracing::error!(job = "snooze", kind = %resource.kind, id = %resource.id, region = %resource.region, tag = %tag, error = %e, "Snooze not set.");
            eprintln!("offhours: {label}: {e}");
            return EXIT_FAILED;
        }
    }
    tracing::info!(
        job = "snooze",
        kind = %resource.kind,
        id = %resource.id,
        region = %resource.region,
        tag = %tag,
        until = outcome.until.as_deref(),
        cleared = until.is_none(),
        dry_run = config.dry_run,
        "{}",
        if until.is_some() { "Snooze set." } else { "Snooze cleared." }
    );
    match cli.output {
        Format::Json => print_json(&outcome),
        Format::Text => {
            let dry = if config.dry_run { " (dry run: nothing changed)" } else { "" };
            match &outcome.until {
                Some(t) => out!("{label}: snoozed until {t} ({tag}={}){dry}", value.unwrap_or_default()),
                None => out!("{label}: snooze cleared ({tag} removed){dry}"),
            }
        }
    }
    EXIT_OK
}
