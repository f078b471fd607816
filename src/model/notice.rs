//! What notifications are about and how urgent they are, and which of them a sink wants.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

/// What a notification is about; the names are the config's `events` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoticeKind {
    /// An action left resources failed (or some kind and region unlisted).
    ActionFailed,
    /// The safety brake stopped an action.
    BrakeTripped,
    /// An action could not list anything: AWS unreachable or credentials refused.
    AwsUnreachable,
    /// `offhours reload` or SIGHUP with a file that was not applied.
    ReloadRejected,
    /// A fire older than `max_lateness` was not carried out.
    FireMissed,
    /// The access-key audit found keys to act on.
    AuditFindings,
    /// The billing alarm was created, updated, found foreign, or could not be checked.
    BillingAlarm,
    /// `warn_before` ahead of a stop: what it will stop.
    StopWarning,
    /// A schedule's hold (`offhours hold`) was set, replaced, cleared or ended.
    Hold,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 9] = [
        NoticeKind::ActionFailed,
        NoticeKind::BrakeTripped,
        NoticeKind::AwsUnreachable,
        NoticeKind::ReloadRejected,
        NoticeKind::FireMissed,
        NoticeKind::AuditFindings,
        NoticeKind::BillingAlarm,
        NoticeKind::StopWarning,
        NoticeKind::Hold,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::ActionFailed => "action-failed",
            NoticeKind::BrakeTripped => "brake-tripped",
            NoticeKind::AwsUnreachable => "aws-unreachable",
            NoticeKind::ReloadRejected => "reload-rejected",
            NoticeKind::FireMissed => "fire-missed",
            NoticeKind::AuditFindings => "audit-findings",
            NoticeKind::BillingAlarm => "billing-alarm",
            NoticeKind::StopWarning => "stop-warning",
            NoticeKind::Hold => "hold",
        }
    }

    pub fn parse(name: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent a notice is; sinks can ask for a minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(name: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which notices a sink wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// `None`: every kind.
    pub events: Option<BTreeSet<NoticeKind>>,
    pub min_severity: Severity,
}

impl Default for Filter {
    fn default() -> Self {
        Filter { events: None, min_severity: Severity::Info }
    }
}

impl Filter {
    /// Whether a notice of this kind and severity passes.
    pub fn accepts(&self, kind: NoticeKind, severity: Severity) -> bool {
        severity >= self.min_severity && self.events.as_ref().is_none_or(|e| e.contains(&kind))
    }
}
