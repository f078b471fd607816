//! RDS: DB instances and DB clusters (Aurora, and Neptune / DocumentDB through the same
//! API). RDS has no server-side tag filter: one paginated Describe per region returns
//! every database with its tags, and the selector is applied here (see ARCHITECTURE.md
//! for why not the Resource Groups Tagging API). Start and stop take one identifier
//! a call, so a batch is one database. A cluster's size is its members' classes, from
//! one DescribeDBInstances of the listed clusters' members per region.

use std::collections::BTreeMap;

use aws_sdk_rds::types::Filter;

use super::InstanceDetail;
use super::price::cluster_size;
use crate::aws::batch::one_by_one;
use crate::aws::{Api, AwsError, ErrorKind, Pending, observe};
use crate::kinds::Adapter;
use crate::kinds::Rules;
use crate::model::{Action, Deployment, Detail, Mode, Phase, Resource};

/// The IAM prefix of the kind's actions, and the name of its bound on calls in flight.
pub const SERVICE: &str = "rds";

/// RDS's own error codes (DB instances and clusters alike).
pub fn error_kind(code: &str) -> Option<ErrorKind> {
    match code {
        "DBInstanceNotFound" | "DBInstanceNotFoundFault" | "DBClusterNotFoundFault" => Some(ErrorKind::NotFound),
        "InvalidDBInstanceState" | "InvalidDBInstanceStateFault" | "InvalidDBClusterStateFault" => Some(ErrorKind::IncorrectState),
        "InsufficientDBInstanceCapacity" => Some(ErrorKind::InsufficientCapacity),
        _ => None,
    }
}

fn client(api: &Api) -> aws_sdk_rds::Client {
    api.client(|conf| aws_sdk_rds::Client::from_conf(aws_sdk_rds::config::Builder::from(conf).interceptor(observe::Observe).build()))
}

/// Records per Describe page (RDS allows 20 to 100).
const PAGE: i32 = 100;

fn tags(list: &[aws_sdk_rds::types::Tag]) -> BTreeMap<String, String> {
    list.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect()
}

fn matches(tags: &BTreeMap<String, String>, selector: &BTreeMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| tags.get(k) == Some(v))
}

fn instance(region: &str, db: &aws_sdk_rds::types::DbInstance) -> Option<Resource> {
    Some(Resource {
        kind: super::INSTANCE,
        id: db.db_instance_identifier()?.to_string(),
        region: region.to_string(),
        state: db.db_instance_status().unwrap_or("unknown").to_string(),
        tags: tags(db.tag_list()),
        state_reason: None,
        size: db.db_instance_class().map(str::to_string),
        engine: db.engine().map(str::to_string),
        deployment: db.multi_az().map(Deployment::from_multi_az),
        detail: Detail::new(InstanceDetail {
            replica_of: db.read_replica_source_db_instance_identifier().map(str::to_string),
            replicas: db.read_replica_db_instance_identifiers().len() + db.read_replica_db_cluster_identifiers().len(),
            cluster: db.db_cluster_identifier().map(str::to_string),
        }),
    })
}

/// A cluster as listed, without its size (see [`with_sizes`]).
fn cluster(region: &str, c: &aws_sdk_rds::types::DbCluster) -> Option<Resource> {
    Some(Resource {
        kind: super::CLUSTER,
        id: c.db_cluster_identifier()?.to_string(),
        region: region.to_string(),
        state: c.status().unwrap_or("unknown").to_string(),
        tags: tags(c.tag_list()),
        state_reason: None,
        size: None,
        engine: c.engine().map(str::to_string),
        deployment: c.multi_az().map(Deployment::from_multi_az),
        detail: Detail::default(),
    })
}

async fn instances(api: &Api, filter: Option<Filter>) -> Result<Vec<Resource>, AwsError> {
    let pages = client(api).describe_db_instances().set_filters(filter.map(|f| vec![f])).max_records(PAGE).into_paginator().send();
    let mut out = Vec::new();
    api.pages(SERVICE, "DescribeDBInstances", pages, error_kind, |page| {
        out.extend(page.db_instances().iter().filter_map(|db| instance(&api.region, db)));
    })
    .await?;
    Ok(out)
}

