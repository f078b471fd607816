//! Auto Scaling groups: listed with server-side tag filters; a stop records the sizes
//! in a tag on the group, then sets them to 0; a start restores the record, then
//! removes the tag (see `kinds::asg`). One group a call.

use std::collections::BTreeMap;

use aws_sdk_autoscaling::types::{AutoScalingGroup, Filter, Tag};

use super::{GroupDetail, RECORD_TAG, Sizes, format_record, parse_record, state_name};
use crate::aws::batch::one_by_one;
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

/// The Auto Scaling group kind's adapter.
pub struct Calls;

impl Adapter for Calls {
    fn batch_size(&self) -> usize {
        1
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
        Box::pin(async move {
            let tag = group_tag(&resource.id, key, value.map(str::to_string));
            match value {
                Some(_) => {
                    let _permit = api.permit(SERVICE, "CreateOrUpdateTags").await;
                    client(api).create_or_update_tags().tags(tag).send().await.map_err(api.err("CreateOrUpdateTags", error_kind))?;
                }
                None => {
                    let _permit = api.permit(SERVICE, "DeleteTags").await;
                    client(api).delete_tags().tags(tag).send().await.map_err(api.err("DeleteTags", error_kind))?;
                }
            }
            Ok(())
        })
    }

    fn act<'a>(&'a self, api: &'a Api, action: Action, batch: &'a [Resource], _mode: Mode, dry_run: bool) -> Pending<'a, Vec<String>> {
        Box::pin(one_by_one(batch, dry_run, move |g| async move {
            let Some(GroupDetail { sizes, record }) = g.detail.get::<GroupDetail>() else { return Ok(false) };
            match action {
                // Record first: a group set to 0 without a record could never be restored.
                Action::Stop => {
                    self.tag(api, g, RECORD_TAG, Some(&format_record(*sizes))).await?;
                    resize(api, &g.id, Sizes { min: 0, max: 0, desired: 0 }).await?;
                }
                // Restore first: the record goes only once the sizes are back.
                Action::Start => {
                    let Some(Ok(recorded)) = record else { return Ok(false) };
                    resize(api, &g.id, *recorded).await?;
                    self.tag(api, g, RECORD_TAG, None).await?;
                }
            }
            Ok(true)
        }))
    }
}
