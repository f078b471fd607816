//! EC2: list instances by tag, start and stop them in batches, read their states back,
//! over the region's [`Api`] (its client, permits and call counter).

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, Instance as SdkInstance};

use super::InstanceDetail;
use crate::aws::{Api, AwsError, ErrorKind, Pending, observe};
use crate::kinds::Adapter;
use crate::model::{Action, Detail, Mode, Phase, Resource};

/// The IAM prefix of EC2's actions, and the name of its bound on calls in flight.
pub const SERVICE: &str = "ec2";

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

/// EC2's own error codes.
pub fn error_kind(code: &str) -> Option<ErrorKind> {
    match code {
        c if c.starts_with("InvalidInstanceID") => Some(ErrorKind::NotFound),
        "IncorrectInstanceState" | "IncorrectState" => Some(ErrorKind::IncorrectState),
        "UnsupportedOperation" | "UnsupportedHibernationConfiguration" => Some(ErrorKind::Unsupported),
        "InsufficientInstanceCapacity" | "Server.InsufficientInstanceCapacity" => Some(ErrorKind::InsufficientCapacity),
        _ => None,
    }
}

fn client(conf: &SdkConfig) -> Client {
    Client::from_conf(aws_sdk_ec2::config::Builder::from(conf).interceptor(observe::Observe).build())
}

/// EC2 in one region, for one action.
struct Ec2<'a> {
    api: &'a Api,
    client: Client,
}

fn instance_from_sdk(region: &str, i: &SdkInstance) -> Option<Resource> {
    Some(Resource {
        kind: super::KIND,
        id: i.instance_id()?.to_string(),
        region: region.to_string(),
        state: i.state().and_then(|s| s.name()).map_or("unknown", |n| n.as_str()).to_string(),
        tags: i.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect(),
        state_reason: i.state_reason().and_then(|r| r.message()).filter(|m| !m.is_empty()).map(str::to_string),
        size: i.instance_type().map(|t| t.as_str().to_string()),
        engine: None,
        deployment: None,
        detail: Detail::new(InstanceDetail {
            root_device_type: i.root_device_type().map(|d| d.as_str().to_string()),
            lifecycle: i.instance_lifecycle().map(|l| l.as_str().to_string()),
            hibernation_configured: i.hibernation_options().and_then(|h| h.configured()).unwrap_or(false),
        }),
    })
}

impl<'a> Ec2<'a> {
    fn new(api: &'a Api) -> Self {
        Ec2 { api, client: api.client(client) }
    }

    /// Every listed instance carrying all the `selector` tags: one paginated
    /// DescribeInstances with server-side tag and state filters.
    async fn describe_tagged(&self, selector: &BTreeMap<String, String>) -> Result<Vec<Resource>, AwsError> {
        let mut filters: Vec<Filter> = selector.iter().map(|(k, v)| Filter::builder().name(format!("tag:{k}")).values(v).build()).collect();
        filters.push(
            Filter::builder().name("instance-state-name").set_values(Some(LISTED_STATES.iter().map(|s| s.to_string()).collect())).build(),
        );
        self.describe(filters).await
    }

    /// The current view of the given instances (a filter, not InstanceIds, so that one
    /// vanished id does not fail the whole call); chunks are read concurrently.
    async fn describe_ids(&self, ids: &[String]) -> Result<Vec<Resource>, AwsError> {
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
        let pages = self.client.describe_instances().set_filters(Some(filters)).max_results(1000).into_paginator().send();
        let mut out = Vec::new();
        self.api
            .pages(SERVICE, "DescribeInstances", pages, error_kind, |page| {
                for reservation in page.reservations() {
                    out.extend(reservation.instances().iter().filter_map(|i| instance_from_sdk(&self.api.region, i)));
                }
            })
            .await?;
        Ok(out)
    }

