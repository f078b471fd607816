//! SageMaker notebook instances against moto: stopped and started, unchanged when
//! already there, another schedule's notebook left alone, snoozed by its ARN.

use std::collections::BTreeMap;

use aws_sdk_sagemaker::types::{InstanceType, Tag};
use serde_json::Value;

use crate::support::Account;

const WEST: &str = "eu-west-1";

const CONFIG: &str = r#"
regions = ["eu-west-1"]
verify_timeout = "20s"
db_verify_timeout = "60s"
kinds = ["sagemaker-notebook"]
[schedules.office]
start = "0 8 * * MON-FRI"
stop = "0 19 * * MON-FRI"
"#;

async fn notebook(account: &Account, name: &str, schedule: &str) {
    account
        .sagemaker(WEST)
        .create_notebook_instance()
        .notebook_instance_name(name)
        .instance_type(InstanceType::MlT3Medium)
        .role_arn(format!("arn:aws:iam::{}:role/sagemaker", account.id))
        .tags(Tag::builder().key("Schedule").value(schedule).build())
        .send()
        .await
        .expect("CreateNotebookInstance");
}

async fn status(account: &Account, name: &str) -> (String, Option<String>) {
    let sm = account.sagemaker(WEST);
    let out = sm.describe_notebook_instance().notebook_instance_name(name).send().await.expect("DescribeNotebookInstance");
    let tags = sm.list_tags().resource_arn(out.notebook_instance_arn().unwrap()).send().await.expect("ListTags");
    let skip = tags.tags().iter().find(|t| t.key() == Some("offhours:skip")).and_then(|t| t.value().map(str::to_string));
    (out.notebook_instance_status().unwrap().as_str().to_string(), skip)
}

fn outcomes(json: &Value) -> BTreeMap<String, String> {
    json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r["outcome"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn notebooks_stop_and_start_and_another_schedule_s_are_left_alone() {
    let account = Account::new().await;
    notebook(&account, "analysis", "office").await;
    notebook(&account, "training", "nights").await;
    let config = account.write_config(CONFIG);
    let c = config.to_str().unwrap();
    let apply = |action: &str| {
        let run = account.run(&["apply", "office", action, "--config", c, "--output", "json"]);
        run.expect_code(0);
        run.json()
    };
    let one = |outcome: &str| BTreeMap::from([("analysis".to_string(), outcome.to_string())]);

    let json = apply("stop");
    assert_eq!(outcomes(&json), one("stopped"), "{json}");
    assert_eq!(
        (json["results"][0]["kind"].as_str(), json["results"][0]["type"].as_str()),
        (Some("sagemaker-notebook"), Some("ml.t3.medium"))
    );
    assert_eq!(status(&account, "analysis").await.0, "Stopped");
    assert_eq!(status(&account, "training").await.0, "InService", "another schedule's notebook is not touched");
    assert_eq!(outcomes(&apply("stop")), one("unchanged"));
    assert_eq!(outcomes(&apply("start")), one("started"));
    assert_eq!(status(&account, "analysis").await.0, "InService");
    assert_eq!(outcomes(&apply("start")), one("unchanged"));

    account.run(&["snooze", "--config", c, "analysis", "--for", "2h"]).expect_code(0);
    assert!(status(&account, "analysis").await.1.is_some(), "the override tag is set");
    assert_eq!(outcomes(&apply("stop")), one("skipped"), "a snoozed notebook is skipped");
}
