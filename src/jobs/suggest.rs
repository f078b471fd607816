//! `offhours suggest`'s reads: every resource of the kinds asked for in every account
//! and region, each one's hourly metrics (GetMetricData, 500 metrics a call), and the
//! pattern `suggest` finds in them; resources with the same crons merged into one
//! schedule, priced as the savings report prices them.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::aws::{CallCounter, metrics};
use crate::config::Config;
use crate::jobs::listing::{self, Read};
use crate::jobs::targets::Target;
use crate::kinds::Rules;
use crate::model::{ApiProduct, Kind, MetricQuery, Resource};
use crate::savings::{Governed, Money, Prices, projected_monthly};
use crate::suggest::pattern::{self, LeftOut, Pattern};
use crate::suggest::{Series, Thresholds};

/// What to read and how to judge it.
#[derive(Debug, Clone)]
pub struct Request {
    pub kinds: Vec<Kind>,
    /// Only these accounts (ids or names); empty: every one.
    pub accounts: Vec<String>,
    /// Only these regions; empty: the file's.
    pub regions: Vec<String>,
    /// Only resources carrying all these tags.
    pub tags: BTreeMap<String, String>,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub settings: pattern::Settings,
    pub thresholds: Thresholds,
}

/// One resource in a suggested schedule.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub id: String,
    pub kind: Kind,
    pub account: String,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The schedule its tag names now, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_now: Option<String>,
    /// That schedule (when the file has it) against the data: its hours off a week, and
    /// the hours of the window it had the resource off while the data shows it busy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_now_hours_off_per_week: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_now_busy_hours_off: Option<usize>,
    pub idle_hours_per_week: u32,
    #[serde(skip)]
    pub governed: Governed,
    /// As listed, for `--tag`.
    #[serde(skip)]
    pub resource: Resource,
}

/// One suggested schedule.
#[derive(Debug, Clone, Serialize)]
pub struct Suggested {
    pub name: String,
    pub timezone: String,
    pub start: String,
    pub stop: String,
    pub resources: Vec<Member>,
    pub hours_off_per_week: u32,
    /// At the known prices; `None` when no resource of it has one.
    pub monthly_savings: Option<Money>,
    pub currency: String,
    /// Resources without a price (not in `monthly_savings`).
    pub unpriced_resources: usize,
}

/// A resource with no suggestion, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Left {
    pub id: String,
    pub kind: Kind,
    pub account: String,
    pub region: String,
    pub reason: String,
    /// The schedule its tag names now, if any, and the busy hours of the window it
    /// had the resource off (when the file has that schedule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_now: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_now_busy_hours_off: Option<usize>,
}

/// A place that could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub account: String,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    pub error: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuggestReport {
    pub since: String,
    pub until: String,
    pub schedules: Vec<Suggested>,
    pub left_out: Vec<Left>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Failure>,
    #[serde(skip)]
    pub calls: BTreeMap<&'static str, u64>,
}

/// A resource read, with its pattern or why it has none.
struct Judged {
    account: String,
    resource: Resource,
    found: Result<Pattern, String>,
    /// Its schedule now against the data: (hours off a week, busy hours it had it off).
    now: Option<(u32, usize)>,
}

/// The schedule `r`'s tag names, if the file has it, against `hours`.
fn schedule_now(config: &Config, r: &Resource, hours: &crate::suggest::Hours, at: DateTime<Utc>) -> Option<(u32, usize)> {
    let name = r.tags.get(&config.tag_key)?;
    let schedule = config.schedules.iter().find(|s| &s.name == name)?;
    let off = crate::savings::off_seconds_per_week(schedule, at).map_or(0, |s| (s / 3600) as u32);
    Some((off, pattern::busy_hours_off(schedule.triggers(), hours)))
}

/// Each resource's hourly values by measure, from its queries' answers (several
/// metrics of one measure, such as network in and out, summed where all were read).
fn series_of(queries: &[MetricQuery], answers: &[BTreeMap<DateTime<Utc>, f64>]) -> Series {
    let mut by_measure: BTreeMap<_, Vec<&BTreeMap<DateTime<Utc>, f64>>> = BTreeMap::new();
    for (q, a) in queries.iter().zip(answers) {
        by_measure.entry(q.measure).or_default().push(a);
    }
    by_measure
        .into_iter()
        .map(|(measure, maps)| {
            let summed = maps[0]
                .iter()
                .filter_map(|(at, v)| maps[1..].iter().try_fold(*v, |sum, m| m.get(at).map(|x| sum + x)).map(|s| (*at, s)))
                .collect();
            (measure, summed)
        })
        .collect()
}

