//! `offhours suggest` against moto: a fleet with known hourly patterns (put with
//! PutMetricData) gets exactly the expected schedules, the others are left out with
//! their reasons, and the TOML it prints passes `offhours check`.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::primitives::DateTime as AwsTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use aws_sdk_rds::types::Tag as RdsTag;
use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc, Weekday};
use chrono_tz::Europe::Berlin;

use crate::support::Account;

const WEST: &str = "eu-west-1";

const CONFIG: &str = r#"
regions = ["eu-west-1"]
timezone = "Europe/Berlin"
kinds = ["ec2", "rds"]
[savings.prices]
"t3.micro" = 0.0104
[schedules.nights]
stop = "0 22 * * *"
"#;

fn weekday(d: Weekday) -> bool {
    !matches!(d, Weekday::Sat | Weekday::Sun)
}

/// `busy(local weekday, local hour)` over the last `days` days to the current hour:
/// `Some(busy)`, or `None` for an hour with no data.
fn pattern(days: i64, busy: impl Fn(Weekday, u32) -> Option<bool>) -> Vec<(DateTime<Utc>, Option<bool>)> {
    let now = Utc::now().with_minute(0).unwrap().with_second(0).unwrap().with_nanosecond(0).unwrap();
    (1..=days * 24)
        .map(|i| {
            let t = now - TimeDelta::hours(i);
            let local = t.with_timezone(&Berlin);
            (t, busy(local.weekday(), local.hour()))
        })
        .collect()
}

/// Puts `metrics` (namespace, name, value when busy, value when idle) for the resource
/// named by `dimension`, one point in the middle of each hour that has data.
async fn put(account: &Account, dimension: (&str, &str), metrics: &[(&str, &str, f64, f64)], hours: &[(DateTime<Utc>, Option<bool>)]) {
    let cw = account.cloudwatch_in(WEST);
    for (namespace, name, busy, idle) in metrics {
        let data: Vec<MetricDatum> = hours
            .iter()
            .filter_map(|(t, b)| {
                let value = if (*b)? { *busy } else { *idle };
                Some(
                    MetricDatum::builder()
                        .metric_name(*name)
                        .dimensions(Dimension::builder().name(dimension.0).value(dimension.1).build())
                        .timestamp(AwsTime::from_secs((*t + TimeDelta::minutes(30)).timestamp()))
                        .value(value)
                        .build(),
                )
            })
            .collect();
        for chunk in data.chunks(500) {
            cw.put_metric_data().namespace(*namespace).set_metric_data(Some(chunk.to_vec())).send().await.expect("PutMetricData");
        }
    }
}

/// An instance's CPU (percent) and network in and out (bytes in the hour).
const EC2: &[(&str, &str, f64, f64)] =
    &[("AWS/EC2", "CPUUtilization", 40.0, 1.0), ("AWS/EC2", "NetworkIn", 9e7, 1e5), ("AWS/EC2", "NetworkOut", 9e7, 1e5)];

async fn instance(account: &Account, name: &str, hours: &[(DateTime<Utc>, Option<bool>)]) -> String {
    let id = account.launch(WEST, &[("Name", name)]).await;
    put(account, ("InstanceId", &id), EC2, hours).await;
    id
}

