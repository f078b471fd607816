//! `offhours hold SCHEDULE --on|--off --until TIME`, `--clear`, `--list`: a schedule's
//! holds, kept in the state backend for the daemon (every replica) to bind in.

use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::{Cli, EXIT_OK, EXIT_USAGE, Format, load_config, print_json};
use crate::config::{Config, Keep, StateSettings};
use crate::plan::hold::{self, Hold, HoldArgs};
use crate::store::holds::Holds;
use crate::store::table::StateTable;

pub enum What<'a> {
    Set {
        schedule: &'a str,
        keep: Keep,
        from: Option<&'a str>,
        until: &'a str,
        reason: Option<&'a str>,
    },
    Clear(&'a str),
    /// Every hold, or one schedule's.
    List(Option<&'a str>),
}

/// A hold as the command prints it: its times in the schedule's timezone.
#[derive(Debug, Serialize)]
struct Shown {
    schedule: String,
    keep: Keep,
    from: String,
    until: String,
    reason: Option<String>,
    set_by: String,
    set_at: String,
    /// Why the running file cannot apply it (its schedule is gone, ...); absent when it can.
    #[serde(skip_serializing_if = "Option::is_none")]
    not_applied: Option<String>,
}

fn shown(config: &Config, h: &Hold) -> Shown {
    let tz = config.schedules.iter().find(|s| s.name == h.schedule).map_or(config.timezone, |s| s.timezone);
    let t = |at: DateTime<Utc>| at.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::Secs, false);
    Shown {
        schedule: h.schedule.clone(),
        keep: h.keep,
        from: t(h.from),
        until: t(h.until),
        reason: h.reason.clone(),
        set_by: h.set_by.clone(),
        set_at: t(h.set_at),
        not_applied: hold::unfit(config, h),
    }
}

pub async fn run(cli: &Cli, what: What<'_>, state_dir: PathBuf) -> u8 {
    let config = match load_config(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let holds = open(&config, &state_dir).await;
    let now = Utc::now();
    match what {
        What::Set { schedule, keep, from, until, reason } => {
            let by = set_by();
            let args = HoldArgs { schedule, keep, from, until, reason, set_by: &by };
            let new = match hold::new_hold(&config, args, now) {
                Ok(h) => h,
                Err(e) => {
                    eprintln!("offhours: {e}");
                    return EXIT_USAGE;
                }
            };
            let replaced = or_fail!(holds.put(&new, now).await);
            log(&new, "Hold set.", replaced.as_ref());
            print_one(cli, &config, &new, replaced.as_ref(), "held");
        }
        What::Clear(schedule) => {
            let removed = or_fail!(holds.clear(schedule, now).await);
            match &removed {
                Some(h) => log(h, "Hold cleared.", None),
                None => tracing::info!(job = "hold", schedule, "No hold to clear."),
            }
            match cli.output {
                Format::Json => {
                    print_json(&serde_json::json!({ "schedule": schedule, "cleared": removed.as_ref().map(|h| shown(&config, h)) }))
                }
                Format::Text | Format::Toml => match &removed {
                    Some(h) => out!("{schedule}: hold cleared (was {}); its fires act as usual", h.describe(tz_of(&config, schedule))),
                    None => out!("{schedule}: no hold to clear"),
                },
            }
        }
        What::List(only) => {
            let reading = or_fail!(holds.read().await);
            for bad in &reading.unreadable {
                eprintln!("offhours: {}: {bad} (left out)", holds.describe());
            }
            let mut live: Vec<Shown> =
                reading.holds.iter().filter(|h| h.live(now) && only.is_none_or(|s| s == h.schedule)).map(|h| shown(&config, h)).collect();
            live.sort_by(|a, b| a.schedule.cmp(&b.schedule));
            print_list(cli, &live);
        }
    }
    EXIT_OK
}

/// The file with the holds in force bound in, as the daemon runs it, for `plan`; the
/// holds applied. Holds that cannot be read are left out with a warning.
pub async fn bind(config: Config, state_dir: &std::path::Path) -> (Config, Vec<Hold>) {
    let store = open(&config, state_dir).await;
    let now = Utc::now();
    match store.read().await {
        Ok(r) => {
            let live: Vec<Hold> = r.holds.into_iter().filter(|h| h.live(now) && hold::unfit(&config, h).is_none()).collect();
            (hold::apply(&config, &live, now), live)
        }
        Err(e) => {
            tracing::warn!(job = "hold", store = %store.describe(), error = %e, "Cannot read the holds; planning without them.");
            (config, Vec::new())
        }
    }
}

/// Where the file's `[state]` keeps holds.
async fn open(config: &Config, state_dir: &std::path::Path) -> Holds {
    match &config.state {
        StateSettings::File => Holds::in_dir(state_dir),
        StateSettings::DynamoDb(s) => {
            let aws = crate::aws::Aws::connect(&config.aws).await;
            Holds::Table(StateTable::new(aws.dynamodb_in(&s.region), &s.table, &s.region))
        }
    }
}

fn tz_of(config: &Config, schedule: &str) -> chrono_tz::Tz {
    config.schedules.iter().find(|s| s.name == schedule).map_or(config.timezone, |s| s.timezone)
}

/// Who is setting the hold: the user (the one behind sudo, if any) at this host.
fn set_by() -> String {
    let user = ["SUDO_USER", "USER", "LOGNAME"].iter().find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty());
    format!("{}@{}", user.as_deref().unwrap_or("unknown"), host.as_deref().unwrap_or("unknown"))
}

fn log(h: &Hold, message: &str, replaced: Option<&Hold>) {
    tracing::info!(
        job = "hold",
        schedule = %h.schedule,
        keep = ?h.keep,
        from = %h.from.to_rfc3339(),
        until = %h.until.to_rfc3339(),
        reason = h.reason.as_deref(),
        set_by = %h.set_by,
        replaced = replaced.is_some(),
        "{message}"
    );
}

fn print_one(cli: &Cli, config: &Config, h: &Hold, replaced: Option<&Hold>, verb: &str) {
    match cli.output {
        Format::Json => print_json(&serde_json::json!({ "hold": shown(config, h), "replaced": replaced.map(|r| shown(config, r)) })),
        Format::Text | Format::Toml => {
            let tz = tz_of(config, &h.schedule);
            let why = h.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
            let instead = replaced.map(|r| format!("; replaces the hold {}", r.describe(tz))).unwrap_or_default();
            out!("{}: {verb} {}{why}{instead}", h.schedule, h.describe(tz));
        }
    }
}

fn print_list(cli: &Cli, live: &[Shown]) {
    match cli.output {
        Format::Json => print_json(&serde_json::json!({ "holds": live })),
        Format::Text | Format::Toml if live.is_empty() => out!("no holds in force"),
        Format::Text | Format::Toml => {
            for h in live {
                let keep = if h.keep == Keep::On { "on" } else { "off" };
                let why = h.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
                let not = h.not_applied.as_deref().map(|n| format!(" [not applied: {n}]")).unwrap_or_default();
                out!("{}: {keep} from {} until {}{why}, set by {}{not}", h.schedule, h.from, h.until, h.set_by);
            }
        }
    }
}
