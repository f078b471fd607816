//! IAM access-key audit rules (CIS AWS Foundations, as Prowler checks them): pure
//! functions of a user's key facts and `now`, whichever source the facts came from.
//!
//! - `key-too-old`: an active key created (rotated) more than `max_key_age_days` ago;
//! - `key-unused`: an active key not used for `max_unused_days` or more; a key never
//!   used counts from its creation date (a week-old unused key is not yet a finding);
//! - `root-key`: the root user has an access key, active or not (critical);
//! - `two-active-keys`: a user with two active keys (informational; names the newer).
//!
//! The credential report names key *slots*, not key ids. [`match_slots`] ties each slot
//! to the one listed key created in the same second, or says why it cannot (keys made
//! in the same second, a key made or deleted since the report); such a user's keys are
//! then judged from ListAccessKeys and GetAccessKeyLastUsed ([`direct_findings`]) by
//! the same rules (one implementation, `judge_user`): no finding names a key by a guess.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::aws::iam::{AccessKey, LastUsed};

/// The credential report's name for the root user.
pub const ROOT_USER: &str = "<root_account>";

/// What the rules know of one key: a slot of a report row, or a listed key with its
/// last use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyFacts {
    pub active: bool,
    /// When the key was made: the report's `last_rotated`, ListAccessKeys' `CreateDate`.
    pub created: Option<DateTime<Utc>>,
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
    /// Slots 1 and 2.
    pub keys: [KeyFacts; 2],
}

impl AccessKey {
    /// The key with what the rules need to judge it.
    pub fn with_last_used(&self, used: LastUsed) -> KnownKey {
        KnownKey {
            id: self.id.clone(),
            facts: KeyFacts {
                active: self.active,
                created: self.created,
                last_used: used.date,
                last_used_region: used.region,
                last_used_service: used.service,
            },
        }
    }
}

impl LastUsed {
    /// IAM answers "N/A" for the service and region of a key never used.
    pub fn new(date: Option<DateTime<Utc>>, service: Option<&str>, region: Option<&str>) -> Self {
        LastUsed { date, service: service.and_then(text), region: region.and_then(text) }
    }
}

/// A key known by its id, with its facts: what the direct evaluation judges.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownKey {
    pub id: String,
    pub facts: KeyFacts,
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
        let slot = |c: &[usize; 5]| KeyFacts {
            active: get(c[0]).trim().eq_ignore_ascii_case("true"),
            created: time(get(c[1])),
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

/// Where a finding's facts came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The credential report's row, its slots tied to key ids by [`match_slots`].
    CredentialReport,
    /// ListAccessKeys and GetAccessKeyLastUsed, key by key.
    AccessKeys,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::CredentialReport => "credential-report",
            Source::AccessKeys => "access-keys",
        }
    }
}

/// One finding about one key (or, for `two-active-keys`, one user, naming the newer key).
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub user: String,
    pub arn: String,
    /// The report's slot (1 or 2); `None` when the keys were judged one by one.
    pub slot: Option<u8>,
    /// The key's id, only ever as ListAccessKeys names it: `None` for a report finding
    /// not yet tied to its key (see [`name_keys`]) and for root's keys (not listable).
    pub access_key_id: Option<String>,
    pub source: Source,
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

/// One key to judge: its report slot or its id (whichever the source knows), its facts.
struct Subject<'a> {
    slot: Option<u8>,
    id: Option<&'a str>,
    facts: &'a KeyFacts,
}

