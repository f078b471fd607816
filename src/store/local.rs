//! The state file in the state directory: one daemon, which always leads.

use std::path::Path;

use super::{Backend, BoxFuture, Fence, StoreError};
use crate::store::state::{State, StateFile};

pub struct FileBackend {
    file: StateFile,
}

impl FileBackend {
    pub fn in_dir(dir: &Path) -> Self {
        FileBackend { file: StateFile::in_dir(dir) }
    }
}

impl Backend for FileBackend {
    fn describe(&self) -> String {
        self.file.path.display().to_string()
    }

    fn load(&self) -> BoxFuture<'_, Result<State, StoreError>> {
        Box::pin(async { Ok(self.file.load()) })
    }

    fn save<'a>(&'a self, state: &'a State, _keys: &'a [String], _fence: Fence) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { self.file.save(state).map_err(|source| StoreError::Io { path: self.file.path.display().to_string(), source }) })
    }

    fn confirm(&self, _fence: Fence) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
}
