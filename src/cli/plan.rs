//! `offhours plan`: a read-only look at what each schedule governs.

use chrono::{DateTime, Utc};

use super::{Cli, EXIT_FAILED, EXIT_OK, Format, connect, load_config, print_json};
use crate::jobs::preview::{FireView, preview};

fn fire(f: &Option<FireView>) -> String {
    f.as_ref().map_or("none".to_string(), |f| format!("{} at {}", f.action, f.at))
}

pub async fn run(cli: &Cli, at: DateTime<Utc>) -> u8 {
    let config = match load_config(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let (_, targets) = match connect(&config).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let report = or_fail!(preview(&targets, &config, at).await);
    match cli.output {
        Format::Json => print_json(&report),
        Format::Text | Format::Toml => {
            out!("plan at {}", report.at);
            for s in &report.schedules {
                out!("\nschedule {} ({})", s.schedule, s.timezone);
                out!("  last fire: {}", fire(&s.last_fire));
                out!("  next fire: {}", fire(&s.next_fire));
                if let Some(order) = &s.order {
                    out!("  order: {}", order.line());
                }
                if s.resources.is_empty() {
                    out!("  no matching resources");
                    continue;
                }
                out!("  {:<14} {:<12} {:<20} {:<14} {:<24} {:<14} {:<6} REASON", "ACCOUNT", "KIND", "ID", "REGION", "NAME", "STATE", "DO");
                for i in &s.resources {
                    out!(
                        "  {:<14} {:<12} {:<20} {:<14} {:<24} {:<14} {:<6} {}",
                        i.account_name.as_deref().unwrap_or(if i.account.is_empty() { "-" } else { &i.account }),
                        i.kind.as_str(),
                        i.id,
                        i.region,
                        i.name.as_deref().unwrap_or("-"),
                        i.state,
                        i.decision,
                        match (&i.snoozed_until, i.decision) {
                            // The reason already says it when the snooze is why it is skipped.
                            (Some(until), d) if d != "skip" => format!("{} (snoozed until {until})", i.reason.as_deref().unwrap_or("")),
                            _ => i.reason.clone().unwrap_or_default(),
                        }
                    );
                }
            }
        }
    }
    for f in &report.failed_accounts {
        eprintln!(
            "offhours: account {}: {}",
            f.account_name.as_ref().map_or(f.account.clone(), |n| format!("{n} ({})", f.account)),
            f.error
        );
    }
    if report.failed_accounts.is_empty() { EXIT_OK } else { EXIT_FAILED }
}
