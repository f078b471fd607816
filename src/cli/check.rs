//! `offhours check`: validate the file, show when every job fires next.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Cli, EXIT_FAILED, EXIT_OK, Format, load_config, print_json};
use crate::config::Config;
use crate::config::calendar::bind;
use crate::schedule::{DayRule, Trigger};

#[derive(Serialize)]
struct Job<'a> {
    schedule: Option<&'a str>,
    action: &'static str,
    cron: &'a str,
    timezone: &'a str,
    /// `either` or `both` when day-of-month and day-of-week are both given.
    #[serde(skip_serializing_if = "Option::is_none")]
    day_rule: Option<&'static str>,
    /// The exceptions' windows in which this job does not fire, as `[from, to)`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    quiet: Vec<[String; 2]>,
    /// Instants it fires at besides its cron (a kept-on exception's start), from `--from`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extra: Vec<String>,
    /// The next dates its schedule's calendars skip (`skip_calendars`), from `--from`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped: Vec<Skipped>,
    next: Vec<String>,
}

#[derive(Serialize)]
struct Skipped {
    date: String,
    /// `CALENDAR: SUMMARY` of the event that covers it.
    reason: String,
}

/// Every timed job in the file: each schedule's start and stop, the key audit and the
/// billing alarm re-check.
fn jobs(config: &Config) -> Vec<(Option<&crate::config::Schedule>, &'static str, &Trigger)> {
    let mut out = Vec::new();
    for s in &config.schedules {
        if let Some(t) = &s.start {
            out.push((Some(s), "start", t));
        }
        if let Some(t) = &s.stop {
            out.push((Some(s), "stop", t));
        }
    }
    if let Some(t) = config.iam_audit.as_ref().and_then(|a| a.trigger.as_ref()) {
        out.push((None, "audit-keys", t));
    }
    if let Some(t) = config.billing_alarm.as_ref().and_then(|a| a.trigger.as_ref()) {
        out.push((None, "billing-alarm", t));
    }
    out
}

/// The file with its calendars read (a feed's last good copy from `state_dir` when it
/// cannot be fetched) and bound in; a calendar without any good text fails the check.
pub(super) async fn with_calendars(config: Config, from: DateTime<Utc>, state_dir: &std::path::Path) -> Result<Config, u8> {
    if config.calendars.is_empty() {
        return Ok(config);
    }
    let http = crate::jobs::calendars::client();
    let (loaded, errors) = crate::jobs::calendars::load(&config.calendars, state_dir, &http, Utc::now()).await;
    for e in &errors {
        eprintln!("offhours: {e}");
    }
    if !errors.is_empty() {
        return Err(EXIT_FAILED);
    }
    bind(&config, &loaded.texts, from.date_naive()).map_err(|e| {
        eprintln!("offhours: {e}");
        EXIT_FAILED
    })
}

/// The next `n` dates the schedule's calendars skip, from `from`'s local date.
fn skipped(schedule: Option<&crate::config::Schedule>, from: DateTime<Utc>, n: usize) -> Vec<Skipped> {
    let Some(s) = schedule else { return Vec::new() };
    let today = from.with_timezone(&s.timezone).date_naive();
    s.holidays.range(today..).take(n).map(|(d, why)| Skipped { date: d.to_string(), reason: why.clone() }).collect()
}

pub async fn run(cli: &Cli, from: DateTime<Utc>, next: usize, state_dir: std::path::PathBuf, tags: bool) -> u8 {
    let config = match load_config(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let config = match with_calendars(config, from, &state_dir).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let jobs: Vec<Job> = jobs(&config)
        .into_iter()
        .map(|(schedule, action, t)| Job {
            schedule: schedule.map(|s| s.name.as_str()),
            skipped: skipped(schedule, from, next),
            action,
            cron: t.cron.as_str(),
            timezone: t.tz.name(),
            day_rule: t.cron.day_rule().map(|r| match r {
                DayRule::Either => "either",
                DayRule::Both => "both",
            }),
            quiet: t.quiet.iter().map(|w| [w.from.with_timezone(&t.tz).to_rfc3339(), w.to.with_timezone(&t.tz).to_rfc3339()]).collect(),
            extra: t.extra.range(from..).map(|f| f.with_timezone(&t.tz).to_rfc3339()).collect(),
            next: t.upcoming(from, next).into_iter().map(|f| f.with_timezone(&t.tz).to_rfc3339()).collect(),
        })
        .collect();
    let found = if tags {
        match super::connect(&config).await {
            Ok((_, targets)) => Some(super::tags::find(&config, &targets).await),
            Err(code) => return code,
        }
    } else {
        None
    };
    let shown = found.as_ref().map(|f| super::tags::shown(f, from));
    let code = if shown.as_ref().is_some_and(|(_, errors)| !errors.is_empty()) { EXIT_FAILED } else { EXIT_OK };
    match cli.output {
        Format::Json => match &shown {
            Some((schedules, errors)) => print_json(&serde_json::json!({ "jobs": jobs, "tag_schedules": schedules, "tag_errors": errors })),
            None => print_json(&serde_json::json!({ "jobs": jobs })),
        },
        Format::Text | Format::Toml => {
            out!("{}: valid; {} schedule(s), default timezone {}", cli.config.display(), config.schedules.len(), config.timezone.name());
            for job in &jobs {
                let who = job.schedule.map(|s| format!("{s} ")).unwrap_or_default();
                out!("\n{who}{} `{}` in {}", job.action, job.cron, job.timezone);
                match job.day_rule {
                    Some("both") => {
                        out!("  {}", DayRule::Both.describe());
                        out!("  warning: before this release it fired on days matching either field; see the next fires below");
                    }
                    Some(_) => out!("  {}", DayRule::Either.describe()),
                    None => {}
                }
                for [from, to] in &job.quiet {
                    let show =
                        |t: &str| DateTime::parse_from_rfc3339(t).expect("just formatted").format("%a %Y-%m-%d %H:%M %:z").to_string();
                    out!("  no {} from {} until {} (an exception)", job.action, show(from), show(to));
                }
                for at in &job.extra {
                    let at = DateTime::parse_from_rfc3339(at).expect("just formatted").format("%a %Y-%m-%d %H:%M %:z");
                    out!("  also at {at} (an exception's start)");
                }
                for d in &job.skipped {
                    out!("  skips {} ({})", d.date, d.reason);
                }
                if job.next.is_empty() {
                    out!("  (no further fires)");
                }
                for t in &job.next {
                    let parsed = DateTime::parse_from_rfc3339(t).expect("just formatted");
                    out!("  {}", parsed.format("%a %Y-%m-%d %H:%M:%S %:z"));
                }
            }
        }
    }
    if let (Format::Text | Format::Toml, Some((schedules, errors))) = (cli.output, &shown) {
        super::tags::print(schedules, errors);
    }
    code
}
