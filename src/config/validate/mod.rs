//! Meaning checks: from [`RawConfig`] to [`Config`], collecting every error.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::str::FromStr;

use chrono::NaiveDate;
use chrono_tz::Tz;
use toml::Spanned;

use super::raw::{
    DateValue, RawAccount, RawAws, RawBillingAlarm, RawConfig, RawHttp, RawIamAudit, RawSavings, RawSchedule, RawState, RawTagSchedules,
};
use super::{
    AccountTarget, AwsSettings, BillingAlarm, Config, DynamoDbState, IamAudit, Savings, Schedule, StateSettings, closest, parse_duration,
};
use crate::model::Kind;
use crate::schedule::{CronExpr, Trigger};

mod accounts;
mod calendars;
mod exceptions;
mod notify;
mod order;
mod suggest;

use self::notify::{notify, sns_topic_region};
use accounts::{account, is_account_id, organization};

pub const DEFAULT_TAG_KEY: &str = "Schedule";
pub const DEFAULT_SKIP_TAG: &str = "offhours:skip";
pub const DEFAULT_MAX_INSTANCES_PER_ACTION: u32 = 50;
pub const DEFAULT_MAX_LATENESS: &str = "6h";
pub const DEFAULT_ALARM_NAME: &str = "offhours-estimated-charges";
/// The access keys are audited every morning unless the file says otherwise.
pub const DEFAULT_AUDIT_CRON: &str = "0 7 * * *";
/// The billing alarm is re-checked daily unless the file says otherwise.
pub const DEFAULT_BILLING_CRON: &str = "0 6 * * *";
/// Databases take minutes to stop or start.
pub const DEFAULT_DB_VERIFY_TIMEOUT_S: u64 = 30 * 60;

/// What validation needs from the host: its timezone (found once by the shell), and
/// where secrets named by `url_env` / `url_file` are read. Handed in so that validation
/// stays pure and tests can inject both.
#[derive(Debug, Clone)]
pub struct HostTimezone {
    pub tz: Tz,
    pub secrets: fn(&SecretRef<'_>) -> Result<String, String>,
}

/// A secret named by the file instead of written in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretRef<'a> {
    Env(&'a str),
    File(&'a str),
}

/// Reads a secret from the process's environment or the file system.
pub fn read_secret(what: &SecretRef<'_>) -> Result<String, String> {
    match what {
        SecretRef::Env(name) => std::env::var(name).map_err(|_| format!("environment variable {name} is not set")),
        SecretRef::File(path) => std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}")),
    }
}

impl HostTimezone {
    /// `TZ` first, then `/etc/localtime`; UTC when neither names an IANA zone.
    pub fn detect() -> Self {
        if let Ok(value) = std::env::var("TZ") {
            let name = value.trim_start_matches(':');
            let name = name.rsplit_once("zoneinfo/").map_or(name, |(_, n)| n);
            if let Ok(tz) = Tz::from_str(name) {
                return HostTimezone::fixed(tz);
            }
        }
        match iana_time_zone::get_timezone().map(|n| Tz::from_str(&n)) {
            Ok(Ok(tz)) => HostTimezone::fixed(tz),
            _ => HostTimezone::fixed(Tz::UTC),
        }
    }

    pub fn fixed(tz: Tz) -> Self {
        HostTimezone { tz, secrets: read_secret }
    }
}

type Errors = Vec<(Range<usize>, String, String)>;

struct Checker {
    errors: Errors,
}

impl Checker {
    fn error(&mut self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push((span, field.into(), message.into()));
    }

    fn timezone(&mut self, value: &Spanned<String>, field: &str) -> Option<Tz> {
        match Tz::from_str(value.get_ref()) {
            Ok(tz) => Some(tz),
            Err(_) => {
                let names = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name());
                let hint = closest(value.get_ref(), names).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
                self.error(value.span(), field, format!("unknown timezone `{}`{hint}", value.get_ref()));
                None
            }
        }
    }

