//! The IAM statements SageMaker notebook instances need.

use serde_json::{Value, json};

/// What schedules of notebook instances need.
pub fn statements() -> Vec<Value> {
    vec![
        json!({
            "Sid": "ListSageMakerNotebooks",
            "Effect": "Allow",
            "Action": ["sagemaker:ListNotebookInstances", "sagemaker:DescribeNotebookInstance", "sagemaker:ListTags"],
            "Resource": "*"
        }),
        json!({
            "Sid": "StartStopSageMakerNotebooks",
            "Effect": "Allow",
            "Action": ["sagemaker:StartNotebookInstance", "sagemaker:StopNotebookInstance"],
            "Resource": "arn:aws:sagemaker:*:*:notebook-instance/*"
        }),
    ]
}
