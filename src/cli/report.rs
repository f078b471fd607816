//! `offhours report`: resource-hours kept off by offhours, from the ledger, and an
//! estimate of the money saved at on-demand prices.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::{Cli, EXIT_FAILED, EXIT_OK, EXIT_USAGE, Format, load_config, print_json};
use crate::kinds::Kind;
use crate::savings::{GroupBy, Prices, Rate, Report, hours_off, needed, report};
use crate::store::{LEDGER_FILE, Ledger};

/// Where the figures come from, said in every output.
const SOURCE: &str = "on-demand prices: [savings.prices] in the file first, else the AWS Price List API (EC2 Linux, shared tenancy)";

#[derive(Serialize)]
struct Output<'a> {
    since: String,
    until: String,
    by: &'static str,
    /// Always true: prices are on-demand list prices or the file's.
    estimate: bool,
    price_source: &'static str,
    #[serde(flatten)]
    report: &'a Report,
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
    let path = args.state_dir.join(LEDGER_FILE);
    let mut changes = Vec::new();
    if path.exists() {
        let ledger = match Ledger::open(&path) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("offhours: {e}");
                return EXIT_FAILED;
            }
        };
        // The last change before the window says what was already stopped at its start.
        match (ledger.last_before(args.since), ledger.between(args.since, args.until)) {
            (Ok(before), Ok(within)) => changes.extend(before.iter().chain(within.iter()).filter_map(|e| e.change())),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("offhours: {e}");
                return EXIT_FAILED;
            }
        }
    } else {
        eprintln!("offhours: no ledger yet at {} (the daemon writes it at its first start or stop)", path.display());
    }
    let intervals = hours_off(&changes, args.since, args.until);
    let mut prices = Prices::new(config.savings.currency.clone());
    for (key, price) in &config.savings.prices {
        match Rate::from_f64(*price) {
            Ok(rate) => {
                if let Err(e) = prices.set_file(key, rate) {
                    eprintln!("offhours: savings.prices.{key}: {e}");
                    return EXIT_USAGE;
                }
            }
            Err(e) => {
                eprintln!("offhours: savings.prices.{key}: {e}");
                return EXIT_USAGE;
            }
        }
    }
    // What the file does not price: instances from the Price List API (databases need
    // their engine, which the ledger does not keep: price them in the file).
    let missing: Vec<(Kind, String, String)> = needed(&intervals, &prices).into_iter().filter(|(k, _, _)| *k == Kind::Ec2).collect();
    if !missing.is_empty() {
        let aws = crate::aws::Aws::connect(&config.aws).await;
        let client = crate::aws::pricing::client(&aws);
        for (_, region, size) in missing {
            match crate::aws::pricing::ec2_linux_on_demand(&client, &region, &size).await {
                Ok(Some(price)) => {
                    prices.set_api(&region, &size, &price);
                }
                Ok(None) => eprintln!("offhours: no on-demand price for {size} in {region}; its hours are counted, not priced"),
                Err(e) => eprintln!("offhours: cannot read the price of {size} in {region}: {e}; its hours are counted, not priced"),
            }
        }
    }
    let figures = report(&intervals, &prices, args.by);
    let show = |t: DateTime<Utc>| t.with_timezone(&config.timezone).to_rfc3339_opts(SecondsFormat::Secs, false);
    let out = Output {
        since: show(args.since),
        until: show(args.until),
        by: args.by.as_str(),
        estimate: true,
        price_source: SOURCE,
        report: &figures,
    };
    if args.csv {
        let mut w = csv::Writer::from_writer(std::io::stdout());
        let _ = w.write_record([args.by.as_str(), "resource_hours_off", "estimated_savings", "currency", "price_source"]);
        for r in &figures.rows {
            let money = r.estimated_savings.map(|m| m.to_string()).unwrap_or_default();
            let _ = w.write_record([
                r.key.as_str(),
                &r.resource_hours_off.to_string(),
                &money,
                &config.savings.currency,
                r.price_source.as_str(),
            ]);
        }
        let t = &figures.total;
        let money = t.estimated_savings.map(|m| m.to_string()).unwrap_or_default();
        let _ = w.write_record(["total", &t.resource_hours_off.to_string(), &money, &t.currency, t.price_source.as_str()]);
        let _ = w.flush();
        return EXIT_OK;
    }
    match cli.output {
        Format::Json => print_json(&out),
        Format::Text => {
            out!("resource-hours kept off by offhours, {} to {}, by {}", out.since, out.until, out.by);
            out!("  {:<32} {:>14} {:>22}  PRICES", args.by.as_str().to_uppercase(), "HOURS OFF", "ESTIMATED SAVINGS");
            for r in &figures.rows {
                let money = r.estimated_savings.map_or("-".to_string(), |m| format!("{m} {}", figures.total.currency));
                out!("  {:<32} {:>14} {:>22}  {}", r.key, r.resource_hours_off.to_string(), money, r.price_source.as_str());
            }
            let t = &figures.total;
            let money = t.estimated_savings.map_or("-".to_string(), |m| format!("{m} {}", t.currency));
            out!("  {:<32} {:>14} {:>22}  {}", "total", t.resource_hours_off.to_string(), money, t.price_source.as_str());
            out!("  estimate at {SOURCE}");
        }
    }
    EXIT_OK
}
