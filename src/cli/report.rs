//! `offhours report`: resource-hours kept off by offhours, from the ledger, and an
//! estimate of the money saved at on-demand prices; then a projected monthly figure
//! from the schedules and the resources they govern now (a read-only listing).

use std::collections::BTreeSet;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::{Cli, EXIT_OK, EXIT_USAGE, Format, load_config, print_json};
use crate::aws::Aws;
use crate::jobs::report as reads;
use crate::savings::{ApiProduct, GroupBy, Money, Prices, Projected, Projection, Rate, Report, hours_off, needed, projected, report};

/// Where the figures come from, said in every output.
const SOURCE: &str = "on-demand prices: [savings.prices] in the file first, else the AWS Price List API (EC2 Linux, shared tenancy; RDS DB instances by class, engine and deployment; DB clusters as the sum of their instances)";

/// How the projection is made, said with it.
const BASIS: &str = "each schedule's off hours in the 7 days from now (its timezone, DST changes and skip dates) x 30.44 / 7, for each resource it governs now";

#[derive(Serialize)]
struct Output<'a> {
    since: String,
    until: String,
    by: &'static str,
    /// Always true: prices are on-demand list prices or the file's.
    estimate: bool,
    price_source: &'static str,
    /// Where the rows were read, with shared state (`dynamodb table T in R`).
    #[serde(skip_serializing_if = "Option::is_none")]
    ledger: Option<&'a str>,
    #[serde(flatten)]
    report: &'a Report,
    /// `None` (null) when the resources could not be listed: see `projection_error`.
    projected_monthly: Option<ProjectedOutput<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    projection_error: Option<&'a str>,
}

#[derive(Serialize)]
struct ProjectedOutput<'a> {
    estimate: bool,
    /// When the week counted starts.
    from: String,
    basis: &'static str,
    #[serde(flatten)]
    total: &'a Projection,
    rows: &'a [crate::savings::ProjectedRow],
}

pub struct Args {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub by: GroupBy,
    pub state_dir: std::path::PathBuf,
    pub csv: bool,
}

