//! IAM access-key audit rules (CIS AWS Foundations, as Prowler checks them): pure
//! functions of the credential report's rows and `now`.
//!
//! - `key-too-old`: an active key created (rotated) more than `max_key_age_days` ago;
//! - `key-unused`: an active key not used for `max_unused_days` or more; a key never
//!   used counts from its creation date (a week-old unused key is not yet a finding);
//! - `root-key`: the root user has an access key, active or not (critical);
//! - `two-active-keys`: a user with both key slots active (informational).

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

/// The credential report's name for the root user.
pub const ROOT_USER: &str = "<root_account>";

/// One access-key slot of a report row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeySlot {
    pub active: bool,
    pub last_rotated: Option<DateTime<Utc>>,
    pub last_used: Option<DateTime<Utc>>,
    pub last_used_region: Option<String>,
    pub last_used_service: Option<String>,
}

/// One user's row of the credential report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub user: String,
    pub arn: String,
    pub user_created: Option<DateTime<Utc>>,
    pub keys: [KeySlot; 2],
}

/// Why the credential report could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("credential report: {0}")]
    Csv(String),
    #[error("credential report: missing column `{0}`")]
    MissingColumn(&'static str),
}

/// Values the report uses for "nothing here".
fn absent(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "" | "n/a" | "no_information" | "not_supported" | "none")
}

fn time(v: &str) -> Option<DateTime<Utc>> {
    if absent(v) {
        return None;
    }
    DateTime::parse_from_rfc3339(v.trim()).ok().map(|t| t.with_timezone(&Utc))
}

fn text(v: &str) -> Option<String> {
    (!absent(v)).then(|| v.trim().to_string())
}

/// Parses the report's CSV: booleans case-insensitively, `N/A`, `no_information` and
/// `not_supported` as absent.
pub fn parse_report(csv_text: &[u8]) -> Result<Vec<ReportRow>, ReportError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(csv_text);
    let headers = reader.headers().map_err(|e| ReportError::Csv(e.to_string()))?.clone();
    let col = |name: &'static str| headers.iter().position(|h| h == name).ok_or(ReportError::MissingColumn(name));
    let user = col("user")?;
    let arn = col("arn")?;
    let created = col("user_creation_time")?;
    let mut slots = Vec::new();
    for n in 1..=2 {
        let name = |suffix: &str| -> &'static str {
            match (n, suffix) {
                (1, "active") => "access_key_1_active",
                (1, "rotated") => "access_key_1_last_rotated",
                (1, "used") => "access_key_1_last_used_date",
                (1, "region") => "access_key_1_last_used_region",
                (1, "service") => "access_key_1_last_used_service",
                (_, "active") => "access_key_2_active",
                (_, "rotated") => "access_key_2_last_rotated",
                (_, "used") => "access_key_2_last_used_date",
                (_, "region") => "access_key_2_last_used_region",
                _ => "access_key_2_last_used_service",
            }
        };
        slots.push([col(name("active"))?, col(name("rotated"))?, col(name("used"))?, col(name("region"))?, col(name("service"))?]);
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ReportError::Csv(e.to_string()))?;
        let get = |i: usize| record.get(i).unwrap_or("");
        let slot = |c: &[usize; 5]| KeySlot {
            active: get(c[0]).trim().eq_ignore_ascii_case("true"),
            last_rotated: time(get(c[1])),
            last_used: time(get(c[2])),
            last_used_region: text(get(c[3])),
            last_used_service: text(get(c[4])),
        };
        rows.push(ReportRow {
            user: get(user).to_string(),
            arn: get(arn).to_string(),
            user_created: time(get(created)),
            keys: [slot(&slots[0]), slot(&slots[1])],
        });
    }
    Ok(rows)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    RootKey,
    KeyTooOld,
    KeyUnused,
    TwoActiveKeys,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::RootKey => "root-key",
            Rule::KeyTooOld => "key-too-old",
            Rule::KeyUnused => "key-unused",
            Rule::TwoActiveKeys => "two-active-keys",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Rule::RootKey => Severity::Critical,
            Rule::KeyTooOld => Severity::High,
            Rule::KeyUnused => Severity::Medium,
            Rule::TwoActiveKeys => Severity::Info,
        }
    }

    /// Whether a key found by this rule is stale (a candidate for deactivation).
    pub fn stale(self) -> bool {
        matches!(self, Rule::KeyTooOld | Rule::KeyUnused)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Info,
}