    /// A list of resource kinds: known names, no repeats, at least one.
    fn kinds(&mut self, list: &Spanned<Vec<Spanned<String>>>, field: &str) -> Option<Vec<Kind>> {
        let errors_before = self.errors.len();
        let mut kinds = Vec::new();
        if list.get_ref().is_empty() {
            self.error(list.span(), field, "must name at least one kind");
        }
        for name in list.get_ref() {
            match crate::kinds::parse(name.get_ref()) {
                Some(k) if kinds.contains(&k) => self.error(name.span(), field, format!("`{k}` is listed twice")),
                Some(k) => kinds.push(k),
                None => {
                    let valid: Vec<&str> = crate::kinds::ids().iter().map(|k| k.as_str()).collect();
                    let hint = closest(name.get_ref(), valid.iter().copied()).map(|n| format!("did you mean `{n}`? ")).unwrap_or_default();
                    self.error(name.span(), field, format!("unknown kind `{}` ({hint}valid: {})", name.get_ref(), valid.join(", ")));
                }
            }
        }
        (self.errors.len() == errors_before).then_some(kinds)
    }

    fn cron(&mut self, value: &Spanned<String>, field: &str) -> Option<CronExpr> {
        match CronExpr::parse(value.get_ref()) {
            Ok(c) => Some(c),
            Err(e) => {
                self.error(value.span(), field, format!("bad cron `{}`: {e}", value.get_ref()));
                None
            }
        }
    }

    fn non_empty(&mut self, value: &Spanned<String>, field: &str) -> Option<String> {
        if value.get_ref().trim().is_empty() {
            self.error(value.span(), field, "must not be empty");
            None
        } else {
            Some(value.get_ref().clone())
        }
    }

    fn count(&mut self, value: &Spanned<i64>, field: &str, min: i64, max: i64) -> Option<u32> {
        let n = *value.get_ref();
        if n < min || n > max {
            self.error(value.span(), field, format!("must be between {min} and {max}, found {n}"));
            None
        } else {
            u32::try_from(n).ok()
        }
    }

    /// A duration that may be zero (`0s`: no grace).
    fn duration_or_zero(&mut self, value: &Spanned<String>, field: &str) -> Option<std::time::Duration> {
        match parse_duration(value.get_ref()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(value.span(), field, e);
                None
            }
        }
    }

    fn duration(&mut self, value: &Spanned<String>, field: &str) -> Option<std::time::Duration> {
        match parse_duration(value.get_ref()) {
            Ok(d) if d.is_zero() => {
                self.error(value.span(), field, "must be longer than zero");
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.error(value.span(), field, e);
                None
            }
        }
    }
}

