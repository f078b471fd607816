//! A region's CloudWatch metric alarms, for `mute_alarms`: which exist and what they
//! watch, their actions turned off and on again, and the tag that records who turned
//! them off.

use aws_sdk_cloudwatch::types::{AlarmType, Tag};

use super::{Api, AwsError, observe};

/// The IAM prefix of the calls, and the name of their bound on calls in flight.
pub const SERVICE: &str = "cloudwatch";
/// The most alarm names DisableAlarmActions and EnableAlarmActions take at once.
pub const PER_CALL: usize = 100;

/// One metric alarm: its name, ARN, whether its actions are on, and its dimensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmInfo {
    pub name: String,
    pub arn: String,
    pub actions_enabled: bool,
    pub dimensions: Vec<(String, String)>,
}

fn client(api: &Api) -> aws_sdk_cloudwatch::Client {
    api.client(|conf| {
        aws_sdk_cloudwatch::Client::from_conf(aws_sdk_cloudwatch::config::Builder::from(conf).interceptor(observe::Observe).build())
    })
}

/// Every metric alarm of the region (DescribeAlarms, every page).
pub async fn metric_alarms(api: &Api) -> Result<Vec<AlarmInfo>, AwsError> {
    let mut out = Vec::new();
    let pages = client(api).describe_alarms().alarm_types(AlarmType::MetricAlarm).into_paginator().send();
    api.pages(
        SERVICE,
        "DescribeAlarms",
        pages,
        |_| None,
        |page: aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput| {
            for a in page.metric_alarms() {
                out.push(AlarmInfo {
                    name: a.alarm_name().unwrap_or_default().to_string(),
                    arn: a.alarm_arn().unwrap_or_default().to_string(),
                    actions_enabled: a.actions_enabled().unwrap_or(true),
                    dimensions: a
                        .dimensions()
                        .iter()
                        .map(|d| (d.name().unwrap_or_default().to_string(), d.value().unwrap_or_default().to_string()))
                        .collect(),
                });
            }
        },
    )
    .await?;
    Ok(out)
}

/// Turns the actions of `names` off (`enabled` false) or on, 100 names a call.
pub async fn set_actions(api: &Api, names: &[String], enabled: bool) -> Result<(), AwsError> {
    for chunk in names.chunks(PER_CALL) {
        let names = Some(chunk.to_vec());
        if enabled {
            let _slot = api.permit(SERVICE, "EnableAlarmActions").await;
            client(api).enable_alarm_actions().set_alarm_names(names).send().await.map_err(api.err("EnableAlarmActions", |_| None))?;
        } else {
            let _slot = api.permit(SERVICE, "DisableAlarmActions").await;
            client(api).disable_alarm_actions().set_alarm_names(names).send().await.map_err(api.err("DisableAlarmActions", |_| None))?;
        }
    }
    Ok(())
}

/// The alarm's value of tag `key`, if it has one.
pub async fn tag_value(api: &Api, arn: &str, key: &str) -> Result<Option<String>, AwsError> {
    let _slot = api.permit(SERVICE, "ListTagsForResource").await;
    let out = client(api).list_tags_for_resource().resource_arn(arn).send().await.map_err(api.err("ListTagsForResource", |_| None))?;
    Ok(out.tags().iter().find(|t| t.key() == Some(key)).and_then(|t| t.value().map(str::to_string)))
}

pub async fn tag(api: &Api, arn: &str, key: &str, value: &str) -> Result<(), AwsError> {
    let _slot = api.permit(SERVICE, "TagResource").await;
    let tag = Tag::builder().key(key).value(value).build();
    client(api).tag_resource().resource_arn(arn).tags(tag).send().await.map_err(api.err("TagResource", |_| None))?;
    Ok(())
}

pub async fn untag(api: &Api, arn: &str, key: &str) -> Result<(), AwsError> {
    let _slot = api.permit(SERVICE, "UntagResource").await;
    client(api).untag_resource().resource_arn(arn).tag_keys(key).send().await.map_err(api.err("UntagResource", |_| None))?;
    Ok(())
}
