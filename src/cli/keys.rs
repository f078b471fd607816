//! `offhours audit-keys`: the IAM access-key audit, once.

use chrono::{DateTime, Utc};

use super::{Cli, EXIT_FAILED, EXIT_OK, EXIT_USAGE, Format, load_config, print_json};
use crate::aws::Aws;
use crate::jobs::keys::{AuditRun, audit};

pub async fn run(cli: &Cli, at: DateTime<Utc>, deactivate: bool) -> u8 {
    let config = match load_config(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(cfg) = &config.iam_audit else {
        eprintln!("offhours: {} has no [iam_audit] section", cli.config.display());
        return EXIT_USAGE;
    };
    let aws = Aws::connect(&config.aws).await;
    let run = AuditRun { cfg, at, deactivate, dry_run: config.dry_run, tz: config.timezone, job: "audit-keys" };
    let report = match audit(&aws, run).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("offhours: the access-key audit could not complete: {e}");
            return EXIT_FAILED;
        }
    };
    match cli.output {
        Format::Json => print_json(&report),
        Format::Text => {
            out!(
                "access keys at {} (credential report of {}): {} users, {} active keys, {} findings",
                report.evaluated_at,
                report.report_generated_at.as_deref().unwrap_or("unknown time"),
                report.users,
                report.active_keys,
                report.findings.len()
            );
            if !report.findings.is_empty() {
                out!(
                    "  {:<9} {:<16} {:<22} {:<16} {:>5} {:>5}  {:<25} {:<17} NOTE",
                    "SEVERITY",
                    "RULE",
                    "USER",
                    "ACCESS KEY",
                    "AGE",
                    "IDLE",
                    "LAST USED",
                    "ACTION"
                );
            }
            for f in &report.findings {
                let days = |d: Option<i64>| d.map_or("-".to_string(), |d| format!("{d}d"));
                // Root's keys cannot be listed: the report's slot is all there is to show.
                let key = match (&f.access_key_id, f.slot) {
                    (Some(id), _) => id.clone(),
                    (None, Some(slot)) => format!("slot {slot}"),
                    (None, None) => "-".to_string(),
                };
                out!(
                    "  {:<9} {:<16} {:<22} {:<16} {:>5} {:>5}  {:<25} {:<17} {}",
                    format!("{:?}", f.severity).to_lowercase(),
                    f.rule,
                    f.user,
                    key,
                    days(f.age_days),
                    days(f.idle_days),
                    f.last_used.as_deref().unwrap_or("never"),
                    f.action,
                    f.note.as_deref().unwrap_or(if f.own_key { "offhours' own key" } else { "" })
                );
            }
        }
    }
    EXIT_OK
}
