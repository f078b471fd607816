//! EKS: node groups found by listing the clusters, their node groups, and describing
//! each (EKS has no tag filter; one DescribeNodegroup a group, all at once under the
//! region's bound); a stop tags the record on the node group, then scales it to 0; a
//! start restores the sizes, then removes the tag. One node group a call.

use std::collections::BTreeMap;

use aws_sdk_eks::types::NodegroupScalingConfig;

use super::{KIND, NodegroupDetail, RECORD_TAG, id, state_name};
use crate::aws::batch::one_by_one;
use crate::aws::{Api, AwsError, ErrorKind, Pending, observe};
use crate::kinds::Adapter;
use crate::kinds::record::{Sizes, format_record, parse_record};
use crate::model::{Action, Detail, Mode, Resource};

/// The IAM prefix of the kind's actions, and the name of its bound on calls in flight.
pub const SERVICE: &str = "eks";

/// EKS's own error codes.
pub fn error_kind(code: &str) -> Option<ErrorKind> {
    match code {
        "ResourceNotFoundException" => Some(ErrorKind::NotFound),
        "ResourceInUseException" => Some(ErrorKind::IncorrectState),
        _ => None,
    }
}

fn client(api: &Api) -> aws_sdk_eks::Client {
    api.client(|conf| aws_sdk_eks::Client::from_conf(aws_sdk_eks::config::Builder::from(conf).interceptor(observe::Observe).build()))
}

fn nodegroup(region: &str, g: &aws_sdk_eks::types::Nodegroup) -> Option<Resource> {
    let (cluster, name) = (g.cluster_name()?, g.nodegroup_name()?);
    let scaling = g.scaling_config()?;
    let sizes =
        Sizes { min: scaling.min_size().unwrap_or(0), max: scaling.max_size().unwrap_or(0), desired: scaling.desired_size().unwrap_or(0) };
    let tags: BTreeMap<String, String> = g.tags().into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();
    let record = tags.get(RECORD_TAG).map(|v| parse_record(v));
    // Scaled to 0, a group is priced by the nodes it had (the record).
    let nodes = match &record {
        Some(Ok(recorded)) if sizes.desired == 0 => recorded.desired,
        _ => sizes.desired,
    };
    let types: Vec<&str> = g.instance_types().iter().map(String::as_str).collect();
    let on_demand = g.capacity_type().is_none_or(|c| *c == aws_sdk_eks::types::CapacityTypes::OnDemand);
    Some(Resource {
        kind: KIND,
        id: id(cluster, name),
        region: region.to_string(),
        state: state_name(g.status().map_or("ACTIVE", |s| s.as_str()), sizes),
        state_reason: None,
        size: super::price::size(&types, on_demand, nodes),
        engine: None,
        deployment: None,
        detail: Detail::new(NodegroupDetail {
            cluster: cluster.to_string(),
            name: name.to_string(),
            arn: g.nodegroup_arn()?.to_string(),
            sizes,
            record,
        }),
        tags,
    })
}

async fn clusters(api: &Api) -> Result<Vec<String>, AwsError> {
    let pages = client(api).list_clusters().into_paginator().send();
    let mut out = Vec::new();
    api.pages(SERVICE, "ListClusters", pages, error_kind, |page| out.extend(page.clusters().iter().cloned())).await?;
    Ok(out)
}

async fn nodegroups_in(api: &Api, cluster: &str) -> Result<Vec<String>, AwsError> {
    let pages = client(api).list_nodegroups().cluster_name(cluster).into_paginator().send();
    let mut out = Vec::new();
    api.pages(SERVICE, "ListNodegroups", pages, error_kind, |page| out.extend(page.nodegroups().iter().cloned())).await?;
    Ok(out)
}

