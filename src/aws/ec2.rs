//! EC2: list instances by tag, start and stop them in batches, re-read their states.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, Instance as SdkInstance};

use super::{AwsError, ErrorKind};
use crate::config::Action;
use crate::plan::{Instance, InstanceState};

/// Instance ids per StartInstances / StopInstances call. A call fails whole when one
/// of its instances is refused, so a batch is also the unit that gets split.
pub const BATCH_SIZE: usize = 50;

/// The most values EC2 accepts in one filter.
const FILTER_VALUES: usize = 200;

/// States worth listing: terminated instances linger for an hour and are noise.
const LISTED_STATES: [&str; 5] = ["pending", "running", "stopping", "stopped", "shutting-down"];

/// Counts API operations by name (retries of one operation count once).
#[derive(Debug, Default)]
pub struct CallCounter(Mutex<BTreeMap<&'static str, u64>>);

impl CallCounter {
    pub fn add(&self, operation: &'static str) {
        *self.0.lock().expect("counter lock").entry(operation).or_default() += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        self.0.lock().expect("counter lock").clone()
    }
}

fn instance_from_sdk(region: &str, i: &SdkInstance) -> Option<Instance> {
    Some(Instance {
        id: i.instance_id()?.to_string(),
        region: region.to_string(),
        state: InstanceState::parse(i.state().and_then(|s| s.name()).map_or("unknown", |n| n.as_str())),
        tags: i.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect(),
        root_device_type: i.root_device_type().map(|d| d.as_str().to_string()),
        lifecycle: i.instance_lifecycle().map(|l| l.as_str().to_string()),
        hibernation_configured: i.hibernation_options().and_then(|h| h.configured()).unwrap_or(false),
        state_reason: i.state_reason().and_then(|r| r.message()).filter(|m| !m.is_empty()).map(str::to_string),
    })
}

/// The regions enabled for the account.
pub async fn enabled_regions(client: &Client, region: &str) -> Result<Vec<String>, AwsError> {
    let out = client.describe_regions().send().await.map_err(|e| AwsError::from_sdk("DescribeRegions", region, e))?;
    let mut names: Vec<String> = out.regions().iter().filter_map(|r| r.region_name().map(str::to_string)).collect();
    names.sort();
    Ok(names)
}

/// Every listed instance carrying all the `selector` tags: one paginated
/// DescribeInstances with server-side tag and state filters.
pub async fn describe_tagged(
    client: &Client,
    region: &str,
    selector: &BTreeMap<String, String>,
    calls: &CallCounter,
) -> Result<Vec<Instance>, AwsError> {
    let mut filters: Vec<Filter> = selector.iter().map(|(k, v)| Filter::builder().name(format!("tag:{k}")).values(v).build()).collect();
    filters.push(
        Filter::builder().name("instance-state-name").set_values(Some(LISTED_STATES.iter().map(|s| s.to_string()).collect())).build(),
    );
    describe(client, region, filters, calls).await
}

/// The current view of the given instances (a filter, not InstanceIds, so that one
/// vanished id does not fail the whole call).
pub async fn describe_ids(client: &Client, region: &str, ids: &[String], calls: &CallCounter) -> Result<Vec<Instance>, AwsError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(FILTER_VALUES) {
        let filter = Filter::builder().name("instance-id").set_values(Some(chunk.to_vec())).build();
        out.extend(describe(client, region, vec![filter], calls).await?);
    }
    Ok(out)
}

async fn describe(client: &Client, region: &str, filters: Vec<Filter>, calls: &CallCounter) -> Result<Vec<Instance>, AwsError> {
    let mut pages = client.describe_instances().set_filters(Some(filters)).max_results(1000).into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        calls.add("DescribeInstances");
        let page = page.map_err(|e| AwsError::from_sdk("DescribeInstances", region, e))?;
        for reservation in page.reservations() {
            out.extend(reservation.instances().iter().filter_map(|i| instance_from_sdk(region, i)));
        }
    }
    Ok(out)
}

