//! `offhours billing-alarm`: make sure the billing alarm exists as the file says.

use super::{Cli, EXIT_FAILED, EXIT_OK, EXIT_USAGE, Format, load_config, print_json};
use crate::aws::Aws;
use crate::jobs::billing::ensure;

pub async fn run(cli: &Cli) -> u8 {
    let config = match load_config(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(cfg) = &config.billing_alarm else {
        eprintln!("offhours: {} has no [billing_alarm] section", cli.config.display());
        return EXIT_USAGE;
    };
    let aws = Aws::connect(&config.aws).await;
    let report = match ensure(&aws, cfg, config.dry_run, "billing-alarm").await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("offhours: billing alarm {}: {e}", cfg.alarm_name);
            return EXIT_FAILED;
        }
    };
    match cli.output {
        Format::Json => print_json(&report),
        Format::Text | Format::Toml => {
            let changed = if report.changed.is_empty() { String::new() } else { format!(" ({})", report.changed.join(", ")) };
            out!("billing alarm {}: {}{changed}", report.alarm_name, report.outcome);
            for w in &report.warnings {
                out!("  warning: {w}");
            }
        }
    }
    if report.as_desired() { EXIT_OK } else { EXIT_FAILED }
}
