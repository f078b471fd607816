//! Every resource kind through the one engine, against moto's RDS, Auto Scaling and ECS:
//! a mixed fleet in two regions, stopped and started, sizes restored exactly.

use std::collections::BTreeMap;

use aws_sdk_autoscaling::types::Tag as AsgTag;
use aws_sdk_ecs::types::{ContainerDefinition, Tag as EcsTag};
use aws_sdk_rds::types::Tag as RdsTag;
use serde_json::{Value, json};

use crate::support::Account;

const WEST: &str = "eu-west-1";
const CENTRAL: &str = "eu-central-1";

const ALL_KINDS: &str = r#"
regions = ["eu-west-1", "eu-central-1"]
max_instances_per_action = 0
verify_timeout = "20s"
db_verify_timeout = "60s"
kinds = ["ec2", "rds", "rds-cluster", "asg", "ecs"]
[schedules.office]
start = "0 8 * * MON-FRI"
stop = "0 19 * * MON-FRI"
"#;

fn office() -> RdsTag {
    RdsTag::builder().key("Schedule").value("office").build()
}

struct Fleet {
    instance: String,
    service_arn: String,
}

async fn db(account: &Account, region: &str, id: &str, schedule: &str) {
    account.db_instance(region, id, &[("Schedule", schedule)]).await;
}

/// The launch configuration `lc` that `group` builds groups from.
async fn launch_configuration(account: &Account) {
    account
        .asg(WEST)
        .create_launch_configuration()
        .launch_configuration_name("lc")
        .image_id("ami-12c6146b")
        .instance_type("t3.micro")
        .send()
        .await
        .expect("CreateLaunchConfiguration");
}

async fn group(account: &Account, name: &str, (min, max, desired): (i32, i32, i32)) {
    let asg = account.asg(WEST);
    asg.create_auto_scaling_group()
        .auto_scaling_group_name(name)
        .launch_configuration_name("lc")
        .min_size(min)
        .max_size(max)
        .desired_capacity(desired)
        .availability_zones("eu-west-1a")
        .tags(
            AsgTag::builder()
                .resource_id(name)
                .resource_type("auto-scaling-group")
                .key("Schedule")
                .value("office")
                .propagate_at_launch(false)
                .build(),
        )
        .send()
        .await
        .expect("CreateAutoScalingGroup");
}

/// Every kind, matching and not: an instance; DB instances (plain, a source with a read
/// replica, one of another schedule); an Aurora cluster with three member instances; two
/// Auto Scaling groups (one scaled, one already at 0 with no record); an ECS service.
async fn fleet(account: &Account) -> Fleet {
    let instance = account.launch(WEST, &[("Schedule", "office"), ("Name", "web")]).await;
    db(account, WEST, "dev-db", "office").await;
    db(account, WEST, "src-db", "office").await;
    db(account, WEST, "other-db", "other").await;
    account
        .rds(WEST)
        .create_db_instance_read_replica()
        .db_instance_identifier("src-replica")
        .source_db_instance_identifier("src-db")
        .tags(office())
        .send()
        .await
        .expect("CreateDBInstanceReadReplica");
    account
        .rds(CENTRAL)
        .create_db_cluster()
        .db_cluster_identifier("aurora-dev")
        .engine("aurora-postgresql")
        .master_username("admin")
        .master_user_password("not-a-secret-1")
        .tags(office())
        .send()
        .await
        .expect("CreateDBCluster");
    for (id, class) in [("aurora-dev-1", "db.r5.large"), ("aurora-dev-2", "db.r5.xlarge"), ("aurora-dev-3", "db.r5.large")] {
        account
            .rds(CENTRAL)
            .create_db_instance()
            .db_instance_identifier(id)
            .db_cluster_identifier("aurora-dev")
            .engine("aurora-postgresql")
            .db_instance_class(class)
            .tags(office())
            .send()
            .await
            .expect("CreateDBInstance in the cluster");
    }
    launch_configuration(account).await;
    group(account, "web-asg", (1, 3, 2)).await;
    group(account, "idle-asg", (0, 2, 0)).await;
    let ecs = account.ecs(WEST);
    ecs.create_cluster().cluster_name("dev").send().await.expect("CreateCluster");
    ecs.register_task_definition()
        .family("api")
        .container_definitions(ContainerDefinition::builder().name("api").image("nginx").memory(128).build())
        .send()
        .await
        .expect("RegisterTaskDefinition");
    let service = ecs
        .create_service()
        .cluster("dev")
        .service_name("api")
        .task_definition("api")
        .desired_count(3)
        .tags(EcsTag::builder().key("Schedule").value("office").build())
        .send()
        .await
        .expect("CreateService");
    let service_arn = service.service().and_then(|s| s.service_arn()).expect("service arn").to_string();
    Fleet { instance, service_arn }
}

