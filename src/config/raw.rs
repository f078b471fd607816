//! The file as written: serde structs with spans, before any meaning is checked.
//!
//! serde stops at the first unknown field or wrong type. To report every one at once,
//! [`parse`] deserializes, and on an error removes the offending key from the parsed
//! tree and tries again, collecting one error per round.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub timezone: Option<Spanned<String>>,
    pub regions: Option<Spanned<Vec<Spanned<String>>>>,
    pub tag_key: Option<Spanned<String>>,
    pub skip_tag: Option<Spanned<String>>,
    pub max_instances_per_action: Option<Spanned<i64>>,
    pub max_instances_per_action_total: Option<Spanned<i64>>,
    pub dry_run: Option<bool>,
    pub max_lateness: Option<Spanned<String>>,
    pub verify_timeout: Option<Spanned<String>>,
    pub db_verify_timeout: Option<Spanned<String>>,
    pub kinds: Option<Spanned<Vec<Spanned<String>>>>,
    pub capacity_retries: Option<Spanned<i64>>,
    pub capacity_retry_delay: Option<Spanned<String>>,
    pub aws: Option<RawAws>,
    #[serde(default)]
    pub schedules: BTreeMap<Spanned<String>, Spanned<RawSchedule>>,
    pub iam_audit: Option<Spanned<RawIamAudit>>,
    pub http: Option<Spanned<RawHttp>>,
    pub billing_alarm: Option<Spanned<RawBillingAlarm>>,
    pub warn_before: Option<Spanned<String>>,
    pub enforce: Option<Spanned<String>>,
    pub enforce_grace: Option<Spanned<String>>,
    pub notify: Option<Spanned<RawNotify>>,
    #[serde(default)]
    pub accounts: Vec<Spanned<RawAccount>>,
    pub organization: Option<Spanned<RawOrganization>>,
    pub savings: Option<Spanned<RawSavings>>,
    pub suggest: Option<Spanned<RawSuggest>>,
    pub state: Option<Spanned<RawState>>,
    #[serde(default)]
    pub calendars: BTreeMap<Spanned<String>, Spanned<RawCalendar>>,
    pub tag_schedules: Option<Spanned<RawTagSchedules>>,
}

/// `[tag_schedules]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTagSchedules {
    pub enabled: Option<bool>,
    pub kinds: Option<Spanned<Vec<Spanned<String>>>>,
    pub refresh: Option<Spanned<String>>,
    pub max_resources: Option<Spanned<i64>>,
}

