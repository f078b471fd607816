//! `offhours init-state` and `offhours migrate-state`: the shared state table.

use std::path::PathBuf;
use std::time::Duration;

use super::{Cli, EXIT_FAILED, EXIT_OK, EXIT_USAGE, Format, load_config, print_json};
use crate::aws::Aws;
use crate::config::{Config, DynamoDbState, StateSettings};
use crate::store::state::{FILE_NAME, StateFile};
use crate::store::table::{Created, StateTable};

/// How long `init-state` waits for a new table to become active.
const ACTIVE_WITHIN: Duration = Duration::from_secs(120);

/// The file and its `[state]` table, or the exit code when it has none.
fn table_settings(cli: &Cli) -> Result<(Config, DynamoDbState), u8> {
    let config = load_config(cli)?;
    match &config.state {
        StateSettings::DynamoDb(s) => {
            let s = s.clone();
            Ok((config, s))
        }
        StateSettings::File => {
            eprintln!(
                "offhours: {}: [state] backend is \"file\": there is no table to set up (set backend = \"dynamodb\" and table)",
                cli.config.display()
            );
            Err(EXIT_USAGE)
        }
    }
}

async fn connect(config: &Config, settings: &DynamoDbState) -> StateTable {
    let aws = Aws::connect(&config.aws).await;
    StateTable::new(aws.dynamodb_in(&settings.region), &settings.table, &settings.region)
}

pub async fn init(cli: &Cli) -> u8 {
    let (config, settings) = match table_settings(cli) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let table = connect(&config, &settings).await;
    match table.create(ACTIVE_WITHIN).await {
        Ok(outcome) => {
            let outcome = match outcome {
                Created::Created => "created",
                Created::AlreadyThere => "already there",
            };
            tracing::info!(job = "init-state", table = %settings.table, region = %settings.region, outcome, "State table ready.");
            match cli.output {
                Format::Json => print_json(&serde_json::json!({ "table": settings.table, "region": settings.region, "outcome": outcome })),
                Format::Text | Format::Toml => out!("state table {} in {}: {outcome}", settings.table, settings.region),
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("offhours: {e}");
            EXIT_FAILED
        }
    }
}

pub async fn migrate(cli: &Cli, state_dir: PathBuf) -> u8 {
    let (config, settings) = match table_settings(cli) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let file = StateFile::in_dir(&state_dir);
    let bytes = match std::fs::read(&file.path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("offhours: {}: cannot read the state file: {e} (is --state-dir the daemon's state directory?)", file.path.display());
            return EXIT_USAGE;
        }
    };
    let state: crate::store::state::State = match serde_json::from_slice(&bytes) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("offhours: {}: not a state file: {e}", file.path.display());
            return EXIT_USAGE;
        }
    };
    let table = connect(&config, &settings).await;
    // Its writes are not fenced: a replica leading on the table would race them.
    match table.read_lease().await {
        Ok(Some(lease)) if !lease.released => {
            eprintln!(
                "offhours: state table {} in {}: {} holds the lease: stop every replica before migrating (a lease older than {} s is stale)",
                settings.table,
                settings.region,
                lease.owner,
                lease.duration.as_secs()
            );
            return EXIT_FAILED;
        }
        Ok(_) => {}
        Err(e) => {
            eprintln!("offhours: state table {} in {}: {e}", settings.table, settings.region);
            return EXIT_FAILED;
        }
    }
    let marks: Vec<_> = state.handled_until.iter().map(|(k, v)| (k.clone(), *v)).collect();
    let source = format!("{}:{}", hostname(), file.path.display());
    match table.migrate(&marks, &source).await {
        Ok(None) => {
            tracing::info!(job = "migrate-state", table = %settings.table, region = %settings.region, jobs = marks.len(), from = %file.path.display(), "State file copied into the table.");
            match cli.output {
                Format::Json => print_json(
                    &serde_json::json!({ "table": settings.table, "region": settings.region, "copied": marks.len(), "from": file.path }),
                ),
                Format::Text | Format::Toml => {
                    out!("copied {} watermarks from {} into {} in {}", marks.len(), file.path.display(), settings.table, settings.region)
                }
            }
            EXIT_OK
        }
        Ok(Some(when)) => {
            eprintln!(
                "offhours: state table {} in {}: already migrated at {when}; nothing written (the table's watermarks are newer than any {FILE_NAME})",
                settings.table, settings.region
            );
            EXIT_FAILED
        }
        Err(e) => {
            eprintln!("offhours: state table {} in {}: {e}", settings.table, settings.region);
            EXIT_FAILED
        }
    }
}

fn hostname() -> String {
    rustix::system::uname().nodename().to_string_lossy().into_owned()
}
