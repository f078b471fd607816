//! `offhours audit-keys`: the IAM access-key audit, once.

use chrono::{DateTime, Utc};

use super::{Cli, EXIT_FAILED, EXIT_OK, EXIT_USAGE, Format, load_config, print_json};
use crate::aws::Aws;
use crate::jobs::keys::{AuditRun, audit};
use crate::jobs::targets::multi_account;

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
    if multi_account(&config) {
        return every_account(cli, &config, &aws, cfg, at, deactivate).await;
    }
    let run = AuditRun { cfg, at, deactivate, dry_run: config.dry_run, tz: config.timezone, job: "audit-keys", account: None };
    let report = match audit(&aws, run).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("offhours: the access-key audit could not complete: {e}");
            return EXIT_FAILED;
        }
    };
    crate::jobs::keys::emit_finished([&report]);
    print(cli, &report);
    EXIT_OK
}

/// The audit in every account of the file, one after another (each its own report).
/// JSON: `{"accounts":[{"account","account_name","report"} or {"account","account_name","error"}]}`.
async fn every_account(
    cli: &Cli,
    config: &crate::config::Config,
    hub: &Aws,
    cfg: &crate::config::IamAudit,
    at: DateTime<Utc>,
    deactivate: bool,
) -> u8 {
    let targets = or_fail!(crate::jobs::targets::targets(hub, config).await);
    let mut out = Vec::new();
    let mut reports = Vec::new();
    let mut failed = false;
    for t in &targets {
        let run =
            AuditRun { cfg, at, deactivate, dry_run: config.dry_run, tz: config.timezone, job: "audit-keys", account: Some(&t.account.id) };
        let mut entry = serde_json::json!({ "account": t.account.id, "account_name": t.account.name });
        match audit(&t.aws, run).await {
            Ok(report) => {
                if cli.output == Format::Text {
                    out!("account {}", t.account);
                    print(cli, &report);
                }
                entry["report"] = serde_json::to_value(&report).expect("serializable");
                reports.push(report);
            }
            Err(e) => {
                failed = true;
                eprintln!("offhours: account {}: the access-key audit could not complete: {e}", t.account);
                entry["error"] = e.to_string().into();
            }
        }
        out.push(entry);
    }
    crate::jobs::keys::emit_finished(&reports);
    if cli.output == Format::Json {
        print_json(&serde_json::json!({ "accounts": out }));
    }
    if failed { EXIT_FAILED } else { EXIT_OK }
}

fn print(cli: &Cli, report: &crate::jobs::keys::AuditReport) {
    match cli.output {
        Format::Json => print_json(report),
        Format::Text | Format::Toml => {
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
}
