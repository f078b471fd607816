//! `offhours plan`: a read-only look at what each schedule governs.

use chrono::{DateTime, Utc};

use super::{Cli, EXIT_FAILED, EXIT_OK, Format, connect, load_config, print_json};
use crate::jobs::preview::{FireView, preview};

fn fire(f: &Option<FireView>) -> String {
    f.as_ref().map_or("none".to_string(), |f| format!("{} at {}", f.action, f.at))
}

pub async fn run(cli: &Cli, at: DateTime<Utc>, state_dir: std::path::PathBuf) -> u8 {
    let config = match load_config(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let config = match super::check::with_calendars(config, at, &state_dir).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let (config, holds) = super::hold::bind(config, &state_dir).await;
    let (_, targets) = match connect(&config).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut config = config;
    if config.tag_schedules.as_ref().is_some_and(|t| t.enabled) {
        let found = super::tags::find(&config, &targets).await;
        for p in &found.problems {
            eprintln!("offhours: {} {} ({}): left alone: {}", p.kind, p.id, p.region, p.error);
        }
        config.schedules.extend(found.schedules);
    }
    let report = or_fail!(preview(&targets, &config, at).await);
    match cli.output {
        Format::Json => print_json(&report),
        Format::Text | Format::Toml => {
            out!("plan at {}", report.at);
            for s in &report.schedules {
                out!("\nschedule {} ({})", s.schedule, s.timezone);
                out!("  last fire: {}", fire(&s.last_fire));
                out!("  next fire: {}", fire(&s.next_fire));
                if let Some(h) = holds.iter().find(|h| h.schedule == s.schedule) {
                    let tz = s.timezone.parse().unwrap_or(chrono_tz::UTC);
                    let why = h.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
                    out!("  hold: {}{why}, set by {}", h.describe(tz), h.set_by);
                }
                if let Some(order) = &s.order {
                    out!("  order: {}", order.line());
                }
                for a in s.alarms.iter().flatten() {
                    let state = if a.actions_enabled { "actions on: muted at a stop" } else { "actions off" };
                    out!(
                        "  alarm {} ({}{}): {state}",
                        a.name,
                        a.region,
                        if a.account.is_empty() { String::new() } else { format!(", {}", a.account) }
                    );
                }
                if s.resources.is_empty() {
                    out!("  no matching resources");
                    continue;
                }
                let mut rows = vec![["ACCOUNT", "KIND", "ID", "REGION", "NAME", "STATE", "DO", "REASON"].map(String::from)];
                for i in &s.resources {
                    rows.push([
                        i.account_name.as_deref().unwrap_or(if i.account.is_empty() { "-" } else { &i.account }).to_string(),
                        i.kind.as_str().to_string(),
                        i.id.clone(),
                        i.region.clone(),
                        i.name.as_deref().unwrap_or("-").to_string(),
                        i.state.clone(),
                        i.decision.to_string(),
                        match (&i.snoozed_until, i.decision) {
                            // The reason already says it when the snooze is why it is skipped.
                            (Some(until), d) if d != "skip" => format!("{} (snoozed until {until})", i.reason.as_deref().unwrap_or("")),
                            _ => i.reason.clone().unwrap_or_default(),
                        },
                    ]);
                }
                for line in table(&rows) {
                    out!("{line}");
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

/// Rows in columns as wide as their widest cell (an ECS service's ARN, a long name),
/// the last column left as it is.
fn table<const N: usize>(rows: &[[String; N]]) -> Vec<String> {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let mut line = String::from(" ");
            for (i, cell) in row.iter().enumerate() {
                line.push(' ');
                if i + 1 == N {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<width$}", width = widths[i]));
                }
            }
            line.trim_end().to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let row = |cells: [&str; 3]| cells.map(String::from);
        let rows = [
            row(["KIND", "ID", "REASON"]),
            row(["ecs", "arn:aws:ecs:eu-west-1:123456789012:service/dev/api", "scaled to 0"]),
            row(["ec2", "i-0abc", ""]),
        ];
        assert_eq!(
            super::table(&rows),
            [
                "  KIND ID                                                 REASON",
                "  ecs  arn:aws:ecs:eu-west-1:123456789012:service/dev/api scaled to 0",
                "  ec2  i-0abc",
            ]
        );
    }
}
