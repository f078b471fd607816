//! `offhours billing-alarm` against moto's CloudWatch and SNS.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricDatum, Statistic};

use crate::support::Account;

fn config(threshold: u32, extra: &str) -> String {
    format!("[billing_alarm]\nthreshold = {threshold}\ncurrency = \"EUR\"\nalarm_name = \"budget\"\n{extra}")
}

async fn alarm(account: &Account) -> Option<aws_sdk_cloudwatch::types::MetricAlarm> {
    let out = account.cloudwatch().describe_alarms().alarm_names("budget").send().await.unwrap();
    out.metric_alarms().first().cloned()
}

/// An alarm of that name put by someone else than offhours (no tags).
async fn put_by_hand(account: &Account, statistic: Statistic, period: i32, threshold: f64, currency: Option<&str>) {
    let mut req = account
        .cloudwatch()
        .put_metric_alarm()
        .alarm_name("budget")
        .namespace("AWS/Billing")
        .metric_name("EstimatedCharges")
        .statistic(statistic)
        .period(period)
        .evaluation_periods(1)
        .threshold(threshold)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold);
    if let Some(c) = currency {
        req = req.dimensions(Dimension::builder().name("Currency").value(c).build());
    }
    req.send().await.unwrap();
}

fn puts(account: &Account) -> u64 {
    account.calls().get("PutMetricAlarm").copied().unwrap_or(0)
}

#[tokio::test]
async fn create_keep_update_and_restore() {
    let account = Account::new().await;
    let path = account.write_config(&config(500, ""));
    let p = path.to_str().unwrap();

    // Dry run: nothing written.
    let run = account.run(&["billing-alarm", "--config", p, "--dry-run", "--output", "json"]);
    run.expect_code(0);
    assert_eq!(run.json()["outcome"], "would-create");
    assert!(alarm(&account).await.is_none());

    let run = account.run(&["billing-alarm", "--config", p, "--output", "json"]);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["outcome"], "created");
    assert_eq!(json["alarm_name"], "budget");
    let a = alarm(&account).await.expect("alarm created");
    assert_eq!((a.namespace(), a.metric_name()), (Some("AWS/Billing"), Some("EstimatedCharges")));
    assert_eq!(a.dimensions()[0].value(), Some("EUR"));
    assert_eq!((a.statistic(), a.period(), a.evaluation_periods()), (Some(&Statistic::Maximum), Some(21600), Some(1)));
    assert_eq!(a.threshold(), Some(500.0));
    assert_eq!(a.comparison_operator(), Some(&ComparisonOperator::GreaterThanThreshold));
    assert_eq!(a.treat_missing_data(), Some("ignore"));
    // A fresh account publishes no billing metrics: said so.
    let warnings = json["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("billing alerts are not enabled")), "{warnings:?}");
    assert_eq!(puts(&account), 1);

    // Equal: no write.
    let run = account.run(&["billing-alarm", "--config", p, "--output", "json"]);
    run.expect_code(0);
    assert_eq!(run.json()["outcome"], "unchanged");
    assert_eq!(puts(&account), 1, "an equal alarm is not written again");

    // The file changes: updated, with the field named.
    std::fs::write(&path, config(750, "")).unwrap();
    let run = account.run(&["billing-alarm", "--config", p, "--output", "json"]);
    run.expect_code(0);
    assert_eq!(run.json()["outcome"], "updated");
    assert_eq!(run.json()["changed"], serde_json::json!(["threshold"]));
    assert_eq!(alarm(&account).await.unwrap().threshold(), Some(750.0));

    // Edited by hand (tags kept, as on AWS): restored.
    put_by_hand(&account, Statistic::Average, 21600, 1.0, Some("EUR")).await;
    let run = account.run(&["billing-alarm", "--config", p, "--output", "json"]);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["outcome"], "updated");
    let changed: Vec<&str> = json["changed"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for field in ["description", "statistic", "threshold", "treat_missing_data"] {
        assert!(changed.contains(&field), "{field} not in {changed:?}");
    }
    let a = alarm(&account).await.unwrap();
    assert_eq!((a.threshold(), a.statistic()), (Some(750.0), Some(&Statistic::Maximum)));

    // Once billing metrics exist, the warning goes away.
    account
        .cloudwatch()
        .put_metric_data()
        .namespace("AWS/Billing")
        .metric_data(
            MetricDatum::builder()
                .metric_name("EstimatedCharges")
                .dimensions(Dimension::builder().name("Currency").value("EUR").build())
                .value(12.5)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let run = account.run(&["billing-alarm", "--config", p, "--output", "json"]);
    run.expect_code(0);
    assert_eq!(run.json()["warnings"], serde_json::json!([]));
}

#[tokio::test]
async fn an_alarm_offhours_does_not_manage_is_left_alone() {
    let account = Account::new().await;
    put_by_hand(&account, Statistic::Maximum, 3600, 42.0, None).await;
    let path = account.write_config(&config(500, ""));
    let run = account.run(&["billing-alarm", "--config", path.to_str().unwrap(), "--output", "json"]);
    run.expect_code(1);
    let json = run.json();
    assert_eq!(json["outcome"], "foreign");
    let warning = json["warnings"][0].as_str().unwrap();
    assert!(warning.starts_with("an alarm named budget exists but does not carry the tag managed-by=offhours: left alone; it differs in description, dimensions, period, threshold"), "{warning}");
    assert_eq!(alarm(&account).await.unwrap().threshold(), Some(42.0));
    assert_eq!(puts(&account), 1, "only the test's own put");
}

#[tokio::test]
async fn a_topic_nobody_confirmed_is_a_warning() {
    let account = Account::new().await;
    let topic = account.sns().create_topic().name("billing").send().await.unwrap();
    let arn = topic.topic_arn().unwrap().to_string();
    let path = account.write_config(&config(500, &format!("sns_topic_arn = \"{arn}\"\n")));
    let run = account.run(&["billing-alarm", "--config", path.to_str().unwrap(), "--output", "json"]);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["outcome"], "created");
    assert!(
        json["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap() == format!("SNS topic {arn} has no confirmed subscription: the alarm will notify nobody")),
        "{json}"
    );
    assert_eq!(alarm(&account).await.unwrap().alarm_actions(), [arn]);
}
