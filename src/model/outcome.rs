//! How an action came out: per resource, per kind and region that could not be listed,
//! per account that could not be acted in.

use std::fmt;

use serde::Serialize;

use super::{Deployment, Kind};

/// How one resource came out of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Started,
    Stopped,
    Hibernated,
    Unchanged,
    Skipped,
    /// Not acted on: an earlier group of the schedule's `order` failed.
    Held,
    Failed,
    WouldStart,
    WouldStop,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Started => "started",
            Outcome::Stopped => "stopped",
            Outcome::Hibernated => "hibernated",
            Outcome::Unchanged => "unchanged",
            Outcome::Skipped => "skipped",
            Outcome::Held => "held",
            Outcome::Failed => "failed",
            Outcome::WouldStart => "would-start",
            Outcome::WouldStop => "would-stop",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One resource's line in the report.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceResult {
    /// The account's id (empty only when the own account's id could not be read).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    pub kind: Kind,
    /// Instance id, DB identifier, group name or service ARN.
    pub id: String,
    /// The instance type or DB instance class.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// A database's engine (RDS's name: `postgres`, `aurora-mysql`...), when listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// A database's deployment (`Single-AZ`, `Multi-AZ`), when listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Deployment>,
    pub region: String,
    pub name: Option<String>,
    pub before: String,
    pub after: Option<String>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A kind that could not be listed in a region: reported, and the rest goes on.
#[derive(Debug, Clone, Serialize)]
pub struct ListFailure {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    pub kind: Kind,
    pub region: String,
    pub error: String,
}

/// An account an action could not act in.
#[derive(Debug, Clone, Serialize)]
pub struct AccountFailure {
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    pub error: String,
}
