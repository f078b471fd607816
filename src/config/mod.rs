//! The TOML file, turned into validated, typed settings.
//!
//! Layout: [`raw`] reads the text into serde structs (every syntax, unknown-field and
//! type error at once); [`validate`] checks meaning (cron, timezones, dates, ARNs...)
//! and builds [`Config`], again collecting every error with its position.

pub mod calendar;
mod raw;
mod validate;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use chrono_tz::Tz;

pub use crate::aws::{AwsSettings, DEFAULT_MAX_CONCURRENT_CALLS};
use crate::model::Action;
use crate::model::Kind;
use crate::schedule::{Trigger, Triggers};

pub use validate::{DEFAULT_SKIP_TAG, DEFAULT_TAG_KEY, HostTimezone, SecretRef, read_secret, validate};

/// Where the daemon and the CLI look for the file unless told otherwise.
pub const DEFAULT_PATH: &str = "/etc/offhours/offhours.toml";

/// Settings after validation: every value here has been checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it was read from, for messages.
    pub source: String,
    /// The file's timezone, else the host's: the default for every job.
    pub timezone: Tz,
    /// Regions to act in; empty means the SDK's default region.
    pub regions: Vec<String>,
    /// Tag whose value names an instance's schedule.
    pub tag_key: String,
    /// Per-instance override tag: `true`, or a date / instant to skip until.
    pub skip_tag: String,
    /// Safety brake: the most resources one action may touch in one account; 0 = no limit.
    pub max_instances_per_action: u32,
    /// The same over every account at once; 0 = no cap beyond the per-account one.
    pub max_instances_per_action_total: u32,
    /// Change nothing; report what would be done.
    pub dry_run: bool,
    /// Missed fires older than this are not carried out on start-up.
    pub max_lateness: Duration,
    /// How long to wait for instances, groups and services to reach their target state.
    pub verify_timeout: Duration,
    /// The same for DB instances and clusters, which take minutes.
    pub db_verify_timeout: Duration,
    /// The kinds every schedule acts on unless it names its own.
    pub kinds: Vec<Kind>,
    /// How often instances refused for insufficient capacity are tried again.
    pub capacity_retries: u32,
    /// The pause before each such retry.
    pub capacity_retry_delay: Duration,
    pub aws: AwsSettings,
    /// Sorted by name.
    pub schedules: Vec<Schedule>,
    pub iam_audit: Option<IamAudit>,
    pub billing_alarm: Option<BillingAlarm>,
    /// The HTTP endpoint (metrics, health, status page), when asked for.
    pub http: Option<HttpSettings>,
    /// Where notifications go, when asked for.
    pub notify: Option<NotifySettings>,
    /// Other accounts, each through a role; empty (and no `organization`): offhours'
    /// own account only.
    pub accounts: Vec<AccountTarget>,
    /// Every active account of an AWS Organization, found at run time.
    pub organization: Option<Organization>,
    /// The ledger's retention and the prices the savings report uses.
    pub savings: Savings,
    /// What `offhours suggest` counts as idle.
    pub suggest: Suggest,
    /// Where the daemon keeps what it handled (and, when shared, its leader lease).
    pub state: StateSettings,
    /// Holiday calendars (ICS) that schedules skip, by name.
    pub calendars: Vec<Calendar>,
    /// Resources that schedule themselves by their tags, when asked for.
    pub tag_schedules: Option<TagSchedules>,
}

/// `[calendars.NAME]`: an ICS calendar whose events' dates a schedule skips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// Letters, digits, `-` and `_` (it names the cached copy's file).
    pub name: String,
    pub source: CalendarSource,
    /// How often it is read again.
    pub refresh: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarSource {
    /// A file (relative paths from the config file's directory).
    File(std::path::PathBuf),
    /// A feed: the URL (a secret: a private calendar's address is its credential) and
    /// how messages show it (scheme and host).
    Url { url: Secret, shown: String },
}

impl CalendarSource {
    /// Where, for messages: a path, or a URL's scheme and host only.
    pub fn describe(&self) -> String {
        match self {
            CalendarSource::File(p) => p.display().to_string(),
            CalendarSource::Url { shown, .. } => shown.clone(),
        }
    }
}

/// `[state]`: the state directory (default), or a DynamoDB table shared by replicas
/// that elect one leader through a lease kept in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StateSettings {
    #[default]
    File,
    DynamoDb(DynamoDbState),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoDbState {
    pub table: String,
    /// The table's region; the file's first region when left out.
    pub region: String,
    /// How long a leader's lease lasts unrenewed; it is renewed every quarter of it.
    pub lease: Duration,
}