/// One Start/StopInstances call for `ids`; the ids EC2 answered for. A dry run that
/// would succeed answers an empty list.
pub async fn change_state(
    client: &Client,
    region: &str,
    action: Action,
    ids: &[String],
    hibernate: bool,
    dry_run: bool,
    calls: &CallCounter,
) -> Result<Vec<String>, AwsError> {
    let changes = match action {
        Action::Start => {
            calls.add("StartInstances");
            client
                .start_instances()
                .set_instance_ids(Some(ids.to_vec()))
                .dry_run(dry_run)
                .send()
                .await
                .map(|out| out.starting_instances().to_vec())
                .map_err(|e| AwsError::from_sdk("StartInstances", region, e))
        }
        Action::Stop => {
            calls.add("StopInstances");
            client
                .stop_instances()
                .set_instance_ids(Some(ids.to_vec()))
                .hibernate(hibernate)
                .dry_run(dry_run)
                .send()
                .await
                .map(|out| out.stopping_instances().to_vec())
                .map_err(|e| AwsError::from_sdk("StopInstances", region, e))
        }
    };
    match changes {
        Ok(list) => Ok(list.iter().filter_map(|c| c.instance_id().map(str::to_string)).collect()),
        Err(e) if dry_run && e.kind == ErrorKind::DryRunOk => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Whether a failed batch may be split to find the instances at fault: errors that
/// belong to the call as a whole (throttling, timeouts, credentials) are not.
fn splittable(kind: &ErrorKind) -> bool {
    !matches!(kind, ErrorKind::Throttled | ErrorKind::Timeout | ErrorKind::Unreachable | ErrorKind::Credentials)
}

/// The outcome of one batch after splitting: which ids it covered and how it went.
pub type BatchResult = (Vec<String>, Result<Vec<String>, AwsError>);

/// Sends `ids` through `call` in batches of [`BATCH_SIZE`]. A batch refused because of
/// some of its instances is halved, recursively, until each refused instance stands
/// alone, so the rest still act: k bad instances among n cost O(k log n) calls.
pub async fn in_batches<F, Fut>(ids: &[String], call: F) -> Vec<BatchResult>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<String>, AwsError>>,
{
    let mut results = Vec::new();
    let mut pending: Vec<Vec<String>> = ids.chunks(BATCH_SIZE).rev().map(<[String]>::to_vec).collect();
    while let Some(batch) = pending.pop() {
        match call(batch.clone()).await {
            Err(e) if batch.len() > 1 && splittable(&e.kind) => {
                let (left, right) = batch.split_at(batch.len() / 2);
                pending.push(right.to_vec());
                pending.push(left.to_vec());
            }
            outcome => results.push((batch, outcome)),
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("i-{i:04}")).collect()
    }

    fn refused(id: &str) -> AwsError {
        AwsError {
            operation: "StopInstances",
            region: "eu-west-1".into(),
            kind: ErrorKind::IncorrectState,
            code: Some("IncorrectInstanceState".into()),
            message: format!("The instance '{id}' is not in a state from which it can be stopped."),
            request_id: None,
        }
    }

    /// Runs `in_batches` over `n` ids where `bad` are refused; returns (calls made,
    /// ids that acted, ids that failed).
    async fn run(n: usize, bad: &[usize], kind: ErrorKind) -> (usize, usize, Vec<String>) {
        let all = ids(n);
        let bad: Vec<String> = bad.iter().map(|i| all[*i].clone()).collect();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let results = in_batches(&all, |batch| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let bad = bad.clone();
            let kind = kind.clone();
            async move {
                match batch.iter().find(|id| bad.contains(id)) {
                    Some(id) => Err(AwsError { kind, ..refused(id) }),
                    None => Ok(batch.clone()),
                }
            }
        })
        .await;
        let acted = results.iter().filter(|(_, r)| r.is_ok()).map(|(b, _)| b.len()).sum();
        let failed = results.iter().filter(|(_, r)| r.is_err()).flat_map(|(b, _)| b.clone()).collect();
        (calls.into_inner(), acted, failed)
    }

    #[tokio::test]
    async fn clean_batches_cost_one_call_each() {
        assert_eq!(run(120, &[], ErrorKind::Other).await, (3, 120, vec![]));
    }

    #[tokio::test]
    async fn one_bad_instance_is_isolated() {
        let (calls, acted, failed) = run(50, &[17], ErrorKind::IncorrectState).await;
        assert_eq!((acted, failed), (49, vec!["i-0017".to_string()]));
        // 1 + 2 per level of halving: 50 -> 25 -> 13 -> 7 -> 4 -> 2 -> 1.
        assert_eq!(calls, 13);
    }

    #[tokio::test]
    async fn several_bad_instances_cost_k_log_n() {
        let (calls, acted, failed) = run(100, &[3, 60, 99], ErrorKind::NotFound).await;
        assert_eq!(acted, 97);
        assert_eq!(failed, vec!["i-0003", "i-0060", "i-0099"]);
        assert!(calls <= 3 * 2 * 7 + 2, "{calls} calls");
    }

    #[tokio::test]
    async fn call_wide_errors_are_not_split() {
        let (calls, acted, failed) = run(50, &[0], ErrorKind::Throttled).await;
        assert_eq!((calls, acted, failed.len()), (1, 0, 50));
    }
}
