//! CloudWatch (billing alarm) and SNS (its topic's subscriptions), in us-east-1.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{AlarmType, ComparisonOperator, Dimension, MetricAlarm, Statistic, Tag};

use super::AwsError;

fn spec_from_sdk(a: &MetricAlarm) -> AlarmSpec {
    AlarmSpec {
        name: a.alarm_name().unwrap_or_default().to_string(),
        description: a.alarm_description().map(str::to_string),
        namespace: a.namespace().map(str::to_string),
        metric_name: a.metric_name().map(str::to_string),
        dimensions: a
            .dimensions()
            .iter()
            .map(|d| (d.name().unwrap_or_default().to_string(), d.value().unwrap_or_default().to_string()))
            .collect(),
        statistic: a.statistic().map(|s| s.as_str().to_string()),
        period: a.period(),
        evaluation_periods: a.evaluation_periods(),
        datapoints_to_alarm: a.datapoints_to_alarm(),
        threshold: a.threshold(),
        comparison_operator: a.comparison_operator().map(|c| c.as_str().to_string()),
        treat_missing_data: a.treat_missing_data().map(str::to_string),
        actions_enabled: a.actions_enabled(),
        alarm_actions: a.alarm_actions().iter().cloned().collect(),
        ok_actions: a.ok_actions().iter().cloned().collect(),
        insufficient_data_actions: a.insufficient_data_actions().iter().cloned().collect(),
    }
}

/// The metric alarm of that name, with its ARN, if it exists.
pub async fn find_alarm(client: &Client, name: &str) -> Result<Option<(AlarmSpec, String)>, AwsError> {
    let out = client
        .describe_alarms()
        .alarm_names(name)
        .alarm_types(AlarmType::MetricAlarm)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeAlarms", BILLING_REGION, e))?;
    Ok(out
        .metric_alarms()
        .iter()
        .find(|a| a.alarm_name() == Some(name))
        .map(|a| (spec_from_sdk(a), a.alarm_arn().unwrap_or_default().to_string())))
}

pub async fn tags(client: &Client, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ListTagsForResource", BILLING_REGION, e))?;
    Ok(out.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect())
}

/// Creates or replaces the alarm with exactly `spec` (PutMetricAlarm is a full
/// replace); `tags` are set on creation.
pub async fn put_alarm(client: &Client, spec: &AlarmSpec, tags: &BTreeMap<String, String>) -> Result<(), AwsError> {
    let mut req = client
        .put_metric_alarm()
        .alarm_name(&spec.name)
        .set_alarm_description(spec.description.clone())
        .set_namespace(spec.namespace.clone())
        .set_metric_name(spec.metric_name.clone())
        .set_statistic(spec.statistic.as_deref().map(Statistic::from))
        .set_period(spec.period)
        .set_evaluation_periods(spec.evaluation_periods)
        .set_datapoints_to_alarm(spec.datapoints_to_alarm)
        .set_threshold(spec.threshold)
        .set_comparison_operator(spec.comparison_operator.as_deref().map(ComparisonOperator::from))
        .set_treat_missing_data(spec.treat_missing_data.clone())
        .set_actions_enabled(spec.actions_enabled)
        .set_alarm_actions(Some(spec.alarm_actions.iter().cloned().collect()))
        .set_ok_actions(Some(spec.ok_actions.iter().cloned().collect()))
        .set_insufficient_data_actions(Some(spec.insufficient_data_actions.iter().cloned().collect()));
    for (name, value) in &spec.dimensions {
        req = req.dimensions(Dimension::builder().name(name).value(value).build());
    }
    for (key, value) in tags {
        req = req.tags(Tag::builder().key(key).value(value).build());
    }
    req.send().await.map_err(|e| AwsError::from_sdk("PutMetricAlarm", BILLING_REGION, e))?;
    Ok(())
}

/// Whether the account publishes billing metrics (it does only once billing alerts
/// are enabled in the console).
pub async fn billing_metrics_published(client: &Client) -> Result<bool, AwsError> {
    let out = client
        .list_metrics()
        .namespace(NAMESPACE)
        .metric_name(METRIC)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ListMetrics", BILLING_REGION, e))?;
    Ok(!out.metrics().is_empty())
}

/// How many of the topic's subscriptions are confirmed.
pub async fn confirmed_subscriptions(client: &aws_sdk_sns::Client, topic_arn: &str) -> Result<usize, AwsError> {
    let mut pages = client.list_subscriptions_by_topic().topic_arn(topic_arn).into_paginator().send();
    let mut confirmed = 0;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ListSubscriptionsByTopic", BILLING_REGION, e))?;
        confirmed += page.subscriptions().iter().filter(|s| s.subscription_arn().is_some_and(|a| a.starts_with("arn:"))).count();
    }
    Ok(confirmed)
}

/// Billing metrics are published in us-east-1 only, whatever the other regions.
pub const BILLING_REGION: &str = "us-east-1";

pub const NAMESPACE: &str = "AWS/Billing";

pub const METRIC: &str = "EstimatedCharges";

/// The parts of a metric alarm offhours sets, with absent values at AWS's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSpec {
    pub name: String,
    pub description: Option<String>,
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    pub dimensions: BTreeSet<(String, String)>,
    pub statistic: Option<String>,
    pub period: Option<i32>,
    pub evaluation_periods: Option<i32>,
    /// Absent: as many as `evaluation_periods` (AWS's default).
    pub datapoints_to_alarm: Option<i32>,
    pub threshold: Option<f64>,
    pub comparison_operator: Option<String>,
    /// Absent: `missing` (AWS's default).
    pub treat_missing_data: Option<String>,
    /// Absent: true (AWS's default).
    pub actions_enabled: Option<bool>,
    pub alarm_actions: BTreeSet<String>,
    pub ok_actions: BTreeSet<String>,
    pub insufficient_data_actions: BTreeSet<String>,
}
