//! EC2: list instances by tag, start and stop them in batches, read their states back.
//! Every call of one region goes through [`Ec2`], which bounds the calls in flight in
//! that region and counts them.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, Instance as SdkInstance};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::Semaphore;

use super::{AwsError, ErrorKind};
use crate::model::{Action, Detail, Kind, Phase, Resource};

/// Instance ids per StartInstances / StopInstances call. A call fails whole when one
/// of its instances is refused, so a batch is also the unit that gets split: 100 keeps
/// a fleet of 1000 to ten calls, and isolating one refused instance to 1 + 2 x 7 calls.
pub const BATCH_SIZE: usize = 100;

/// The most values EC2 accepts in one filter.
const FILTER_VALUES: usize = 200;

/// The most ids one DescribeInstanceStatus call takes.
const STATUS_IDS: usize = 100;

/// States worth listing: terminated instances linger for an hour and are noise.
const LISTED_STATES: [&str; 5] = ["pending", "running", "stopping", "stopped", "shutting-down"];

/// Counts API operations by name (retries of one operation count once).
#[derive(Debug, Default)]
pub struct CallCounter(Mutex<BTreeMap<&'static str, u64>>);

/// EC2 in one region, for one action: the client, the region's bound on calls in flight
/// (shared by every action of the config generation), and the action's call counter.
#[derive(Debug, Clone)]
pub struct Ec2 {
    pub client: Client,
    pub region: String,
    pub permits: Arc<Semaphore>,
    pub calls: Arc<CallCounter>,
}

impl CallCounter {
    pub fn add(&self, operation: &'static str) {
        *self.0.lock().expect("counter lock").entry(operation).or_default() += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        self.0.lock().expect("counter lock").clone()
    }
}

fn instance_from_sdk(region: &str, i: &SdkInstance) -> Option<Resource> {
    Some(Resource {
        kind: Kind::Ec2,
        id: i.instance_id()?.to_string(),
        region: region.to_string(),
        state: i.state().and_then(|s| s.name()).map_or("unknown", |n| n.as_str()).to_string(),
        tags: i.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect(),
        state_reason: i.state_reason().and_then(|r| r.message()).filter(|m| !m.is_empty()).map(str::to_string),
        size: i.instance_type().map(|t| t.as_str().to_string()),
        detail: Detail::Ec2 {
            root_device_type: i.root_device_type().map(|d| d.as_str().to_string()),
            lifecycle: i.instance_lifecycle().map(|l| l.as_str().to_string()),
            hibernation_configured: i.hibernation_options().and_then(|h| h.configured()).unwrap_or(false),
        },
    })
}

/// The regions enabled for the account.
pub async fn enabled_regions(client: &Client, region: &str) -> Result<Vec<String>, AwsError> {
    let out = client.describe_regions().send().await.map_err(|e| AwsError::from_sdk("DescribeRegions", region, e))?;
    let mut names: Vec<String> = out.regions().iter().filter_map(|r| r.region_name().map(str::to_string)).collect();
    names.sort();
    Ok(names)
}

impl Ec2 {
    /// Every listed instance carrying all the `selector` tags: one paginated
    /// DescribeInstances with server-side tag and state filters.
    pub async fn describe_tagged(&self, selector: &BTreeMap<String, String>) -> Result<Vec<Resource>, AwsError> {
        let mut filters: Vec<Filter> = selector.iter().map(|(k, v)| Filter::builder().name(format!("tag:{k}")).values(v).build()).collect();
        filters.push(
            Filter::builder().name("instance-state-name").set_values(Some(LISTED_STATES.iter().map(|s| s.to_string()).collect())).build(),
        );
        self.describe(filters).await
    }

    /// The current view of the given instances (a filter, not InstanceIds, so that one
    /// vanished id does not fail the whole call); chunks are read concurrently.
    pub async fn describe_ids(&self, ids: &[String]) -> Result<Vec<Resource>, AwsError> {
        let reads = ids.chunks(FILTER_VALUES).map(|chunk| {
            let filter = Filter::builder().name("instance-id").set_values(Some(chunk.to_vec())).build();
            self.describe(vec![filter])
        });
        let mut out = Vec::with_capacity(ids.len());
        for read in futures_util::future::join_all(reads).await {
            out.extend(read?);
        }
        Ok(out)
    }

    async fn describe(&self, filters: Vec<Filter>) -> Result<Vec<Resource>, AwsError> {
        let mut pages = self.client.describe_instances().set_filters(Some(filters)).max_results(1000).into_paginator().send();
        let mut out = Vec::new();
        loop {
            let page = {
                let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
                pages.next().await
            };
            let Some(page) = page else { break };
            self.calls.add("DescribeInstances");
            let page = page.map_err(|e| AwsError::from_sdk("DescribeInstances", &self.region, e))?;
            for reservation in page.reservations() {
                out.extend(reservation.instances().iter().filter_map(|i| instance_from_sdk(&self.region, i)));
            }
        }
        Ok(out)
    }

    /// The state of each given instance, with the lightest call that returns it:
    /// DescribeInstanceStatus with IncludeAllInstances (state only, 100 ids a call,
    /// chunks concurrently). A chunk naming an id EC2 no longer knows fails whole; it is
    /// read again with DescribeInstances, which skips the unknown id.
    pub async fn states(&self, ids: &[String]) -> Result<BTreeMap<String, String>, AwsError> {
        let reads = ids.chunks(STATUS_IDS).map(|chunk| async move {
            match self.status_chunk(chunk).await {
                Err(e) if e.kind == ErrorKind::NotFound => {
                    Ok(self.describe_ids(chunk).await?.into_iter().map(|i| (i.id, i.state)).collect())
                }
                other => other,
            }
        });
        let mut out = BTreeMap::new();
        for read in futures_util::future::join_all(reads).await {
            out.extend(read?);
        }
        Ok(out)
    }

    async fn status_chunk(&self, ids: &[String]) -> Result<Vec<(String, String)>, AwsError> {
        let mut pages =
            self.client.describe_instance_status().set_instance_ids(Some(ids.to_vec())).include_all_instances(true).into_paginator().send();
        let mut out = Vec::with_capacity(ids.len());
        loop {
            let page = {
                let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
                pages.next().await
            };
            let Some(page) = page else { break };
            self.calls.add("DescribeInstanceStatus");
            let page = page.map_err(|e| AwsError::from_sdk("DescribeInstanceStatus", &self.region, e))?;
            for status in page.instance_statuses() {
                if let Some(id) = status.instance_id() {
                    let state = status.instance_state().and_then(|s| s.name()).map_or("unknown", |n| n.as_str());
                    out.push((id.to_string(), state.to_string()));
                }
            }
        }
        Ok(out)
    }

    /// One Start/StopInstances call for `ids`; the ids EC2 answered for. A dry run that
    /// would succeed answers an empty list.
    pub async fn change_state(&self, action: Action, ids: &[String], hibernate: bool, dry_run: bool) -> Result<Vec<String>, AwsError> {
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        let changes = match action {
            Action::Start => {
                self.calls.add("StartInstances");
                self.client
                    .start_instances()
                    .set_instance_ids(Some(ids.to_vec()))
                    .dry_run(dry_run)
                    .send()
                    .await
                    .map(|out| out.starting_instances().to_vec())
                    .map_err(|e| AwsError::from_sdk("StartInstances", &self.region, e))
            }
            Action::Stop => {
                self.calls.add("StopInstances");
                self.client
                    .stop_instances()
                    .set_instance_ids(Some(ids.to_vec()))
                    .hibernate(hibernate)
                    .dry_run(dry_run)
                    .send()
                    .await
                    .map(|out| out.stopping_instances().to_vec())
                    .map_err(|e| AwsError::from_sdk("StopInstances", &self.region, e))
            }
        };
        match changes {
            Ok(list) => Ok(list.iter().filter_map(|c| c.instance_id().map(str::to_string)).collect()),
            Err(e) if dry_run && e.kind == ErrorKind::DryRunOk => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// The EC2 instance kind's adapter.
pub struct Instances;

impl super::Adapter for Instances {
    fn batch_size(&self) -> usize {
        BATCH_SIZE
    }

    fn list<'a>(&'a self, api: &'a super::Api, selector: &'a BTreeMap<String, String>) -> super::Pending<'a, Vec<Resource>> {
        Box::pin(async move { api.ec2().describe_tagged(selector).await })
    }

    fn describe<'a>(&'a self, api: &'a super::Api, ids: &'a [String]) -> super::Pending<'a, Vec<Resource>> {
        Box::pin(async move { api.ec2().describe_ids(ids).await })
    }

    fn states<'a>(&'a self, api: &'a super::Api, ids: &'a [String]) -> super::Pending<'a, BTreeMap<String, (String, Phase)>> {
        Box::pin(async move {
            Ok(api
                .ec2()
                .states(ids)
                .await?
                .into_iter()
                .map(|(id, state)| (id, (state.clone(), crate::kinds::ec2::phase(&state))))
                .collect())
        })
    }

    fn act<'a>(
        &'a self,
        api: &'a super::Api,
        action: Action,
        batch: &'a [Resource],
        hibernate: bool,
        dry_run: bool,
    ) -> super::Pending<'a, Vec<String>> {
        Box::pin(async move {
            let ids: Vec<String> = batch.iter().map(|r| r.id.clone()).collect();
            api.ec2().change_state(action, &ids, hibernate, dry_run).await
        })
    }

    fn tag<'a>(&'a self, api: &'a super::Api, resource: &'a Resource, key: &'a str, value: Option<&'a str>) -> super::Pending<'a, ()> {
        Box::pin(async move {
            let client = &api.ec2().client;
            match value {
                Some(value) => {
                    let _permit = api.permit(super::Service::Ec2, "CreateTags").await;
                    let tag = aws_sdk_ec2::types::Tag::builder().key(key).value(value).build();
                    client
                        .create_tags()
                        .resources(&resource.id)
                        .tags(tag)
                        .send()
                        .await
                        .map_err(|e| AwsError::from_sdk("CreateTags", &api.region, e))?;
                }
                None => {
                    let _permit = api.permit(super::Service::Ec2, "DeleteTags").await;
                    let tag = aws_sdk_ec2::types::Tag::builder().key(key).build();
                    client
                        .delete_tags()
                        .resources(&resource.id)
                        .tags(tag)
                        .send()
                        .await
                        .map_err(|e| AwsError::from_sdk("DeleteTags", &api.region, e))?;
                }
            }
            Ok(())
        })
    }
}

