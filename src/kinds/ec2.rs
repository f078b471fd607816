//! EC2 instances: what their states mean and which instances are never touched.

use crate::model::{Detail, Phase, Resource};

/// Tag that EC2 Auto Scaling puts on its members: offhours never touches them (the
/// group would replace a stopped member).
pub const ASG_TAG: &str = "aws:autoscaling:groupName";

pub fn phase(state: &str) -> Phase {
    match state {
        "running" => Phase::Running,
        "stopped" => Phase::Stopped,
        "shutting-down" | "terminated" => Phase::Gone,
        _ => Phase::Transitional,
    }
}

/// Auto Scaling group members, instance-store roots and spot instances are left alone.
pub fn skip(r: &Resource) -> Option<String> {
    if let Some(group) = r.tags.get(ASG_TAG) {
        return Some(format!("member of auto scaling group {group}"));
    }
    let Detail::Ec2 { root_device_type, lifecycle, .. } = &r.detail else {
        return None;
    };
    if root_device_type.as_deref() == Some("instance-store") {
        return Some("instance-store root device cannot be stopped".into());
    }
    if lifecycle.as_deref() == Some("spot") {
        return Some("spot instance".into());
    }
    None
}