/// The rules over one user's keys: the one implementation both sources go through.
fn judge_user(user: &str, arn: &str, source: Source, keys: &[Subject<'_>], now: DateTime<Utc>, limits: Limits, out: &mut Vec<Finding>) {
    let root = user == ROOT_USER;
    let finding = |key: &Subject<'_>, rule| {
        let facts = key.facts;
        Finding {
            user: user.to_string(),
            arn: arn.to_string(),
            slot: key.slot,
            access_key_id: key.id.map(str::to_string),
            source,
            rule,
            created: facts.created,
            last_used: facts.last_used,
            last_used_service: facts.last_used_service.clone(),
            last_used_region: facts.last_used_region.clone(),
            age_days: facts.created.map(|t| (now - t).num_days()),
            // Never used: idle since creation (as the CIS audit counts it).
            idle_days: facts.last_used.or(facts.created).map(|t| (now - t).num_days()),
        }
    };
    for key in keys {
        let facts = key.facts;
        // Root may have no access key at all, active or not (CIS); others are
        // judged on their active keys only.
        if !(facts.active || (root && facts.created.is_some())) {
            continue;
        }
        if root {
            out.push(finding(key, Rule::RootKey));
            continue;
        }
        let age = facts.created.map(|t| now - t);
        let idle = facts.last_used.or(facts.created).map(|t| now - t);
        if age.is_some_and(|a| a > TimeDelta::days(i64::from(limits.max_key_age_days))) {
            out.push(finding(key, Rule::KeyTooOld));
        }
        if idle.is_some_and(|d| d >= TimeDelta::days(i64::from(limits.max_unused_days))) {
            out.push(finding(key, Rule::KeyUnused));
        }
    }
    if !root {
        // The newer of the active keys (the later one when equal or unknown): the one a
        // rotation left behind is the older.
        let active: Vec<(usize, &Subject<'_>)> = keys.iter().enumerate().filter(|(_, k)| k.facts.active).collect();
        if active.len() >= 2
            && let Some((_, newer)) = active.iter().max_by_key(|(i, k)| (k.facts.created, *i))
        {
            out.push(finding(newer, Rule::TwoActiveKeys));
        }
    }
}

/// Orders findings by severity, then user, then slot or key id.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.rule.severity(), &a.user, a.slot, &a.access_key_id, a.rule).cmp(&(b.rule.severity(), &b.user, b.slot, &b.access_key_id, b.rule))
    });
}

/// Every finding in the report at `now`, by slot (no key ids yet), ordered by [`sort`].
pub fn findings(rows: &[ReportRow], now: DateTime<Utc>, limits: Limits) -> Vec<Finding> {
    let mut out = Vec::new();
    for row in rows {
        let keys = [1u8, 2].map(|slot| Subject { slot: Some(slot), id: None, facts: &row.keys[usize::from(slot) - 1] });
        judge_user(&row.user, &row.arn, Source::CredentialReport, &keys, now, limits, &mut out);
    }
    sort(&mut out);
    out
}

/// One user's findings from the keys themselves (ListAccessKeys with each key's last
/// use), each naming its key id; no slot.
pub fn direct_findings(user: &str, arn: &str, keys: &[KnownKey], now: DateTime<Utc>, limits: Limits) -> Vec<Finding> {
    let subjects: Vec<Subject<'_>> = keys.iter().map(|k| Subject { slot: None, id: Some(&k.id), facts: &k.facts }).collect();
    let mut out = Vec::new();
    judge_user(user, arn, Source::AccessKeys, &subjects, now, limits, &mut out);
    sort(&mut out);
    out
}

/// Whether a report row's slots can be tied to the listed keys, one to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotMatch {
    /// The key id in each slot (`None`: no key there).
    Matched([Option<String>; 2]),
    /// The report cannot say which key is which: judge the keys directly.
    Ambiguous(Ambiguity),
}

/// Why a report row's slots cannot be tied to key ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ambiguity {
    /// Two keys (or both slots) have the same creation second.
    SameSecond,
    /// A slot or a listed key has no creation date.
    NoCreationDate,
    /// A slot's key is not listed any more (deleted, or replaced, since the report).
    NotListed,
    /// A listed key is in no slot (created since the report).
    NotInReport,
    /// A key's status changed since the report: its findings would be out of date (a
    /// key switched off an hour ago would be "deactivated" again, spending the cap).
    StatusChanged,
}

impl fmt::Display for Ambiguity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ambiguity::SameSecond => "two keys were created in the same second",
            Ambiguity::NoCreationDate => "a key has no creation date",
            Ambiguity::NotListed => "a key in the credential report is no longer listed",
            Ambiguity::NotInReport => "a listed key is not in the credential report",
            Ambiguity::StatusChanged => "a key's status changed since the credential report",
        })
    }
}

/// Ties each present slot of `row` to the one listed key created in the same second
/// (the report has whole seconds), when every slot finds exactly one, no two slots
/// find the same key, and every listed key is in a slot with the status the report
/// gives it. Anything else is ambiguous: better no mapping than a guessed one.
pub fn match_slots(row: &ReportRow, keys: &[AccessKey]) -> SlotMatch {
    use Ambiguity::*;
    if keys.iter().any(|k| k.created.is_none()) {
        return SlotMatch::Ambiguous(NoCreationDate);
    }
    let mut ids: [Option<String>; 2] = [None, None];
    for (slot, facts) in row.keys.iter().enumerate() {
        let Some(created) = facts.created else {
            // An inactive slot without a date is an empty slot.
            if facts.active {
                return SlotMatch::Ambiguous(NoCreationDate);
            }
            continue;
        };
        let mut same = keys.iter().filter(|k| k.created.map(|c| c.timestamp()) == Some(created.timestamp()));
        match (same.next(), same.next()) {
            (None, _) => return SlotMatch::Ambiguous(NotListed),
            (Some(_), Some(_)) => return SlotMatch::Ambiguous(SameSecond),
            (Some(key), None) if key.active != facts.active => return SlotMatch::Ambiguous(StatusChanged),
            (Some(key), None) => ids[slot] = Some(key.id.clone()),
        }
    }
    if ids[0].is_some() && ids[0] == ids[1] {
        // Both slots say the same second and only one such key is left.
        return SlotMatch::Ambiguous(SameSecond);
    }
    if keys.len() != ids.iter().flatten().count() {
        return SlotMatch::Ambiguous(NotInReport);
    }
    SlotMatch::Matched(ids)
}

