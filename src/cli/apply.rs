//! `offhours apply SCHEDULE start|stop`: one action, now.

use chrono::Utc;

use super::{Cli, EXIT_FAILED, EXIT_OK, EXIT_USAGE, Format, load_config, print_json};
use crate::aws::Aws;
use crate::config::Action;
use crate::jobs::apply::{Cause, Request, act, list};

pub async fn run(cli: &Cli, schedule: &str, action: Action) -> u8 {
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
    let regions = match aws.configured_regions(&config.regions) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("offhours: {e}");
            return EXIT_FAILED;
        }
    };
    let req = Request {
        config: &config,
        schedule: sched,
        regions: &regions,
        action,
        dry_run: config.dry_run,
        now: Utc::now(),
        cause: Cause::Manual,
    };
    // The region check and the listing are both read-only: one round trip for the two.
    // Nothing is acted on unless every region is known to the account.
    let (checked, listed) = tokio::join!(aws.check_regions(&regions, config.regions.is_empty()), list(&aws, &req));
    if let Err(e) = checked {
        eprintln!("offhours: {e}");
        return EXIT_FAILED;
    }
    let report = match async { act(&aws, req, listed?).await }.await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("offhours: {e}");
            return EXIT_FAILED;
        }
    };
    match cli.output {
        Format::Json => print_json(&report),
        Format::Text => {
            let dry = if report.dry_run { " (dry run)" } else { "" };
            out!("{} {}{}", report.schedule, report.action, dry);
            out!("  {:<12} {:<20} {:<14} {:<24} {:<20} {:<12} REASON", "KIND", "ID", "REGION", "NAME", "BEFORE -> AFTER", "OUTCOME");
            for r in &report.results {
                let after = r.after.as_deref().unwrap_or("-");
                out!(
                    "  {:<12} {:<20} {:<14} {:<24} {:<20} {:<12} {}",
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
                out!("  {:<12} {:<20} {:<14} cannot list: {}", e.kind.as_str(), "-", e.region, e.error);
            }
            let counts: Vec<String> = report.counts().iter().map(|(o, n)| format!("{n} {o}")).collect();
            out!("  {}", if counts.is_empty() { "no matching resources".to_string() } else { counts.join(", ") });
        }
    }
    if report.failed() > 0 { EXIT_FAILED } else { EXIT_OK }
}