/// The clusters `filter` names, each with its members' instance identifiers.
async fn clusters(api: &Api, filter: Option<Filter>) -> Result<Vec<(Resource, Vec<String>)>, AwsError> {
    let pages = client(api).describe_db_clusters().set_filters(filter.map(|f| vec![f])).max_records(PAGE).into_paginator().send();
    let mut out = Vec::new();
    api.pages(SERVICE, "DescribeDBClusters", pages, error_kind, |page| {
        out.extend(page.db_clusters().iter().filter_map(|c| {
            let members = c.db_cluster_members().iter().filter_map(|m| m.db_instance_identifier().map(str::to_string)).collect();
            Some((cluster(&api.region, c)?, members))
        }));
    })
    .await?;
    Ok(out)
}

/// The clusters with their sizes (`kinds::rds::cluster_size`): their members' classes,
/// read with one DescribeDBInstances filtered by `db-cluster-id` (paginated; 100
/// clusters a filter) for those with members. A cluster with a member not found (one
/// created or removed in between) has no size. The sizes only price the
/// off hours, so a read that fails leaves every size unknown, with a warning, and the
/// clusters are listed all the same.
async fn with_sizes(api: &Api, clusters: Vec<(Resource, Vec<String>)>) -> Vec<Resource> {
    let ids: Vec<String> = clusters.iter().filter(|(_, members)| !members.is_empty()).map(|(c, _)| c.id.clone()).collect();
    let mut classes: BTreeMap<String, String> = BTreeMap::new();
    for chunk in ids.chunks(PAGE as usize) {
        match instances(api, Some(id_filter("db-cluster-id", chunk))).await {
            Ok(found) => classes.extend(found.into_iter().filter_map(|db| Some((db.id, db.size?)))),
            Err(e) => {
                tracing::warn!(region = %api.region, clusters = ids.len(), error = %e, "Cannot read the DB clusters' instance classes; their sizes are unknown and their off hours unpriced.");
                classes.clear();
                break;
            }
        }
    }
    sized(clusters, &classes)
}

/// Each cluster with its size from its members' `classes` (instance identifier ->
/// class): none without members or when one of them has no class known.
fn sized(clusters: Vec<(Resource, Vec<String>)>, classes: &BTreeMap<String, String>) -> Vec<Resource> {
    clusters
        .into_iter()
        .map(|(mut c, members)| {
            let known: Option<Vec<&str>> = members.iter().map(|m| classes.get(m).map(String::as_str)).collect();
            c.size = known.and_then(cluster_size);
            c
        })
        .collect()
}

/// A DB instance's ARN (RDS tags by ARN).
async fn instance_arn(api: &Api, id: &str) -> Result<Option<String>, AwsError> {
    let _permit = api.permit(SERVICE, "DescribeDBInstances").await;
    let out =
        client(api).describe_db_instances().db_instance_identifier(id).send().await.map_err(api.err("DescribeDBInstances", error_kind))?;
    Ok(out.db_instances().first().and_then(|d| d.db_instance_arn()).map(str::to_string))
}

/// A DB cluster's ARN.
async fn cluster_arn(api: &Api, id: &str) -> Result<Option<String>, AwsError> {
    let _permit = api.permit(SERVICE, "DescribeDBClusters").await;
    let out =
        client(api).describe_db_clusters().db_cluster_identifier(id).send().await.map_err(api.err("DescribeDBClusters", error_kind))?;
    Ok(out.db_clusters().first().and_then(|c| c.db_cluster_arn()).map(str::to_string))
}