/// Checks the meaning of every value and builds the typed [`Config`]; on failure,
/// every error as (byte span, field path, message).
pub fn validate(raw: RawConfig, source: &str, host: &HostTimezone) -> Result<Config, Errors> {
    let mut c = Checker { errors: Vec::new() };

    let timezone = match &raw.timezone {
        Some(v) => c.timezone(v, "timezone").unwrap_or(host.tz),
        None => host.tz,
    };

    let regions = regions(&mut c, raw.regions.as_ref());

    let tag_key = raw.tag_key.as_ref().and_then(|v| c.non_empty(v, "tag_key")).unwrap_or_else(|| DEFAULT_TAG_KEY.into());
    let skip_tag = raw.skip_tag.as_ref().and_then(|v| c.non_empty(v, "skip_tag")).unwrap_or_else(|| DEFAULT_SKIP_TAG.into());
    let (max_instances_per_action, max_instances_per_action_total) = brakes(&mut c, &raw);
    let max_lateness = raw
        .max_lateness
        .as_ref()
        .map_or_else(|| parse_duration(DEFAULT_MAX_LATENESS).ok(), |v| c.duration(v, "max_lateness"))
        .unwrap_or_default();

    let (verify_timeout, db_verify_timeout) = verify_timeouts(&mut c, &raw);
    // Instances only unless the file says otherwise: older files keep their meaning and
    // their IAM policy.
    let kinds = raw.kinds.as_ref().and_then(|k| c.kinds(k, "kinds")).unwrap_or_else(|| vec![crate::kinds::default_kind()]);
    let capacity_retries = raw.capacity_retries.as_ref().and_then(|v| c.count(v, "capacity_retries", 0, 20)).unwrap_or(2);
    let capacity_retry_delay =
        raw.capacity_retry_delay.as_ref().and_then(|v| c.duration(v, "capacity_retry_delay")).unwrap_or(std::time::Duration::from_secs(60));
    let aws = aws_settings(&mut c, raw.aws.unwrap_or_default());

    let warn_before = raw.warn_before.as_ref().and_then(|v| c.duration(v, "warn_before"));
    let enforce = raw.enforce.as_ref().and_then(|v| c.duration(v, "enforce"));
    let enforce_grace = raw.enforce_grace.as_ref().and_then(|v| c.duration_or_zero(v, "enforce_grace")).unwrap_or_default();
    let mut schedules = Vec::new();
    if raw.schedules.is_empty() && raw.iam_audit.is_none() && raw.billing_alarm.is_none() {
        c.error(0..0, "schedules", "the file configures nothing: add a [schedules.NAME] table");
    }
    let defaults = ScheduleDefaults { timezone, tag_key: &tag_key, kinds: &kinds, warn_before, enforce, enforce_grace };
    for (name, body) in &raw.schedules {
        if let Some(s) = schedule(&mut c, name, body, &defaults) {
            schedules.push(s);
        }
    }

    let iam_audit = raw.iam_audit.as_ref().map(|a| iam_audit(&mut c, a.get_ref(), timezone));
    let billing_alarm = raw.billing_alarm.as_ref().and_then(|b| billing_alarm(&mut c, b, timezone));
    let http = raw.http.as_ref().and_then(|h| http(&mut c, h));

    let notify = raw.notify.as_ref().map(|n| notify(&mut c, n, host.secrets));
    let accounts = accounts(&mut c, &raw.accounts);
    let organization = raw.organization.as_ref().and_then(|o| organization(&mut c, o));
    let savings = raw.savings.as_ref().map(|v| savings(&mut c, v)).unwrap_or_default();
    let suggest = raw.suggest.as_ref().map(|v| suggest::suggest(&mut c, v.get_ref())).unwrap_or_default();
    let state = raw.state.as_ref().map(|v| state(&mut c, v, regions.first().map(String::as_str))).unwrap_or_default();
    let calendars = calendars::calendars(&mut c, &raw.calendars, source, host.secrets);
    calendars::skip_calendars(&mut c, &raw.schedules, &calendars, &mut schedules);
    calendars::change_calendars(&mut c, &raw.schedules, &regions, &mut schedules);
    let tag_schedules = raw.tag_schedules.as_ref().map(|t| tag_schedules(&mut c, t.get_ref(), &kinds));
    let others = !raw.accounts.is_empty() || raw.organization.is_some();
    schedule_accounts(&mut c, &raw.schedules, others, raw.organization.is_some(), &accounts, &mut schedules);

    if !c.errors.is_empty() {
        c.errors.sort_by_key(|(span, _, _)| span.start);
        return Err(c.errors);
    }
    Ok(Config {
        source: source.to_string(),
        timezone,
        regions,
        tag_key,
        skip_tag,
        max_instances_per_action,
        max_instances_per_action_total,
        dry_run: raw.dry_run.unwrap_or(false),
        max_lateness,
        verify_timeout,
        db_verify_timeout,
        kinds,
        capacity_retries,
        capacity_retry_delay,
        aws,
        schedules,
        iam_audit,
        billing_alarm,
        http,
        notify,
        accounts,
        organization,
        savings,
        suggest,
        state,
        calendars,
        tag_schedules,
    })
}

/// The safety brakes: per account, and over every account at once (0: none).
/// `[tag_schedules]`: its kinds (else the file's), how often resources are looked for
/// (at least every 10 s), and how many may schedule themselves.
fn tag_schedules(c: &mut Checker, t: &RawTagSchedules, file_kinds: &[Kind]) -> super::TagSchedules {
    let refresh = t.refresh.as_ref().and_then(|v| c.duration(v, "tag_schedules.refresh")).unwrap_or(std::time::Duration::from_secs(300));
    if let Some(v) = &t.refresh
        && refresh < std::time::Duration::from_secs(10)
    {
        c.error(v.span(), "tag_schedules.refresh", "must be at least 10s");
    }
    super::TagSchedules {
        enabled: t.enabled.unwrap_or(false),
        kinds: t.kinds.as_ref().and_then(|k| c.kinds(k, "tag_schedules.kinds")).unwrap_or_else(|| file_kinds.to_vec()),
        refresh,
        max_resources: t.max_resources.as_ref().and_then(|v| c.count(v, "tag_schedules.max_resources", 1, 10_000)).unwrap_or(500) as usize,
    }
}