/// Whether a failed batch may be split to find the instances at fault: errors that
/// belong to the call as a whole (throttling, timeouts, credentials) are not.
fn splittable(kind: &ErrorKind) -> bool {
    !matches!(kind, ErrorKind::Throttled | ErrorKind::Timeout | ErrorKind::Unreachable | ErrorKind::Credentials)
}

/// The outcome of one batch after splitting: which ids it covered and how it went.
pub type BatchResult = (Vec<String>, Result<Vec<String>, AwsError>);

/// Sends `ids` through `call` in batches of `batch_size`, all at once (the region's
/// bound on calls in flight, inside `call`, paces them). A batch refused because of
/// some of its instances is halved, recursively, until each refused instance stands
/// alone, so the rest still act: k bad instances among n cost O(k log n) calls.
pub async fn in_batches<F, Fut>(ids: &[String], batch_size: usize, call: F) -> Vec<BatchResult>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<String>, AwsError>>,
{
    let send = |batch: Vec<String>| {
        let reply = call(batch.clone());
        async move { (batch, reply.await) }
    };
    let mut running: FuturesUnordered<_> = ids.chunks(batch_size.max(1)).map(|b| send(b.to_vec())).collect();
    let mut results = Vec::new();
    while let Some((batch, outcome)) = running.next().await {
        match outcome {
            Err(e) if batch.len() > 1 && splittable(&e.kind) => {
                let (left, right) = batch.split_at(batch.len() / 2);
                running.push(send(left.to_vec()));
                running.push(send(right.to_vec()));
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
        let results = in_batches(&all, 50, |batch| {
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
        let mut failed: Vec<String> = results.iter().filter(|(_, r)| r.is_err()).flat_map(|(b, _)| b.clone()).collect();
        failed.sort();
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