/// "kind id" -> outcome of an `apply --output json` run.
fn outcomes(json: &Value) -> BTreeMap<String, String> {
    json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (format!("{} {}", r["kind"].as_str().unwrap(), r["id"].as_str().unwrap()), r["outcome"].as_str().unwrap().to_string()))
        .collect()
}

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// (min, max, desired) of a group and its record tag.
async fn sizes(account: &Account, name: &str) -> ((i32, i32, i32), Option<String>) {
    let out = account.asg(WEST).describe_auto_scaling_groups().auto_scaling_group_names(name).send().await.unwrap();
    let g = &out.auto_scaling_groups()[0];
    let record = g.tags().iter().find(|t| t.key() == Some("offhours:asg-sizes")).and_then(|t| t.value()).map(String::from);
    ((g.min_size().unwrap(), g.max_size().unwrap(), g.desired_capacity().unwrap()), record)
}

/// Desired count of the service and its record tag.
async fn desired(account: &Account, arn: &str) -> (i32, Option<String>) {
    let out = account
        .ecs(WEST)
        .describe_services()
        .cluster("dev")
        .services(arn)
        .include(aws_sdk_ecs::types::ServiceField::Tags)
        .send()
        .await
        .unwrap();
    let s = &out.services()[0];
    let record = s.tags().iter().find(|t| t.key() == Some("offhours:ecs-desired")).and_then(|t| t.value()).map(String::from);
    (s.desired_count(), record)
}

async fn db_status(account: &Account, region: &str, id: &str) -> String {
    let out = account.rds(region).describe_db_instances().db_instance_identifier(id).send().await.unwrap();
    out.db_instances()[0].db_instance_status().unwrap().to_string()
}

async fn cluster_status(account: &Account) -> String {
    let out = account.rds(CENTRAL).describe_db_clusters().db_cluster_identifier("aurora-dev").send().await.unwrap();
    out.db_clusters()[0].status().unwrap().to_string()
}