#[tokio::test]
async fn a_fleet_with_known_patterns_gets_exactly_the_expected_schedules() {
    let account = Account::new().await;
    let office = |d: Weekday, h: u32| Some(weekday(d) && (8..18).contains(&h));
    let web = instance(&account, "web", &pattern(14, office)).await;
    let api = instance(&account, "api", &pattern(14, office)).await;
    let always = instance(&account, "always-on", &pattern(14, |_, _| Some(true))).await;
    // Following a schedule that stops it every night although it is always busy.
    account
        .ec2(WEST)
        .create_tags()
        .resources(&always)
        .tags(aws_sdk_ec2::types::Tag::builder().key("Schedule").value("nights").build())
        .send()
        .await
        .unwrap();
    let batch = instance(&account, "batch", &pattern(14, |_, h| Some((1..3).contains(&h)))).await;
    // Only the last week has data.
    let partial: Vec<_> = pattern(14, office).into_iter().enumerate().map(|(i, (t, b))| (t, if i < 7 * 24 { b } else { None })).collect();
    let new = instance(&account, "new", &partial).await;
    account
        .rds(WEST)
        .create_db_instance()
        .db_instance_identifier("reports")
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("not-a-secret-1")
        .tags(RdsTag::builder().key("Team").value("bi").build())
        .send()
        .await
        .expect("CreateDBInstance");
    let evening = pattern(14, |d, h| Some(weekday(d) && (19..23).contains(&h)));
    put(
        &account,
        ("DBInstanceIdentifier", "reports"),
        &[("AWS/RDS", "CPUUtilization", 30.0, 1.0), ("AWS/RDS", "DatabaseConnections", 4.0, 0.0)],
        &evening,
    )
    .await;

    let config = account.write_config(CONFIG);
    let c = config.to_str().unwrap();
    let run = account.run(&["suggest", "--config", c, "--output", "json"]);
    run.expect_code(0);
    let json = run.json();
    let schedules: BTreeMap<String, (String, String, Vec<String>, u64)> = json["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let mut ids: Vec<String> = s["resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
            ids.sort();
            let name = s["name"].as_str().unwrap().to_string();
            (
                name,
                (s["start"].as_str().unwrap().into(), s["stop"].as_str().unwrap().into(), ids, s["hours_off_per_week"].as_u64().unwrap()),
            )
        })
        .collect();
    let mut office_ids = vec![web.clone(), api.clone()];
    office_ids.sort();
    let want = BTreeMap::from([
        ("mon-fri-07-19".to_string(), ("0 7 * * MON-FRI".to_string(), "0 19 * * MON-FRI".to_string(), office_ids, 108)),
        ("daily-00-04".to_string(), ("0 0 * * *".to_string(), "0 4 * * *".to_string(), vec![batch.clone()], 140)),
        ("mon-fri-18-00".to_string(), ("0 18 * * MON-FRI".to_string(), "0 0 * * TUE-SAT".to_string(), vec!["reports".to_string()], 138)),
    ]);
    assert_eq!(schedules, want, "{json}");
    let left: BTreeMap<String, String> = json["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["id"].as_str().unwrap().into(), l["reason"].as_str().unwrap().into()))
        .collect();
    assert_eq!(left.get(&always).map(String::as_str), Some("always busy"), "{json}");
    // Its schedule now has it off from the first 22:00 of the window on, busy as it is.
    let now = json["left_out"].as_array().unwrap().iter().find(|l| l["id"] == always.as_str()).unwrap();
    let busy_off = now["schedule_now_busy_hours_off"].as_u64().unwrap();
    assert_eq!(now["schedule_now"], "nights");
    assert!((13 * 24..=14 * 24).contains(&busy_off), "{now}");
    assert!(left.get(&new).is_some_and(|r| r.starts_with("not enough data")), "{json}");
    assert_eq!(left.len(), 2, "{json}");
    // Two instances at 0.0104 an hour, 108 hours a week: 2 x 0.0104 x 108 x 30.44 / 7.
    let office = json["schedules"].as_array().unwrap().iter().find(|s| s["name"] == "mon-fri-07-19").unwrap();
    assert_eq!((office["monthly_savings"].as_f64(), office["currency"].as_str()), (Some(9.77), Some("USD")), "{office}");
    // GetMetricData reads every metric of the region in one call (14 metrics < 500).
    assert_eq!(account.calls().get("GetMetricData"), Some(&1));

    let text = account.run(&["suggest", "--config", c]);
    text.expect_code(0);
    assert!(
        text.stdout().contains(
            "schedule mon-fri-07-19: start \"0 7 * * MON-FRI\", stop \"0 19 * * MON-FRI\"\n  108 hours off a week; about 9.77 USD a month"
        ),
        "{}",
        text.stdout()
    );
    // The TOML is a valid file as it stands.
    let run = account.run(&["suggest", "--config", c, "--output", "toml"]);
    run.expect_code(0);
    let toml = run.stdout();
    assert!(toml.contains("[schedules.mon-fri-07-19]\ntimezone = \"Europe/Berlin\"\nstart = \"0 7 * * MON-FRI\""), "{toml}");
    let pasted = account.write_config(&toml);
    account.run(&["check", "--config", pasted.to_str().unwrap()]).expect_code(0);

    // --tag lists what it would tag; with --yes it tags exactly the suggested resources.
    let config = account.write_config(CONFIG);
    let c = config.to_str().unwrap();
    let tags_now = || async {
        let ec2 = account.ec2(WEST).describe_instances().send().await.expect("DescribeInstances");
        let mut out: BTreeMap<String, Option<String>> = ec2
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .map(|i| {
                let tag = i.tags().iter().find(|t| t.key() == Some("Schedule")).and_then(|t| t.value()).map(String::from);
                (i.instance_id().unwrap().to_string(), tag)
            })
            .collect();
        let db = account.rds(WEST).describe_db_instances().db_instance_identifier("reports").send().await.expect("DescribeDBInstances");
        let tag = db.db_instances()[0].tag_list().iter().find(|t| t.key() == Some("Schedule")).and_then(|t| t.value()).map(String::from);
        out.insert("reports".into(), tag);
        out
    };
    let dry = account.run(&["suggest", "--config", c, "--tag", "--output", "json"]);
    dry.expect_code(0);
    let outcomes = |json: &serde_json::Value| -> BTreeMap<String, String> {
        json["tagged"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["id"].as_str().unwrap().into(), t["outcome"].as_str().unwrap().into()))
            .collect()
    };
    let each = |outcome: &str| -> BTreeMap<String, String> {
        [&web, &api, &batch]
            .iter()
            .map(|id| (id.to_string(), outcome.to_string()))
            .chain([("reports".to_string(), outcome.to_string())])
            .collect()
    };
    assert_eq!(outcomes(&dry.json()), each("would-tag"));
    let before = tags_now().await;
    assert!(
        before.iter().all(|(id, tag)| tag.is_none() || (*id == always && tag.as_deref() == Some("nights"))),
        "a dry run writes nothing: {before:?}"
    );
    let wet = account.run(&["suggest", "--config", c, "--tag", "--yes", "--output", "json"]);
    wet.expect_code(0);
    assert_eq!(outcomes(&wet.json()), each("tagged"));
    let want: BTreeMap<String, Option<String>> = [
        (web.clone(), Some("mon-fri-07-19")),
        (api.clone(), Some("mon-fri-07-19")),
        (batch.clone(), Some("daily-00-04")),
        (always.clone(), Some("nights")),
        (new.clone(), None),
        ("reports".to_string(), Some("mon-fri-18-00")),
    ]
    .into_iter()
    .map(|(id, s)| (id, s.map(String::from)))
    .collect();
    assert_eq!(tags_now().await, want);
}
