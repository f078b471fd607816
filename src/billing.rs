//! The billing alarm as the file wants it, and how an existing alarm differs from it.
//! Pure: the job reads the alarm from CloudWatch and writes it back; this decides.

use std::collections::BTreeSet;

use serde::Serialize;

pub use crate::aws::cloudwatch::{AlarmSpec, BILLING_REGION, METRIC, NAMESPACE};
use crate::config::BillingAlarm;

/// Tag that marks an alarm as offhours' own: only such an alarm is ever rewritten.
pub const MANAGED_TAG_KEY: &str = "managed-by";
pub const MANAGED_TAG_VALUE: &str = "offhours";

/// Thresholds closer than this are equal (CloudWatch stores a double).
const THRESHOLD_EPSILON: f64 = 1e-6;

/// The alarm the AWS guide "Create a billing alarm to monitor your estimated AWS
/// charges" describes, with the file's threshold, currency and topic.
pub fn desired(cfg: &BillingAlarm) -> AlarmSpec {
    AlarmSpec {
        name: cfg.alarm_name.clone(),
        description: Some(cfg.description.clone()),
        namespace: Some(NAMESPACE.into()),
        metric_name: Some(METRIC.into()),
        dimensions: [("Currency".to_string(), cfg.currency.clone())].into(),
        statistic: Some("Maximum".into()),
        period: Some(21_600),
        evaluation_periods: Some(1),
        datapoints_to_alarm: Some(1),
        threshold: Some(cfg.threshold),
        comparison_operator: Some("GreaterThanThreshold".into()),
        treat_missing_data: Some("ignore".into()),
        actions_enabled: Some(true),
        alarm_actions: cfg.sns_topic_arn.iter().cloned().collect(),
        ok_actions: BTreeSet::new(),
        insufficient_data_actions: BTreeSet::new(),
    }
}

/// The names of the fields in which `actual` differs from `desired`: dimensions and
/// actions compared as sets, the threshold within an epsilon, absent values at their
/// AWS defaults.
pub fn differences(desired: &AlarmSpec, actual: &AlarmSpec) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut check = |field: &'static str, same: bool| {
        if !same {
            out.push(field);
        }
    };
    check("description", desired.description.as_deref().unwrap_or("") == actual.description.as_deref().unwrap_or(""));
    check("namespace", desired.namespace == actual.namespace);
    check("metric_name", desired.metric_name == actual.metric_name);
    check("dimensions", desired.dimensions == actual.dimensions);
    check("statistic", desired.statistic == actual.statistic);
    check("period", desired.period == actual.period);
    check("evaluation_periods", desired.evaluation_periods == actual.evaluation_periods);
    let datapoints = |s: &AlarmSpec| s.datapoints_to_alarm.or(s.evaluation_periods);
    check("datapoints_to_alarm", datapoints(desired) == datapoints(actual));
    check(
        "threshold",
        match (desired.threshold, actual.threshold) {
            (Some(a), Some(b)) => (a - b).abs() <= THRESHOLD_EPSILON * a.abs().max(1.0),
            (a, b) => a.is_none() && b.is_none(),
        },
    );
    check("comparison_operator", desired.comparison_operator == actual.comparison_operator);
    let missing = |s: &AlarmSpec| s.treat_missing_data.clone().unwrap_or_else(|| "missing".into());
    check("treat_missing_data", missing(desired) == missing(actual));
    check("actions_enabled", desired.actions_enabled.unwrap_or(true) == actual.actions_enabled.unwrap_or(true));
    check("alarm_actions", desired.alarm_actions == actual.alarm_actions);
    check("ok_actions", desired.ok_actions == actual.ok_actions);
    check("insufficient_data_actions", desired.insufficient_data_actions == actual.insufficient_data_actions);
    out
}

/// What ensuring the alarm comes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Plan {
    Create,
    Update {
        changed: Vec<&'static str>,
    },
    Unchanged,
    /// Same name, not offhours' own: left alone.
    Foreign {
        changed: Vec<&'static str>,
    },
}