/// One finding about one key slot (or, for `two-active-keys`, one user).
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub user: String,
    pub arn: String,
    /// 1 or 2.
    pub slot: u8,
    pub rule: Rule,
    pub created: Option<DateTime<Utc>>,
    pub last_used: Option<DateTime<Utc>>,
    pub last_used_service: Option<String>,
    pub last_used_region: Option<String>,
    pub age_days: Option<i64>,
    pub idle_days: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_key_age_days: u32,
    pub max_unused_days: u32,
}

/// Every finding in the report at `now`, ordered by severity, then user, then slot.
pub fn findings(rows: &[ReportRow], now: DateTime<Utc>, limits: Limits) -> Vec<Finding> {
    let mut out = Vec::new();
    for row in rows {
        let root = row.user == ROOT_USER;
        for (i, key) in row.keys.iter().enumerate() {
            // Root may have no access key at all, active or not (CIS); others are
            // judged on their active keys only.
            let present = key.active || (root && key.last_rotated.is_some());
            if !present {
                continue;
            }
            let age = key.last_rotated.map(|t| now - t);
            // Never used: idle since creation (as the CIS audit counts it).
            let idle = key.last_used.or(key.last_rotated).map(|t| now - t);
            let finding = |rule| Finding {
                user: row.user.clone(),
                arn: row.arn.clone(),
                slot: i as u8 + 1,
                rule,
                created: key.last_rotated,
                last_used: key.last_used,
                last_used_service: key.last_used_service.clone(),
                last_used_region: key.last_used_region.clone(),
                age_days: age.map(|d| d.num_days()),
                idle_days: idle.map(|d| d.num_days()),
            };
            if root {
                out.push(finding(Rule::RootKey));
                continue;
            }
            if age.is_some_and(|a| a > TimeDelta::days(i64::from(limits.max_key_age_days))) {
                out.push(finding(Rule::KeyTooOld));
            }
            if idle.is_some_and(|d| d >= TimeDelta::days(i64::from(limits.max_unused_days))) {
                out.push(finding(Rule::KeyUnused));
            }
        }
        if !root && row.keys.iter().all(|k| k.active) {
            let k = &row.keys[1];
            out.push(Finding {
                user: row.user.clone(),
                arn: row.arn.clone(),
                slot: 2,
                rule: Rule::TwoActiveKeys,
                created: k.last_rotated,
                last_used: k.last_used,
                last_used_service: k.last_used_service.clone(),
                last_used_region: k.last_used_region.clone(),
                age_days: k.last_rotated.map(|t| (now - t).num_days()),
                idle_days: k.last_used.or(k.last_rotated).map(|t| (now - t).num_days()),
            });
        }
    }
    out.sort_by(|a, b| (a.rule.severity(), &a.user, a.slot, a.rule).cmp(&(b.rule.severity(), &b.user, b.slot, b.rule)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const NOW: &str = "2026-11-23T12:00:00+00:00";

    /// A report with one user whose key 1 is `(active, created, last used)`; key 2 as given.
    fn report(user: &str, k1: (&str, &str, &str), k2: (&str, &str, &str)) -> Vec<u8> {
        format!(
            "{HEADER}\n{user},arn:aws:iam::123456789012:user/{user},2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,{},{},{},eu-west-1,s3,{},{},{},N/A,N/A,false,N/A,false,N/A\n",
            k1.0, k1.1, k1.2, k2.0, k2.1, k2.2
        )
        .into_bytes()
    }

    const OFF: (&str, &str, &str) = ("false", "N/A", "N/A");

    #[track_caller]
    fn check(k1: (&str, &str, &str), k2: (&str, &str, &str), expect: &[&str]) {
        check_user("alice", k1, k2, expect)
    }

    #[track_caller]
    fn check_user(user: &str, k1: (&str, &str, &str), k2: (&str, &str, &str), expect: &[&str]) {
        let rows = parse_report(&report(user, k1, k2)).unwrap();
        let got: Vec<String> = findings(&rows, t(NOW), Limits { max_key_age_days: 90, max_unused_days: 45 })
            .iter()
            .map(|f| format!("{} {} age={:?} idle={:?}", f.rule.as_str(), f.slot, f.age_days, f.idle_days))
            .collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn rules_at_their_boundaries() {
        let used_today = "2026-11-23T08:00:00+00:00";
        // Exactly 90 days old: fine; a second more: too old.
        check(("true", "2026-08-25T12:00:00+00:00", used_today), OFF, &[]);
        check(("true", "2026-08-25T11:59:59+00:00", used_today), OFF, &["key-too-old 1 age=Some(90) idle=Some(0)"]);
        // Unused for 44 days 23:59:59: fine; exactly 45 days: unused.
        check(("true", "2026-01-01T00:00:00+00:00", "2026-10-09T12:00:01+00:00"), OFF, &["key-too-old 1 age=Some(326) idle=Some(44)"]);
        check(("true", "2026-10-01T00:00:00+00:00", "2026-10-09T12:00:00+00:00"), OFF, &["key-unused 1 age=Some(53) idle=Some(45)"]);
        // Never used: counts from creation. A week-old key is no finding; a 50-day-old one is.
        check(("true", "2026-11-16T12:00:00+00:00", "N/A"), OFF, &[]);
        check(("true", "2026-10-04T12:00:00+00:00", "no_information"), OFF, &["key-unused 1 age=Some(50) idle=Some(50)"]);
        // Old and unused: both.
        check(
            ("true", "2025-01-01T00:00:00+00:00", "N/A"),
            OFF,
            &["key-too-old 1 age=Some(691) idle=Some(691)", "key-unused 1 age=Some(691) idle=Some(691)"],
        );
        // Inactive keys are ignored however old.
        check(("false", "2020-01-01T00:00:00+00:00", "N/A"), ("FALSE", "2020-01-01T00:00:00+00:00", "N/A"), &[]);
    }

    #[test]
    fn both_slots_and_two_active_keys() {
        let fresh = ("TRUE", "2026-11-20T00:00:00+00:00", "2026-11-22T00:00:00+00:00");
        check(
            fresh,
            ("True", "2026-01-01T00:00:00+00:00", "2026-11-22T00:00:00+00:00"),
            &["key-too-old 2 age=Some(326) idle=Some(1)", "two-active-keys 2 age=Some(326) idle=Some(1)"],
        );
        check(fresh, fresh, &["two-active-keys 2 age=Some(3) idle=Some(1)"]);
    }

    #[test]
    fn root_keys_are_critical() {
        check_user(ROOT_USER, ("true", "2026-11-20T00:00:00+00:00", "N/A"), OFF, &["root-key 1 age=Some(3) idle=Some(3)"]);
        check_user(ROOT_USER, OFF, ("true", "2026-11-20T00:00:00+00:00", "N/A"), &["root-key 2 age=Some(3) idle=Some(3)"]);
        // Present but inactive: still a root key.
        check_user(ROOT_USER, ("false", "2026-11-20T00:00:00+00:00", "N/A"), OFF, &["root-key 1 age=Some(3) idle=Some(3)"]);
        check_user(ROOT_USER, OFF, OFF, &[]);
    }

    #[test]
    fn unknown_values_are_absent() {
        let rows = parse_report(&report("bob", ("true", "not_supported", "N/A"), OFF)).unwrap();
        assert_eq!(rows[0].keys[0].last_rotated, None);
        assert_eq!(rows[0].keys[0].last_used_region.as_deref(), Some("eu-west-1"));
        // No creation date known: no age finding can be made.
        assert!(findings(&rows, t(NOW), Limits { max_key_age_days: 90, max_unused_days: 45 }).is_empty());
        assert_eq!(parse_report(b"user,arn\nx,y\n"), Err(ReportError::MissingColumn("user_creation_time")));
    }
}