/// One `[calendars.NAME]` table: an ICS file or feed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalendar {
    pub file: Option<Spanned<String>>,
    pub url: Option<Spanned<String>>,
    pub url_env: Option<Spanned<String>>,
    pub url_file: Option<Spanned<String>>,
    pub refresh: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    pub backend: Option<Spanned<String>>,
    pub table: Option<Spanned<String>>,
    pub region: Option<Spanned<String>>,
    pub lease: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSavings {
    pub retention: Option<Spanned<String>>,
    pub currency: Option<Spanned<String>>,
    pub price_refresh: Option<Spanned<String>>,
    #[serde(default)]
    pub prices: BTreeMap<String, Spanned<Number>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSuggest {
    pub cpu_percent: Option<Spanned<Number>>,
    pub network_mb: Option<Spanned<Number>>,
    pub connections: Option<Spanned<i64>>,
    pub margin: Option<Spanned<String>>,
    pub min_weeks: Option<Spanned<i64>>,
    pub days: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    pub role_arn: Option<Spanned<String>>,
    pub external_id: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrganization {
    pub role_name: Option<Spanned<String>>,
    pub external_id: Option<Spanned<String>>,
    pub ous: Option<Vec<Spanned<String>>>,
    pub exclude: Option<Vec<Spanned<String>>>,
    pub refresh: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotify {
    pub sns_topic_arn: Option<Spanned<String>>,
    pub events: Option<Spanned<Vec<Spanned<String>>>>,
    pub min_severity: Option<Spanned<String>>,
    #[serde(default)]
    pub webhooks: Vec<Spanned<RawWebhook>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    pub name: Option<Spanned<String>>,
    pub format: Option<Spanned<String>>,
    pub url: Option<Spanned<String>>,
    pub url_env: Option<Spanned<String>>,
    pub url_file: Option<Spanned<String>>,
    pub events: Option<Spanned<Vec<Spanned<String>>>>,
    pub min_severity: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAws {
    pub profile: Option<Spanned<String>>,
    pub role_arn: Option<Spanned<String>>,
    pub external_id: Option<Spanned<String>>,
    pub session_name: Option<Spanned<String>>,
    pub operation_timeout: Option<Spanned<String>>,
    pub attempt_timeout: Option<Spanned<String>>,
    pub max_attempts: Option<Spanned<i64>>,
    pub max_concurrent_calls: Option<Spanned<i64>>,
    pub max_calls_in_flight: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    pub start: Option<Spanned<String>>,
    pub stop: Option<Spanned<String>>,
    pub timezone: Option<Spanned<String>>,
    pub skip_dates: Option<Vec<Spanned<DateValue>>>,
    pub hibernate: Option<bool>,
    pub kinds: Option<Spanned<Vec<Spanned<String>>>>,
    pub by_name: Option<bool>,
    pub tags: Option<Spanned<BTreeMap<String, String>>>,
    pub description: Option<String>,
    pub warn_before: Option<Spanned<String>>,
    pub enforce: Option<Spanned<String>>,
    pub enforce_grace: Option<Spanned<String>>,
    pub accounts: Option<Spanned<Vec<Spanned<String>>>>,
    pub order: Option<Spanned<Vec<Spanned<KindNames>>>>,
    pub order_on_failure: Option<Spanned<String>>,
    pub exceptions: Option<Vec<Spanned<RawException>>>,
    pub skip_calendars: Option<Spanned<Vec<Spanned<String>>>>,
    pub mute_alarms: Option<Spanned<bool>>,
    pub change_calendar: Option<Spanned<String>>,
    pub change_calendar_closed: Option<Spanned<String>>,
}

/// One `[[schedules.NAME.exceptions]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawException {
    pub from: Spanned<DateValue>,
    pub to: Spanned<DateValue>,
    pub keep: Spanned<String>,
    pub reason: Option<String>,
}

/// A list of kind names, each with its place in the file.
pub type KindNames = Vec<Spanned<String>>;

/// A date written either as a TOML local date (`2026-12-25`) or a string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum DateValue {
    Toml(toml::value::Datetime),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    pub listen: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIamAudit {
    pub cron: Option<Spanned<String>>,
    pub max_key_age_days: Option<Spanned<i64>>,
    pub max_unused_days: Option<Spanned<i64>>,
    pub deactivate: Option<bool>,
    pub max_deactivations_per_run: Option<Spanned<i64>>,
    #[serde(default)]
    pub exempt_users: Vec<String>,
    pub exempt_tag: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBillingAlarm {
    pub threshold: Option<Spanned<Number>>,
    pub currency: Option<Spanned<String>>,
    pub alarm_name: Option<Spanned<String>>,
    pub sns_topic_arn: Option<Spanned<String>>,
    pub cron: Option<Spanned<String>>,
    pub description: Option<String>,
}

/// TOML keeps integers and floats apart; a threshold may be either.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// One problem found while reading the file: where, which key, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawError {
    pub span: Range<usize>,
    pub field: String,
    pub message: String,
}

/// What the first pass could read, and every error it met on the way.
#[derive(Debug)]
pub struct Parsed {
    /// The file without the keys named in `errors`; `None` only when the text is not
    /// TOML at all (a syntax error), since then no key can be trusted.
    pub raw: Option<RawConfig>,
    /// Syntax, unknown-field and type errors, in file order.
    pub errors: Vec<RawError>,
}

/// Parses the text into [`RawConfig`]. Unknown fields and wrong types are reported
/// and dropped, so that the rest of the file can still be validated.
pub fn parse(text: &str) -> Parsed {
    let (mut root, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        let errors = syntax
            .into_iter()
            .map(|e| RawError {
                span: e.span().unwrap_or(0..0),
                field: String::new(),
                message: e.message().trim_end_matches('.').to_string(),
            })
            .collect();
        return Parsed { raw: None, errors };
    }
    root.get_mut().make_owned();
    let mut errors = Vec::new();
    // Each round removes one key, so the loop ends; the bound is a guard.
    for _ in 0..1000 {
        match RawConfig::deserialize(toml::de::Deserializer::from(root.clone())) {
            Ok(raw) => {
                errors.sort_by_key(|e: &RawError| e.span.start);
                return Parsed { raw: Some(raw), errors };
            }
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                match remove_at(root.get_mut(), &span, String::new()) {
                    Some((field, key_span)) => {
                        errors.push(RawError { span: if span.is_empty() { key_span } else { span }, message: friendly(e.message()), field })
                    }
                    None => {
                        errors.push(RawError { span, field: String::new(), message: friendly(e.message()) });
                        break;
                    }
                }
            }
        }
    }
    errors.sort_by_key(|e: &RawError| e.span.start);
    Parsed { raw: None, errors }
}

/// Removes the innermost key whose key or (non-table) value covers `span`; returns
/// its dotted path and the key's span. Tables opened by a `[header]` have spans that
/// need not cover their keys, so every branch is searched.
fn remove_at(table: &mut DeTable<'_>, span: &Range<usize>, prefix: String) -> Option<(String, Range<usize>)> {
    let covers = |r: Range<usize>| r.start <= span.start && span.start < r.end.max(r.start + 1);
    let mut hit = None;
    for (key, value) in table.iter_mut() {
        let path = join(&prefix, key.get_ref());
        if let DeValue::Table(inner) = value.get_mut()
            && let Some(found) = remove_at(inner, span, path.clone())
        {
            return Some(found);
        }
        if covers(key.span()) || (!value.get_ref().is_table() && covers(value.span())) {
            hit = Some((key.clone(), path));
        }
    }
    let (key, path) = hit?;
    table.remove(&key);
    Some((path, key.span()))
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

/// Rewrites serde's messages for people editing a file: names TOML types, and
/// suggests the closest valid field for a misspelt one.
fn friendly(message: &str) -> String {
    let message = message.trim_end_matches('.');
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (unknown, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        return match crate::config::closest(unknown, candidates.iter().copied()) {
            Some(best) => format!("unknown field (did you mean `{best}`?)"),
            None if candidates.is_empty() => "unknown field".to_string(),
            None => format!("unknown field (expected one of {})", candidates.join(", ")),
        };
    }
    let mut out = message.to_string();
    for (rust, toml) in [
        ("expected i64", "expected an integer"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected true or false"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a table"),
        ("expected struct RawSchedule", "expected a table"),
        ("expected struct RawAws", "expected a table"),
        ("expected struct RawIamAudit", "expected a table"),
        ("expected struct RawHttp", "expected a table"),
        ("expected struct RawBillingAlarm", "expected a table"),
        ("expected struct RawNotify", "expected a table"),
        ("expected struct RawWebhook", "expected a table"),
        ("expected struct RawAccount", "expected a table"),
        ("expected struct RawOrganization", "expected a table"),
        ("expected struct RawSavings", "expected a table"),
        ("expected struct RawState", "expected a table"),
        ("data did not match any variant of untagged enum DateValue", "expected a date such as 2026-12-25"),
        ("data did not match any variant of untagged enum Number", "expected a number"),
    ] {
        out = out.replace(rust, toml);
    }
    out
}
