//! Prometheus metrics (the official `prometheus-client` crate): a subscriber of the event
//! stream that keeps counters, gauges and histograms, and renders them in the text
//! format for `/metrics`. Names follow Prometheus' conventions: prefix `offhours_`,
//! base units, `_total` for counters. No label takes unbounded values (no ids).

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::config::Config;
use crate::events::{Event, Subscriber};
use crate::model::Outcome;
use crate::savings::{Prices, Report};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResourceLabels {
    schedule: String,
    action: String,
    kind: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    schedule: String,
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    service: String,
    operation: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    service: String,
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NotificationLabels {
    sink: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabel {
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GovernedLabels {
    schedule: String,
    kind: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CalendarLabels {
    calendar: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScheduleLabel {
    schedule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SavingsLabels {
    schedule: String,
    currency: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

fn latency_histogram() -> Histogram {
    // 5 ms to about 40 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

fn lag_histogram() -> Histogram {
    // 1 ms to about 65 s: a fire is late by milliseconds, a catch-up by hours (the last
    // bucket and the sum show those).
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// Every metric offhours exposes.
pub struct Metrics {
    registry: Registry,
    resources: Family<ResourceLabels, Counter>,
    failures: Family<JobLabels, Counter>,
    brake_trips: Family<JobLabels, Counter>,
    last_success: Family<JobLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    fire_lag: Family<JobLabels, Histogram, fn() -> Histogram>,
    calls: Family<CallLabels, Counter>,
    call_duration: Family<OperationLabels, Histogram, fn() -> Histogram>,
    reloads: Family<OutcomeLabel, Counter>,
    findings: Family<RuleLabel, Gauge>,
    alarm: Family<OutcomeLabel, Gauge>,
    governed: Family<GovernedLabels, Gauge>,
    notifications: Family<NotificationLabels, Counter>,
    /// Resource-seconds kept off over the ledger's last 30 days, by schedule.
    off_seconds: Family<ScheduleLabel, Gauge>,
    /// Their estimated worth.
    savings: Family<SavingsLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    /// 1 while this replica leads (always, on a state file), 0 while it stands by.
    leader: Gauge,
    /// 1 per schedule with a hold in force.
    holds: Family<ScheduleLabel, Gauge>,
    calendar_reads: Family<CalendarLabels, Counter>,
    /// The label sets `governed` shows per schedule, to replace them at the next action.
    governed_shown: Mutex<std::collections::BTreeMap<String, Vec<GovernedLabels>>>,
    /// Serialises rendering (the registry is read-only after set-up).
    render: Mutex<()>,
    /// The savings figures the ledger's writer last counted.
    figures: std::sync::Arc<crate::store::ledger::LatestFigures>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let resources = Family::<ResourceLabels, Counter>::default();
        registry.register(
            "offhours_resource_outcomes",
            "Resources by schedule, action, kind and outcome of each action",
            resources.clone(),
        );
        let failures = Family::<JobLabels, Counter>::default();
        registry.register("offhours_action_failures", "Actions with at least one failed resource or listing", failures.clone());
        let brake_trips = Family::<JobLabels, Counter>::default();
        registry.register("offhours_brake_trips", "Actions the safety brake stopped before anything was touched", brake_trips.clone());
        let last_success = Family::<JobLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "offhours_last_success_timestamp_seconds",
            "When each schedule's action last finished with no failure (Unix time)",
            last_success.clone(),
        );
        let fire_lag = Family::<JobLabels, Histogram, fn() -> Histogram>::new_with_constructor(lag_histogram);
        registry.register("offhours_fire_lag_seconds", "From a fire's instant to the start of its action", fire_lag.clone());
        let calls = Family::<CallLabels, Counter>::default();
        registry.register("offhours_aws_calls", "AWS API calls by service, operation and outcome (after the SDK's retries)", calls.clone());
        let call_duration = Family::<OperationLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register("offhours_aws_call_duration_seconds", "AWS API call latency, retries included", call_duration.clone());
        let reloads = Family::<OutcomeLabel, Counter>::default();
        registry.register("offhours_reloads", "Reloads by outcome (applied, rejected)", reloads.clone());
        let findings = Family::<RuleLabel, Gauge>::default();
        registry.register("offhours_audit_findings", "Access-key findings by rule at the last audit", findings.clone());
        let alarm = Family::<OutcomeLabel, Gauge>::default();
        registry.register("offhours_billing_alarm_last_outcome", "1 for the billing alarm check's last outcome", alarm.clone());
        let governed = Family::<GovernedLabels, Gauge>::default();
        registry.register(
            "offhours_resources_governed",
            "Resources each schedule matched at its last action, by kind and state",
            governed.clone(),
        );
        let notifications = Family::<NotificationLabels, Counter>::default();
        registry.register(
            "offhours_notifications",
            "Notifications by kind of sink (sns, slack, teams, json) and outcome (sent, dropped)",
            notifications.clone(),
        );
        let off_seconds = Family::<ScheduleLabel, Gauge>::default();
        registry.register(
            "offhours_resource_off_seconds",
            "Resource-seconds offhours kept resources off over the last 30 days, by schedule (from the ledger; 3600 per resource-hour)",
            off_seconds.clone(),
        );
        let savings = Family::<SavingsLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "offhours_estimated_savings",
            "Estimate of the money those hours saved, by schedule, in the currency label, at on-demand prices ([savings.prices], else Price List prices cached by offhours report)",
            savings.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION").into() }).set(1);
        registry.register("offhours_build_info", "The running release", build);
        let leader = Gauge::default();
        leader.set(1);
        registry.register(
            "offhours_leader",
            "1 while this replica leads and fires jobs, 0 while it stands by ([state] backend = \"dynamodb\")",
            leader.clone(),
        );
        let holds = Family::<ScheduleLabel, Gauge>::default();
        registry.register(
            "offhours_hold",
            "1 for each schedule with a hold in force (offhours hold): its resources are kept on or off instead of their usual fires",
            holds.clone(),
        );
        let calendar_reads = Family::<CalendarLabels, Counter>::default();
        registry.register(
            "offhours_calendar_reads",
            "Reads of each [calendars.NAME] by outcome: file, fetched, cached (the fetch failed and the last good copy is used) or failed",
            calendar_reads.clone(),
        );
        Metrics {
            leader,
            holds,
            calendar_reads,
            registry,
            resources,
            failures,
            brake_trips,
            last_success,
            fire_lag,
            calls,
            call_duration,
            reloads,
            findings,
            alarm,
            governed,
            notifications,
            off_seconds,
            savings,
            governed_shown: Mutex::new(std::collections::BTreeMap::new()),
            render: Mutex::new(()),
            figures: Default::default(),
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let _guard = self.render.lock().expect("render lock");
        self.encode()
    }

    /// Reads the savings figures from `figures` (what the ledger's writer publishes to).
    pub fn with_figures(mut self, figures: std::sync::Arc<crate::store::ledger::LatestFigures>) -> Self {
        self.figures = figures;
        self
    }

    /// The text exposition format, with the savings figures the ledger's writer last
    /// counted priced at the running config's prices. Without a config or figures, no
    /// savings series.
    pub fn render_with(&self, config: Option<&Config>) -> String {
        let report = config.and_then(|c| {
            let figures = self.figures.get()?;
            Some(figures.tally.by_schedule(&Prices::of(&c.savings, &figures.cache)))
        });
        let _guard = self.render.lock().expect("render lock");
        self.set_savings(report.as_ref());
        self.encode()
    }

    /// Replaces the savings series with a report's rows by schedule: its hours off, and
    /// its estimate when some of them have a price.
    pub fn set_savings(&self, report: Option<&Report>) {
        self.off_seconds.clear();
        self.savings.clear();
        let Some(report) = report else { return };
        for row in &report.rows {
            self.off_seconds.get_or_create(&ScheduleLabel { schedule: row.key.clone() }).set(row.resource_hours_off.seconds);
            if let Some(money) = row.estimated_savings {
                let labels = SavingsLabels { schedule: row.key.clone(), currency: report.total.currency.clone() };
                self.savings.get_or_create(&labels).set(money.cents as f64 / 100.0);
            }
        }
    }

    fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

impl Subscriber for Metrics {
    fn on(&self, event: &Event<'_>) {
        match event {
            Event::Resource { schedule, action, result, .. } => {
                let labels = ResourceLabels {
                    schedule: schedule.to_string(),
                    action: action.to_string(),
                    kind: result.kind.to_string(),
                    outcome: result.outcome.to_string(),
                };
                self.resources.get_or_create(&labels).inc();
            }
            Event::ActionFinished { schedule, action, results, list_failures, .. } => {
                let job = JobLabels { schedule: schedule.to_string(), action: action.to_string() };
                if *list_failures > 0 || results.iter().any(|r| r.outcome == Outcome::Failed) {
                    self.failures.get_or_create(&job).inc();
                } else {
                    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
                    self.last_success.get_or_create(&job).set(now);
                }
                // The schedule's resources as this action found them, replacing the last.
                let mut shown = self.governed_shown.lock().expect("governed lock");
                for old in shown.remove(*schedule).unwrap_or_default() {
                    self.governed.remove(&old);
                }
                let mut now_shown = Vec::new();
                for r in *results {
                    let state = r.after.as_deref().unwrap_or(&r.before).to_string();
                    let labels = GovernedLabels { schedule: schedule.to_string(), kind: r.kind.to_string(), state };
                    self.governed.get_or_create(&labels).inc();
                    now_shown.push(labels);
                }
                shown.insert(schedule.to_string(), now_shown);
            }
            Event::BrakeTripped { schedule, action, .. } => {
                self.brake_trips.get_or_create(&JobLabels { schedule: schedule.to_string(), action: action.to_string() }).inc();
            }
            Event::FireStarted { schedule, action, lag, .. } => {
                let job = JobLabels { schedule: schedule.to_string(), action: action.to_string() };
                self.fire_lag.get_or_create(&job).observe(lag.as_secs_f64());
            }
            Event::Reload { applied, .. } => {
                self.reloads.get_or_create(&OutcomeLabel { outcome: if *applied { "applied" } else { "rejected" }.into() }).inc();
            }
            Event::AwsCall { service, operation, ok, duration } => {
                let outcome = if *ok { "ok" } else { "error" };
                self.calls
                    .get_or_create(&CallLabels { service: service.to_string(), operation: operation.to_string(), outcome: outcome.into() })
                    .inc();
                self.call_duration
                    .get_or_create(&OperationLabels { service: service.to_string(), operation: operation.to_string() })
                    .observe(duration.as_secs_f64());
            }
            Event::AuditFinished { findings } => {
                self.findings.clear();
                for (rule, n) in findings.iter() {
                    self.findings.get_or_create(&RuleLabel { rule: rule.to_string() }).set(*n as i64);
                }
            }
            Event::AlarmChecked { outcome, .. } => {
                self.alarm.clear();
                self.alarm.get_or_create(&OutcomeLabel { outcome: outcome.to_string() }).set(1);
            }
            Event::ActionAborted { schedule, action, .. } => {
                self.failures.get_or_create(&JobLabels { schedule: schedule.to_string(), action: action.to_string() }).inc();
            }
            Event::Notification { sink_kind, outcome } => {
                self.notifications.get_or_create(&NotificationLabels { sink: sink_kind.to_string(), outcome: outcome.to_string() }).inc();
            }
            Event::Role { leader } => {
                self.leader.set(i64::from(*leader));
            }
            Event::CalendarRead { calendar, outcome, .. } => {
                self.calendar_reads.get_or_create(&CalendarLabels { calendar: calendar.to_string(), outcome: outcome.to_string() }).inc();
            }
            Event::HoldsInForce { schedules } => {
                self.holds.clear();
                for s in schedules.iter() {
                    self.holds.get_or_create(&ScheduleLabel { schedule: s.to_string() }).set(1);
                }
            }
            // Told by the leader for people; the gauge follows every replica's reading.
            Event::Hold { .. } => {}
            // The held resources are counted by their own events (outcome `held`).
            Event::FireMissed { .. } | Event::StopWarning { .. } | Event::OrderHalted { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::model::{Action, Kind, ResourceResult};

    fn result(kind: Kind, id: &str, outcome: Outcome) -> ResourceResult {
        ResourceResult {
            account: String::new(),
            account_name: None,
            size: None,
            engine: None,
            deployment: None,
            kind,
            id: id.into(),
            region: "eu-west-1".into(),
            name: None,
            before: "running".into(),
            after: Some("stopped".into()),
            outcome,
            reason: None,
            request_id: None,
        }
    }

    fn line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(prefix))
    }

    #[test]
    fn the_hold_gauge_follows_each_reading_of_the_holds() {
        let m = Metrics::new();
        m.on(&Event::HoldsInForce { schedules: &["qa", "staging"] });
        m.on(&Event::HoldsInForce { schedules: &["staging"] });
        let text = m.render();
        assert!(text.contains("offhours_hold{schedule=\"staging\"} 1"), "{text}");
        assert!(!text.contains("schedule=\"qa\""), "a hold gone leaves no series: {text}");
    }

    #[test]
    fn events_become_series_without_ids() {
        let m = Metrics::new();
        let results = vec![
            result(crate::kinds::ec2::KIND, "i-1", Outcome::Stopped),
            result(crate::kinds::ec2::KIND, "i-2", Outcome::Stopped),
            result(crate::kinds::rds::INSTANCE, "db", Outcome::Failed),
        ];
        for r in &results {
            m.on(&Event::Resource { job: "schedule", schedule: "office", action: Action::Stop, dry_run: false, result: r });
        }
        let calls = BTreeMap::new();
        let finished = Event::ActionFinished {
            job: "schedule",
            schedule: "office",
            action: Action::Stop,
            dry_run: false,
            kinds: &[crate::kinds::ec2::KIND, crate::kinds::rds::INSTANCE],
            regions: &[],
            results: &results,
            list_failures: 0,
            failed_accounts: &[],
            calls: &calls,
            duration: Duration::from_millis(5),
        };
        m.on(&finished);
        m.on(&Event::AwsCall { service: "EC2", operation: "StopInstances", ok: true, duration: Duration::from_millis(40) });
        m.on(&Event::Reload { applied: false, errors: &[] });
        m.on(&Event::Notification { sink_kind: "slack", outcome: "sent" });
        let findings = BTreeMap::from([("key-too-old", 2usize)]);
        m.on(&Event::AuditFinished { findings: &findings });
        let text = m.render();
        let want = [
            r#"offhours_resource_outcomes_total{schedule="office",action="stop",kind="ec2",outcome="stopped"} 2"#,
            r#"offhours_resource_outcomes_total{schedule="office",action="stop",kind="rds",outcome="failed"} 1"#,
            r#"offhours_action_failures_total{schedule="office",action="stop"} 1"#,
            r#"offhours_aws_calls_total{service="EC2",operation="StopInstances",outcome="ok"} 1"#,
            r#"offhours_reloads_total{outcome="rejected"} 1"#,
            r#"offhours_notifications_total{sink="slack",outcome="sent"} 1"#,
            r#"offhours_audit_findings{rule="key-too-old"} 2"#,
            r#"offhours_resources_governed{schedule="office",kind="ec2",state="stopped"} 2"#,
        ];
        for w in want {
            let (series, _) = w.rsplit_once(' ').unwrap();
            assert_eq!(line(&text, series), Some(w), "{text}");
        }
        assert!(line(&text, "offhours_last_success_timestamp_seconds{").is_none(), "a failed action is no success");
        assert!(!text.contains("i-1") && !text.contains("\"db\""), "no resource id is a label");
        // The next action replaces the schedule's governed resources.
        let later = vec![ResourceResult { after: Some("running".into()), ..result(crate::kinds::ec2::KIND, "i-1", Outcome::Started) }];
        m.on(&Event::ActionFinished {
            job: "schedule",
            schedule: "office",
            action: Action::Start,
            dry_run: false,
            kinds: &[crate::kinds::ec2::KIND],
            regions: &[],
            results: &later,
            list_failures: 0,
            failed_accounts: &[],
            calls: &calls,
            duration: Duration::from_millis(5),
        });
        let text = m.render();
        assert_eq!(line(&text, r#"offhours_resources_governed{schedule="office",kind="ec2",state="stopped"}"#), None, "{text}");
        assert_eq!(
            line(&text, r#"offhours_resources_governed{schedule="office",kind="ec2",state="running"}"#).map(|l| l.ends_with(" 1")),
            Some(true)
        );
        assert!(line(&text, r#"offhours_last_success_timestamp_seconds{schedule="office",action="start"}"#).is_some());
    }

    /// 13 h of a t3.micro and 2 h of a group for `office`, 1 h unpriced for `lab`.
    fn savings_report() -> Report {
        let mut prices = Prices::new("USD");
        prices.set_file("t3.micro", "0.0104".parse().unwrap()).unwrap();
        let group = |schedule: &str, kind, size: Option<&str>| {
            let product = size.map(|s| crate::kinds::ec2::price::product("eu-west-1", s));
            let parts = size.map(|s| vec![crate::savings::Part::one(s, product.filter(|_| kind == crate::kinds::ec2::KIND))]);
            (schedule.to_string(), kind, "eu-west-1".to_string(), size.map(str::to_string), parts)
        };
        let tally = crate::savings::Tally {
            groups: BTreeMap::from([
                (group("office", crate::kinds::ec2::KIND, Some("t3.micro")), 13 * 3600),
                (group("office", crate::kinds::asg::KIND, None), 2 * 3600),
                (group("lab", crate::kinds::ec2::KIND, Some("m9.huge")), 3600),
            ]),
            ..Default::default()
        };
        tally.by_schedule(&prices)
    }

    #[test]
    fn savings_are_gauges_by_schedule_replaced_at_each_render() {
        let m = Metrics::new();
        m.set_savings(Some(&savings_report()));
        let text = m.render();
        assert_eq!(
            line(&text, r#"offhours_resource_off_seconds{schedule="office"}"#),
            Some(r#"offhours_resource_off_seconds{schedule="office"} 54000"#)
        );
        assert_eq!(
            line(&text, r#"offhours_resource_off_seconds{schedule="lab"}"#),
            Some(r#"offhours_resource_off_seconds{schedule="lab"} 3600"#)
        );
        // 13 h x 0.0104 = 0.1352 -> 0.14; `lab` has no price: no estimate.
        assert_eq!(
            line(&text, r#"offhours_estimated_savings{schedule="office",currency="USD"}"#),
            Some(r#"offhours_estimated_savings{schedule="office",currency="USD"} 0.14"#)
        );
        assert_eq!(line(&text, r#"offhours_estimated_savings{schedule="lab""#), None);
        assert!(text.contains("# HELP offhours_estimated_savings Estimate of"), "{text}");
        m.set_savings(None);
        let text = m.render();
        assert_eq!(line(&text, "offhours_resource_off_seconds{"), None, "{text}");
        // Without a config, nothing to price with: no series.
        assert_eq!(line(&m.render_with(None), "offhours_estimated_savings{"), None);
    }

    /// Every metric name a dashboard query names, from its `expr` fields and its
    /// variables' queries.
    fn queried_names(dashboard: &serde_json::Value) -> std::collections::BTreeSet<String> {
        fn walk(v: &serde_json::Value, key: Option<&str>, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| walk(v, Some(k), out)),
                serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, key, out)),
                serde_json::Value::String(s) if matches!(key, Some("expr" | "query" | "definition")) => out.push(s.clone()),
                _ => {}
            }
        }
        let mut exprs = Vec::new();
        walk(dashboard, None, &mut exprs);
        let mut names = std::collections::BTreeSet::new();
        for expr in exprs {
            let mut rest = expr.as_str();
            while let Some(i) = rest.find("offhours_") {
                let name: String = rest[i..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                rest = &rest[i + name.len()..];
                names.insert(name);
            }
        }
        names
    }

    /// The names a query may use for what `text` exposes: from each `# TYPE` line, a
    /// counter's `_total`, a histogram's `_bucket`, `_sum` and `_count`, a gauge's own
    /// name; only those with a sample line.
    fn unexposed(names: &std::collections::BTreeSet<String>, text: &str) -> Vec<String> {
        let mut exposed = std::collections::BTreeSet::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("# TYPE ") else { continue };
            let (family, kind) = rest.split_once(' ').expect("# TYPE name kind");
            let series: Vec<String> = match kind {
                "counter" => vec![format!("{family}_total")],
                "histogram" => ["_bucket", "_sum", "_count"].iter().map(|s| format!("{family}{s}")).collect(),
                _ => vec![family.to_string()],
            };
            exposed.extend(series);
        }
        let has_sample = |name: &str| text.lines().any(|l| l.strip_prefix(name).is_some_and(|r| r.starts_with('{') || r.starts_with(' ')));
        names.iter().filter(|n| !exposed.contains(*n) || !has_sample(n)).cloned().collect()
    }

    #[test]
    fn every_metric_the_grafana_dashboard_queries_is_exposed() {
        let dashboard: serde_json::Value = serde_json::from_str(include_str!("../contrib/grafana-dashboard.json")).expect("dashboard JSON");
        let names = queried_names(&dashboard);
        assert!(names.len() >= 12, "{names:?}");
        // A sample in every family: the text format leaves out empty families' samples.
        let m = Metrics::new();
        let results =
            vec![result(crate::kinds::ec2::KIND, "i-1", Outcome::Stopped), result(crate::kinds::ec2::KIND, "i-2", Outcome::Failed)];
        for r in &results {
            m.on(&Event::Resource { job: "schedule", schedule: "office", action: Action::Stop, dry_run: false, result: r });
        }
        let calls = BTreeMap::new();
        let finished = |action, results| Event::ActionFinished {
            job: "schedule",
            schedule: "office",
            action,
            dry_run: false,
            kinds: &[crate::kinds::ec2::KIND],
            regions: &[],
            results,
            list_failures: 0,
            failed_accounts: &[],
            calls: &calls,
            duration: Duration::from_millis(5),
        };
        m.on(&finished(Action::Stop, &results));
        m.on(&finished(Action::Start, &results[..1]));
        m.on(&Event::BrakeTripped {
            account: None,
            job: "schedule",
            schedule: "office",
            action: Action::Start,
            would_touch: 3,
            limit: 2,
            dry_run: false,
        });
        m.on(&Event::FireStarted { job: "schedule", schedule: "office", action: "stop", lag: Duration::from_millis(3) });
        m.on(&Event::AwsCall { service: "EC2", operation: "StopInstances", ok: false, duration: Duration::from_millis(40) });
        m.on(&Event::Reload { applied: true, errors: &[] });
        let findings = BTreeMap::from([("key-too-old", 1usize)]);
        m.on(&Event::AuditFinished { findings: &findings });
        m.on(&Event::AlarmChecked { outcome: "unchanged", alarm_name: "budget" });
        m.on(&Event::Notification { sink_kind: "slack", outcome: "dropped" });
        m.set_savings(Some(&savings_report()));
        let text = m.render();
        assert_eq!(unexposed(&names, &text), Vec::<String>::new(), "queried by contrib/grafana-dashboard.json but not exposed:\n{text}");
        // The check bites: a misspelt or missing metric, or a histogram series of a counter.
        let wrong = ["offhours_no_such_metric", "offhours_reloads", "offhours_brake_trips_bucket"].map(String::from).into();
        assert_eq!(unexposed(&wrong, &text), ["offhours_brake_trips_bucket", "offhours_no_such_metric", "offhours_reloads"]);
    }
}
