//! RDS: DB instances and DB clusters (Aurora, and Neptune / DocumentDB through the same
//! API). RDS has no server-side tag filter: one paginated Describe per region returns
//! every database with its tags, and the selector is applied here (see ARCHITECTURE.md
//! for why not the Resource Groups Tagging API). Start and stop take one identifier
//! a call, so a batch is one database. A cluster's size is its members' classes, from
//! one DescribeDBInstances of the listed clusters' members per region.

use std::collections::BTreeMap;

use aws_sdk_rds::types::Filter;

use super::{Adapter, Api, AwsError, Pending, Service};
use crate::kinds::Rules;
use crate::kinds::rds::cluster_size;
use crate::model::{Action, Deployment, Detail, Kind, Phase, Resource};

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
        kind: Kind::Rds,
        id: db.db_instance_identifier()?.to_string(),
        region: region.to_string(),
        state: db.db_instance_status().unwrap_or("unknown").to_string(),
        tags: tags(db.tag_list()),
        state_reason: None,
        size: db.db_instance_class().map(str::to_string),
        detail: Detail::Rds {
            replica_of: db.read_replica_source_db_instance_identifier().map(str::to_string),
            replicas: db.read_replica_db_instance_identifiers().len() + db.read_replica_db_cluster_identifiers().len(),
            cluster: db.db_cluster_identifier().map(str::to_string),
            engine: db.engine().map(str::to_string),
            deployment: db.multi_az().map(Deployment::from_multi_az),
        },
    })
}

/// A cluster as listed, without its size (see [`with_sizes`]).
fn cluster(region: &str, c: &aws_sdk_rds::types::DbCluster) -> Option<Resource> {
    Some(Resource {
        kind: Kind::RdsCluster,
        id: c.db_cluster_identifier()?.to_string(),
        region: region.to_string(),
        state: c.status().unwrap_or("unknown").to_string(),
        tags: tags(c.tag_list()),
        state_reason: None,
        size: None,
        detail: Detail::RdsCluster { engine: c.engine().map(str::to_string), deployment: c.multi_az().map(Deployment::from_multi_az) },
    })
}

async fn instances(api: &Api, filter: Option<Filter>) -> Result<Vec<Resource>, AwsError> {
    let mut pages = api.rds().describe_db_instances().set_filters(filter.map(|f| vec![f])).max_records(PAGE).into_paginator().send();
    let mut out = Vec::new();
    loop {
        let page = {
            let _permit = api.permit(Service::Rds, "DescribeDBInstances").await;
            pages.next().await
        };
        let Some(page) = page else { break };
        let page = page.map_err(|e| AwsError::from_sdk("DescribeDBInstances", &api.region, e))?;
        out.extend(page.db_instances().iter().filter_map(|db| instance(&api.region, db)));
    }
    Ok(out)
}