/// Decides from the alarm found (if any) and whether it carries the managed tag.
pub fn decide(desired: &AlarmSpec, found: Option<(&AlarmSpec, bool)>) -> Plan {
    match found {
        None => Plan::Create,
        Some((actual, managed)) => {
            let changed = differences(desired, actual);
            match (changed.is_empty(), managed) {
                (true, _) => Plan::Unchanged,
                (false, true) => Plan::Update { changed },
                (false, false) => Plan::Foreign { changed },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BillingAlarm {
        BillingAlarm {
            threshold: 500.0,
            currency: "USD".into(),
            alarm_name: "offhours-estimated-charges".into(),
            sns_topic_arn: Some("arn:aws:sns:us-east-1:123456789012:billing".into()),
            trigger: None,
            description: "over budget".into(),
        }
    }

    #[track_caller]
    fn check(edit: impl FnOnce(&mut AlarmSpec), expect: &[&str]) {
        let want = desired(&cfg());
        let mut got = want.clone();
        edit(&mut got);
        assert_eq!(differences(&want, &got), expect);
    }

    #[test]
    fn field_by_field() {
        check(|_| {}, &[]);
        check(|a| a.threshold = Some(500.0 + 1e-9), &[]);
        check(|a| a.threshold = Some(499.99), &["threshold"]);
        check(|a| a.threshold = None, &["threshold"]);
        check(|a| a.dimensions = [("Currency".to_string(), "EUR".to_string())].into(), &["dimensions"]);
        check(
            |a| {
                a.dimensions.insert(("LinkedAccount".into(), "1".into()));
            },
            &["dimensions"],
        );
        check(|a| a.statistic = Some("Average".into()), &["statistic"]);
        check(|a| a.period = Some(3600), &["period"]);
        check(|a| a.evaluation_periods = Some(2), &["evaluation_periods"]);
        check(|a| a.datapoints_to_alarm = Some(2), &["datapoints_to_alarm"]);
        check(|a| a.comparison_operator = Some("GreaterThanOrEqualToThreshold".into()), &["comparison_operator"]);
        check(|a| a.treat_missing_data = None, &["treat_missing_data"]);
        check(|a| a.alarm_actions.clear(), &["alarm_actions"]);
        check(
            |a| {
                a.ok_actions.insert("arn:aws:sns:us-east-1:1:x".into());
            },
            &["ok_actions"],
        );
        check(|a| a.description = Some("hand-edited".into()), &["description"]);
        check(|a| a.namespace = Some("AWS/EC2".into()), &["namespace"]);
        check(|a| a.metric_name = None, &["metric_name"]);
    }

    #[test]
    fn absent_values_are_aws_defaults() {
        // Actions enabled and datapoints are AWS's defaults when absent.
        check(|a| a.actions_enabled = None, &[]);
        check(|a| a.datapoints_to_alarm = None, &[]);
        check(|a| a.actions_enabled = Some(false), &["actions_enabled"]);
        // "missing" is the default for treat_missing_data.
        let mut want = desired(&cfg());
        want.treat_missing_data = Some("missing".into());
        let mut got = want.clone();
        got.treat_missing_data = None;
        assert!(differences(&want, &got).is_empty());
    }

    #[test]
    fn dimension_and_action_order_do_not_matter() {
        let mut want = desired(&cfg());
        want.alarm_actions = ["b".to_string(), "a".to_string()].into();
        let mut got = want.clone();
        got.alarm_actions = ["a".to_string(), "b".to_string()].into();
        assert!(differences(&want, &got).is_empty());
    }

    #[test]
    fn decisions() {
        let want = desired(&cfg());
        let mut drifted = want.clone();
        drifted.threshold = Some(100.0);
        assert_eq!(decide(&want, None), Plan::Create);
        assert_eq!(decide(&want, Some((&want, true))), Plan::Unchanged);
        assert_eq!(decide(&want, Some((&want, false))), Plan::Unchanged);
        assert_eq!(decide(&want, Some((&drifted, true))), Plan::Update { changed: vec!["threshold"] });
        assert_eq!(decide(&want, Some((&drifted, false))), Plan::Foreign { changed: vec!["threshold"] });
    }
}
