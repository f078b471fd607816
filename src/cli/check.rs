//! `offhours check`: validate the file, show when every job fires next.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Cli, EXIT_OK, Format, load_config, print_json};
use crate::config::Config;
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
    next: Vec<String>,
}

/// Every timed job in the file: each schedule's start and stop, the key audit and the
/// billing alarm re-check.
fn jobs(config: &Config) -> Vec<(Option<&str>, &'static str, &Trigger)> {
    let mut out = Vec::new();
    for s in &config.schedules {
        if let Some(t) = &s.start {
            out.push((Some(s.name.as_str()), "start", t));
        }
        if let Some(t) = &s.stop {
            out.push((Some(s.name.as_str()), "stop", t));
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

pub fn run(cli: &Cli, from: DateTime<Utc>, next: usize) -> u8 {
    let config = match load_config(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let jobs: Vec<Job> = jobs(&config)
        .into_iter()
        .map(|(schedule, action, t)| Job {
            schedule,
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
    match cli.output {
        Format::Json => print_json(&serde_json::json!({ "jobs": jobs })),
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
    EXIT_OK
}