fn brakes(c: &mut Checker, raw: &RawConfig) -> (u32, u32) {
    let max_instances_per_action = raw
        .max_instances_per_action
        .as_ref()
        .map_or(Some(DEFAULT_MAX_INSTANCES_PER_ACTION), |v| c.count(v, "max_instances_per_action", 0, 1_000_000))
        .unwrap_or(DEFAULT_MAX_INSTANCES_PER_ACTION);
    let max_instances_per_action_total = raw
        .max_instances_per_action_total
        .as_ref()
        .map_or(Some(0), |v| c.count(v, "max_instances_per_action_total", 0, 10_000_000))
        .unwrap_or(0);
    (max_instances_per_action, max_instances_per_action_total)
}

/// How long an action waits for its resources to reach their state: instances, groups
/// and services, and databases.
fn verify_timeouts(c: &mut Checker, raw: &RawConfig) -> (std::time::Duration, std::time::Duration) {
    let verify_timeout =
        raw.verify_timeout.as_ref().and_then(|v| c.duration(v, "verify_timeout")).unwrap_or(std::time::Duration::from_secs(300));
    let db_verify_timeout = raw
        .db_verify_timeout
        .as_ref()
        .and_then(|v| c.duration(v, "db_verify_timeout"))
        .unwrap_or(std::time::Duration::from_secs(DEFAULT_DB_VERIFY_TIMEOUT_S));
    (verify_timeout, db_verify_timeout)
}

/// `regions`: region names, each once, at least one when the key is there.
fn regions(c: &mut Checker, list: Option<&Spanned<Vec<Spanned<String>>>>) -> Vec<String> {
    let mut regions = Vec::new();
    if let Some(list) = list {
        if list.get_ref().is_empty() {
            c.error(list.span(), "regions", "must list at least one region (or be left out for the SDK's default)");
        }
        for r in list.get_ref() {
            let name = r.get_ref();
            if !is_region_name(name) {
                c.error(r.span(), "regions", format!("`{name}` is not a region name (e.g. eu-central-1)"));
            } else if regions.contains(name) {
                c.error(r.span(), "regions", format!("`{name}` is listed twice"));
            } else {
                regions.push(name.clone());
            }
        }
    }
    regions
}

/// `[http]`: the address to listen on.
fn http(c: &mut Checker, h: &Spanned<RawHttp>) -> Option<super::HttpSettings> {
    match &h.get_ref().listen {
        None => {
            c.error(h.span(), "http.listen", "is required (e.g. \"127.0.0.1:9464\")");
            None
        }
        Some(v) => match v.get_ref().parse::<std::net::SocketAddr>() {
            Ok(listen) => Some(super::HttpSettings { listen }),
            Err(_) => {
                c.error(
                    v.span(),
                    "http.listen",
                    format!("`{}` is not an address and port (e.g. 127.0.0.1:9464 or 0.0.0.0:9464)", v.get_ref()),
                );
                None
            }
        },
    }
}

/// `[[accounts]]`: each once by id and by name.
fn accounts(c: &mut Checker, raw: &[Spanned<RawAccount>]) -> Vec<AccountTarget> {
    let mut accounts: Vec<AccountTarget> = Vec::new();
    for (i, raw_account) in raw.iter().enumerate() {
        let Some(a) = account(c, i, raw_account) else { continue };
        if accounts.iter().any(|o| o.id == a.id) {
            c.error(raw_account.span(), format!("accounts[{i}].role_arn"), format!("account {} is listed twice", a.id));
        }
        if let Some(n) = &a.name
            && accounts.iter().any(|o| o.name.as_ref() == Some(n))
        {
            c.error(raw_account.span(), format!("accounts[{i}].name"), format!("`{n}` names another account already"));
        }
        accounts.push(a);
    }
    accounts
}

/// A schedule's `accounts` must name known accounts; in an organization the names
/// are only known at run time, so ids and names both pass here.
fn schedule_accounts(
    c: &mut Checker,
    raw_schedules: &BTreeMap<Spanned<String>, Spanned<RawSchedule>>,
    others: bool,
    organization: bool,
    accounts: &[AccountTarget],
    schedules: &mut [Schedule],
) {
    for (name, body) in raw_schedules {
        let Some(list) = &body.get_ref().accounts else { continue };
        let field = format!("schedules.{}.accounts", name.get_ref());
        if !others {
            c.error(list.span(), &field, "names accounts, but the file has no [[accounts]] or [organization]");
            continue;
        }
        if list.get_ref().is_empty() {
            c.error(list.span(), &field, "must name at least one account (or be left out for all)");
        }
        for a in list.get_ref() {
            let v = a.get_ref();
            let known = is_account_id(v) || accounts.iter().any(|t| t.name.as_deref() == Some(v.as_str())) || organization;
            if !known {
                let names = accounts.iter().filter_map(|t| t.name.as_deref());
                let hint = closest(v, names).map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default();
                c.error(a.span(), &field, format!("`{v}` is neither a 12-digit account id nor the name of an [[accounts]] entry{hint}"));
            }
        }
        if let Some(s) = schedules.iter_mut().find(|s| &s.name == name.get_ref()) {
            s.accounts = Some(list.get_ref().iter().map(|a| a.get_ref().clone()).collect());
        }
    }
}