impl DynamoDbState {
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(20);
}

/// `[savings]`: how long the ledger keeps its history, and hourly prices that override
/// the Price List API (key: an instance type or DB class, optionally `REGION:TYPE`).
#[derive(Debug, Clone, PartialEq)]
pub struct Savings {
    pub retention: Duration,
    pub currency: String,
    /// How long prices read from the Price List API are kept before they are read again.
    pub price_refresh: Duration,
    pub prices: BTreeMap<String, f64>,
}

impl Default for Savings {
    fn default() -> Self {
        Savings {
            retention: Duration::from_secs(400 * 86_400),
            currency: "USD".into(),
            price_refresh: Duration::from_secs(7 * 86_400),
            prices: BTreeMap::new(),
        }
    }
}

/// `[suggest]`: when an hour counts as idle, and how `offhours suggest` reads the weeks.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggest {
    /// Idle below this average CPU, in percent.
    pub cpu_percent: f64,
    /// Idle below this many megabytes in and out in the hour (10^6 bytes).
    pub network_mb: f64,
    /// Idle at or below this many database connections.
    pub connections: u32,
    /// Whole hours kept on before the first busy hour and after the last.
    pub margin_hours: u32,
    /// Of how many observed weeks an hour must have been idle.
    pub min_weeks: u32,
    /// How many days back are read (at most 63: hourly points are kept that long).
    pub days: u32,
}

impl Default for Suggest {
    fn default() -> Self {
        Suggest { cpu_percent: 5.0, network_mb: 5.0, connections: 0, margin_hours: 1, min_weeks: 2, days: 14 }
    }
}

/// `[[accounts]]`: one account, reached by assuming a role in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTarget {
    /// The 12-digit id, from the role's ARN.
    pub id: String,
    pub name: Option<String>,
    pub role_arn: String,
    pub external_id: Option<String>,
}

/// `[organization]`: the accounts are the organization's active ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// The role assumed in every account found.
    pub role_name: String,
    pub external_id: Option<String>,
    /// Only accounts under these organizational units (searched recursively); empty:
    /// the whole organization.
    pub ous: Vec<String>,
    /// Account ids never acted on.
    pub exclude: BTreeSet<String>,
    /// How often the accounts are listed again (besides start-up and reload).
    pub refresh: Duration,
}

/// `[notify]`: an SNS topic and webhooks, each with the notices it wants.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifySettings {
    pub sns: Option<SnsTarget>,
    pub webhooks: Vec<Webhook>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SnsTarget {
    pub topic_arn: String,
    pub filter: crate::model::Filter,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// Names the webhook in logs (its URL never appears).
    pub name: String,
    pub format: WebhookFormat,
    pub url: Secret,
    pub filter: crate::model::Filter,
}

/// The body a webhook expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// A Slack incoming webhook.
    Slack,
    /// A Microsoft Teams Workflows webhook (an Adaptive Card).
    Teams,
    /// The notice as JSON, for anything else.
    Json,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Slack => "slack",
            WebhookFormat::Teams => "teams",
            WebhookFormat::Json => "json",
        }
    }
}

/// A value that must never be printed (webhook URLs carry their credential). `Debug`
/// shows only that it is there.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// `[http]`: where the endpoint listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    pub listen: std::net::SocketAddr,
}

/// A named start/stop schedule and the instances it governs.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub name: String,
    pub timezone: Tz,
    pub start: Option<Trigger>,
    pub stop: Option<Trigger>,
    pub skip_dates: BTreeSet<NaiveDate>,
    /// Hibernate instead of stop where the instance supports it.
    pub hibernate: bool,
    /// The kinds of resource this schedule acts on.
    pub kinds: Vec<Kind>,
    /// Select instances whose `tag_key` tag equals the schedule's name.
    pub by_name: bool,
    /// Further tags that must all match.
    pub tags: BTreeMap<String, String>,
    pub description: Option<String>,
    /// How long before each stop fire a warning lists what it will stop.
    pub warn_before: Option<Duration>,
    /// The accounts (ids or names) the schedule applies to; `None`: every account.
    pub accounts: Option<Vec<String>>,
    /// Between fires, how often resources out of step with the last fire are acted on;
    /// `None`: only at fires.
    pub enforce: Option<Duration>,
    /// How long a resource found out of step is left as it is before enforce acts.
    pub enforce_grace: Duration,
    /// Groups of kinds started one after the other (stopped in reverse); empty: every
    /// kind at once.
    pub order: Vec<Vec<Kind>>,
    /// What a group whose action fails does to the groups after it.
    pub order_on_failure: OnFailure,
    /// Windows in which the schedule keeps its resources on or off.
    pub exceptions: Vec<Exception>,
    /// The `[calendars]` whose events' dates it skips.
    pub skip_calendars: Vec<String>,
    /// Those dates once the calendars are read (`calendar::bind`), each with what
    /// covers it (`NAME: SUMMARY`); also in `skip_dates` and the triggers.
    pub holidays: BTreeMap<NaiveDate, String>,
    /// Turn off the actions of the CloudWatch alarms watching what a stop leaves off,
    /// and on again after the start.
    pub mute_alarms: bool,
    /// An SSM Change Calendar that holds back starts (or stops) while it is closed.
    pub change_calendar: Option<ChangeCalendar>,
    /// A resource's own schedule (`[tag_schedules]`): these ids in this region only,
    /// instead of the resources its tags select.
    pub only: Option<Only>,
}

