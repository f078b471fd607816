//! An account as every account-scoped outcome names it.

use std::fmt;

use serde::Serialize;

/// An account as the rest of offhours names it: in logs, JSON results and `plan` rows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AccountRef {
    /// The 12-digit account id.
    pub id: String,
    /// The name from the file (`[[accounts]] name`) or from Organizations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl fmt::Display for AccountRef {
    /// `name (id)`, or the id alone.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} ({})", self.id),
            None => f.write_str(&self.id),
        }
    }
}
