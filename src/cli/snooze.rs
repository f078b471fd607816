//! `offhours snooze ID [--for D | --until TIME | --clear]`: sets or clears the override
//! tag on one resource, so that its schedule leaves it alone until then.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::{Cli, EXIT_FAILED, EXIT_OK, EXIT_USAGE, Format, load_config, print_json};
use crate::aws::{Aws, CallCounter};
use crate::jobs::snooze::{self, Found, SnoozeError};
use crate::model::Kind;
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
    let until = match until(&args, now, &config) {
        Ok(u) => u,
        Err(code) => return code,
    };
    let kinds = snooze::kinds_for(args.id, args.kind, &config);
    let calls = std::sync::Arc::new(CallCounter::default());
    let found = match snooze::places(Aws::connect(&config.aws).await, &config, args.account, args.region).await {
        Ok(places) => snooze::find(places, &kinds, args.id, &calls).await,
        Err(e) => Err(e),
    };
    let found = match found {
        Ok(f) => f,
        Err(e) => return refused(&e),
    };
    let Found { account, resource, .. } = &found;
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
    if !config.dry_run
        && let Err(e) = snooze::set(&found, tag, value.as_deref(), &calls).await
    {
        eprintln!("offhours: {label}: {e}");
        return EXIT_FAILED;
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
        Format::Text | Format::Toml => {
            let dry = if config.dry_run { " (dry run: nothing changed)" } else { "" };
            match &outcome.until {
                Some(t) => out!("{label}: snoozed until {t} ({tag}={}){dry}", value.unwrap_or_default()),
                None => out!("{label}: snooze cleared ({tag} removed){dry}"),
            }
        }
    }
    EXIT_OK
}

/// When the snooze ends (`None`: cleared), from `--for`, `--until` or `--clear`.
fn until(args: &Args<'_>, now: DateTime<Utc>, config: &crate::config::Config) -> Result<Option<DateTime<Utc>>, u8> {
    match (args.clear, args.for_, args.until) {
        (true, None, None) => Ok(None),
        (false, Some(d), None) if !d.is_zero() => Ok(Some(now + chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX))),
        (false, None, Some(text)) => match parse_until(text, now, config.timezone) {
            Ok(t) => Ok(Some(t)),
            Err(e) => {
                eprintln!("offhours: --until: {e}");
                Err(EXIT_USAGE)
            }
        },
        _ => {
            eprintln!("offhours: say how long: --for 2h, --until 21:00 (or a date and time), or --clear");
            Err(EXIT_USAGE)
        }
    }
}

/// Says why no one resource was found; the exit code (2 when the command should say
/// more, 1 when AWS or the search failed).
fn refused(e: &SnoozeError) -> u8 {
    eprintln!("offhours: {e}");
    if let SnoozeError::NotFound { errors, .. } = e {
        for e in errors {
            eprintln!("  {e}");
        }
    }
    match e {
        SnoozeError::NoSuchAccount(_) | SnoozeError::Ambiguous { .. } => EXIT_USAGE,
        SnoozeError::Setup(_) | SnoozeError::NotFound { .. } => EXIT_FAILED,
    }
}
