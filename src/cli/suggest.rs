//! `offhours suggest`: schedules found in each resource's own hourly utilization, with
//! the hours off and the money they would save; as text, JSON, or `[schedules.*]`
//! tables ready to paste into the file.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{TimeDelta, Timelike, Utc};
use chrono_tz::Tz;

use super::{Cli, EXIT_FAILED, EXIT_OK, EXIT_USAGE, Format, connect, load_config, print_json};
use crate::config::Config;
use crate::jobs::report as reads;
use crate::jobs::suggest::{Request, SuggestReport, Suggested, Tagged, suggest, tag};
use crate::model::Kind;
use crate::savings::{Prices, Rate};
use crate::suggest::Thresholds;
use crate::suggest::pattern::Settings;

/// The report, and with `--tag` what was tagged.
#[derive(serde::Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    report: &'a SuggestReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    tagged: Option<&'a [Tagged]>,
}

/// What `--tag` did (or would do), one line each.
fn tagged_text(tagged: &[Tagged]) -> String {
    let mut out = String::from("\ntags:\n");
    for t in tagged {
        let reason = t.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
        let _ = writeln!(out, "  {} {} {} ({}, {}) -> {}{reason}", t.outcome, t.kind, t.id, t.account, t.region, t.schedule);
    }
    if tagged.iter().all(|t| t.outcome != "tagged") && tagged.iter().any(|t| t.outcome == "would-tag") {
        out.push_str("  (nothing written: add --yes to write the tags)\n");
    }
    out
}

pub struct Args {
    pub days: Option<u32>,
    pub kinds: Vec<Kind>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// `KEY=VALUE` selectors; an empty one (a bare `--tag`) asks to write the tags.
    pub tags: Vec<String>,
    pub yes: bool,
    pub timezone: Option<Tz>,
    pub state_dir: std::path::PathBuf,
}

/// The request from the file's `[suggest]` and the command line; `Err` names the bad
/// argument.
fn request(config: &Config, args: &Args) -> Result<Request, String> {
    let s = &config.suggest;
    let days = args.days.unwrap_or(s.days);
    if !(7..=63).contains(&days) {
        return Err(format!("--days must be between 7 and 63 (hourly points are kept 63 days), found {days}"));
    }
    let mut tags = BTreeMap::new();
    for t in args.tags.iter().filter(|t| !t.is_empty()) {
        let (k, v) = t.split_once('=').filter(|(k, _)| !k.is_empty()).ok_or_else(|| format!("--tag `{t}` is not KEY=VALUE"))?;
        tags.insert(k.to_string(), v.to_string());
    }
    let until = Utc::now().with_minute(0).and_then(|t| t.with_second(0)).and_then(|t| t.with_nanosecond(0)).unwrap_or_else(Utc::now);
    Ok(Request {
        kinds: if args.kinds.is_empty() { config.kinds.clone() } else { args.kinds.clone() },
        accounts: args.accounts.clone(),
        regions: args.regions.clone(),
        tags,
        since: until - TimeDelta::days(i64::from(days)),
        until,
        settings: Settings { timezone: args.timezone.unwrap_or(config.timezone), margin_hours: s.margin_hours, min_weeks: s.min_weeks },
        thresholds: Thresholds { cpu_percent: s.cpu_percent, network_bytes: s.network_mb * 1e6, connections: f64::from(s.connections) },
    })
}

