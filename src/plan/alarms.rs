//! `mute_alarms`: which alarms a stop turns off and a start turns on again. An alarm
//! names a resource when every dimension the resource's kind says identifies it
//! (`InstanceId`, `DBInstanceIdentifier`, `ClusterName` and `ServiceName`...) is among
//! the alarm's. Pure.

use crate::aws::alarms::AlarmInfo;

/// The tag that records which schedule turned an alarm's actions off.
pub const MUTED_TAG: &str = "offhours:muted";

/// The dimensions that identify one resource in CloudWatch.
pub type Identity = Vec<(&'static str, String)>;

/// Whether `alarm` watches the resource identified by `who` (an empty identity names
/// nothing).
pub fn names(alarm: &AlarmInfo, who: &Identity) -> bool {
    !who.is_empty() && who.iter().all(|(k, v)| alarm.dimensions.iter().any(|(n, value)| n == k && value == v))
}

/// At a stop: the alarms naming one of `off` whose actions are on (one that someone
/// turned off stays as it is, and is not turned on at the start).
pub fn to_mute<'a>(alarms: &'a [AlarmInfo], off: &[Identity]) -> Vec<&'a AlarmInfo> {
    alarms.iter().filter(|a| a.actions_enabled && off.iter().any(|who| names(a, who))).collect()
}

/// At a start: the alarms naming one of `on` whose actions are off; which of them this
/// schedule turned off is for their tag to say.
pub fn may_unmute<'a>(alarms: &'a [AlarmInfo], on: &[Identity]) -> Vec<&'a AlarmInfo> {
    alarms.iter().filter(|a| !a.actions_enabled && on.iter().any(|who| names(a, who))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(name: &str, enabled: bool, dims: &[(&str, &str)]) -> AlarmInfo {
        AlarmInfo {
            name: name.into(),
            arn: format!("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}"),
            actions_enabled: enabled,
            dimensions: dims.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn alarms_that_name_a_resource_by_every_dimension_of_its_identity() {
        let alarms = [
            alarm("cpu-web", true, &[("InstanceId", "i-1")]),
            alarm("cpu-other", true, &[("InstanceId", "i-2")]),
            alarm("silenced-by-hand", false, &[("InstanceId", "i-1")]),
            alarm("db", true, &[("DBInstanceIdentifier", "orders")]),
            alarm("svc", true, &[("ClusterName", "prod"), ("ServiceName", "api")]),
            alarm("svc-other-cluster", true, &[("ClusterName", "dev"), ("ServiceName", "api")]),
            alarm("fleet-wide", true, &[]),
            alarm("same-value-other-dimension", true, &[("AutoScalingGroupName", "i-1")]),
        ];
        let off: Vec<Identity> = vec![
            vec![("InstanceId", "i-1".into())],
            vec![("DBInstanceIdentifier", "orders".into())],
            vec![("ClusterName", "prod".into()), ("ServiceName", "api".into())],
            vec![],
        ];
        let muted: Vec<&str> = to_mute(&alarms, &off).iter().map(|a| a.name.as_str()).collect();
        assert_eq!(muted, ["cpu-web", "db", "svc"]);
        let back: Vec<&str> = may_unmute(&alarms, &off).iter().map(|a| a.name.as_str()).collect();
        assert_eq!(back, ["silenced-by-hand"], "a candidate only: its tag decides");
    }
}
