//! SageMaker notebook instances, stopped and started. Only `InService` and `Stopped`
//! notebooks are acted on; a start takes minutes, so it is awaited within
//! `db_verify_timeout`. The Price List's names for notebook instances are not read:
//! they are priced by `[savings.prices]` (`"ml.t3.medium" = ...`) or counted in hours.

pub mod aws;
mod iam;

use super::{Adapter, Facts, Pricing, ResourceKind, Verify, name_tag};
use crate::model::MetricQuery;
use crate::model::{Action, ApiProduct, Deployment, Kind, KindInfo, Part, Phase, Resource};

pub const KIND: Kind = Kind::new(&KindInfo {
    rank: 7,
    name: "sagemaker-notebook",
    noun: "SageMaker notebook instance",
    id_prefix: None,
    logs_instance_id: false,
});

const FACTS: Facts = Facts {
    kind: KIND,
    service: aws::SERVICE,
    started: "InService",
    stopped: "Stopped",
    verify: Verify::Database,
    snooze_actions: &["sagemaker:DescribeNotebookInstance", "sagemaker:ListTags", "sagemaker:AddTags", "sagemaker:DeleteTags"],
    snooze_resource: "arn:aws:sagemaker:*:*:notebook-instance/*",
    snooze_reads_on_resource: &["sagemaker:DescribeNotebookInstance"],
};

/// What only a notebook instance has.
#[derive(Debug, Clone, PartialEq)]
pub struct NotebookDetail {
    pub arn: String,
}

pub fn phase(status: &str) -> Phase {
    match status {
        "InService" => Phase::Running,
        "Stopped" => Phase::Stopped,
        "Deleting" => Phase::Gone,
        // Pending, Stopping, Updating, Failed: not acted on.
        _ => Phase::Transitional,
    }
}

/// Priced by the file alone, by instance type.
pub struct FileOnly;

impl Pricing for FileOnly {
    fn product(&self, _region: &str, _size: Option<&str>, _engine: Option<&str>, _deployment: Option<Deployment>) -> Option<ApiProduct> {
        None
    }

    fn parts(&self, _region: &str, size: Option<&str>, _engine: Option<&str>, _deployment: Option<Deployment>) -> Option<Vec<Part>> {
        Some(vec![Part::one(size?, None)])
    }

    fn filters(&self, _product: &ApiProduct) -> Option<Vec<(&'static str, String)>> {
        None
    }

    fn asks_price_list(&self) -> bool {
        false
    }
}

/// The SageMaker notebook instance kind.
pub struct Notebooks;

impl ResourceKind for Notebooks {
    fn facts(&self) -> &Facts {
        &FACTS
    }

    fn phase(&self, r: &Resource) -> Phase {
        phase(&r.state)
    }

    fn skip(&self, _r: &Resource, _action: Action) -> Option<String> {
        None
    }

    fn name<'a>(&self, r: &'a Resource) -> Option<&'a str> {
        name_tag(r).or(Some(r.id.as_str()))
    }

    fn adapter(&self) -> &'static dyn Adapter {
        &aws::Calls
    }

    fn pricing(&self) -> &'static dyn Pricing {
        &FileOnly
    }

    fn iam_statements(&self) -> Vec<serde_json::Value> {
        iam::statements()
    }

    /// Not judged yet: SageMaker publishes no utilization of a notebook instance.
    fn metrics(&self, _r: &Resource) -> Vec<MetricQuery> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_in_service_and_stopped_notebooks_are_acted_on() {
        let cases = [
            ("InService", Phase::Running),
            ("Stopped", Phase::Stopped),
            ("Pending", Phase::Transitional),
            ("Stopping", Phase::Transitional),
            ("Updating", Phase::Transitional),
            ("Failed", Phase::Transitional),
            ("Deleting", Phase::Gone),
        ];
        for (status, want) in cases {
            assert_eq!(phase(status), want, "{status}");
        }
        assert_eq!(FileOnly.parts("eu-west-1", Some("ml.t3.medium"), None, None), Some(vec![Part::one("ml.t3.medium", None)]));
        assert_eq!(FileOnly.parts("eu-west-1", None, None, None), None);
    }
}
