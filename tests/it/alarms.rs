//! `mute_alarms`: a stop turns off the actions of the alarms watching what it stopped
//! (tagging each), a start turns on exactly those again; an alarm someone turned off by
//! hand, and alarms on other resources, are left as they are.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};

use crate::daemon::HEADER;
use crate::support::Account;

async fn alarm(account: &Account, name: &str, instance: &str, enabled: bool) {
    account
        .cloudwatch_in("eu-west-1")
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/EC2")
        .metric_name("CPUUtilization")
        .statistic(Statistic::Average)
        .period(300)
        .evaluation_periods(1)
        .threshold(90.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .dimensions(Dimension::builder().name("InstanceId").value(instance).build())
        .alarm_actions("arn:aws:sns:eu-west-1:123456789012:pager")
        .actions_enabled(enabled)
        .send()
        .await
        .unwrap();
}

/// Each alarm: whether its actions are on, and its `offhours:muted` tag.
async fn alarms(account: &Account) -> BTreeMap<String, (bool, Option<String>)> {
    let cw = account.cloudwatch_in("eu-west-1");
    let out = cw.describe_alarms().send().await.unwrap();
    let mut seen = BTreeMap::new();
    for a in out.metric_alarms() {
        let tags = cw.list_tags_for_resource().resource_arn(a.alarm_arn().unwrap()).send().await.unwrap();
        let muted = tags.tags().iter().find(|t| t.key() == Some("offhours:muted")).and_then(|t| t.value().map(str::to_string));
        seen.insert(a.alarm_name().unwrap().to_string(), (a.actions_enabled().unwrap_or(true), muted));
    }
    seen
}

#[tokio::test]
async fn a_stop_mutes_the_alarms_of_what_it_stopped_and_the_start_unmutes_exactly_those() {
    let account = Account::new().await;
    let web = account.launch("eu-west-1", &[("Schedule", "office")]).await;
    let other = account.launch("eu-west-1", &[("Schedule", "other")]).await;
    alarm(&account, "web-cpu", &web, true).await;
    alarm(&account, "web-silenced-by-hand", &web, false).await;
    alarm(&account, "other-cpu", &other, true).await;
    let config =
        account.write_config(&format!("{HEADER}[schedules.office]\nstart = \"0 8 * * *\"\nstop = \"0 19 * * *\"\nmute_alarms = true\n"));
    let config = config.to_str().unwrap();
    let policy = account.run(&["policy", "--config", config]).expect_code(0).stdout();
    assert!(policy.contains("\"MuteAlarms\"") && policy.contains("\"RecordMutedAlarms\""), "{policy}");

    let plan = account.run(&["plan", "--config", config, "--state-dir", account.dir.path().to_str().unwrap(), "--output", "json"]);
    let planned: Vec<(String, bool)> = plan.expect_code(0).json()["schedules"][0]["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap().to_string(), a["actions_enabled"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        planned,
        [("web-cpu".to_string(), true), ("web-silenced-by-hand".to_string(), false)],
        "plan lists the alarms watching its resources"
    );
    let dry = account.run(&["apply", "office", "stop", "--config", config, "--dry-run", "--log-format", "json"]);
    assert!(dry.expect_code(0).stderr().contains("\"outcome\":\"would-mute\""), "{}", dry.stderr());
    assert_eq!(alarms(&account).await["web-cpu"], (true, None), "a dry run changes nothing");

    let stop = account.run(&["apply", "office", "stop", "--config", config, "--log-format", "json"]);
    let log = stop.expect_code(0).stderr();
    let muted: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["message"] == "Alarm actions changed.")
        .collect();
    assert_eq!(muted.len(), 1, "{log}");
    assert_eq!((muted[0]["alarm"].as_str(), muted[0]["outcome"].as_str()), (Some("web-cpu"), Some("muted")));
    let after_stop = alarms(&account).await;
    assert_eq!(after_stop["web-cpu"], (false, Some("office".to_string())));
    assert_eq!(after_stop["web-silenced-by-hand"], (false, None), "already off: not ours");
    assert_eq!(after_stop["other-cpu"], (true, None), "another schedule's instance");

    // Another process, as after a restart: the tag says which to turn on again.
    account.run(&["apply", "office", "start", "--config", config]).expect_code(0);
    let after_start = alarms(&account).await;
    assert_eq!(after_start["web-cpu"], (true, None));
    assert_eq!(after_start["web-silenced-by-hand"], (false, None), "stays as its owner left it");
    assert_eq!(after_start["other-cpu"], (true, None));
}