/// The resources a self-scheduled resource's schedule acts on: itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Only {
    pub region: String,
    pub ids: Vec<String>,
}

/// `[tag_schedules]`: resources that carry their own times in tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSchedules {
    /// Fire them (else only `check --tags` reads them).
    pub enabled: bool,
    /// The kinds whose resources are looked at.
    pub kinds: Vec<Kind>,
    /// How often they are looked for again.
    pub refresh: Duration,
    /// The most resources that may schedule themselves.
    pub max_resources: usize,
}

/// A window of a schedule in which it keeps its resources on or off.
#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    pub window: crate::schedule::Window,
    pub keep: Keep,
    pub reason: Option<String>,
    /// Who set it with `offhours hold` (a hold rather than the file's exception).
    pub held_by: Option<String>,
}

/// `change_calendar`: an SSM Change Calendar read before each fire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeCalendar {
    /// Its name or ARN, as GetCalendarState takes it.
    pub name: String,
    /// Where it is read: the ARN's region, else the file's first region.
    pub region: String,
    pub closed: ClosedSkips,
}

/// What a closed change calendar holds back (`change_calendar_closed`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClosedSkips {
    /// `skip-starts`: nothing is brought up while it is closed; stops go on.
    #[default]
    Starts,
    /// `skip-stops`: what runs keeps running while it is closed; starts go on.
    Stops,
}

impl ClosedSkips {
    pub fn parse(text: &str) -> Option<ClosedSkips> {
        match text {
            "skip-starts" => Some(ClosedSkips::Starts),
            "skip-stops" => Some(ClosedSkips::Stops),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ClosedSkips::Starts => "skip-starts",
            ClosedSkips::Stops => "skip-stops",
        }
    }
}

/// What an exception keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Keep {
    /// No stop inside the window; a start at its start.
    On,
    /// No start inside the window.
    Off,
}

/// What a group of a schedule's `order` whose action fails does to the groups after it
/// (`order_on_failure`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnFailure {
    /// The later groups of that fire are not acted on (`"halt"`, the default).
    #[default]
    Halt,
    /// The later groups act all the same (`"continue"`).
    Continue,
}

impl OnFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            OnFailure::Halt => "halt",
            OnFailure::Continue => "continue",
        }
    }

    pub fn parse(s: &str) -> Option<OnFailure> {
        match s {
            "halt" => Some(OnFailure::Halt),
            "continue" => Some(OnFailure::Continue),
            _ => None,
        }
    }
}

impl Config {
    /// True when everything but the schedules is the same.
    pub fn same_settings(&self, other: &Config) -> bool {
        let strip = |c: &Config| Config { schedules: Vec::new(), source: String::new(), ..c.clone() };
        strip(self) == strip(other)
    }
}

impl Schedule {
    /// A schedule of one kind that selects nothing and never fires, for building
    /// schedules that are not in the file.
    pub fn empty(kind: Kind) -> Schedule {
        Schedule {
            name: String::new(),
            timezone: Tz::UTC,
            start: None,
            stop: None,
            skip_dates: BTreeSet::new(),
            hibernate: false,
            kinds: vec![kind],
            by_name: false,
            tags: BTreeMap::new(),
            description: None,
            warn_before: None,
            accounts: None,
            enforce: None,
            enforce_grace: Duration::ZERO,
            order: Vec::new(),
            order_on_failure: OnFailure::default(),
            exceptions: Vec::new(),
            skip_calendars: Vec::new(),
            holidays: BTreeMap::new(),
            mute_alarms: false,
            change_calendar: None,
            only: None,
        }
    }

