//! `offhours apply SCHEDULE start|stop`: one action, now.

use chrono::Utc;

use super::{Cli, EXIT_FAILED, EXIT_OK, EXIT_USAGE, Format, load_config, print_json};
use crate::aws::Aws;
use crate::jobs::apply::ApplyReport;
use crate::jobs::now::apply_now;
use crate::model::Action;

/// How long the ledger's writes may take after the action.
const LEDGER_FLUSH: std::time::Duration = std::time::Duration::from_secs(30);

pub async fn run(cli: &Cli, schedule: &str, action: Action, state_dir: &std::path::Path) -> u8 {
    let config = match load_config(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(sched) = config.schedules.iter().find(|s| s.name == schedule) else {
        let names: Vec<&str> = config.schedules.iter().map(|s| s.name.as_str()).collect();
        eprintln!("offhours: no schedule `{schedule}` in {} (it has: {})", cli.config.display(), names.join(", "));
        return EXIT_USAGE;
    };
    let aws = Aws::connect(&config.aws).await;
    // The daemon's ledger, so that this action counts in `report` (a dry run writes
    // nothing there).
    let ledger = match crate::jobs::ledger::open(&config, &aws, state_dir) {
        Ok(Some(recorder)) => Some(recorder),
        Ok(None) => {
            tracing::info!(state_dir = %state_dir.display(), "No state directory: this action is not recorded in the ledger.");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "Ledger unavailable: this action is not recorded for the savings report.");
            None
        }
    };
    let report = or_fail!(apply_now(&aws, &config, sched, action, Utc::now()).await);
    if let Some(recorder) = &ledger
        && !recorder.flush(LEDGER_FLUSH).await
    {
        let place = recorder.place();
        tracing::error!(
            path = place.path(),
            ledger = place.table(),
            "Ledger writes still pending; this action's stops and starts are missing from it."
        );
    }
    match cli.output {
        Format::Json => print_json(&report),
        Format::Text | Format::Toml => print_text(&report),
    }
    if report.failed() > 0 || !report.failed_accounts.is_empty() { EXIT_FAILED } else { EXIT_OK }
}

/// The report as a table, one line per resource, then the counts.
fn print_text(report: &ApplyReport) {
    let dry = if report.dry_run { " (dry run)" } else { "" };
    out!("{} {}{}", report.schedule, report.action, dry);
    out!(
        "  {:<14} {:<12} {:<20} {:<14} {:<24} {:<20} {:<12} REASON",
        "ACCOUNT",
        "KIND",
        "ID",
        "REGION",
        "NAME",
        "BEFORE -> AFTER",
        "OUTCOME"
    );
    for r in &report.results {
        let after = r.after.as_deref().unwrap_or("-");
        out!(
            "  {:<14} {:<12} {:<20} {:<14} {:<24} {:<20} {:<12} {}",
            r.account_name.as_deref().unwrap_or(if r.account.is_empty() { "-" } else { &r.account }),
            r.kind.as_str(),
            r.id,
            r.region,
            r.name.as_deref().unwrap_or("-"),
            format!("{} -> {}", r.before, after),
            r.outcome.as_str(),
            r.reason.as_deref().unwrap_or("")
        );
    }
    for e in &report.errors {
        out!("  {:<14} {:<12} {:<20} {:<14} cannot list: {}", e.account, e.kind.as_str(), "-", e.region, e.error);
    }
    for f in &report.failed_accounts {
        out!("  account {} failed: {}", f.account_name.as_ref().map_or(f.account.clone(), |n| format!("{n} ({})", f.account)), f.error);
    }
    let counts: Vec<String> = report.counts().iter().map(|(o, n)| format!("{n} {o}")).collect();
    out!("  {}", if counts.is_empty() { "no matching resources".to_string() } else { counts.join(", ") });
}
