//! SageMaker: notebook instances from ListNotebookInstances (paginated; no tag filter),
//! each one's tags from ListTags, all at once under the region's bound; a stop or start
//! is one notebook a call. Verification reads DescribeNotebookInstance only.

use std::collections::BTreeMap;

use aws_sdk_sagemaker::types::Tag;

use super::{KIND, NotebookDetail, phase};
use crate::aws::batch::one_by_one;
use crate::aws::{Api, AwsError, ErrorKind, Pending, observe};
use crate::kinds::Adapter;
use crate::model::{Action, Detail, Mode, Phase, Resource};

/// The IAM prefix of the kind's actions, and the name of its bound on calls in flight.
pub const SERVICE: &str = "sagemaker";

/// SageMaker's own error codes (a notebook not found is a ValidationException whose
/// message says `RecordNotFound`: see [`gone`]).
pub fn error_kind(code: &str) -> Option<ErrorKind> {
    match code {
        "ResourceNotFound" => Some(ErrorKind::NotFound),
        _ => None,
    }
}

/// Whether the error says the notebook does not exist.
fn gone(e: &AwsError) -> bool {
    e.kind == ErrorKind::NotFound || e.message.contains("RecordNotFound")
}

fn client(api: &Api) -> aws_sdk_sagemaker::Client {
    api.client(|conf| {
        aws_sdk_sagemaker::Client::from_conf(aws_sdk_sagemaker::config::Builder::from(conf).interceptor(observe::Observe).build())
    })
}

/// A notebook as listed: (name, ARN, status, instance type).
type Listed = (String, String, String, Option<String>);

async fn tags(api: &Api, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let pages = client(api).list_tags().resource_arn(arn).into_paginator().send();
    let mut out = BTreeMap::new();
    api.pages(SERVICE, "ListTags", pages, error_kind, |page| {
        out.extend(page.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))));
    })
    .await?;
    Ok(out)
}

/// The notebooks with their tags, read at once; one gone in between is left out.
async fn with_tags(api: &Api, listed: Vec<Listed>) -> Result<Vec<Resource>, AwsError> {
    let reads = listed.into_iter().map(|(name, arn, status, size)| async move {
        let tags = match tags(api, &arn).await {
            Ok(tags) => tags,
            Err(e) if gone(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let detail = Detail::new(NotebookDetail { arn });
        Ok(Some(Resource {
            kind: KIND,
            id: name,
            region: api.region.clone(),
            state: status,
            tags,
            state_reason: None,
            size,
            engine: None,
            deployment: None,
            detail,
        }))
    });
    let mut out = Vec::new();
    for read in futures_util::future::join_all(reads).await {
        out.extend(read?);
    }
    Ok(out)
}

async fn list_all(api: &Api) -> Result<Vec<Listed>, AwsError> {
    let pages = client(api).list_notebook_instances().into_paginator().send();
    let mut out = Vec::new();
    api.pages(SERVICE, "ListNotebookInstances", pages, error_kind, |page| {
        for n in page.notebook_instances() {
            let (Some(name), Some(arn)) = (n.notebook_instance_name(), n.notebook_instance_arn()) else { continue };
            let status = n.notebook_instance_status().map_or("Pending", |s| s.as_str()).to_string();
            out.push((name.to_string(), arn.to_string(), status, n.instance_type().map(|t| t.as_str().to_string())));
        }
    })
    .await?;
    Ok(out)
}

/// One notebook as DescribeNotebookInstance sees it; `None` when it is gone.
async fn describe_one(api: &Api, name: &str) -> Result<Option<Listed>, AwsError> {
    let _permit = api.permit(SERVICE, "DescribeNotebookInstance").await;
    let answer = client(api).describe_notebook_instance().notebook_instance_name(name).send().await;
    let out = match answer.map_err(api.err("DescribeNotebookInstance", error_kind)) {
        Ok(out) => out,
        Err(e) if gone(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(arn) = out.notebook_instance_arn() else { return Ok(None) };
    let status = out.notebook_instance_status().map_or("Pending", |s| s.as_str()).to_string();
    Ok(Some((name.to_string(), arn.to_string(), status, out.instance_type().map(|t| t.as_str().to_string()))))
}

async fn describe_all(api: &Api, names: &[String]) -> Result<Vec<Listed>, AwsError> {
    let mut out = Vec::with_capacity(names.len());
    for read in futures_util::future::join_all(names.iter().map(|n| describe_one(api, n))).await {
        out.extend(read?);
    }
    Ok(out)
}

/// The SageMaker notebook instance kind's adapter.
pub struct Calls;

impl Adapter for Calls {
    fn batch_size(&self) -> usize {
        1
    }

    fn list<'a>(&'a self, api: &'a Api, selector: &'a BTreeMap<String, String>) -> Pending<'a, Vec<Resource>> {
        Box::pin(async move {
            let found = with_tags(api, list_all(api).await?).await?;
            Ok(found.into_iter().filter(|r| selector.iter().all(|(k, v)| r.tags.get(k) == Some(v))).collect())
        })
    }

    fn describe<'a>(&'a self, api: &'a Api, ids: &'a [String]) -> Pending<'a, Vec<Resource>> {
        Box::pin(async move { with_tags(api, describe_all(api, ids).await?).await })
    }

    fn states<'a>(&'a self, api: &'a Api, ids: &'a [String]) -> Pending<'a, BTreeMap<String, (String, Phase)>> {
        Box::pin(async move {
            Ok(describe_all(api, ids).await?.into_iter().map(|(name, _, status, _)| (name, (status.clone(), phase(&status)))).collect())
        })
    }

    fn act<'a>(&'a self, api: &'a Api, action: Action, batch: &'a [Resource], _mode: Mode, dry_run: bool) -> Pending<'a, Vec<String>> {
        Box::pin(one_by_one(batch, dry_run, move |n| async move {
            let c = client(api);
            match action {
                Action::Stop => {
                    let _permit = api.permit(SERVICE, "StopNotebookInstance").await;
                    let call = c.stop_notebook_instance().notebook_instance_name(&n.id);
                    call.send().await.map_err(api.err("StopNotebookInstance", error_kind))?;
                }
                Action::Start => {
                    let _permit = api.permit(SERVICE, "StartNotebookInstance").await;
                    let call = c.start_notebook_instance().notebook_instance_name(&n.id);
                    call.send().await.map_err(api.err("StartNotebookInstance", error_kind))?;
                }
            }
            Ok(true)
        }))
    }

    fn tag<'a>(&'a self, api: &'a Api, resource: &'a Resource, key: &'a str, value: Option<&'a str>) -> Pending<'a, ()> {
        Box::pin(async move {
            let Some(NotebookDetail { arn }) = resource.detail.get::<NotebookDetail>() else {
                return Err(AwsError::not_found("AddTags", &api.region, format!("{} {} not found", resource.kind, resource.id)));
            };
            match value {
                Some(value) => {
                    let _permit = api.permit(SERVICE, "AddTags").await;
                    let tag = Tag::builder().key(key).value(value).build();
                    client(api).add_tags().resource_arn(arn).tags(tag).send().await.map_err(api.err("AddTags", error_kind))?;
                }
                None => {
                    let _permit = api.permit(SERVICE, "DeleteTags").await;
                    client(api).delete_tags().resource_arn(arn).tag_keys(key).send().await.map_err(api.err("DeleteTags", error_kind))?;
                }
            }
            Ok(())
        })
    }
}