    /// Its start and stop together (last and next fire, the fires in a window).
    pub fn triggers(&self) -> Triggers<'_> {
        Triggers { start: self.start.as_ref(), stop: self.stop.as_ref() }
    }

    /// Binds `exceptions` into the triggers: kept on, no stop inside and a start at the
    /// window's start; kept off, no start inside.
    pub fn bind_exceptions(&mut self) {
        let windows = |keep: Keep| self.exceptions.iter().filter(|e| e.keep == keep).map(|e| e.window).collect::<Vec<_>>();
        let (on, off) = (windows(Keep::On), windows(Keep::Off));
        let starts_at = on.iter().map(|w| w.from).collect();
        if let Some(t) = self.start.take() {
            self.start = Some(t.with_exceptions(off, starts_at));
        }
        if let Some(t) = self.stop.take() {
            self.stop = Some(t.with_exceptions(on, Default::default()));
        }
    }

    pub fn trigger(&self, action: Action) -> Option<&Trigger> {
        match action {
            Action::Start => self.start.as_ref(),
            Action::Stop => self.stop.as_ref(),
        }
    }

    /// Tag conditions an instance must meet, `tag_key` included when `by_name`.
    pub fn selector(&self, tag_key: &str) -> BTreeMap<String, String> {
        let mut tags = self.tags.clone();
        if self.by_name {
            tags.insert(tag_key.to_string(), self.name.clone());
        }
        tags
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct IamAudit {
    pub trigger: Option<Trigger>,
    pub max_key_age_days: u32,
    pub max_unused_days: u32,
    pub deactivate: bool,
    pub max_deactivations_per_run: u32,
    pub exempt_users: BTreeSet<String>,
    pub exempt_tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BillingAlarm {
    pub threshold: f64,
    pub currency: String,
    pub alarm_name: String,
    pub sns_topic_arn: Option<String>,
    pub trigger: Option<Trigger>,
    pub description: String,
}

/// One problem in the file, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Dotted path of the field, e.g. `schedules.office.start`; empty for syntax errors.
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// Why a file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<ConfigError>),
}

/// Reads and validates the file at `path` against the host's timezone.
pub fn load(path: &Path) -> Result<Config, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read { path: path.to_path_buf(), source })?;
    from_str(&text, &path.display().to_string(), &HostTimezone::detect())
}

/// Parses and validates `text`; `source` names it in errors. What the first pass
/// cannot read (unknown fields, wrong types) is reported and dropped, the rest is
/// still validated, and every error of both passes comes back in file order.
pub fn from_str(text: &str, source: &str, host: &HostTimezone) -> Result<Config, LoadError> {
    let error = |span: std::ops::Range<usize>, field: String, message: String| {
        let (line, column) = line_col(text, span.start);
        (span.start, ConfigError { file: source.to_string(), line, column, field, message })
    };
    let parsed = raw::parse(text);
    let dropped: Vec<String> = parsed.errors.iter().map(|e| e.field.clone()).filter(|f| !f.is_empty()).collect();
    let mut errors: Vec<(usize, ConfigError)> = parsed.errors.into_iter().map(|e| error(e.span, e.field, e.message)).collect();
    let config = match parsed.raw {
        Some(raw) => match validate(raw, source, host) {
            Ok(config) => Some(config),
            Err(found) => {
                // A table that lost an unreadable key may look incomplete (`has neither
                // start nor stop`): that is a consequence, not a second mistake.
                let consequence = |field: &str| dropped.iter().any(|d| d.starts_with(&format!("{field}.")));
                errors.extend(
                    found.into_iter().filter(|(_, field, _)| !consequence(field)).map(|(span, field, message)| error(span, field, message)),
                );
                None
            }
        },
        None => None,
    };
    match config {
        Some(config) if errors.is_empty() => Ok(config),
        _ => {
            // Stable: errors at one position keep the order they were found in.
            errors.sort_by_key(|(offset, _)| *offset);
            Err(LoadError::Invalid(errors.into_iter().map(|(_, e)| e).collect()))
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a
/// plausible misspelling.
pub(crate) fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word_lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance counting an adjacent transposition as one edit (`strat` -> `start`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// Parses durations such as `90s`, `15m`, `6h`, `1d` or `1h30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty duration".into());
    }
    let mut total = 0u64;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => {
                return Err(format!("`{text}` is not a duration (use e.g. 90s, 15m, 6h, 1d)"));
            }
        };
        let n: u64 = digits.parse().map_err(|_| format!("`{text}` is not a duration (use e.g. 90s, 15m, 6h, 1d)"))?;
        total = total.saturating_add(n.saturating_mul(unit));
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(format!("`{text}` has no unit (use e.g. {text}s or {text}m)"));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests;
