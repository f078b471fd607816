//! Redshift: clusters found by DescribeClusters with the selector's tag keys and
//! values (Redshift's own filter, which matches any of them: the selector is applied
//! exactly here), paginated; the snapshots being taken, from one DescribeClusterSnapshots
//! of the last day per region; PauseCluster / ResumeCluster one cluster a call.

use std::collections::BTreeMap;

use super::price::size;
use super::{ClusterDetail, KIND};
use crate::aws::batch::one_by_one;
use crate::aws::{Api, AwsError, ErrorKind, Pending, observe};
use crate::kinds::Adapter;
use crate::model::{Action, Detail, Mode, Resource};

/// The IAM prefix of the kind's actions, and the name of its bound on calls in flight.
pub const SERVICE: &str = "redshift";

/// Redshift's own error codes.
pub fn error_kind(code: &str) -> Option<ErrorKind> {
    match code {
        "ClusterNotFound" | "ClusterNotFoundFault" => Some(ErrorKind::NotFound),
        "InvalidClusterState" | "InvalidClusterStateFault" => Some(ErrorKind::IncorrectState),
        "InsufficientClusterCapacity" | "InsufficientClusterCapacityFault" => Some(ErrorKind::InsufficientCapacity),
        _ => None,
    }
}

fn client(api: &Api) -> aws_sdk_redshift::Client {
    api.client(|conf| {
        aws_sdk_redshift::Client::from_conf(aws_sdk_redshift::config::Builder::from(conf).interceptor(observe::Observe).build())
    })
}

/// Clusters per DescribeClusters page (Redshift allows 20 to 100).
const PAGE: i32 = 100;

/// What is pending on a cluster, named; `None` when nothing is.
fn pending(p: Option<&aws_sdk_redshift::types::PendingModifiedValues>) -> Option<String> {
    let p = p?;
    let named = [
        ("node type", p.node_type().is_some()),
        ("number of nodes", p.number_of_nodes().is_some()),
        ("cluster type", p.cluster_type().is_some()),
        ("cluster version", p.cluster_version().is_some()),
        ("identifier", p.cluster_identifier().is_some()),
        ("encryption", p.encryption_type().is_some()),
        ("maintenance track", p.maintenance_track_name().is_some()),
    ];
    let what: Vec<&str> = named.iter().filter(|(_, set)| *set).map(|(name, _)| *name).collect();
    (!what.is_empty()).then(|| what.join(", "))
}

fn cluster(region: &str, c: &aws_sdk_redshift::types::Cluster, snapshots: &BTreeMap<String, String>) -> Option<Resource> {
    let id = c.cluster_identifier()?.to_string();
    Some(Resource {
        kind: KIND,
        region: region.to_string(),
        state: c.cluster_status().unwrap_or("unknown").to_string(),
        tags: c.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect(),
        state_reason: None,
        size: c.node_type().map(|t| size(t, c.number_of_nodes().unwrap_or(1))),
        engine: None,
        deployment: None,
        detail: Detail::new(ClusterDetail { pending: pending(c.pending_modified_values()), snapshot: snapshots.get(&id).cloned() }),
        id,
    })
}

/// Each cluster with a snapshot being taken, and that snapshot, from the snapshots
/// started in the last day (one still being taken started before that is not seen).
async fn snapshots_in_progress(api: &Api) -> Result<BTreeMap<String, String>, AwsError> {
    let since = aws_smithy_types::DateTime::from_secs(chrono::Utc::now().timestamp() - 24 * 3600);
    let pages = client(api).describe_cluster_snapshots().start_time(since).max_records(PAGE).into_paginator().send();
    let mut out = BTreeMap::new();
    api.pages(SERVICE, "DescribeClusterSnapshots", pages, error_kind, |page| {
        for s in page.snapshots().iter().filter(|s| s.status() == Some("creating")) {
            if let (Some(cluster), Some(id)) = (s.cluster_identifier(), s.snapshot_identifier()) {
                out.insert(cluster.to_string(), id.to_string());
            }
        }
    })
    .await?;
    Ok(out)
}

/// Every cluster carrying one of `keys` and one of `values` (all clusters when both
/// are empty), with its snapshot in progress.
async fn clusters(api: &Api, keys: Vec<String>, values: Vec<String>) -> Result<Vec<Resource>, AwsError> {
    let request = client(api).describe_clusters().set_tag_keys(Some(keys).filter(|k| !k.is_empty()));
    let pages = request.set_tag_values(Some(values).filter(|v| !v.is_empty())).max_records(PAGE).into_paginator().send();
    let mut listed = Vec::new();
    api.pages(SERVICE, "DescribeClusters", pages, error_kind, |page| listed.extend(page.clusters().to_vec())).await?;
    let snapshots = if listed.is_empty() { BTreeMap::new() } else { snapshots_in_progress(api).await? };
    Ok(listed.iter().filter_map(|c| cluster(&api.region, c, &snapshots)).collect())
}