fn is_region_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

fn aws_settings(c: &mut Checker, raw: RawAws) -> AwsSettings {
    let defaults = AwsSettings::default();
    let role_arn = raw.role_arn.as_ref().and_then(|v| {
        let arn = v.get_ref();
        let ok = arn.starts_with("arn:aws") && arn.contains(":iam::") && arn.contains(":role/");
        if !ok {
            c.error(v.span(), "aws.role_arn", format!("`{arn}` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"));
        }
        ok.then(|| arn.clone())
    });
    if let (Some(ext), None) = (&raw.external_id, &raw.role_arn) {
        c.error(ext.span(), "aws.external_id", "only has a meaning with aws.role_arn");
    }
    let operation_timeout =
        raw.operation_timeout.as_ref().and_then(|v| c.duration(v, "aws.operation_timeout")).unwrap_or(defaults.operation_timeout);
    let attempt_timeout =
        raw.attempt_timeout.as_ref().and_then(|v| c.duration(v, "aws.attempt_timeout")).unwrap_or(defaults.attempt_timeout);
    if let Some(v) = &raw.attempt_timeout
        && attempt_timeout > operation_timeout
    {
        c.error(v.span(), "aws.attempt_timeout", "must not be longer than aws.operation_timeout");
    }
    AwsSettings {
        profile: raw.profile.as_ref().and_then(|v| c.non_empty(v, "aws.profile")),
        role_arn,
        external_id: raw.external_id.map(Spanned::into_inner),
        session_name: raw.session_name.as_ref().and_then(|v| c.non_empty(v, "aws.session_name")).unwrap_or(defaults.session_name),
        operation_timeout,
        attempt_timeout,
        max_attempts: raw.max_attempts.as_ref().and_then(|v| c.count(v, "aws.max_attempts", 1, 20)).unwrap_or(defaults.max_attempts),
        max_concurrent_calls: raw
            .max_concurrent_calls
            .as_ref()
            .and_then(|v| c.count(v, "aws.max_concurrent_calls", 1, 100))
            .unwrap_or(defaults.max_concurrent_calls),
        max_calls_in_flight: raw
            .max_calls_in_flight
            .as_ref()
            .and_then(|v| c.count(v, "aws.max_calls_in_flight", 1, 4096))
            .unwrap_or(defaults.max_calls_in_flight),
    }
}

/// What a schedule takes from the file when it does not say.
struct ScheduleDefaults<'a> {
    timezone: Tz,
    tag_key: &'a str,
    kinds: &'a [Kind],
    warn_before: Option<std::time::Duration>,
    enforce: Option<std::time::Duration>,
    enforce_grace: std::time::Duration,
}

/// A schedule's `skip_dates`: each a date.
fn skip_dates(c: &mut Checker, raw: &RawSchedule, field: &str) -> BTreeSet<NaiveDate> {
    let mut dates = BTreeSet::new();
    for d in raw.skip_dates.iter().flatten() {
        match date_of(d.get_ref()) {
            Some(date) => {
                dates.insert(date);
            }
            None => c.error(d.span(), field, format!("`{}` is not a date (YYYY-MM-DD)", date_text(d.get_ref()))),
        }
    }
    dates
}

/// A schedule's `tags`: no empty key, and not the schedule tag when the name matches it.
fn schedule_tags(c: &mut Checker, raw: &RawSchedule, by_name: bool, tag_key: &str, field: &str) -> BTreeMap<String, String> {
    let tags: BTreeMap<String, String> = raw.tags.as_ref().map(|t| t.get_ref().clone()).unwrap_or_default();
    if let Some(t) = &raw.tags {
        for key in t.get_ref().keys() {
            if key.trim().is_empty() {
                c.error(t.span(), field, "a tag key must not be empty");
            }
            if by_name && key == tag_key {
                c.error(
                    t.span(),
                    field,
                    format!(
                        "`{key}` is the schedule tag (tag_key) already matched by the schedule's name; set by_name = false to match it here"
                    ),
                );
            }
        }
    }
    tags
}

