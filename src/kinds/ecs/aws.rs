//! ECS services: found by listing the clusters, their services, and describing those
//! with their tags (ECS has no tag filter); a stop records the desired count in a tag
//! on the service, then sets it to 0; a start restores it, then removes the tag (see
//! `kinds::ecs`). One service a call.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{ServiceField, Tag};

use super::record::{self, Record, Target};
use super::{RECORD_TAG, ServiceDetail, scaling, state_name};
use crate::aws::batch::one_by_one;
use crate::aws::{Api, AwsError, ErrorKind, Pending, observe};
use crate::kinds::Adapter;
use crate::model::{Action, Detail, Mode, Resource};

/// The IAM prefix of the kind's actions, and the name of its bound on calls in flight.
pub const SERVICE: &str = "ecs";

/// ECS's own error codes.
pub fn error_kind(code: &str) -> Option<ErrorKind> {
    match code {
        "ServiceNotFoundException" | "ClusterNotFoundException" => Some(ErrorKind::NotFound),
        _ => None,
    }
}

fn client(api: &Api) -> aws_sdk_ecs::Client {
    api.client(|conf| aws_sdk_ecs::Client::from_conf(aws_sdk_ecs::config::Builder::from(conf).interceptor(observe::Observe).build()))
}

/// The most services one DescribeServices call takes.
const DESCRIBE: usize = 10;

fn service(region: &str, s: &aws_sdk_ecs::types::Service) -> Option<Resource> {
    let tags: BTreeMap<String, String> =
        s.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect();
    let desired = s.desired_count();
    let status = s.status().unwrap_or("ACTIVE");
    Some(Resource {
        kind: super::KIND,
        id: s.service_arn()?.to_string(),
        region: region.to_string(),
        state: if status == "ACTIVE" { state_name(desired).to_string() } else { status.to_lowercase() },
        tags: tags.clone(),
        state_reason: None,
        size: None,
        engine: None,
        deployment: None,
        detail: Detail::new(ServiceDetail {
            cluster: s.cluster_arn()?.to_string(),
            desired,
            record: tags.get(RECORD_TAG).map(|v| record::parse(v)),
        }),
    })
}

/// The cluster of a service ARN (`arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME`).
fn cluster_of(arn: &str) -> String {
    let path: Vec<&str> = arn.rsplit_once(":service/").map_or(vec![], |(_, p)| p.split('/').collect());
    if path.len() == 2 { path[0].to_string() } else { "default".to_string() }
}

async fn clusters(api: &Api) -> Result<Vec<String>, AwsError> {
    let pages = client(api).list_clusters().into_paginator().send();
    let mut out = Vec::new();
    api.pages(SERVICE, "ListClusters", pages, error_kind, |page| {
        out.extend(page.cluster_arns().iter().cloned());
    })
    .await?;
    Ok(out)
}

async fn services_in(api: &Api, cluster: &str) -> Result<Vec<String>, AwsError> {
    let pages = client(api).list_services().cluster(cluster).into_paginator().send();
    let mut out = Vec::new();
    api.pages(SERVICE, "ListServices", pages, error_kind, |page| {
        out.extend(page.service_arns().iter().cloned());
    })
    .await?;
    Ok(out)
}

/// Describes the services of one cluster, 10 a call, all at once.
async fn describe(api: &Api, cluster: &str, arns: &[String]) -> Result<Vec<Resource>, AwsError> {
    let calls = arns.chunks(DESCRIBE).map(|chunk| async move {
        let _permit = api.permit(SERVICE, "DescribeServices").await;
        client(api)
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .include(ServiceField::Tags)
            .send()
            .await
            .map_err(api.err("DescribeServices", error_kind))
    });
    let mut out = Vec::with_capacity(arns.len());
    for answer in futures_util::future::join_all(calls).await {
        out.extend(answer?.services().iter().filter_map(|s| service(&api.region, s)));
    }
    Ok(out)
}

async fn set_desired(api: &Api, r: &Resource, cluster: &str, desired: i32) -> Result<(), AwsError> {
    let _permit = api.permit(SERVICE, "UpdateService").await;
    client(api)
        .update_service()
        .cluster(cluster)
        .service(&r.id)
        .desired_count(desired)
        .send()
        .await
        .map_err(api.err("UpdateService", error_kind))?;
    Ok(())
}

/// The ECS service kind's adapter.
pub struct Calls;

impl Adapter for Calls {
    fn batch_size(&self) -> usize {
        1
    }