pub async fn run(cli: &Cli, args: Args) -> u8 {
    let config = match load_config(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let req = match request(&config, &args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("offhours: {e}");
            return EXIT_USAGE;
        }
    };
    let (aws, targets) = match connect(&config).await {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut report = suggest(&targets, &config, &req).await;
    let mut prices = Prices::new(config.savings.currency.clone());
    for (key, price) in &config.savings.prices {
        if let Ok(rate) = Rate::from_f64(*price) {
            let _ = prices.set_file(key, rate);
        }
    }
    let missing = report.api_products(&prices);
    if !missing.is_empty() && config.savings.currency == "USD" {
        let mut warn = |m: String| eprintln!("offhours: {m}");
        reads::api_prices(&aws, &args.state_dir, &missing, config.savings.price_refresh, Utc::now(), &mut prices, &mut warn).await;
    }
    report.price(&prices);
    let write = args.tags.iter().any(String::is_empty);
    let tagged = match write {
        false => None,
        true => match tag(&targets, &config, &report, cli.dry_run || config.dry_run || !args.yes).await {
            Ok(t) => Some(t),
            Err(brake) => {
                eprintln!("offhours: safety brake: {brake}; nothing tagged");
                return EXIT_FAILED;
            }
        },
    };
    match cli.output {
        Format::Json => print_json(&Output { report: &report, tagged: tagged.as_deref() }),
        Format::Toml => out!("{}", toml(&report, &req).trim_end_matches('\n')),
        Format::Text => {
            let shown = format!("{}{}", text(&report, &req), tagged.as_deref().map(tagged_text).unwrap_or_default());
            out!("{}", shown.trim_end_matches('\n'))
        }
    }
    if tagged.as_ref().is_some_and(|t| t.iter().any(|t| t.outcome == "failed")) {
        return EXIT_FAILED;
    }
    for e in &report.errors {
        let kind = e.kind.map(|k| format!(" {k}")).unwrap_or_default();
        eprintln!("offhours: account {} {}{kind}: {}", e.account, e.region, e.error);
    }
    if report.errors.is_empty() { EXIT_OK } else { EXIT_FAILED }
}

fn saving(s: &Suggested) -> String {
    match &s.monthly_savings {
        Some(m) if s.unpriced_resources == 0 => format!("about {m} {} a month", s.currency),
        Some(m) => format!("about {m} {} a month ({} resources without a price)", s.currency, s.unpriced_resources),
        None => "saving unknown (no price known)".to_string(),
    }
}

/// The schedule a resource follows now, against the data: `office (60 h off a week, 3
/// busy hours off)`.
fn now_text(schedule: Option<&str>, off: Option<u32>, busy_off: Option<usize>) -> String {
    let Some(schedule) = schedule else { return "-".to_string() };
    let mut parts = Vec::new();
    if let Some(off) = off {
        parts.push(format!("{off} h off a week"));
    }
    match busy_off {
        Some(0) => parts.push("never off while busy".to_string()),
        Some(n) => parts.push(format!("off during {n} busy hours")),
        None => parts.push("not in the file".to_string()),
    }
    format!("{schedule} ({})", parts.join(", "))
}

fn text(report: &SuggestReport, req: &Request) -> String {
    let mut out = String::new();
    let weeks = (req.until - req.since).num_days() as f64 / 7.0;
    let _ = writeln!(
        out,
        "suggest: {} to {} ({weeks:.0} weeks of hourly metrics), {}, margin {}h, idle in {} of the weeks",
        report.since, report.until, req.settings.timezone, req.settings.margin_hours, req.settings.min_weeks
    );
    for s in &report.schedules {
        let _ = writeln!(out, "\nschedule {}: start \"{}\", stop \"{}\"", s.name, s.start, s.stop);
        let _ = writeln!(out, "  {} hours off a week; {}", s.hours_off_per_week, saving(s));
        let _ = writeln!(out, "  {:<14} {:<12} {:<22} {:<14} {:<20} {:>11}  NOW", "ACCOUNT", "KIND", "ID", "REGION", "NAME", "IDLE H/WEEK");
        for m in &s.resources {
            let _ = writeln!(
                out,
                "  {:<14} {:<12} {:<22} {:<14} {:<20} {:>11}  {}",
                m.account,
                m.kind.as_str(),
                m.id,
                m.region,
                m.name.as_deref().unwrap_or("-"),
                m.idle_hours_per_week,
                now_text(m.schedule_now.as_deref(), m.schedule_now_hours_off_per_week, m.schedule_now_busy_hours_off)
            );
        }
    }
    if report.schedules.is_empty() {
        out.push_str("\nno schedule to suggest\n");
    }
    if !report.left_out.is_empty() {
        out.push_str("\nleft out:\n");
        for l in &report.left_out {
            let now = match l.schedule_now.as_deref() {
                Some(s) => format!("; now {}", now_text(Some(s), None, l.schedule_now_busy_hours_off)),
                None => String::new(),
            };
            let _ = writeln!(out, "  {} {} ({}, {}): {}{now}", l.kind, l.id, l.account, l.region, l.reason);
        }
    }
    out
}

/// `[schedules.*]` tables to paste into the file, each with the evidence as comments.
fn toml(report: &SuggestReport, req: &Request) -> String {
    let mut out = format!(
        "# offhours suggest: hourly metrics from {} to {}, {}, margin {}h.\n",
        report.since, report.until, req.settings.timezone, req.settings.margin_hours
    );
    for s in &report.schedules {
        let _ = writeln!(out, "\n# {} hours off a week; {}.", s.hours_off_per_week, saving(s));
        for m in &s.resources {
            let name = m.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
            let _ = writeln!(
                out,
                "# {} {}{name} in {}, account {}: idle {} h a week",
                m.kind, m.id, m.region, m.account, m.idle_hours_per_week
            );
        }
        let mut kinds: Vec<&str> = s.resources.iter().map(|m| m.kind.as_str()).collect();
        kinds.sort();
        kinds.dedup();
        let kinds: Vec<String> = kinds.iter().map(|k| format!("\"{k}\"")).collect();
        let _ = writeln!(out, "[schedules.{}]", s.name);
        let _ =
            writeln!(out, "timezone = \"{}\"\nstart = \"{}\"\nstop = \"{}\"\nkinds = [{}]", s.timezone, s.start, s.stop, kinds.join(", "));
    }
    for l in &report.left_out {
        let _ = writeln!(out, "# left out: {} {} ({}, {}): {}", l.kind, l.id, l.account, l.region, l.reason);
    }
    out
}