fn schedule(c: &mut Checker, name: &Spanned<String>, body: &Spanned<RawSchedule>, defaults: &ScheduleDefaults<'_>) -> Option<Schedule> {
    let (file_tz, tag_key, file_kinds) = (defaults.timezone, defaults.tag_key, defaults.kinds);
    let errors_before = c.errors.len();
    let field = |f: &str| format!("schedules.{}.{f}", name.get_ref());
    let raw = body.get_ref();
    let n = name.get_ref();
    if n.is_empty() || n.len() > 256 || n.chars().any(|ch| ch.is_control()) {
        c.error(
            name.span(),
            format!("schedules.{n}"),
            "a schedule name must be 1 to 256 printable characters (it is matched against a tag value)",
        );
    }
    let timezone = match &raw.timezone {
        Some(v) => c.timezone(v, &field("timezone")).unwrap_or(file_tz),
        None => file_tz,
    };
    let skip_dates = skip_dates(c, raw, &field("skip_dates"));
    let start = raw.start.as_ref().and_then(|v| c.cron(v, &field("start")));
    let stop = raw.stop.as_ref().and_then(|v| c.cron(v, &field("stop")));
    if raw.start.is_none() && raw.stop.is_none() {
        c.error(body.span(), format!("schedules.{n}"), "has neither `start` nor `stop`");
    }
    if let (Some(a), Some(b)) = (&raw.start, &raw.stop)
        && a.get_ref().trim() == b.get_ref().trim()
    {
        c.error(b.span(), field("stop"), "is the same expression as `start`");
    }
    let kinds = match &raw.kinds {
        Some(list) => c.kinds(list, &field("kinds")).unwrap_or_default(),
        None => file_kinds.to_vec(),
    };
    // An order is checked against kinds that were read (a bad `kinds` says so itself).
    let order = if kinds.is_empty() { Vec::new() } else { order::order(c, raw, &kinds, &field("order")) };
    let order_on_failure = order::on_failure(c, raw, &field("order_on_failure"));
    let by_name = raw.by_name.unwrap_or(true);
    let tags = schedule_tags(c, raw, by_name, tag_key, &field("tags"));
    // The file's default applies to schedules that stop; a schedule's own value must have
    // a stop to warn about.
    let warn_before = match &raw.warn_before {
        Some(v) => {
            let d = c.duration(v, &field("warn_before"));
            if raw.stop.is_none() {
                c.error(v.span(), field("warn_before"), "warns before a stop, but the schedule has no `stop`");
            }
            d
        }
        None => defaults.warn_before.filter(|_| raw.stop.is_some()),
    };
    let enforce = match &raw.enforce {
        Some(v) => c.duration(v, &field("enforce")),
        None => defaults.enforce,
    };
    let enforce_grace = match &raw.enforce_grace {
        Some(v) => c.duration_or_zero(v, &field("enforce_grace")).unwrap_or_default(),
        None => defaults.enforce_grace,
    };
    if !by_name && tags.is_empty() {
        c.error(body.span(), format!("schedules.{n}"), "selects no instances: with by_name = false, `tags` must name at least one tag");
    }
    if let Some(m) = raw.mute_alarms.as_ref().filter(|m| *m.get_ref())
        && raw.start.is_none()
    {
        c.error(m.span(), field("mute_alarms"), "turns alarms off at each stop, but the schedule has no `start` to turn them on again");
    }
    let exceptions =
        exceptions::exceptions(c, raw.exceptions.as_deref().unwrap_or_default(), timezone, &field("exceptions"), raw.start.is_some());
    if c.errors.len() > errors_before {
        return None;
    }
    let trigger = |cron: CronExpr| Trigger::new(cron, timezone).with_skip_dates(skip_dates.clone());
    let mut schedule = Schedule {
        name: n.clone(),
        timezone,
        start: start.map(trigger),
        stop: stop.map(trigger),
        skip_dates: skip_dates.clone(),
        hibernate: raw.hibernate.unwrap_or(false),
        kinds,
        by_name,
        tags,
        description: raw.description.clone(),
        warn_before,
        accounts: None,
        enforce,
        enforce_grace,
        order,
        order_on_failure,
        exceptions,
        skip_calendars: Vec::new(),
        holidays: BTreeMap::new(),
        mute_alarms: raw.mute_alarms.as_ref().is_some_and(|b| *b.get_ref()),
        change_calendar: None,
        only: None,
    };
    schedule.bind_exceptions();
    Some(schedule)
}