/// One region of one account: its resources, their metrics, their patterns.
async fn region(
    target: &Target,
    region: &str,
    config: &Config,
    req: &Request,
    calls: &Arc<CallCounter>,
    errors: &mut Vec<Failure>,
) -> Vec<Judged> {
    let account = target.account.id.clone();
    let regions = [region.to_string()];
    let mut resources = Vec::new();
    for l in listing::read(&target.aws, &req.kinds, &regions, Read::Tagged(&req.tags), calls).await {
        match l.found {
            Ok(found) => resources.extend(found),
            Err(e) => errors.push(Failure { account: account.clone(), region: l.region, kind: Some(l.kind), error: e.to_string() }),
        }
    }
    let queries: Vec<Vec<MetricQuery>> = resources.iter().map(|r| crate::kinds::of(r.kind).metrics(r)).collect();
    let flat: Vec<MetricQuery> = queries.iter().flatten().cloned().collect();
    let api = target.aws.api(region, calls);
    let answers = match metrics::hourly(&api, &flat, req.since, req.until).await {
        Ok(a) => a,
        Err(e) => {
            errors.push(Failure { account, region: region.to_string(), kind: None, error: e.to_string() });
            return Vec::new();
        }
    };
    let mut offset = 0;
    let mut out = Vec::with_capacity(resources.len());
    for (resource, qs) in resources.into_iter().zip(queries) {
        let (found, now) = if qs.is_empty() {
            (Err(format!("kind {}: no utilization metrics are read for it", resource.kind)), None)
        } else {
            let series = series_of(&qs, &answers[offset..offset + qs.len()]);
            let hours = crate::suggest::hours(&series, req.since, req.until, &req.thresholds);
            let now = schedule_now(config, &resource, &hours, req.until);
            (pattern::find(&hours, &req.settings).map_err(|e: LeftOut| e.to_string()), now)
        };
        offset += qs.len();
        out.push(Judged { account: account.clone(), resource, found, now });
    }
    out
}

/// Every resource of every account and region asked for, judged.
async fn judge(targets: &[Target], config: &Config, req: &Request, calls: &Arc<CallCounter>, errors: &mut Vec<Failure>) -> Vec<Judged> {
    let chosen = targets
        .iter()
        .filter(|t| req.accounts.is_empty() || req.accounts.iter().any(|a| *a == t.account.id || Some(a) == t.account.name.as_ref()));
    let mut places = Vec::new();
    for t in chosen {
        match &t.regions {
            Ok(regions) => {
                places.extend(regions.iter().filter(|r| req.regions.is_empty() || req.regions.contains(r)).map(move |r| (t, r.clone())))
            }
            Err(e) => errors.push(Failure { account: t.account.id.clone(), region: String::new(), kind: None, error: e.clone() }),
        }
    }
    let reads = places.iter().map(|(t, r)| async move {
        let mut errs = Vec::new();
        let judged = region(t, r, config, req, calls, &mut errs).await;
        (judged, errs)
    });
    let mut out = Vec::new();
    for (judged, errs) in futures_util::future::join_all(reads).await {
        out.extend(judged);
        errors.extend(errs);
    }
    out
}

