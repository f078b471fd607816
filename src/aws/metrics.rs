//! CloudWatch metrics at one-hour resolution, for `offhours suggest`: GetMetricData
//! with up to 500 metrics a call (its limit), the calls of a region sent at once under
//! its bound on CloudWatch calls, every page read.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use aws_smithy_types::DateTime as SmithyTime;
use chrono::{DateTime, Utc};

use super::{Api, AwsError, observe};
use crate::model::MetricQuery;

/// The IAM prefix of the calls, and the name of their bound on calls in flight.
pub const SERVICE: &str = "cloudwatch";

/// The most metrics one GetMetricData call reads.
pub const PER_CALL: usize = 500;

/// One hour, the resolution read (free for 63 days).
const PERIOD_S: i32 = 3600;

fn client(api: &Api) -> aws_sdk_cloudwatch::Client {
    api.client(|conf| {
        aws_sdk_cloudwatch::Client::from_conf(aws_sdk_cloudwatch::config::Builder::from(conf).interceptor(observe::Observe).build())
    })
}

fn query(i: usize, q: &MetricQuery) -> MetricDataQuery {
    let dimensions = q.dimensions.iter().map(|(name, value)| Dimension::builder().name(*name).value(value).build());
    let metric = Metric::builder().namespace(q.namespace).metric_name(q.name).set_dimensions(Some(dimensions.collect())).build();
    let stat = MetricStat::builder().metric(metric).period(PERIOD_S).stat(q.stat).build();
    MetricDataQuery::builder().id(format!("m{i}")).metric_stat(stat).return_data(true).build()
}

fn time(t: DateTime<Utc>) -> SmithyTime {
    SmithyTime::from_secs(t.timestamp())
}

/// Each query's hourly values in `[since, until)`, keyed by the hour's start, in the
/// order of `queries`. A metric with no data has an empty map.
pub async fn hourly(
    api: &Api,
    queries: &[MetricQuery],
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<BTreeMap<DateTime<Utc>, f64>>, AwsError> {
    let chunks = queries.chunks(PER_CALL).enumerate().map(|(c, chunk)| async move {
        let first = c * PER_CALL;
        let request = client(api)
            .get_metric_data()
            .set_metric_data_queries(Some(chunk.iter().enumerate().map(|(i, q)| query(first + i, q)).collect()))
            .start_time(time(since))
            .end_time(time(until))
            .scan_by(ScanBy::TimestampAscending);
        let mut found: Vec<(usize, DateTime<Utc>, f64)> = Vec::new();
        let each = |page: aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput| {
            for r in page.metric_data_results() {
                let Some(i) = r.id().and_then(|id| id.strip_prefix('m')).and_then(|n| n.parse::<usize>().ok()) else { continue };
                for (t, v) in r.timestamps().iter().zip(r.values()) {
                    if let Some(at) = DateTime::from_timestamp(t.secs(), 0) {
                        found.push((i, at, *v));
                    }
                }
            }
        };
        api.pages(SERVICE, "GetMetricData", request.into_paginator().send(), |_| None, each).await?;
        Ok::<_, AwsError>(found)
    });
    let mut out = vec![BTreeMap::new(); queries.len()];
    for chunk in futures_util::future::join_all(chunks).await {
        for (i, at, v) in chunk? {
            if let Some(series) = out.get_mut(i) {
                series.insert(at, v);
            }
        }
    }
    Ok(out)
}