fn date_of(value: &DateValue) -> Option<NaiveDate> {
    match value {
        DateValue::Toml(dt) => match (dt.date, dt.time) {
            (Some(d), None) => NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day)),
            _ => None,
        },
        DateValue::Text(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
    }
}

fn date_text(value: &DateValue) -> String {
    match value {
        DateValue::Toml(dt) => dt.to_string(),
        DateValue::Text(s) => s.clone(),
    }
}

fn iam_audit(c: &mut Checker, raw: &RawIamAudit, tz: Tz) -> IamAudit {
    let trigger = match &raw.cron {
        Some(v) => c.cron(v, "iam_audit.cron"),
        None => CronExpr::parse(DEFAULT_AUDIT_CRON).ok(),
    }
    .map(|cron| Trigger::new(cron, tz));
    IamAudit {
        trigger,
        max_key_age_days: raw.max_key_age_days.as_ref().and_then(|v| c.count(v, "iam_audit.max_key_age_days", 1, 3650)).unwrap_or(90),
        max_unused_days: raw.max_unused_days.as_ref().and_then(|v| c.count(v, "iam_audit.max_unused_days", 1, 3650)).unwrap_or(45),
        deactivate: raw.deactivate.unwrap_or(false),
        max_deactivations_per_run: raw
            .max_deactivations_per_run
            .as_ref()
            .and_then(|v| c.count(v, "iam_audit.max_deactivations_per_run", 0, 10_000))
            .unwrap_or(5),
        exempt_users: raw.exempt_users.iter().cloned().collect(),
        exempt_tag: raw.exempt_tag.as_ref().and_then(|v| c.non_empty(v, "iam_audit.exempt_tag")),
    }
}

fn billing_alarm(c: &mut Checker, raw: &Spanned<RawBillingAlarm>, tz: Tz) -> Option<BillingAlarm> {
    let body = raw.get_ref();
    let threshold = match &body.threshold {
        None => {
            c.error(raw.span(), "billing_alarm.threshold", "is required (the estimated charges, in `currency`, that raise the alarm)");
            None
        }
        Some(v) if v.get_ref().as_f64().is_nan() || v.get_ref().as_f64() <= 0.0 || v.get_ref().as_f64().is_infinite() => {
            c.error(v.span(), "billing_alarm.threshold", format!("must be greater than 0, found {}", v.get_ref().as_f64()));
            None
        }
        Some(v) => Some(v.get_ref().as_f64()),
    };
    let currency = match &body.currency {
        Some(v) if v.get_ref().len() != 3 || !v.get_ref().chars().all(|ch| ch.is_ascii_uppercase()) => {
            c.error(v.span(), "billing_alarm.currency", format!("`{}` is not an ISO 4217 currency code (e.g. USD)", v.get_ref()));
            None
        }
        Some(v) => Some(v.get_ref().clone()),
        None => Some("USD".to_string()),
    };
    let sns_topic_arn = body.sns_topic_arn.as_ref().and_then(|v| {
        let arn = v.get_ref();
        let region = sns_topic_region(arn);
        match region {
            None => {
                c.error(
                    v.span(),
                    "billing_alarm.sns_topic_arn",
                    format!("`{arn}` is not an SNS topic ARN (arn:aws:sns:us-east-1:ACCOUNT:NAME)"),
                );
                None
            }
            Some(region) if region != "us-east-1" => {
                c.error(
                    v.span(),
                    "billing_alarm.sns_topic_arn",
                    format!("the topic is in {region}, but billing alarms live in us-east-1 and can only notify a topic there"),
                );
                None
            }
            Some(_) => Some(arn.clone()),
        }
    });
    let trigger = match &body.cron {
        Some(v) => c.cron(v, "billing_alarm.cron"),
        None => CronExpr::parse(DEFAULT_BILLING_CRON).ok(),
    }
    .map(|cron| Trigger::new(cron, tz));
    let alarm_name =
        body.alarm_name.as_ref().and_then(|v| c.non_empty(v, "billing_alarm.alarm_name")).unwrap_or_else(|| DEFAULT_ALARM_NAME.into());
    Some(BillingAlarm {
        threshold: threshold?,
        currency: currency?,
        description: body
            .description
            .clone()
            .unwrap_or_else(|| "Estimated AWS charges for the month are above the threshold (managed by offhours)".into()),
        alarm_name,
        sns_topic_arn,
        trigger,
    })
}