    fn list<'a>(&'a self, api: &'a Api, selector: &'a BTreeMap<String, String>) -> Pending<'a, Vec<Resource>> {
        Box::pin(async move {
            let per_cluster = clusters(api).await?.into_iter().map(|cluster| async move {
                let arns = services_in(api, &cluster).await?;
                describe(api, &cluster, &arns).await
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
            let mut by_cluster: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for arn in ids {
                by_cluster.entry(cluster_of(arn)).or_default().push(arn.clone());
            }
            let reads = by_cluster.iter().map(|(cluster, arns)| describe(api, cluster, arns));
            let mut out = Vec::with_capacity(ids.len());
            for read in futures_util::future::join_all(reads).await {
                out.extend(read?);
            }
            Ok(out)
        })
    }

    fn tag<'a>(&'a self, api: &'a Api, resource: &'a Resource, key: &'a str, value: Option<&'a str>) -> Pending<'a, ()> {
        Box::pin(async move {
            match value {
                Some(value) => {
                    let _permit = api.permit(SERVICE, "TagResource").await;
                    let tag = Tag::builder().key(key).value(value).build();
                    client(api)
                        .tag_resource()
                        .resource_arn(&resource.id)
                        .tags(tag)
                        .send()
                        .await
                        .map_err(api.err("TagResource", error_kind))?;
                }
                None => {
                    let _permit = api.permit(SERVICE, "UntagResource").await;
                    client(api)
                        .untag_resource()
                        .resource_arn(&resource.id)
                        .tag_keys(key)
                        .send()
                        .await
                        .map_err(api.err("UntagResource", error_kind))?;
                }
            }
            Ok(())
        })
    }

    fn act<'a>(&'a self, api: &'a Api, action: Action, batch: &'a [Resource], _mode: Mode, dry_run: bool) -> Pending<'a, Vec<String>> {
        Box::pin(one_by_one(batch, dry_run, move |s| async move {
            let Some(ServiceDetail { cluster, desired, record }) = s.detail.get::<ServiceDetail>() else { return Ok(false) };
            match action {
                Action::Stop => {
                    let previous = record.as_ref().and_then(|r| r.as_ref().ok());
                    self.stop(api, s, cluster, *desired, previous).await?;
                }
                Action::Start => {
                    let Some(Ok(recorded)) = record else { return Ok(false) };
                    self.start(api, s, cluster, *recorded).await?;
                }
            }
            Ok(true)
        }))
    }
}

impl Calls {
    /// Record first: a service set to 0 without a record could never be restored. A
    /// target set to 0..0 with its scaling suspended keeps Application Auto Scaling
    /// from scaling the service back up; if it cannot be set, the service is left as
    /// it was (its record tag too) and the error reported.
    async fn stop(&self, api: &Api, s: &Resource, cluster: &str, desired: i32, previous: Option<&Record>) -> Result<(), AwsError> {
        let target_id = scaling::resource_id(cluster, &s.id);
        let target = scaling::read(api, &target_id).await?;
        let recorded = record::at_stop(desired, target, previous);
        self.tag(api, s, RECORD_TAG, Some(&record::format(recorded))).await?;
        if let Some(was) = target
            && let Err(e) = scaling::set(api, &target_id, Target::STOPPED).await
        {
            // The call may have taken effect all the same (a timeout): the target goes
            // back as it was read, and only then the tag as it was (an earlier stop's
            // record still has the target to restore); if the target cannot be put back,
            // the record stays, so that a start can.
            if scaling::set(api, &target_id, was).await.is_ok() {
                let _ = self.tag(api, s, RECORD_TAG, previous.map(|p| record::format(*p)).as_deref()).await;
            }
            return Err(e);
        }
        if let Err(e) = set_desired(api, s, cluster, 0).await {
            self.undo_stop(api, s, cluster, desired, target, previous).await;
            return Err(e);
        }
        Ok(())
    }

    /// After a count that could not be set to 0: the call may have taken effect all the
    /// same (a timeout), so the count goes back as it was read, then the target, then
    /// the tag as it was. Whatever cannot be put back keeps the record, so that a start
    /// can.
    async fn undo_stop(&self, api: &Api, s: &Resource, cluster: &str, desired: i32, target: Option<Target>, previous: Option<&Record>) {
        if set_desired(api, s, cluster, desired).await.is_err() {
            return;
        }
        if let Some(was) = target
            && scaling::set(api, &scaling::resource_id(cluster, &s.id), was).await.is_err()
        {
            return;
        }
        let _ = self.tag(api, s, RECORD_TAG, previous.map(|p| record::format(*p)).as_deref()).await;
    }

    /// The target first (its minimum would otherwise hold the count at 0), then the
    /// count; the record goes only once both are back.
    async fn start(&self, api: &Api, s: &Resource, cluster: &str, recorded: Record) -> Result<(), AwsError> {
        if let Some(target) = recorded.target {
            scaling::set(api, &scaling::resource_id(cluster, &s.id), target).await?;
        }
        set_desired(api, s, cluster, recorded.desired).await?;
        self.tag(api, s, RECORD_TAG, None).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cluster_is_read_from_the_service_arn() {
        assert_eq!(super::cluster_of("arn:aws:ecs:eu-west-1:123456789012:service/dev/web"), "dev");
        assert_eq!(super::cluster_of("arn:aws:ecs:eu-west-1:123456789012:service/web"), "default");
    }
}
