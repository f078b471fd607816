//! Auto Scaling groups: listed with server-side tag filters; a stop records the sizes
//! in a tag on the group, then sets them to 0; a start restores the record, then
//! removes the tag (see `kinds::asg`). The records of a batch of groups are written
//! (and removed) in one call; the sizes are set one group a call, all at once.

use std::collections::BTreeMap;

use aws_sdk_autoscaling::types::{AutoScalingGroup, Filter, Tag};

use super::{GroupDetail, RECORD_TAG, Sizes, format_record, parse_record, state_name};
use crate::aws::{Api, AwsError, ErrorKind, Pending, observe};
use crate::kinds::Adapter;
use crate::model::{Action, Detail, Mode, Resource};

/// The IAM prefix of the kind's actions, and the name of its bound on calls in flight.
pub const SERVICE: &str = "autoscaling";

/// Auto Scaling's own error codes.
pub fn error_kind(code: &str) -> Option<ErrorKind> {
    match code {
        "ScalingActivityInProgress" | "ScalingActivityInProgressFault" => Some(ErrorKind::IncorrectState),
        _ => None,
    }
}

fn client(api: &Api) -> aws_sdk_autoscaling::Client {
    api.client(|conf| {
        aws_sdk_autoscaling::Client::from_conf(aws_sdk_autoscaling::config::Builder::from(conf).interceptor(observe::Observe).build())
    })
}

/// Groups per Describe page, and names per Describe by name.
const PAGE: i32 = 100;

fn group(region: &str, g: &AutoScalingGroup) -> Option<Resource> {
    let sizes = Sizes { min: g.min_size()?, max: g.max_size()?, desired: g.desired_capacity()? };
    let tags: BTreeMap<String, String> =
        g.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect();
    let record = tags.get(RECORD_TAG).map(|v| parse_record(v));
    Some(Resource {
        kind: super::KIND,
        id: g.auto_scaling_group_name()?.to_string(),
        region: region.to_string(),
        state: g.status().map_or_else(|| state_name(sizes).to_string(), |s| s.to_lowercase()),
        tags,
        state_reason: None,
        size: None,
        engine: None,
        deployment: None,
        detail: Detail::new(GroupDetail { sizes, record }),
    })
}

async fn describe(api: &Api, filters: Vec<Filter>, names: Vec<String>) -> Result<Vec<Resource>, AwsError> {
    let mut req = client(api).describe_auto_scaling_groups().max_records(PAGE);
    if !filters.is_empty() {
        req = req.set_filters(Some(filters));
    }
    if !names.is_empty() {
        req = req.set_auto_scaling_group_names(Some(names));
    }
    let pages = req.into_paginator().send();
    let mut out = Vec::new();
    api.pages(SERVICE, "DescribeAutoScalingGroups", pages, error_kind, |page| {
        out.extend(page.auto_scaling_groups().iter().filter_map(|g| group(&api.region, g)));
    })
    .await?;
    Ok(out)
}

async fn resize(api: &Api, name: &str, sizes: Sizes) -> Result<(), AwsError> {
    let _permit = api.permit(SERVICE, "UpdateAutoScalingGroup").await;
    client(api)
        .update_auto_scaling_group()
        .auto_scaling_group_name(name)
        .min_size(sizes.min)
        .max_size(sizes.max)
        .desired_capacity(sizes.desired)
        .send()
        .await
        .map_err(api.err("UpdateAutoScalingGroup", error_kind))?;
    Ok(())
}

fn group_tag(name: &str, key: &str, value: Option<String>) -> Tag {
    Tag::builder().resource_id(name).resource_type("auto-scaling-group").key(key).set_value(value).propagate_at_launch(false).build()
}

/// Groups per act call: their record tags go in one CreateOrUpdateTags or DeleteTags.
const BATCH: usize = 25;