/// Sets or removes one tag on a DB instance or cluster, by its ARN (`None`: not found).
async fn tag_db(api: &Api, arn: Option<String>, resource: &Resource, key: &str, value: Option<&str>) -> Result<(), AwsError> {
    let Some(arn) = arn else {
        return Err(AwsError::not_found("AddTagsToResource", &api.region, format!("{} {} not found", resource.kind, resource.id)));
    };
    match value {
        Some(value) => {
            let _permit = api.permit(SERVICE, "AddTagsToResource").await;
            let tag = aws_sdk_rds::types::Tag::builder().key(key).value(value).build();
            client(api)
                .add_tags_to_resource()
                .resource_name(arn)
                .tags(tag)
                .send()
                .await
                .map_err(api.err("AddTagsToResource", error_kind))?;
        }
        None => {
            let _permit = api.permit(SERVICE, "RemoveTagsFromResource").await;
            client(api)
                .remove_tags_from_resource()
                .resource_name(arn)
                .tag_keys(key)
                .send()
                .await
                .map_err(api.err("RemoveTagsFromResource", error_kind))?;
        }
    }
    Ok(())
}

fn id_filter(name: &str, ids: &[String]) -> Filter {
    Filter::builder().name(name).set_values(Some(ids.to_vec())).build()
}

/// The DB instance kind's adapter.
pub struct InstanceCalls;

impl Adapter for InstanceCalls {
    fn batch_size(&self) -> usize {
        1
    }

    fn list<'a>(&'a self, api: &'a Api, selector: &'a BTreeMap<String, String>) -> Pending<'a, Vec<Resource>> {
        Box::pin(async move { Ok(instances(api, None).await?.into_iter().filter(|r| matches(&r.tags, selector)).collect()) })
    }

    fn describe<'a>(&'a self, api: &'a Api, ids: &'a [String]) -> Pending<'a, Vec<Resource>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(PAGE as usize) {
                out.extend(instances(api, Some(id_filter("db-instance-id", chunk))).await?);
            }
            Ok(out)
        })
    }

    fn tag<'a>(&'a self, api: &'a Api, resource: &'a Resource, key: &'a str, value: Option<&'a str>) -> Pending<'a, ()> {
        Box::pin(async move { tag_db(api, instance_arn(api, &resource.id).await?, resource, key, value).await })
    }

    fn act<'a>(&'a self, api: &'a Api, action: Action, batch: &'a [Resource], _mode: Mode, dry_run: bool) -> Pending<'a, Vec<String>> {
        Box::pin(one_by_one(batch, dry_run, move |db| async move {
            let c = client(api);
            match action {
                Action::Stop => {
                    let _permit = api.permit(SERVICE, "StopDBInstance").await;
                    c.stop_db_instance().db_instance_identifier(&db.id).send().await.map_err(api.err("StopDBInstance", error_kind))?;
                }
                Action::Start => {
                    let _permit = api.permit(SERVICE, "StartDBInstance").await;
                    c.start_db_instance().db_instance_identifier(&db.id).send().await.map_err(api.err("StartDBInstance", error_kind))?;
                }
            }
            Ok(true)
        }))
    }
}

/// The DB cluster kind's adapter.
pub struct ClusterCalls;

impl Adapter for ClusterCalls {
    fn batch_size(&self) -> usize {
        1
    }