    /// The state of each given instance, with the lightest call that returns it:
    /// DescribeInstanceStatus with IncludeAllInstances (state only, 100 ids a call,
    /// chunks concurrently). A chunk naming an id EC2 no longer knows fails whole; it is
    /// read again with DescribeInstances, which skips the unknown id.
    async fn states(&self, ids: &[String]) -> Result<BTreeMap<String, String>, AwsError> {
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
        let pages =
            self.client.describe_instance_status().set_instance_ids(Some(ids.to_vec())).include_all_instances(true).into_paginator().send();
        let mut out = Vec::with_capacity(ids.len());
        self.api
            .pages(SERVICE, "DescribeInstanceStatus", pages, error_kind, |page| {
                for status in page.instance_statuses() {
                    if let Some(id) = status.instance_id() {
                        let state = status.instance_state().and_then(|s| s.name()).map_or("unknown", |n| n.as_str());
                        out.push((id.to_string(), state.to_string()));
                    }
                }
            })
            .await?;
        Ok(out)
    }

    /// One Start/StopInstances call for `ids`; the ids EC2 answered for. A dry run that
    /// would succeed answers an empty list.
    async fn change_state(&self, action: Action, ids: &[String], hibernate: bool, dry_run: bool) -> Result<Vec<String>, AwsError> {
        let _permit = self.api.slot(SERVICE).await;
        let changes = match action {
            Action::Start => {
                self.api.calls.add("StartInstances");
                self.client
                    .start_instances()
                    .set_instance_ids(Some(ids.to_vec()))
                    .dry_run(dry_run)
                    .send()
                    .await
                    .map(|out| out.starting_instances().to_vec())
                    .map_err(self.api.err("StartInstances", error_kind))
            }
            Action::Stop => {
                self.api.calls.add("StopInstances");
                self.client
                    .stop_instances()
                    .set_instance_ids(Some(ids.to_vec()))
                    .hibernate(hibernate)
                    .dry_run(dry_run)
                    .send()
                    .await
                    .map(|out| out.stopping_instances().to_vec())
                    .map_err(self.api.err("StopInstances", error_kind))
            }
        };
        match changes {
            Ok(list) => Ok(list.iter().filter_map(|c| c.instance_id().map(str::to_string)).collect()),
            Err(e) if dry_run && e.kind == ErrorKind::DryRunOk => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// The EC2 instance kind's calls.
pub struct Calls;

impl Adapter for Calls {
    fn batch_size(&self) -> usize {
        BATCH_SIZE
    }

    fn list<'a>(&'a self, api: &'a Api, selector: &'a BTreeMap<String, String>) -> Pending<'a, Vec<Resource>> {
        Box::pin(async move { Ec2::new(api).describe_tagged(selector).await })
    }

    fn describe<'a>(&'a self, api: &'a Api, ids: &'a [String]) -> Pending<'a, Vec<Resource>> {
        Box::pin(async move { Ec2::new(api).describe_ids(ids).await })
    }

    fn states<'a>(&'a self, api: &'a Api, ids: &'a [String]) -> Pending<'a, BTreeMap<String, (String, Phase)>> {
        Box::pin(async move {
            Ok(Ec2::new(api).states(ids).await?.into_iter().map(|(id, state)| (id, (state.clone(), super::phase(&state)))).collect())
        })
    }

    fn act<'a>(&'a self, api: &'a Api, action: Action, batch: &'a [Resource], mode: Mode, dry_run: bool) -> Pending<'a, Vec<String>> {
        Box::pin(async move {
            let ids: Vec<String> = batch.iter().map(|r| r.id.clone()).collect();
            Ec2::new(api).change_state(action, &ids, mode == super::HIBERNATE, dry_run).await
        })
    }

    fn tag<'a>(&'a self, api: &'a Api, resource: &'a Resource, key: &'a str, value: Option<&'a str>) -> Pending<'a, ()> {
        Box::pin(async move {
            let client = &Ec2::new(api).client;
            match value {
                Some(value) => {
                    let _permit = api.permit(SERVICE, "CreateTags").await;
                    let tag = aws_sdk_ec2::types::Tag::builder().key(key).value(value).build();
                    client.create_tags().resources(&resource.id).tags(tag).send().await.map_err(api.err("CreateTags", error_kind))?;
                }
                None => {
                    let _permit = api.permit(SERVICE, "DeleteTags").await;
                    let tag = aws_sdk_ec2::types::Tag::builder().key(key).build();
                    client.delete_tags().resources(&resource.id).tags(tag).send().await.map_err(api.err("DeleteTags", error_kind))?;
                }
            }
            Ok(())
        })
    }
}