/// Writes (`Some`) or removes (`None`) a tag on several groups in one call.
async fn tag_groups(api: &Api, tags: Vec<Tag>, write: bool) -> Result<(), AwsError> {
    if write {
        let _permit = api.permit(SERVICE, "CreateOrUpdateTags").await;
        client(api).create_or_update_tags().set_tags(Some(tags)).send().await.map_err(api.err("CreateOrUpdateTags", error_kind))?;
    } else {
        let _permit = api.permit(SERVICE, "DeleteTags").await;
        client(api).delete_tags().set_tags(Some(tags)).send().await.map_err(api.err("DeleteTags", error_kind))?;
    }
    Ok(())
}

/// Sets each group's sizes, all at once (the region's bound paces them); the first
/// failure is the batch's (the engine then splits the batch to find the group at fault).
async fn resize_all(api: &Api, sizes: &[(&Resource, Sizes)]) -> Result<(), AwsError> {
    let calls = sizes.iter().map(|(g, s)| resize(api, &g.id, *s));
    futures_util::future::join_all(calls).await.into_iter().collect()
}

/// A stop: every group's record in one call first (a group set to 0 without a record
/// could never be restored), then the sizes to 0.
async fn stop(api: &Api, batch: &[Resource]) -> Result<Vec<String>, AwsError> {
    let groups: Vec<(&Resource, Sizes)> = batch.iter().filter_map(|g| g.detail.get::<GroupDetail>().map(|d| (g, d.sizes))).collect();
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let records = groups.iter().map(|(g, s)| group_tag(&g.id, RECORD_TAG, Some(format_record(*s)))).collect();
    tag_groups(api, records, true).await?;
    let zero: Vec<(&Resource, Sizes)> = groups.iter().map(|(g, _)| (*g, Sizes { min: 0, max: 0, desired: 0 })).collect();
    resize_all(api, &zero).await?;
    Ok(groups.iter().map(|(g, _)| g.id.clone()).collect())
}

/// A start: every group with a readable record back to its sizes first, then their
/// records removed in one call (a record goes only once its sizes are back).
async fn start(api: &Api, batch: &[Resource]) -> Result<Vec<String>, AwsError> {
    let groups: Vec<(&Resource, Sizes)> = batch
        .iter()
        .filter_map(|g| match g.detail.get::<GroupDetail>() {
            Some(GroupDetail { record: Some(Ok(recorded)), .. }) => Some((g, *recorded)),
            _ => None,
        })
        .collect();
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    resize_all(api, &groups).await?;
    tag_groups(api, groups.iter().map(|(g, _)| group_tag(&g.id, RECORD_TAG, None)).collect(), false).await?;
    Ok(groups.iter().map(|(g, _)| g.id.clone()).collect())
}

/// The Auto Scaling group kind's adapter.
pub struct Calls;

impl Adapter for Calls {
    fn batch_size(&self) -> usize {
        BATCH
    }

    fn list<'a>(&'a self, api: &'a Api, selector: &'a BTreeMap<String, String>) -> Pending<'a, Vec<Resource>> {
        Box::pin(async move {
            let filters = selector.iter().map(|(k, v)| Filter::builder().name(format!("tag:{k}")).values(v).build()).collect();
            describe(api, filters, Vec::new()).await
        })
    }

    fn describe<'a>(&'a self, api: &'a Api, ids: &'a [String]) -> Pending<'a, Vec<Resource>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(50) {
                out.extend(describe(api, Vec::new(), chunk.to_vec()).await?);
            }
            Ok(out)
        })
    }

    fn tag<'a>(&'a self, api: &'a Api, resource: &'a Resource, key: &'a str, value: Option<&'a str>) -> Pending<'a, ()> {
        Box::pin(async move { tag_groups(api, vec![group_tag(&resource.id, key, value.map(str::to_string))], value.is_some()).await })
    }

    fn act<'a>(&'a self, api: &'a Api, action: Action, batch: &'a [Resource], _mode: Mode, dry_run: bool) -> Pending<'a, Vec<String>> {
        Box::pin(async move {
            // Auto Scaling has no dry-run flag: a dry run calls nothing.
            if dry_run {
                return Ok(Vec::new());
            }
            match action {
                Action::Stop => stop(api, batch).await,
                Action::Start => start(api, batch).await,
            }
        })
    }
}