/// Names the key of each report finding by its slot, as [`match_slots`] tied them.
pub fn name_keys(findings: &mut [Finding], ids: &[Option<String>; 2]) {
    for f in findings {
        if let Some(slot) = f.slot {
            f.access_key_id = ids.get(usize::from(slot).wrapping_sub(1)).cloned().flatten();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// `None` for "".
    fn maybe_t(s: &str) -> Option<DateTime<Utc>> {
        (!s.is_empty()).then(|| t(s))
    }

    const NOW: &str = "2026-11-23T12:00:00+00:00";
    const LIMITS: Limits = Limits { max_key_age_days: 90, max_unused_days: 45 };

    /// A report with one user whose key 1 is `(active, created, last used)`; key 2 as given.
    fn report(user: &str, k1: (&str, &str, &str), k2: (&str, &str, &str)) -> Vec<u8> {
        format!(
            "{HEADER}\n{user},arn:aws:iam::123456789012:user/{user},2020-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,{},{},{},eu-west-1,s3,{},{},{},N/A,N/A,false,N/A,false,N/A\n",
            k1.0, k1.1, k1.2, k2.0, k2.1, k2.2
        )
        .into_bytes()
    }

    const OFF: (&str, &str, &str) = ("false", "N/A", "N/A");

    /// A finding as one line: rule, slot (or the key id without its `AKIA`), ages.
    fn line(f: &Finding) -> String {
        let key = match (f.slot, &f.access_key_id) {
            (Some(slot), _) => slot.to_string(),
            (None, Some(id)) => id.trim_start_matches("AKIA").to_string(),
            (None, None) => "-".to_string(),
        };
        format!("{} {} age={:?} idle={:?}", f.rule.as_str(), key, f.age_days, f.idle_days)
    }

    #[track_caller]
    fn check(k1: (&str, &str, &str), k2: (&str, &str, &str), expect: &[&str]) {
        check_user("alice", k1, k2, expect)
    }

    /// The report's findings are `expect`; and for a user (root's keys cannot be
    /// listed), the same facts judged key by key (slot n as key `AKIAn`) give the same.
    #[track_caller]
    fn check_user(user: &str, k1: (&str, &str, &str), k2: (&str, &str, &str), expect: &[&str]) {
        let rows = parse_report(&report(user, k1, k2)).unwrap();
        let got: Vec<String> = findings(&rows, t(NOW), LIMITS).iter().map(line).collect();
        assert_eq!(got, expect, "credential report");
        if user == ROOT_USER {
            return;
        }
        let keys: Vec<KnownKey> = (0..2)
            .filter(|&i| rows[0].keys[i].active || rows[0].keys[i].created.is_some())
            .map(|i| KnownKey { id: format!("AKIA{}", i + 1), facts: rows[0].keys[i].clone() })
            .collect();
        let direct = direct_findings(user, &rows[0].arn, &keys, t(NOW), LIMITS);
        assert!(direct.iter().all(|f| f.slot.is_none() && f.access_key_id.is_some() && f.source == Source::AccessKeys), "{direct:?}");
        assert_eq!(direct.iter().map(line).collect::<Vec<_>>(), expect, "access keys");
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
        // `two-active-keys` names the newer key, here slot 1.
        check(
            fresh,
            ("True", "2026-01-01T00:00:00+00:00", "2026-11-22T00:00:00+00:00"),
            &["key-too-old 2 age=Some(326) idle=Some(1)", "two-active-keys 1 age=Some(3) idle=Some(1)"],
        );
        // Made together: the later one.
        check(fresh, fresh, &["two-active-keys 2 age=Some(3) idle=Some(1)"]);
        // One of them inactive: no finding.
        check(fresh, ("false", "2026-11-20T00:00:00+00:00", "N/A"), &[]);
    }

    #[test]
    fn root_keys_are_critical() {
        check_user(ROOT_USER, ("true", "2026-11-20T00:00:00+00:00", "N/A"), OFF, &["root-key 1 age=Some(3) idle=Some(3)"]);
        check_user(ROOT_USER, OFF, ("true", "2026-11-20T00:00:00+00:00", "N/A"), &["root-key 2 age=Some(3) idle=Some(3)"]);
        // Present but inactive: still a root key.
        check_user(ROOT_USER, ("false", "2026-11-20T00:00:00+00:00", "N/A"), OFF, &["root-key 1 age=Some(3) idle=Some(3)"]);
        check_user(ROOT_USER, OFF, OFF, &[]);
        // Two active root keys are two root-key findings, not a two-active-keys one.
        let on = ("true", "2026-11-20T00:00:00+00:00", "N/A");
        check_user(ROOT_USER, on, on, &["root-key 1 age=Some(3) idle=Some(3)", "root-key 2 age=Some(3) idle=Some(3)"]);
    }

    #[test]
    fn unknown_values_are_absent() {
        let rows = parse_report(&report("bob", ("true", "not_supported", "N/A"), OFF)).unwrap();
        assert_eq!(rows[0].keys[0].created, None);
        assert_eq!(rows[0].keys[0].last_used_region.as_deref(), Some("eu-west-1"));
        // No creation date known: no age finding can be made.
        assert!(findings(&rows, t(NOW), LIMITS).is_empty());
        assert_eq!(parse_report(b"user,arn\nx,y\n"), Err(ReportError::MissingColumn("user_creation_time")));
        // GetAccessKeyLastUsed of a key never used.
        assert_eq!(LastUsed::new(None, Some("N/A"), Some("N/A")), LastUsed::default());
        let used = LastUsed::new(Some(t(NOW)), Some("sts"), Some("us-east-1"));
        assert_eq!((used.service.as_deref(), used.region.as_deref()), (Some("sts"), Some("us-east-1")));
    }

    // Slot matching: `(active, created)` per slot ("" = no date), listed keys as
    // `(id, created, active)`; the answer as "id-in-slot-1 id-in-slot-2" or the reason.

    const T1: &str = "2026-08-15T22:39:08+00:00";
    const T1_LATER_IN_THE_SECOND: &str = "2026-08-15T22:39:08.067+00:00";
    const T2: &str = "2026-09-01T00:00:00+00:00";
    const T3: &str = "2026-11-20T00:00:00+00:00";
    const EMPTY: (bool, &str) = (false, "");

    fn listed(keys: &[(&str, &str, bool)]) -> Vec<AccessKey> {
        keys.iter().map(|(id, created, active)| AccessKey { id: id.to_string(), created: maybe_t(created), active: *active }).collect()
    }

    #[track_caller]
    fn check_match(k1: (bool, &str), k2: (bool, &str), keys: &[(&str, &str, bool)], expect: &str) {
        let slot = |(active, created): (bool, &str)| KeyFacts { active, created: maybe_t(created), ..KeyFacts::default() };
        let row = ReportRow {
            user: "alice".into(),
            arn: "arn:aws:iam::123456789012:user/alice".into(),
            user_created: None,
            keys: [slot(k1), slot(k2)],
        };
        let got = match match_slots(&row, &listed(keys)) {
            SlotMatch::Matched([a, b]) => format!("{} {}", a.as_deref().unwrap_or("-"), b.as_deref().unwrap_or("-")),
            SlotMatch::Ambiguous(why) => format!("ambiguous: {why:?}"),
        };
        assert_eq!(got, expect);
    }

    #[test]
    fn slots_match_keys_by_creation_second() {
        // One key per slot, by creation second, in whatever order they are listed;
        // the report has whole seconds, ListAccessKeys may have fractions.
        check_match((true, T1), (true, T2), &[("A", T1, true), ("B", T2, true)], "A B");
        check_match((true, T1), (true, T2), &[("B", T2, true), ("A", T1_LATER_IN_THE_SECOND, true)], "A B");
        check_match((true, T2), (true, T1), &[("A", T1, true), ("B", T2, true)], "B A");
        check_match((true, T1), EMPTY, &[("A", T1, true)], "A -");
        check_match(EMPTY, (true, T1), &[("A", T1, true)], "- A");
        check_match((false, T1), (true, T2), &[("A", T1, false), ("B", T2, true)], "A B");
        check_match(EMPTY, EMPTY, &[], "- -");
    }

    #[test]
    fn slots_that_cannot_be_told_apart_are_ambiguous() {
        // Two keys made in the same second: either could be either slot.
        check_match((true, T1), (true, T1), &[("A", T1, true), ("B", T1_LATER_IN_THE_SECOND, true)], "ambiguous: SameSecond");
        check_match((true, T1), (false, T1), &[("A", T1, true), ("B", T1, false)], "ambiguous: SameSecond");
        // ... and one of them deleted since: both slots would name the one left.
        check_match((true, T1), (true, T1), &[("A", T1, true)], "ambiguous: SameSecond");
        // Slot 2's key deleted since the report; slot 1's key replaced by a new one.
        check_match((true, T1), (true, T2), &[("A", T1, true)], "ambiguous: NotListed");
        check_match((true, T1), EMPTY, &[("C", T3, true)], "ambiguous: NotListed");
        // A key created since the report: the report says nothing about it.
        check_match((true, T1), EMPTY, &[("A", T1, true), ("C", T3, true)], "ambiguous: NotInReport");
        check_match(EMPTY, EMPTY, &[("C", T3, true)], "ambiguous: NotInReport");
        // No creation date on either side.
        check_match((true, ""), EMPTY, &[("A", T1, true)], "ambiguous: NoCreationDate");
        check_match((true, T1), EMPTY, &[("A", "", true)], "ambiguous: NoCreationDate");
        // Deactivated since the report: its facts are out of date.
        check_match((true, T1), (true, T2), &[("A", T1, true), ("B", T2, false)], "ambiguous: StatusChanged");
    }

    #[test]
    fn matched_report_findings_name_their_keys() {
        let rows = parse_report(&report(
            "alice",
            ("true", "2026-01-01T00:00:00+00:00", "N/A"),
            ("true", "2026-11-20T00:00:00+00:00", "2026-11-22T00:00:00+00:00"),
        ))
        .unwrap();
        let keys = listed(&[("AKIAOLD", "2026-01-01T00:00:00.5+00:00", true), ("AKIANEW", "2026-11-20T00:00:00+00:00", true)]);
        let SlotMatch::Matched(ids) = match_slots(&rows[0], &keys) else { panic!("no match") };
        let mut found = findings(&rows, t(NOW), LIMITS);
        name_keys(&mut found, &ids);
        let got: Vec<String> =
            found.iter().map(|f| format!("{} {:?} {:?} {:?}", f.rule.as_str(), f.slot, f.access_key_id.as_deref(), f.source)).collect();
        assert_eq!(
            got,
            [
                "key-too-old Some(1) Some(\"AKIAOLD\") CredentialReport",
                "key-unused Some(1) Some(\"AKIAOLD\") CredentialReport",
                "two-active-keys Some(2) Some(\"AKIANEW\") CredentialReport",
            ]
        );
    }

    #[test]
    fn keys_judged_directly_get_findings_of_their_own() {
        let key = |id: &str, created: &str, active: bool, used: Option<&str>| {
            AccessKey { id: id.into(), created: maybe_t(created), active }.with_last_used(LastUsed::new(
                used.map(t),
                Some(if used.is_some() { "sts" } else { "N/A" }),
                Some(if used.is_some() { "us-east-1" } else { "N/A" }),
            ))
        };
        let check_direct = |keys: &[KnownKey], limits: Limits, expect: &[&str]| {
            let got: Vec<String> = direct_findings("alice", "arn:aws:iam::123456789012:user/alice", keys, t(NOW), limits)
                .iter()
                .map(|f| format!("{} {}", line(f), f.last_used_service.as_deref().unwrap_or("-")))
                .collect();
            assert_eq!(got, expect);
        };
        // The same-second pair, 100 days old: each key its own findings; only A is unused.
        let created = "2026-08-15T11:00:00+00:00";
        let pair =
            [key("AKIAA", created, true, None), key("AKIAB", "2026-08-15T11:00:00.011+00:00", true, Some("2026-11-23T08:00:00+00:00"))];
        check_direct(
            &pair,
            LIMITS,
            &[
                "key-too-old A age=Some(100) idle=Some(100) -",
                "key-too-old B age=Some(100) idle=Some(0) sts",
                "key-unused A age=Some(100) idle=Some(100) -",
                "two-active-keys B age=Some(100) idle=Some(0) sts",
            ],
        );
        // Age allowed: only the unused one is stale.
        let lenient = Limits { max_key_age_days: 365, max_unused_days: 45 };
        check_direct(&pair, lenient, &["key-unused A age=Some(100) idle=Some(100) -", "two-active-keys B age=Some(100) idle=Some(0) sts"]);
        // An inactive key is not judged; no creation date: no age, no idleness.
        check_direct(&[key("AKIAA", created, false, None), key("AKIAB", "", true, None)], LIMITS, &[]);
    }
}
