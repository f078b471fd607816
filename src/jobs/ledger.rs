//! The ledger an action outside the daemon records to (`offhours apply`): the daemon's
//! own, so that a stop made by hand or by a CI job counts in `report`.

use std::sync::Arc;

use crate::aws::Aws;
use crate::config::{Config, StateSettings};
use crate::store::Recorder;
use crate::store::shared_ledger::TableLedger;
use crate::store::table::StateTable;

/// The file's ledger, listening to the event stream: the shared table's, or the state
/// directory's file; `None` when the state directory does not exist (no daemon keeps a
/// ledger there).
pub fn open(config: &Config, aws: &Aws, state_dir: &std::path::Path) -> Result<Option<Arc<Recorder>>, String> {
    let table = match &config.state {
        StateSettings::DynamoDb(s) => {
            let table = StateTable::new(aws.dynamodb_in(&s.region), &s.table, &s.region);
            Some(TableLedger::new(table, config.savings.retention))
        }
        StateSettings::File if !state_dir.is_dir() => return Ok(None),
        StateSettings::File => None,
    };
    let recorder = crate::store::open_recorder(table, state_dir, config.savings.retention, Arc::new(|_| {})).map_err(|e| e.to_string())?;
    let recorder = Arc::new(recorder);
    crate::events::subscribe(recorder.clone());
    Ok(Some(recorder))
}