#[tokio::test]
async fn every_kind_stops_and_starts_with_sizes_restored_exactly() {
    let account = Account::new().await;
    let f = fleet(&account).await;
    let config = account.write_config(ALL_KINDS);
    let path = config.to_str().unwrap();
    let svc = format!("ecs {}", f.service_arn);
    let inst = format!("ec2 {}", f.instance);

    // Dry run: every would-be action listed, nothing changed.
    let run = account.run(&["apply", "office", "stop", "--config", path, "--output", "json", "--dry-run"]);
    run.expect_code(0);
    let o = outcomes(&run.json());
    for key in [inst.as_str(), "rds dev-db", "rds-cluster aurora-dev", "asg web-asg", svc.as_str()] {
        assert_eq!(o[key], "would-stop", "{key}: {o:?}");
    }
    assert_eq!(sizes(&account, "web-asg").await, ((1, 3, 2), None));
    assert_eq!(desired(&account, &f.service_arn).await, (3, None));
    assert_eq!(db_status(&account, WEST, "dev-db").await, "available");

    // The brake counts every kind: five would be stopped.
    let braked = account.write_config(&ALL_KINDS.replace("max_instances_per_action = 0", "max_instances_per_action = 4"));
    let run = account.run(&["apply", "office", "stop", "--config", braked.to_str().unwrap()]);
    run.expect_code(1);
    assert!(run.stderr().contains("would touch 5"), "{}", run.stderr());
    assert_eq!(sizes(&account, "web-asg").await, ((1, 3, 2), None));
    let config = account.write_config(ALL_KINDS);

    // Stop.
    let run = account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(0);
    let json = run.json();
    let want = expect(&[
        (&inst, "stopped"),
        ("rds dev-db", "stopped"),
        ("rds src-db", "skipped"),
        ("rds src-replica", "skipped"),
        ("rds aurora-dev-1", "skipped"),
        ("rds aurora-dev-2", "skipped"),
        ("rds aurora-dev-3", "skipped"),
        ("rds-cluster aurora-dev", "stopped"),
        ("asg web-asg", "stopped"),
        ("asg idle-asg", "unchanged"),
        (&svc, "stopped"),
    ]);
    assert_eq!(outcomes(&json), want, "{json}");
    let reason =
        |id: &str| json["results"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap()["reason"].as_str().unwrap().to_string();
    assert!(reason("src-replica").starts_with("read replica of src-db"), "{}", reason("src-replica"));
    assert!(reason("src-db").contains("has 1 read replica"), "{}", reason("src-db"));
    assert!(reason("aurora-dev-1").starts_with("member of DB cluster aurora-dev"), "{}", reason("aurora-dev-1"));
    // Each database's engine and deployment, as listed, in its result (for the ledger).
    let result = |id: &str| json["results"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!((&result("dev-db")["engine"], &result("dev-db")["deployment"]), (&json!("postgres"), &json!("Single-AZ")));
    assert_eq!(result("aurora-dev")["engine"], json!("aurora-postgresql"));
    // A cluster's type is its members' classes (what the ledger records to price it).
    assert_eq!(result("aurora-dev")["type"], json!("db.r5.large*2+db.r5.xlarge"), "{json}");
    assert_eq!(result("aurora-dev-2")["type"], json!("db.r5.xlarge"));
    assert!(result(&f.instance).get("engine").is_none(), "an instance has none");
    assert!(run.stderr().contains("AWS starts a stopped DB instance or cluster by itself after 7 days"), "the 7-day warning is logged");
    assert_eq!(sizes(&account, "web-asg").await, ((0, 0, 0), Some("min=1,max=3,desired=2".into())));
    assert_eq!(desired(&account, &f.service_arn).await, (0, Some("3".into())));
    assert_eq!(db_status(&account, WEST, "dev-db").await, "stopped");
    assert_eq!(db_status(&account, WEST, "other-db").await, "available", "another schedule's database is not touched");
    assert_eq!(cluster_status(&account).await, "stopped");

    // A second stop: nothing left to do.
    let run = account.run(&["apply", "office", "stop", "--config", path, "--output", "json"]);
    run.expect_code(0);
    let again = outcomes(&run.json());
    for key in [inst.as_str(), "rds dev-db", "rds-cluster aurora-dev", "asg web-asg", svc.as_str()] {
        assert_eq!(again[key], "unchanged", "{key}");
    }

    // Start: the exact sizes come back and the records go.
    let run = account.run(&["apply", "office", "start", "--config", path, "--output", "json"]);
    run.expect_code(0);
    let json = run.json();
    let o = outcomes(&json);
    for key in [inst.as_str(), "rds dev-db", "rds-cluster aurora-dev", "asg web-asg", svc.as_str()] {
        assert_eq!(o[key], "started", "{key}: {json}");
    }
    assert_eq!(o["asg idle-asg"], "skipped");
    assert_eq!(reason_of(&json, "idle-asg"), "no recorded sizes (tag offhours:asg-sizes): nothing to restore");
    assert_eq!(sizes(&account, "web-asg").await, ((1, 3, 2), None));
    assert_eq!(desired(&account, &f.service_arn).await, (3, None));
    assert_eq!(db_status(&account, WEST, "dev-db").await, "available");
    assert_eq!(cluster_status(&account).await, "available");

    // A second start: all unchanged.
    let run = account.run(&["apply", "office", "start", "--config", path, "--output", "json"]);
    run.expect_code(0);
    let again = outcomes(&run.json());
    for key in [inst.as_str(), "rds dev-db", "rds-cluster aurora-dev", "asg web-asg", svc.as_str()] {
        assert_eq!(again[key], "unchanged", "{key}");
    }

    // plan shows every kind.
    let run = account.run(&["plan", "--config", path, "--output", "json", "--at", "2026-11-23T20:00:00+01:00"]);
    run.expect_code(0);
    let rows = run.json()["schedules"][0]["resources"].as_array().unwrap().clone();
    let kinds: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), vec!["asg", "ec2", "ecs", "rds", "rds-cluster"]);
}