/// One node group; `None` when it is gone.
async fn describe_one(api: &Api, cluster: &str, name: &str) -> Result<Option<Resource>, AwsError> {
    let _permit = api.permit(SERVICE, "DescribeNodegroup").await;
    let answer = client(api).describe_nodegroup().cluster_name(cluster).nodegroup_name(name).send().await;
    match answer.map_err(api.err("DescribeNodegroup", error_kind)) {
        Ok(out) => Ok(out.nodegroup().and_then(|g| nodegroup(&api.region, g))),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Each `(cluster, node group)`, described at once.
async fn describe(api: &Api, groups: &[(String, String)]) -> Result<Vec<Resource>, AwsError> {
    let reads = groups.iter().map(|(cluster, name)| describe_one(api, cluster, name));
    let mut out = Vec::with_capacity(groups.len());
    for read in futures_util::future::join_all(reads).await {
        out.extend(read?);
    }
    Ok(out)
}

async fn scale(api: &Api, d: &NodegroupDetail, sizes: Sizes) -> Result<(), AwsError> {
    let _permit = api.permit(SERVICE, "UpdateNodegroupConfig").await;
    let config = NodegroupScalingConfig::builder().min_size(sizes.min).max_size(sizes.max).desired_size(sizes.desired).build();
    let call = client(api).update_nodegroup_config().cluster_name(&d.cluster).nodegroup_name(&d.name).scaling_config(config);
    call.send().await.map_err(api.err("UpdateNodegroupConfig", error_kind))?;
    Ok(())
}

/// The EKS node group kind's adapter.
pub struct Calls;

impl Adapter for Calls {
    fn batch_size(&self) -> usize {
        1
    }

    fn list<'a>(&'a self, api: &'a Api, selector: &'a BTreeMap<String, String>) -> Pending<'a, Vec<Resource>> {
        Box::pin(async move {
            let per_cluster = clusters(api).await?.into_iter().map(|cluster| async move {
                let names = nodegroups_in(api, &cluster).await?;
                describe(api, &names.into_iter().map(|n| (cluster.clone(), n)).collect::<Vec<_>>()).await
            });
            let mut out = Vec::new();
            for found in futures_util::future::join_all(per_cluster).await {
                out.extend(found?.into_iter().filter(|r| selector.iter().all(|(k, v)| r.tags.get(k) == Some(v))));
            }
            Ok(out)
        })
    }

    fn describe<'a>(&'a self, api: &'a Api, ids: &'a [String]) -> Pending<'a, Vec<Resource>> {
        Box::pin(async move {
            let groups: Vec<(String, String)> =
                ids.iter().filter_map(|id| id.split_once('/')).map(|(c, n)| (c.to_string(), n.to_string())).collect();
            describe(api, &groups).await
        })
    }

    fn tag<'a>(&'a self, api: &'a Api, resource: &'a Resource, key: &'a str, value: Option<&'a str>) -> Pending<'a, ()> {
        Box::pin(async move {
            let Some(d) = resource.detail.get::<NodegroupDetail>() else {
                return Err(AwsError::not_found("TagResource", &api.region, format!("{} {} not found", resource.kind, resource.id)));
            };
            match value {
                Some(value) => {
                    let _permit = api.permit(SERVICE, "TagResource").await;
                    let call = client(api).tag_resource().resource_arn(&d.arn).tags(key, value);
                    call.send().await.map_err(api.err("TagResource", error_kind))?;
                }
                None => {
                    let _permit = api.permit(SERVICE, "UntagResource").await;
                    let call = client(api).untag_resource().resource_arn(&d.arn).tag_keys(key);
                    call.send().await.map_err(api.err("UntagResource", error_kind))?;
                }
            }
            Ok(())
        })
    }

    fn act<'a>(&'a self, api: &'a Api, action: Action, batch: &'a [Resource], _mode: Mode, dry_run: bool) -> Pending<'a, Vec<String>> {
        Box::pin(one_by_one(batch, dry_run, move |g| async move {
            let Some(d) = g.detail.get::<NodegroupDetail>() else { return Ok(false) };
            match action {
                // Record first: a group scaled to 0 without a record could never be restored.
                Action::Stop => {
                    self.tag(api, g, RECORD_TAG, Some(&format_record(d.sizes))).await?;
                    scale(api, d, Sizes { min: 0, desired: 0, max: d.sizes.max.max(1) }).await?;
                }
                // Restore first: the record goes only once the sizes are back.
                Action::Start => {
                    let Some(Ok(recorded)) = d.record else { return Ok(false) };
                    scale(api, d, recorded).await?;
                    self.tag(api, g, RECORD_TAG, None).await?;
                }
            }
            Ok(true)
        }))
    }
}