pub async fn run(cli: &Cli, args: Args) -> u8 {
    let config = match load_config(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if args.since >= args.until {
        eprintln!("offhours: --since must be before --until");
        return EXIT_USAGE;
    }
    let now = Utc::now();
    let aws = Aws::connect(&config.aws).await;
    let mut warn = |m: String| eprintln!("offhours: {m}");
    let (changes, ledger) = or_fail!(reads::ledger_changes(&config, &aws, &args.state_dir, args.since, args.until, &mut warn).await);
    let intervals = hours_off(&changes, args.since, args.until);
    let mut prices = Prices::new(config.savings.currency.clone());
    for (key, price) in &config.savings.prices {
        if let Err(e) = Rate::from_f64(*price).and_then(|rate| prices.set_file(key, rate)) {
            eprintln!("offhours: savings.prices.{key}: {e}");
            return EXIT_USAGE;
        }
    }
    // The projection's resources: listed now, read-only. A failure leaves it out.
    let schedules = match reads::governed_now(&config, &aws, now).await {
        Ok(s) => Ok(s),
        Err(e) => {
            eprintln!("offhours: projected monthly figure left out: {e}");
            Err(e)
        }
    };
    // What the file does not price: instances, DB instances and Aurora clusters' members
    // (by class, engine and deployment, when the ledger or the listing has them) from
    // the Price List API.
    let mut wanted: BTreeSet<ApiProduct> = needed(&intervals, &prices);
    if let Ok(schedules) = &schedules {
        wanted.extend(
            schedules
                .iter()
                .flat_map(|(_, _, governed)| governed)
                .filter_map(|g| Some(prices.api_products(&g.region, &g.parts()?)))
                .flatten(),
        );
    }
    let missing: Vec<ApiProduct> = wanted.into_iter().collect();
    // The Price List prices in USD only: in another currency, the file's prices alone.
    if !missing.is_empty() && config.savings.currency == "USD" {
        reads::api_prices(&aws, &args.state_dir, &missing, config.savings.price_refresh, now, &mut prices, &mut warn).await;
    }
    let figures = report(&intervals, &prices, args.by);
    let projection = schedules.as_ref().ok().map(|s| projected(s, &prices));
    let show = |t: DateTime<Utc>| t.with_timezone(&config.timezone).to_rfc3339_opts(SecondsFormat::Secs, false);
    let out = Output {
        since: show(args.since),
        until: show(args.until),
        by: args.by.as_str(),
        estimate: true,
        price_source: SOURCE,
        ledger: ledger.as_deref(),
        report: &figures,
        projected_monthly: projection.as_ref().map(|p| ProjectedOutput {
            estimate: true,
            from: show(now),
            basis: BASIS,
            total: &p.total,
            rows: &p.rows,
        }),
        projection_error: schedules.as_ref().err().map(String::as_str),
    };
    if args.csv {
        print_csv(args.by, &figures, projection.as_ref(), &config.savings.currency);
        return EXIT_OK;
    }
    match cli.output {
        Format::Json => print_json(&out),
        Format::Text | Format::Toml => print_text(&out, args.by, &figures, projection.as_ref(), ledger.as_deref(), &show(now)),
    }
    EXIT_OK
}

/// The rows, the total and the projected month as CSV.
fn print_csv(by: GroupBy, figures: &Report, projection: Option<&Projected>, currency: &str) {
    let money = |m: Option<Money>| m.map(|m| m.to_string()).unwrap_or_default();
    let mut w = csv::Writer::from_writer(std::io::stdout());
    let _ = w.write_record([by.as_str(), "resource_hours_off", "estimated_savings", "currency", "price_source"]);
    for r in &figures.rows {
        let _ = w.write_record([
            r.key.as_str(),
            &r.resource_hours_off.to_string(),
            &money(r.estimated_savings),
            currency,
            r.price_source.as_str(),
        ]);
    }
    let t = &figures.total;
    let _ = w.write_record(["total", &t.resource_hours_off.to_string(), &money(t.estimated_savings), &t.currency, t.price_source.as_str()]);
    if let Some(p) = projection {
        let t = &p.total;
        let _ = w.write_record([
            "projected-monthly",
            &t.resource_hours_off.to_string(),
            &money(t.estimated_savings),
            &t.currency,
            t.price_source.as_str(),
        ]);
    }
    let _ = w.flush();
}

/// The report as a table, then the projection (or why it was left out).
fn print_text(out: &Output<'_>, by: GroupBy, figures: &Report, projection: Option<&Projected>, ledger: Option<&str>, from: &str) {
    out!("resource-hours kept off by offhours, {} to {}, by {}", out.since, out.until, out.by);
    out!("  {:<32} {:>14} {:>22}  PRICES", by.as_str().to_uppercase(), "HOURS OFF", "ESTIMATED SAVINGS");
    for r in &figures.rows {
        let money = r.estimated_savings.map_or("-".to_string(), |m| format!("{m} {}", figures.total.currency));
        out!("  {:<32} {:>14} {:>22}  {}", r.key, r.resource_hours_off.to_string(), money, r.price_source.as_str());
    }
    let t = &figures.total;
    let money = t.estimated_savings.map_or("-".to_string(), |m| format!("{m} {}", t.currency));
    out!("  {:<32} {:>14} {:>22}  {}", "total", t.resource_hours_off.to_string(), money, t.price_source.as_str());
    out!("  estimate at {SOURCE}");
    if let Some(ledger) = ledger {
        out!("  ledger: {ledger}");
    }
    match projection {
        Some(p) => text_projection(p, from),
        None => out!("\nprojected monthly figure left out: {}", out.projection_error.unwrap_or_default()),
    }
}

fn text_projection(p: &Projected, from: &str) {
    out!("\nprojected monthly resource-hours off and savings (estimate), from {from}");
    out!("  {:<32} {:>9} {:>11} {:>14} {:>22}  PRICES", "SCHEDULE", "RESOURCES", "OFF H/WEEK", "HOURS OFF", "ESTIMATED SAVINGS");
    let currency = &p.total.currency;
    for r in &p.rows {
        let off = r.off_hours_per_week.map_or("-".to_string(), |h| h.to_string());
        let (hours, money, source) = match &r.figures {
            Some(f) => (
                f.resource_hours_off.to_string(),
                f.estimated_savings.map_or("-".to_string(), |m| format!("{m} {currency}")),
                f.price_source.as_str(),
            ),
            None => ("-".to_string(), "-".to_string(), "fires too often to project"),
        };
        out!("  {:<32} {:>9} {:>11} {:>14} {:>22}  {source}", r.schedule, r.resources, off, hours, money);
    }
    let t = &p.total;
    let money = t.estimated_savings.map_or("-".to_string(), |m| format!("{m} {currency}"));
    out!("  {:<32} {:>9} {:>11} {:>14} {:>22}  {}", "total", "", "", t.resource_hours_off.to_string(), money, t.price_source.as_str());
    out!("  estimate: {BASIS}, at {SOURCE}");
}