fn reason_of(json: &Value, id: &str) -> String {
    json["results"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap()["reason"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_failing_database_call_fails_that_database_only() {
    let account = Account::new().await;
    let f = fleet(&account).await;
    account.fault(json!({"action": "StopDBInstance", "if_instance": "dev-db", "status": 400, "protocol": "query", "code": "InvalidParameterCombination", "message": "dev-db cannot be stopped now.", "count": -1}));
    let config = account.write_config(ALL_KINDS);
    let run = account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap(), "--output", "json", "--log-format", "json"]);
    run.expect_code(1);
    let json = run.json();
    let o = outcomes(&json);
    assert_eq!(o["rds dev-db"], "failed");
    let reason = reason_of(&json, "dev-db");
    assert!(reason.contains("StopDBInstance in eu-west-1: InvalidParameterCombination: dev-db cannot be stopped now."), "{reason}");
    assert_eq!(o[&format!("ec2 {}", f.instance)], "stopped", "the instances of the same fire still act");
    assert_eq!(o["asg web-asg"], "stopped");
    // The failure is one error event naming the database.
    let events: Vec<Value> = run.stderr().lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let failed: Vec<&Value> = events.iter().filter(|e| e["outcome"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0]["kind"].as_str(), failed[0]["id"].as_str(), failed[0]["level"].as_str()),
        (Some("rds"), Some("dev-db"), Some("ERROR"))
    );
}

#[tokio::test]
async fn a_cluster_whose_members_cannot_be_read_is_stopped_all_the_same_without_a_type() {
    let account = Account::new().await;
    let rds = account.rds(CENTRAL);
    rds.create_db_cluster()
        .db_cluster_identifier("aurora-blind")
        .engine("aurora-mysql")
        .master_username("admin")
        .master_user_password("not-a-secret-1")
        .tags(office())
        .send()
        .await
        .expect("CreateDBCluster");
    rds.create_db_instance()
        .db_instance_identifier("aurora-blind-1")
        .db_cluster_identifier("aurora-blind")
        .engine("aurora-mysql")
        .db_instance_class("db.r5.large")
        .send()
        .await
        .expect("CreateDBInstance in the cluster");
    account.fault(json!({"action": "DescribeDBInstances", "status": 403, "protocol": "query", "code": "AccessDenied", "message": "not authorized to perform: rds:DescribeDBInstances", "count": -1}));
    let config = account.write_config(
        "regions = [\"eu-central-1\"]\ndb_verify_timeout = \"60s\"\nkinds = [\"rds-cluster\"]\n\
         [schedules.office]\nstart = \"0 8 * * MON-FRI\"\nstop = \"0 19 * * MON-FRI\"\n",
    );
    let run = account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(outcomes(&json), expect(&[("rds-cluster aurora-blind", "stopped")]), "{json}");
    assert!(json["results"][0].get("type").is_none(), "its size is unknown: {json}");
    assert!(run.stderr().contains("Cannot read the DB clusters' instance classes"), "{}", run.stderr());
}

#[tokio::test]
async fn kinds_left_at_their_default_touch_nothing_but_instances() {
    let account = Account::new().await;
    let f = fleet(&account).await;
    let config = account.write_config(&ALL_KINDS.replace("kinds = [\"ec2\", \"rds\", \"rds-cluster\", \"asg\", \"ecs\"]\n", ""));
    let before = account.calls();
    let run = account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(0);
    assert_eq!(outcomes(&run.json()), expect(&[(&format!("ec2 {}", f.instance), "stopped")]));
    let calls: BTreeMap<String, u64> = account.calls().into_iter().filter(|(op, n)| before.get(op) != Some(n)).collect();
    let foreign: Vec<&String> =
        // GetCallerIdentity (no permission needed) names the account in the results.
        calls.keys().filter(|op| !op.contains("Instance") && !["DescribeRegions", "GetCallerIdentity"].contains(&op.as_str()) || op.contains("DB")).collect();
    assert!(foreign.is_empty(), "no call to another service: {calls:?}");
    assert_eq!(sizes(&account, "web-asg").await, ((1, 3, 2), None));
    assert_eq!(db_status(&account, WEST, "dev-db").await, "available");
}

