//! The IAM statements SageMaker notebook instances need.

use serde_json::{Value, json};

const NOTEBOOKS: &str = "arn:aws:sagemaker:*:*:notebook-instance/*";

/// What schedules of notebook instances need.
pub fn statements() -> Vec<Value> {
    vec![
        // The listing and ListTags have no resource-level permission; the describe is
        // granted on the notebook instances.
        json!({
            "Sid": "ListSageMakerNotebooks",
            "Effect": "Allow",
            "Action": ["sagemaker:ListNotebookInstances", "sagemaker:ListTags"],
            "Resource": "*"
        }),
        json!({
            "Sid": "ReadSageMakerNotebooks",
            "Effect": "Allow",
            "Action": ["sagemaker:DescribeNotebookInstance"],
            "Resource": NOTEBOOKS
        }),
        json!({
            "Sid": "StartStopSageMakerNotebooks",
            "Effect": "Allow",
            "Action": ["sagemaker:StartNotebookInstance", "sagemaker:StopNotebookInstance"],
            "Resource": NOTEBOOKS
        }),
    ]
}
