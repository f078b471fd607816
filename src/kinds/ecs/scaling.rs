//! A service's Application Auto Scaling target (`ecs:service:DesiredCount`): read before
//! a stop, set to 0..0 with its scaling suspended, put back exactly at a start.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace, SuspendedState};

use super::record::{Suspended, Target};
use crate::aws::{Api, AwsError, ErrorKind, observe};

/// The IAM prefix of its actions, and the name of its bound on calls in flight.
pub const SERVICE: &str = "application-autoscaling";

fn error_kind(code: &str) -> Option<ErrorKind> {
    match code {
        "ObjectNotFoundException" => Some(ErrorKind::NotFound),
        _ => None,
    }
}

fn client(api: &Api) -> aws_sdk_applicationautoscaling::Client {
    api.client(|conf| {
        aws_sdk_applicationautoscaling::Client::from_conf(
            aws_sdk_applicationautoscaling::config::Builder::from(conf).interceptor(observe::Observe).build(),
        )
    })
}

/// The target's resource id: `service/CLUSTER/SERVICE`, by name.
pub fn resource_id(cluster_arn: &str, service_arn: &str) -> String {
    let name = |arn: &str| arn.rsplit('/').next().unwrap_or(arn).to_string();
    format!("service/{}/{}", name(cluster_arn), name(service_arn))
}

/// The service's target, `None` when it has none.
pub async fn read(api: &Api, resource_id: &str) -> Result<Option<Target>, AwsError> {
    let _permit = api.permit(SERVICE, "DescribeScalableTargets").await;
    let out = client(api)
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_ids(resource_id)
        .send()
        .await
        .map_err(api.err("DescribeScalableTargets", error_kind))?;
    Ok(out.scalable_targets().iter().find(|t| t.resource_id() == resource_id).map(|t| {
        let s = t.suspended_state();
        Target {
            min: t.min_capacity(),
            max: t.max_capacity(),
            suspended: Suspended {
                dynamic_in: s.and_then(|s| s.dynamic_scaling_in_suspended()).unwrap_or(false),
                dynamic_out: s.and_then(|s| s.dynamic_scaling_out_suspended()).unwrap_or(false),
                scheduled: s.and_then(|s| s.scheduled_scaling_suspended()).unwrap_or(false),
            },
        }
    }))
}

/// Sets the existing target's min, max and suspended scaling.
pub async fn set(api: &Api, resource_id: &str, target: Target) -> Result<(), AwsError> {
    let _permit = api.permit(SERVICE, "RegisterScalableTarget").await;
    let suspended = SuspendedState::builder()
        .dynamic_scaling_in_suspended(target.suspended.dynamic_in)
        .dynamic_scaling_out_suspended(target.suspended.dynamic_out)
        .scheduled_scaling_suspended(target.suspended.scheduled)
        .build();
    client(api)
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(resource_id)
        .min_capacity(target.min)
        .max_capacity(target.max)
        .suspended_state(suspended)
        .send()
        .await
        .map_err(api.err("RegisterScalableTarget", error_kind))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_target_is_named_by_cluster_and_service_name() {
        assert_eq!(
            super::resource_id("arn:aws:ecs:eu-west-1:123456789012:cluster/dev", "arn:aws:ecs:eu-west-1:123456789012:service/dev/web"),
            "service/dev/web"
        );
    }
}