impl SuggestReport {
    /// The Price List products the file does not price, of every suggested resource.
    pub fn api_products(&self, prices: &Prices) -> Vec<ApiProduct> {
        let mut out: Vec<ApiProduct> = self
            .schedules
            .iter()
            .flat_map(|s| &s.resources)
            .filter_map(|m| Some(prices.api_products(&m.region, &m.governed.parts()?)))
            .flatten()
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Each schedule's monthly saving at `prices` (its hours off, every month alike).
    pub fn price(&mut self, prices: &Prices) {
        for s in &mut self.schedules {
            let governed: Vec<Governed> = s.resources.iter().map(|m| m.governed.clone()).collect();
            let projection = projected_monthly(i64::from(s.hours_off_per_week) * 3600, &governed, prices);
            s.monthly_savings = projection.estimated_savings;
            s.currency = projection.currency;
            s.unpriced_resources = projection.unpriced_resources;
        }
    }
}

/// The suggestion for every resource asked for, not yet priced ([`SuggestReport::price`]).
pub async fn suggest(targets: &[Target], config: &Config, req: &Request) -> SuggestReport {
    let calls = Arc::new(CallCounter::default());
    let mut errors = Vec::new();
    let judged = judge(targets, config, req, &calls, &mut errors).await;
    let mut groups: BTreeMap<(String, String), (u32, Vec<Member>)> = BTreeMap::new();
    let mut left_out = Vec::new();
    for j in judged {
        let r = &j.resource;
        match j.found {
            Ok(p) => groups.entry((p.start.clone(), p.stop.clone())).or_insert((p.hours_off_per_week, Vec::new())).1.push(Member {
                id: r.id.clone(),
                kind: r.kind,
                account: j.account.clone(),
                region: r.region.clone(),
                name: r.name().map(str::to_string),
                schedule_now: r.tags.get(&config.tag_key).cloned(),
                schedule_now_hours_off_per_week: j.now.map(|(off, _)| off),
                schedule_now_busy_hours_off: j.now.map(|(_, busy)| busy),
                idle_hours_per_week: p.idle_hours_per_week,
                governed: Governed::of(r),
                resource: r.clone(),
            }),
            Err(reason) => left_out.push(Left {
                id: r.id.clone(),
                kind: r.kind,
                account: j.account,
                region: r.region.clone(),
                reason,
                schedule_now: r.tags.get(&config.tag_key).cloned(),
                schedule_now_busy_hours_off: j.now.map(|(_, busy)| busy),
            }),
        }
    }
    let schedules = groups
        .into_iter()
        .map(|((start, stop), (hours_off, resources))| Suggested {
            name: crate::suggest::name(&start, &stop),
            timezone: req.settings.timezone.name().to_string(),
            start,
            stop,
            unpriced_resources: resources.len(),
            resources,
            hours_off_per_week: hours_off,
            monthly_savings: None,
            currency: config.savings.currency.clone(),
        })
        .collect();
    left_out.sort_by(|a, b| (&a.account, &a.region, a.kind, &a.id).cmp(&(&b.account, &b.region, b.kind, &b.id)));
    let local = |t: DateTime<Utc>| t.with_timezone(&req.settings.timezone).to_rfc3339_opts(SecondsFormat::Secs, false);
    SuggestReport { since: local(req.since), until: local(req.until), schedules, left_out, errors, calls: calls.snapshot() }
}

/// One schedule tag written (or that would be) by `suggest --tag`.
#[derive(Debug, Clone, Serialize)]
pub struct Tagged {
    pub account: String,
    pub kind: Kind,
    pub id: String,
    pub region: String,
    pub schedule: String,
    /// `tagged`, `would-tag`, `unchanged` (already this schedule's), `skipped` (another
    /// schedule's: left to it) or `failed`.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Writes the schedule tag (`tag_key` = the suggested schedule's name) on every
/// suggested resource, unless `dry_run`; through the same brake as an action. A
/// resource another schedule governs is left to it.
pub async fn tag(targets: &[Target], config: &Config, report: &SuggestReport, dry_run: bool) -> Result<Vec<Tagged>, String> {
    let mut per_account: BTreeMap<String, usize> = BTreeMap::new();
    for m in report.schedules.iter().flat_map(|s| &s.resources).filter(|m| m.schedule_now.is_none()) {
        *per_account.entry(m.account.clone()).or_default() += 1;
    }
    if let Some(why) = crate::suggest::over_brake(&per_account, config.max_instances_per_action, config.max_instances_per_action_total) {
        tracing::error!(job = "suggest", reason = %why, "Safety brake tripped, nothing tagged.");
        return Err(why);
    }
    let calls = Arc::new(CallCounter::default());
    let writes = report.schedules.iter().flat_map(|s| s.resources.iter().map(move |m| (s, m))).map(|(s, m)| {
        let calls = &calls;
        async move {
            let tagged = |outcome, reason: Option<String>| Tagged {
                account: m.account.clone(),
                kind: m.kind,
                id: m.id.clone(),
                region: m.region.clone(),
                schedule: s.name.clone(),
                outcome,
                reason,
            };
            match m.schedule_now.as_deref() {
                Some(now) if now == s.name => return tagged("unchanged", None),
                Some(now) => return tagged("skipped", Some(format!("already governed by schedule {now}"))),
                None if dry_run => return tagged("would-tag", None),
                None => {}
            }
            let Some(target) = targets.iter().find(|t| t.account.id == m.account) else {
                return tagged("failed", Some(format!("account {} is not among the file's", m.account)));
            };
            let api = target.aws.api(&m.region, calls);
            let written = crate::kinds::of(m.kind).adapter().tag(&api, &m.resource, &config.tag_key, Some(&s.name)).await;
            let done = match written {
                Ok(()) => tagged("tagged", None),
                Err(e) => tagged("failed", Some(e.to_string())),
            };
            tracing::info!(job = "suggest", account = %done.account, kind = %done.kind, region = %done.region, id = %done.id, tag = %config.tag_key, schedule = %done.schedule, outcome = done.outcome, reason = done.reason.as_deref(), "Schedule tag written.");
            done
        }
    });
    Ok(futures_util::future::join_all(writes).await)
}
