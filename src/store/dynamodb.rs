//! The watermarks in the shared DynamoDB table; every write is conditioned on this
//! replica holding the lease with the fence it acted under.

use std::sync::Arc;

use super::keeper::Keeper;
use super::{Backend, BoxFuture, Fence, StoreError};
use crate::store::state::State;
use crate::store::table::StateTable;

pub struct DynamoBackend {
    table: StateTable,
    keeper: Arc<Keeper>,
}

impl DynamoBackend {
    pub fn new(table: StateTable, keeper: Arc<Keeper>) -> Self {
        DynamoBackend { table, keeper }
    }

    fn aws(&self, source: crate::aws::AwsError) -> StoreError {
        StoreError::Aws { table: self.table.table.clone(), source }
    }
}

impl Backend for DynamoBackend {
    fn describe(&self) -> String {
        format!("dynamodb table {} in {}", self.table.table, self.table.region)
    }

    fn load(&self) -> BoxFuture<'_, Result<State, StoreError>> {
        Box::pin(async {
            let handled_until = self.table.watermarks().await.map_err(|e| self.aws(e))?;
            Ok(State { version: 1, handled_until })
        })
    }

    fn save<'a>(&'a self, state: &'a State, keys: &'a [String], fence: Fence) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let marks: Vec<_> = keys.iter().filter_map(|k| state.handled_until.get(k).map(|at| (k.clone(), *at))).collect();
            if marks.is_empty() {
                return Ok(());
            }
            match self.table.write_watermarks(self.keeper.owner(), fence, &marks).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(StoreError::Fenced(format!("this replica no longer holds the lease with fence {fence}"))),
                Err(e) => Err(self.aws(e)),
            }
        })
    }

    fn confirm(&self, fence: Fence) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            if self.keeper.role().leads(tokio::time::Instant::now()) != Some(fence) {
                return Err(StoreError::Fenced(format!("this replica's lease with fence {fence} was not renewed in time")));
            }
            match self.table.read_lease().await.map_err(|e| self.aws(e))? {
                // The read may have taken long: the deadline must still hold after it.
                Some(r) if r.owner == self.keeper.owner() && r.fence == fence && !r.released => {
                    if self.keeper.role().leads(tokio::time::Instant::now()) == Some(fence) {
                        Ok(())
                    } else {
                        Err(StoreError::Fenced(format!("this replica's lease with fence {fence} ran out while it was read")))
                    }
                }
                Some(r) => Err(StoreError::Fenced(format!("the lease is held by {} with fence {}", r.owner, r.fence))),
                None => Err(StoreError::Fenced("the lease record is gone".into())),
            }
        })
    }
}