/// The clusters `filter` names, each with its members' instance identifiers.
async fn clusters(api: &Api, filter: Option<Filter>) -> Result<Vec<(Resource, Vec<String>)>, AwsError> {
    let mut pages = api.rds().describe_db_clusters().set_filters(filter.map(|f| vec![f])).max_records(PAGE).into_paginator().send();
    let mut out = Vec::new();
    loop {
        let page = {
            let _permit = api.permit(Service::Rds, "DescribeDBClusters").await;
            pages.next().await
        };
        let Some(page) = page else { break };
        let page = page.map_err(|e| AwsError::from_sdk("DescribeDBClusters", &api.region, e))?;
        out.extend(page.db_clusters().iter().filter_map(|c| {
            let members = c.db_cluster_members().iter().filter_map(|m| m.db_instance_identifier().map(str::to_string)).collect();
            Some((cluster(&api.region, c)?, members))
        }));
    }
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

/// Sets or removes one tag on a DB instance or cluster (RDS tags by ARN, read first).
async fn tag_db(api: &Api, resource: &Resource, key: &str, value: Option<&str>) -> Result<(), AwsError> {
    let arn = {
        let _permit;
        if resource.kind == Kind::Rds {
            _permit = api.permit(Service::Rds, "DescribeDBInstances").await;
            let out = api
                .rds()
                .describe_db_instances()
                .db_instance_identifier(&resource.id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeDBInstances", &api.region, e))?;
            out.db_instances().first().and_then(|d| d.db_instance_arn()).map(str::to_string)
        } else {
            _permit = api.permit(Service::Rds, "DescribeDBClusters").await;
            let out = api
                .rds()
                .describe_db_clusters()
                .db_cluster_identifier(&resource.id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeDBClusters", &api.region, e))?;
            out.db_clusters().first().and_then(|c| c.db_cluster_arn()).map(str::to_string)
        }
    };
    let Some(arn) = arn else {
        return Err(AwsError::not_found("AddTagsToResource", &api.region, format!("{} {} not found", resource.kind, resource.id)));
    };
    match value {
        Some(value) => {
            let _permit = api.permit(Service::Rds, "AddTagsToResource").await;
            let tag = aws_sdk_rds::types::Tag::builder().key(key).value(value).build();
            api.rds()
                .add_tags_to_resource()
                .resource_name(arn)
                .tags(tag)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("AddTagsToResource", &api.region, e))?;
        }
        None => {
            let _permit = api.permit(Service::Rds, "RemoveTagsFromResource").await;
            api.rds()
                .remove_tags_from_resource()
                .resource_name(arn)
                .tag_keys(key)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("RemoveTagsFromResource", &api.region, e))?;
        }
    }
    Ok(())
}

fn id_filter(name: &str, ids: &[String]) -> Filter {
    Filter::builder().name(name).set_values(Some(ids.to_vec())).build()
}

/// The DB instance kind's adapter.
pub struct DbInstances;

impl Adapter for DbInstances {
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
        Box::pin(tag_db(api, resource, key, value))
    }

    fn act<'a>(&'a self, api: &'a Api, action: Action, batch: &'a [Resource], _hibernate: bool, dry_run: bool) -> Pending<'a, Vec<String>> {
        Box::pin(async move {
            let mut done = Vec::with_capacity(batch.len());
            for db in batch {
                if dry_run {
                    continue;
                }
                let id = db.id.as_str();
                match action {
                    Action::Stop => {
                        let _permit = api.permit(Service::Rds, "StopDBInstance").await;
                        api.rds()
                            .stop_db_instance()
                            .db_instance_identifier(id)
                            .send()
                            .await
                            .map_err(|e| AwsError::from_sdk("StopDBInstance", &api.region, e))?;
                    }
                    Action::Start => {
                        let _permit = api.permit(Service::Rds, "StartDBInstance").await;
                        api.rds()
                            .start_db_instance()
                            .db_instance_identifier(id)
                            .send()
                            .await
                            .map_err(|e| AwsError::from_sdk("StartDBInstance", &api.region, e))?;
                    }
                }
                done.push(db.id.clone());
            }
            Ok(done)
        })
    }
}

/// The DB cluster kind's adapter.
pub struct DbClusters;

impl Adapter for DbClusters {
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
        Box::pin(tag_db(api, resource, key, value))
    }

    fn act<'a>(&'a self, api: &'a Api, action: Action, batch: &'a [Resource], _hibernate: bool, dry_run: bool) -> Pending<'a, Vec<String>> {
        Box::pin(async move {
            let mut done = Vec::with_capacity(batch.len());
            for c in batch {
                if dry_run {
                    continue;
                }
                let id = c.id.as_str();
                match action {
                    Action::Stop => {
                        let _permit = api.permit(Service::Rds, "StopDBCluster").await;
                        api.rds()
                            .stop_db_cluster()
                            .db_cluster_identifier(id)
                            .send()
                            .await
                            .map_err(|e| AwsError::from_sdk("StopDBCluster", &api.region, e))?;
                    }
                    Action::Start => {
                        let _permit = api.permit(Service::Rds, "StartDBCluster").await;
                        api.rds()
                            .start_db_cluster()
                            .db_cluster_identifier(id)
                            .send()
                            .await
                            .map_err(|e| AwsError::from_sdk("StartDBCluster", &api.region, e))?;
                    }
                }
                done.push(c.id.clone());
            }
            Ok(done)
        })
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
            (r.size.clone(), r.engine().map(str::to_string), r.deployment())
        };
        let class = Some("db.t3.micro".to_string());
        assert_eq!(db(Some("postgres"), Some(true)), (class.clone(), Some("postgres".into()), Some(Deployment::MultiAz)));
        assert_eq!(db(Some("mysql"), Some(false)), (class.clone(), Some("mysql".into()), Some(Deployment::SingleAz)));
        assert_eq!(db(None, None), (class, None, None), "absent: unknown");
        let c =
            DbCluster::builder().db_cluster_identifier("aurora-1").status("available").engine("aurora-postgresql").multi_az(true).build();
        let r = cluster("eu-west-1", &c).unwrap();
        assert_eq!((r.size.as_deref(), r.engine(), r.deployment()), (None, Some("aurora-postgresql"), Some(Deployment::MultiAz)));
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
