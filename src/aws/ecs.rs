//! ECS services: found by listing the clusters, their services, and describing those
//! with their tags (ECS has no tag filter); a stop records the desired count in a tag
//! on the service, then sets it to 0; a start restores it, then removes the tag (see
//! `kinds::ecs`). One service a call.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{ServiceField, Tag};

use super::{Adapter, Api, AwsError, Pending, Service};
use crate::kinds::ecs::{RECORD_TAG, parse_record, state_name};
use crate::model::{Action, Detail, Kind, Resource};

/// The most services one DescribeServices call takes.
const DESCRIBE: usize = 10;

fn service(region: &str, s: &aws_sdk_ecs::types::Service) -> Option<Resource> {
    let tags: BTreeMap<String, String> =
        s.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect();
    let desired = s.desired_count();
    let status = s.status().unwrap_or("ACTIVE");
    Some(Resource {
        kind: Kind::Ecs,
        id: s.service_arn()?.to_string(),
        region: region.to_string(),
        state: if status == "ACTIVE" { state_name(desired).to_string() } else { status.to_lowercase() },
        tags: tags.clone(),
        state_reason: None,
        size: None,
        detail: Detail::Ecs { cluster: s.cluster_arn()?.to_string(), desired, record: tags.get(RECORD_TAG).map(|v| parse_record(v)) },
    })
}

/// The cluster of a service ARN (`arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME`).
fn cluster_of(arn: &str) -> String {
    let path: Vec<&str> = arn.rsplit_once(":service/").map_or(vec![], |(_, p)| p.split('/').collect());
    if path.len() == 2 { path[0].to_string() } else { "default".to_string() }
}

async fn clusters(api: &Api) -> Result<Vec<String>, AwsError> {
    let mut pages = api.ecs().list_clusters().into_paginator().send();
    let mut out = Vec::new();
    loop {
        let page = {
            let _permit = api.permit(Service::Ecs, "ListClusters").await;
            pages.next().await
        };
        let Some(page) = page else { break };
        out.extend(page.map_err(|e| AwsError::from_sdk("ListClusters", &api.region, e))?.cluster_arns().iter().cloned());
    }
    Ok(out)
}

async fn services_in(api: &Api, cluster: &str) -> Result<Vec<String>, AwsError> {
    let mut pages = api.ecs().list_services().cluster(cluster).into_paginator().send();
    let mut out = Vec::new();
    loop {
        let page = {
            let _permit = api.permit(Service::Ecs, "ListServices").await;
            pages.next().await
        };
        let Some(page) = page else { break };
        out.extend(page.map_err(|e| AwsError::from_sdk("ListServices", &api.region, e))?.service_arns().iter().cloned());
    }
    Ok(out)
}

/// Describes the services of one cluster, 10 a call, all at once.
async fn describe(api: &Api, cluster: &str, arns: &[String]) -> Result<Vec<Resource>, AwsError> {
    let calls = arns.chunks(DESCRIBE).map(|chunk| async move {
        let _permit = api.permit(Service::Ecs, "DescribeServices").await;
        api.ecs()
            .describe_services()
            .cluster(cluster)
            .set_services(Some(chunk.to_vec()))
            .include(ServiceField::Tags)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeServices", &api.region, e))
    });
    let mut out = Vec::with_capacity(arns.len());
    for answer in futures_util::future::join_all(calls).await {
        out.extend(answer?.services().iter().filter_map(|s| service(&api.region, s)));
    }
    Ok(out)
}

async fn set_desired(api: &Api, r: &Resource, cluster: &str, desired: i32) -> Result<(), AwsError> {
    let _permit = api.permit(Service::Ecs, "UpdateService").await;
    api.ecs()
        .update_service()
        .cluster(cluster)
        .service(&r.id)
        .desired_count(desired)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("UpdateService", &api.region, e))?;
    Ok(())
}

/// The ECS service kind's adapter.
pub struct Services;

impl Adapter for Services {
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
                    let _permit = api.permit(Service::Ecs, "TagResource").await;
                    let tag = Tag::builder().key(key).value(value).build();
                    api.ecs()
                        .tag_resource()
                        .resource_arn(&resource.id)
                        .tags(tag)
                        .send()
                        .await
                        .map_err(|e| AwsError::from_sdk("TagResource", &api.region, e))?;
                }
                None => {
                    let _permit = api.permit(Service::Ecs, "UntagResource").await;
                    api.ecs()
                        .untag_resource()
                        .resource_arn(&resource.id)
                        .tag_keys(key)
                        .send()
                        .await
                        .map_err(|e| AwsError::from_sdk("UntagResource", &api.region, e))?;
                }
            }
            Ok(())
        })
    }

    fn act<'a>(&'a self, api: &'a Api, action: Action, batch: &'a [Resource], _hibernate: bool, dry_run: bool) -> Pending<'a, Vec<String>> {
        Box::pin(async move {
            let mut done = Vec::with_capacity(batch.len());
            for s in batch {
                let Detail::Ecs { cluster, desired, record } = &s.detail else { continue };
                if dry_run {
                    continue;
                }
                match action {
                    // Record first: a service set to 0 without a record could never be restored.
                    Action::Stop => {
                        {
                            let _permit = api.permit(Service::Ecs, "TagResource").await;
                            let tag = Tag::builder().key(RECORD_TAG).value(desired.to_string()).build();
                            api.ecs()
                                .tag_resource()
                                .resource_arn(&s.id)
                                .tags(tag)
                                .send()
                                .await
                                .map_err(|e| AwsError::from_sdk("TagResource", &api.region, e))?;
                        }
                        set_desired(api, s, cluster, 0).await?;
                    }
                    // Restore first: the record goes only once the count is back.
                    Action::Start => {
                        let Some(Ok(recorded)) = record else { continue };
                        set_desired(api, s, cluster, *recorded).await?;
                        let _permit = api.permit(Service::Ecs, "UntagResource").await;
                        api.ecs()
                            .untag_resource()
                            .resource_arn(&s.id)
                            .tag_keys(RECORD_TAG)
                            .send()
                            .await
                            .map_err(|e| AwsError::from_sdk("UntagResource", &api.region, e))?;
                    }
                }
                done.push(s.id.clone());
            }
            Ok(done)
        })
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