/// The cluster's ARN, from the account these credentials act in.
async fn arn(api: &Api, id: &str) -> Result<String, AwsError> {
    let sts =
        api.client(|conf| aws_sdk_sts::Client::from_conf(aws_sdk_sts::config::Builder::from(conf).interceptor(observe::Observe).build()));
    let _permit = api.permit("sts", "GetCallerIdentity").await;
    let me = sts.get_caller_identity().send().await.map_err(api.err("GetCallerIdentity", error_kind))?;
    // arn:PARTITION:sts::ACCOUNT:...
    let partition = me.arn().and_then(|a| a.split(':').nth(1)).unwrap_or("aws");
    Ok(format!("arn:{partition}:redshift:{}:{}:cluster:{id}", api.region, me.account().unwrap_or_default()))
}

/// The Redshift cluster kind's adapter.
pub struct Calls;

impl Adapter for Calls {
    fn batch_size(&self) -> usize {
        1
    }

    fn list<'a>(&'a self, api: &'a Api, selector: &'a BTreeMap<String, String>) -> Pending<'a, Vec<Resource>> {
        Box::pin(async move {
            let found = clusters(api, selector.keys().cloned().collect(), selector.values().cloned().collect()).await?;
            Ok(found.into_iter().filter(|r| selector.iter().all(|(k, v)| r.tags.get(k) == Some(v))).collect())
        })
    }

    /// Every cluster of the region, those asked for kept: one call for up to 100.
    fn describe<'a>(&'a self, api: &'a Api, ids: &'a [String]) -> Pending<'a, Vec<Resource>> {
        Box::pin(async move { Ok(clusters(api, Vec::new(), Vec::new()).await?.into_iter().filter(|r| ids.contains(&r.id)).collect()) })
    }

    fn act<'a>(&'a self, api: &'a Api, action: Action, batch: &'a [Resource], _mode: Mode, dry_run: bool) -> Pending<'a, Vec<String>> {
        Box::pin(one_by_one(batch, dry_run, move |r| async move {
            let c = client(api);
            match action {
                Action::Stop => {
                    let _permit = api.permit(SERVICE, "PauseCluster").await;
                    c.pause_cluster().cluster_identifier(&r.id).send().await.map_err(api.err("PauseCluster", error_kind))?;
                }
                Action::Start => {
                    let _permit = api.permit(SERVICE, "ResumeCluster").await;
                    c.resume_cluster().cluster_identifier(&r.id).send().await.map_err(api.err("ResumeCluster", error_kind))?;
                }
            }
            Ok(true)
        }))
    }

    fn tag<'a>(&'a self, api: &'a Api, resource: &'a Resource, key: &'a str, value: Option<&'a str>) -> Pending<'a, ()> {
        Box::pin(async move {
            let arn = arn(api, &resource.id).await?;
            match value {
                Some(value) => {
                    let _permit = api.permit(SERVICE, "CreateTags").await;
                    let tag = aws_sdk_redshift::types::Tag::builder().key(key).value(value).build();
                    client(api).create_tags().resource_name(arn).tags(tag).send().await.map_err(api.err("CreateTags", error_kind))?;
                }
                None => {
                    let _permit = api.permit(SERVICE, "DeleteTags").await;
                    client(api).delete_tags().resource_name(arn).tag_keys(key).send().await.map_err(api.err("DeleteTags", error_kind))?;
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_redshift::types::{Cluster, PendingModifiedValues, Tag};

    #[test]
    fn the_listing_reads_size_pending_changes_and_snapshots() {
        let c = Cluster::builder()
            .cluster_identifier("warehouse")
            .cluster_status("available")
            .node_type("ra3.xlplus")
            .number_of_nodes(2)
            .tags(Tag::builder().key("Schedule").value("office").build())
            .pending_modified_values(PendingModifiedValues::builder().node_type("ra3.4xlarge").number_of_nodes(4).build())
            .build();
        let snapshots = BTreeMap::from([("warehouse".to_string(), "manual-1".to_string())]);
        let r = cluster("eu-west-1", &c, &snapshots).unwrap();
        assert_eq!((r.id.as_str(), r.state.as_str(), r.size.as_deref()), ("warehouse", "available", Some("ra3.xlplus*2")));
        assert_eq!(r.tags.get("Schedule").map(String::as_str), Some("office"));
        assert_eq!(
            r.detail.get::<ClusterDetail>(),
            Some(&ClusterDetail { pending: Some("node type, number of nodes".into()), snapshot: Some("manual-1".into()) })
        );
        let quiet = Cluster::builder().cluster_identifier("w2").cluster_status("paused").node_type("dc2.large").build();
        let r = cluster("eu-west-1", &quiet.clone(), &BTreeMap::new()).unwrap();
        assert_eq!(r.detail.get::<ClusterDetail>(), Some(&ClusterDetail::default()));
        assert_eq!(r.size.as_deref(), Some("dc2.large"));
        let empty = Cluster::builder().cluster_identifier("w3").pending_modified_values(PendingModifiedValues::builder().build()).build();
        assert_eq!(cluster("eu-west-1", &empty, &BTreeMap::new()).unwrap().detail.get::<ClusterDetail>().unwrap().pending, None);
    }
}