#[tokio::test]
async fn snooze_sets_and_clears_the_override_tag_on_any_kind_and_plan_shows_it() {
    let account = Account::new().await;
    db(&account, WEST, "snoozy-db", "office").await;
    let pinned = account.launch(WEST, &[("Schedule", "office"), ("offhours:skip", "true")]).await;
    let config = account.write_config(
        "timezone = \"Europe/Berlin\"\nregions = [\"eu-west-1\", \"us-east-1\"]\nkinds = [\"ec2\", \"rds\"]\n\
         [schedules.office]\nstart = \"0 8 * * MON-FRI\"\nstop = \"0 19 * * MON-FRI\"\n",
    );
    let c = config.to_str().unwrap();
    let tag_of = |account: &Account| {
        let rds = account.rds(WEST);
        async move {
            let arn = rds.describe_db_instances().db_instance_identifier("snoozy-db").send().await.unwrap().db_instances()[0]
                .db_instance_arn()
                .unwrap()
                .to_string();
            let tags = rds.list_tags_for_resource().resource_name(arn).send().await.unwrap();
            tags.tag_list().iter().find(|t| t.key() == Some("offhours:skip")).and_then(|t| t.value()).map(str::to_string)
        }
    };

    // No kind and no region given: found among the file's kinds and regions.
    let before = chrono::Utc::now();
    let run = account.run(&["snooze", "--config", c, "snoozy-db", "--for", "2h", "--output", "json"]);
    run.expect_code(0);
    let out = run.json();
    assert_eq!((out["kind"].as_str(), out["region"].as_str()), (Some("rds"), Some(WEST)), "{out}");
    let value = tag_of(&account).await.expect("the override tag is set");
    let until = chrono::DateTime::parse_from_rfc3339(&value).unwrap();
    let hours = (until.with_timezone(&chrono::Utc) - before).num_minutes();
    assert!((119..=121).contains(&hours), "snoozed for 2 h: {value}");

    // plan says until when.
    let plan = account.run(&["plan", "--config", c, "--output", "json"]);
    plan.expect_code(0);
    let resources = plan.json()["schedules"][0]["resources"].clone();
    let db = resources.as_array().unwrap().iter().find(|r| r["id"] == "snoozy-db").expect("the database is planned").clone();
    assert!(db["snoozed_until"].as_str().is_some_and(|t| t.ends_with("+01:00")), "in the schedule's timezone: {db}");
    let text = account.run(&["plan", "--config", c]).stdout();
    assert!(text.lines().any(|l| l.contains("snoozy-db") && l.contains("snoozed until")), "{text}");

    // A permanent override is never shortened by a snooze.
    let refused = account.run(&["snooze", "--config", c, &pinned, "--for", "1h"]);
    refused.expect_code(1);
    assert!(refused.stderr().contains("offhours:skip=true") && refused.stderr().contains("--clear first"), "{}", refused.stderr());

    // Cleared: the schedule governs it again.
    account.run(&["snooze", "--config", c, "snoozy-db", "--kind", "rds", "--region", WEST, "--clear"]).expect_code(0);
    assert_eq!(tag_of(&account).await, None);

    let missing = account.run(&["snooze", "--config", c, "no-such-db", "--for", "1h"]);
    missing.expect_code(1);
    assert!(missing.stderr().contains("no-such-db not found as ec2, rds in eu-west-1, us-east-1"), "{}", missing.stderr());
    let how_long = account.run(&["snooze", "--config", c, &pinned]);
    how_long.expect_code(2);
    assert!(how_long.stderr().contains("say how long"), "{}", how_long.stderr());
}

#[tokio::test]
async fn the_records_of_a_batch_of_groups_are_written_and_removed_in_one_call() {
    let account = Account::new().await;
    launch_configuration(&account).await;
    let names: Vec<String> = (1..=12).map(|i| format!("group-{i:02}")).collect();
    for (i, name) in names.iter().enumerate() {
        group(&account, name, (1, 4, 1 + (i as i32 % 3))).await;
    }
    let config = account.write_config("regions = [\"eu-west-1\"]\nkinds = [\"asg\"]\nverify_timeout = \"20s\"\n[schedules.office]\nstop = \"0 19 * * *\"\nstart = \"0 8 * * *\"\n");
    let count = |calls: &BTreeMap<String, u64>, op: &str| calls.get(op).copied().unwrap_or(0);

    let before = account.calls();
    let run = account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(0);
    let after = account.calls();
    assert_eq!(count(&after, "CreateOrUpdateTags") - count(&before, "CreateOrUpdateTags"), 1, "{after:?}");
    assert_eq!(count(&after, "UpdateAutoScalingGroup") - count(&before, "UpdateAutoScalingGroup"), 12, "{after:?}");
    for (i, name) in names.iter().enumerate() {
        let recorded = format!("min=1,max=4,desired={}", 1 + i % 3);
        assert_eq!(sizes(&account, name).await, ((0, 0, 0), Some(recorded)), "{name}");
    }

    let before = account.calls();
    let run = account.run(&["apply", "office", "start", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(0);
    let after = account.calls();
    assert_eq!(count(&after, "DeleteTags") - count(&before, "DeleteTags"), 1, "{after:?}");
    for (i, name) in names.iter().enumerate() {
        assert_eq!(sizes(&account, name).await, ((1, 4, 1 + i as i32 % 3), None), "{name}");
    }
}