fn savings(c: &mut Checker, raw: &Spanned<RawSavings>) -> Savings {
    let body = raw.get_ref();
    let mut out = Savings::default();
    if let Some(v) = &body.retention
        && let Some(d) = c.duration(v, "savings.retention")
    {
        out.retention = d;
    }
    if let Some(v) = &body.currency {
        if v.get_ref().len() == 3 && v.get_ref().chars().all(|ch| ch.is_ascii_uppercase()) {
            out.currency = v.get_ref().clone();
        } else {
            c.error(v.span(), "savings.currency", format!("`{}` is not an ISO 4217 currency code (e.g. USD)", v.get_ref()));
        }
    }
    if let Some(v) = &body.price_refresh
        && let Some(d) = c.duration(v, "savings.price_refresh")
    {
        out.price_refresh = d;
    }
    for (key, v) in &body.prices {
        let price = v.get_ref().as_f64();
        let field = format!("savings.prices.{key}");
        let (region, size) = key.split_once(':').map_or((None, key.as_str()), |(r, s)| (Some(r), s));
        if size.is_empty() || region.is_some_and(|r| !is_region_name(r)) {
            c.error(v.span(), &field, "the key must be an instance type or DB class, optionally after a region (eu-west-1:t3.micro)");
        } else if !(price.is_finite() && price >= 0.0) {
            c.error(v.span(), &field, format!("must be an hourly price of 0 or more, found {price}"));
        } else {
            out.prices.insert(key.clone(), price);
        }
    }
    out
}

fn state(c: &mut Checker, raw: &Spanned<RawState>, first_region: Option<&str>) -> StateSettings {
    let body = raw.get_ref();
    let backend = body.backend.as_ref().map_or("file", |b| b.get_ref().as_str());
    match backend {
        "file" => {
            for (v, field) in [(&body.table, "state.table"), (&body.region, "state.region"), (&body.lease, "state.lease")] {
                if let Some(v) = v {
                    c.error(v.span(), field, "applies only to backend = \"dynamodb\"");
                }
            }
            StateSettings::File
        }
        "dynamodb" => {
            let table = match &body.table {
                None => {
                    c.error(
                        raw.span(),
                        "state.table",
                        "backend = \"dynamodb\" needs the table's name (create it with `offhours init-state`)",
                    );
                    None
                }
                Some(t) => {
                    let name = t.get_ref();
                    let valid = (3..=255).contains(&name.len()) && name.chars().all(|ch| ch.is_ascii_alphanumeric() || "_-.".contains(ch));
                    if !valid {
                        c.error(
                            t.span(),
                            "state.table",
                            format!("`{name}` is not a DynamoDB table name (3 to 255 of a-z, A-Z, 0-9, _, -, .)"),
                        );
                    }
                    valid.then(|| name.clone())
                }
            };
            let region = match &body.region {
                Some(r) if is_region_name(r.get_ref()) => Some(r.get_ref().clone()),
                Some(r) => {
                    c.error(r.span(), "state.region", format!("`{}` is not a region name (e.g. eu-west-1)", r.get_ref()));
                    None
                }
                None => first_region.map(str::to_string),
            };
            let lease = match &body.lease {
                None => Some(DynamoDbState::DEFAULT_LEASE),
                Some(v) => match c.duration(v, "state.lease") {
                    Some(d) if d < std::time::Duration::from_secs(2) => {
                        c.error(v.span(), "state.lease", "must be 2s or more: it is renewed every quarter of it");
                        None
                    }
                    other => other,
                },
            };
            match (table, region, lease) {
                (Some(table), Some(region), Some(lease)) => StateSettings::DynamoDb(DynamoDbState { table, region, lease }),
                _ => StateSettings::File,
            }
        }
        other => {
            let span = body.backend.as_ref().map_or(raw.span(), |b| b.span());
            c.error(span, "state.backend", format!("`{other}` is not a state backend (expected \"file\" or \"dynamodb\")"));
            StateSettings::File
        }
    }
}