    fn list<'a>(&'a self, api: &'a Api, selector: &'a BTreeMap<String, String>) -> Pending<'a, Vec<Resource>> {
        Box::pin(async move {
            let matched = clusters(api, None).await?.into_iter().filter(|(c, _)| matches(&c.tags, selector)).collect();
            Ok(with_sizes(api, matched).await)
        })
    }

    fn describe<'a>(&'a self, api: &'a Api, ids: &'a [String]) -> Pending<'a, Vec<Resource>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(PAGE as usize) {
                out.extend(clusters(api, Some(id_filter("db-cluster-id", chunk))).await?);
            }
            Ok(with_sizes(api, out).await)
        })
    }

    /// DescribeDBClusters alone: a state needs no member's class.
    fn states<'a>(&'a self, api: &'a Api, ids: &'a [String]) -> Pending<'a, BTreeMap<String, (String, Phase)>> {
        Box::pin(async move {
            let mut out = BTreeMap::new();
            for chunk in ids.chunks(PAGE as usize) {
                for (c, _) in clusters(api, Some(id_filter("db-cluster-id", chunk))).await? {
                    let phase = c.phase();
                    out.insert(c.id, (c.state, phase));
                }
            }
            Ok(out)
        })
    }

    fn tag<'a>(&'a self, api: &'a Api, resource: &'a Resource, key: &'a str, value: Option<&'a str>) -> Pending<'a, ()> {
        Box::pin(async move { tag_db(api, cluster_arn(api, &resource.id).await?, resource, key, value).await })
    }

    fn act<'a>(&'a self, api: &'a Api, action: Action, batch: &'a [Resource], _mode: Mode, dry_run: bool) -> Pending<'a, Vec<String>> {
        Box::pin(one_by_one(batch, dry_run, move |db| async move {
            let c = client(api);
            match action {
                Action::Stop => {
                    let _permit = api.permit(SERVICE, "StopDBCluster").await;
                    c.stop_db_cluster().db_cluster_identifier(&db.id).send().await.map_err(api.err("StopDBCluster", error_kind))?;
                }
                Action::Start => {
                    let _permit = api.permit(SERVICE, "StartDBCluster").await;
                    c.start_db_cluster().db_cluster_identifier(&db.id).send().await.map_err(api.err("StartDBCluster", error_kind))?;
                }
            }
            Ok(true)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Deployment;
    use aws_sdk_rds::types::{DbCluster, DbInstance};

    #[test]
    fn the_listing_keeps_each_database_s_engine_and_deployment() {
        let db = |engine: Option<&str>, multi_az: Option<bool>| {
            let mut b =
                DbInstance::builder().db_instance_identifier("db-1").db_instance_class("db.t3.micro").db_instance_status("available");
            b = b.set_engine(engine.map(str::to_string)).set_multi_az(multi_az);
            let r = instance("eu-west-1", &b.build()).unwrap();
            (r.size.clone(), r.engine.clone(), r.deployment)
        };
        let class = Some("db.t3.micro".to_string());
        assert_eq!(db(Some("postgres"), Some(true)), (class.clone(), Some("postgres".into()), Some(Deployment::MultiAz)));
        assert_eq!(db(Some("mysql"), Some(false)), (class.clone(), Some("mysql".into()), Some(Deployment::SingleAz)));
        assert_eq!(db(None, None), (class, None, None), "absent: unknown");
        let c =
            DbCluster::builder().db_cluster_identifier("aurora-1").status("available").engine("aurora-postgresql").multi_az(true).build();
        let r = cluster("eu-west-1", &c).unwrap();
        assert_eq!((r.size.as_deref(), r.engine.as_deref(), r.deployment), (None, Some("aurora-postgresql"), Some(Deployment::MultiAz)));
    }

    #[test]
    fn a_cluster_s_size_is_known_only_with_every_member_s_class() {
        let classes: BTreeMap<String, String> =
            [("a-1", "db.r6g.large"), ("a-2", "db.r6g.xlarge"), ("a-3", "db.r6g.large"), ("s-1", "db.serverless")]
                .into_iter()
                .map(|(id, class)| (id.to_string(), class.to_string()))
                .collect();
        let c = DbCluster::builder().db_cluster_identifier("aurora-1").status("available").engine("aurora-postgresql").build();
        let listed = cluster("eu-west-1", &c).unwrap();
        // (members, size)
        let cases: [(&[&str], Option<&str>); 5] = [
            (&["a-1", "a-2", "a-3"], Some("db.r6g.large*2+db.r6g.xlarge")),
            (&["s-1"], Some("db.serverless")),
            (&[], None),
            // A member not found (created or removed in between): not known.
            (&["a-1", "a-9"], None),
            (&["a-9"], None),
        ];
        for (members, expect) in cases {
            let members = members.iter().map(|m| m.to_string()).collect();
            let got = sized(vec![(listed.clone(), members)], &classes);
            assert_eq!(got[0].size.as_deref(), expect, "{:?}", got[0]);
        }
    }
}
