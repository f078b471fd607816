//! ECS services under Application Auto Scaling against moto: a stop records the
//! scalable target with the desired count and holds the target at 0..0 with its scaling
//! suspended; a start restores the target exactly, then the count; a target that cannot
//! be changed leaves the service as it was.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace, SuspendedState};
use aws_sdk_ecs::types::{ContainerDefinition, ServiceField, Tag as EcsTag};
use serde_json::json;

use crate::support::Account;

const WEST: &str = "eu-west-1";

const CONFIG: &str = r#"
regions = ["eu-west-1"]
verify_timeout = "20s"
kinds = ["ecs"]
[schedules.office]
start = "0 8 * * MON-FRI"
stop = "0 19 * * MON-FRI"
"#;

async fn service(account: &Account, name: &str, desired: i32) -> String {
    let ecs = account.ecs(WEST);
    if ecs.describe_clusters().clusters("dev").send().await.map(|c| c.clusters().is_empty()).unwrap_or(true) {
        ecs.create_cluster().cluster_name("dev").send().await.expect("CreateCluster");
        ecs.register_task_definition()
            .family("api")
            .container_definitions(ContainerDefinition::builder().name("api").image("nginx").memory(128).build())
            .send()
            .await
            .expect("RegisterTaskDefinition");
    }
    let out = ecs
        .create_service()
        .cluster("dev")
        .service_name(name)
        .task_definition("api")
        .desired_count(desired)
        .tags(EcsTag::builder().key("Schedule").value("office").build())
        .send()
        .await
        .expect("CreateService");
    out.service().and_then(|s| s.service_arn()).expect("service arn").to_string()
}

fn aas(account: &Account) -> aws_sdk_applicationautoscaling::Client {
    account.aas(WEST)
}

/// (min, max, (in, out, scheduled) suspended) of the service's target.
async fn target(account: &Account, name: &str) -> (i32, i32, (bool, bool, bool)) {
    let out = aas(account)
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(format!("service/dev/{name}"))
        .send()
        .await
        .expect("DescribeScalableTargets");
    let t = &out.scalable_targets()[0];
    let s = t.suspended_state();
    let flag = |f: fn(&SuspendedState) -> Option<bool>| s.and_then(f).unwrap_or(false);
    (
        t.min_capacity(),
        t.max_capacity(),
        (
            flag(SuspendedState::dynamic_scaling_in_suspended),
            flag(SuspendedState::dynamic_scaling_out_suspended),
            flag(SuspendedState::scheduled_scaling_suspended),
        ),
    )
}

/// The service's desired count and its record tag.
async fn desired(account: &Account, arn: &str) -> (i32, Option<String>) {
    let out = account.ecs(WEST).describe_services().cluster("dev").services(arn).include(ServiceField::Tags).send().await.unwrap();
    let s = &out.services()[0];
    let record = s.tags().iter().find(|t| t.key() == Some("offhours:ecs-desired")).and_then(|t| t.value()).map(String::from);
    (s.desired_count(), record)
}

async fn register(account: &Account, name: &str, min: i32, max: i32, scheduled_suspended: bool) {
    aas(account)
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(format!("service/dev/{name}"))
        .min_capacity(min)
        .max_capacity(max)
        .suspended_state(SuspendedState::builder().scheduled_scaling_suspended(scheduled_suspended).build())
        .send()
        .await
        .expect("RegisterScalableTarget");
}

#[tokio::test]
async fn a_stop_holds_the_scalable_target_at_zero_and_a_start_restores_it_exactly() {
    let account = Account::new().await;
    let scaled = service(&account, "api", 3).await;
    let plain = service(&account, "worker", 2).await;
    register(&account, "api", 2, 6, true).await;
    let config = account.write_config(CONFIG);
    let c = config.to_str().unwrap();
    let apply = |action: &str| {
        let run = account.run(&["apply", "office", action, "--config", c, "--output", "json"]);
        run.expect_code(0);
        let json = run.json();
        let mut o: Vec<(String, String)> = json["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["id"].as_str().unwrap().to_string(), r["outcome"].as_str().unwrap().to_string()))
            .collect();
        o.sort();
        o
    };
    let both = |outcome: &str| {
        let mut v = vec![(scaled.clone(), outcome.to_string()), (plain.clone(), outcome.to_string())];
        v.sort();
        v
    };

    assert_eq!(apply("stop"), both("stopped"));
    assert_eq!(desired(&account, &scaled).await, (0, Some("desired=3 min=2 max=6 suspended=scheduled".into())));
    assert_eq!(target(&account, "api").await, (0, 0, (true, true, true)), "held at 0..0, every scaling suspended");
    assert_eq!(desired(&account, &plain).await, (0, Some("2".into())), "no target: the count alone, as before");
    assert_eq!(apply("stop"), both("unchanged"));
    // Scaled up by hand while held: the next stop records the new count, and keeps the
    // target the first stop recorded (not the 0..0 offhours holds it at).
    account.ecs(WEST).update_service().cluster("dev").service(&scaled).desired_count(5).send().await.expect("UpdateService");
    let o = apply("stop");
    assert!(o.contains(&(scaled.clone(), "stopped".to_string())), "{o:?}");
    assert_eq!(desired(&account, &scaled).await, (0, Some("desired=5 min=2 max=6 suspended=scheduled".into())));

    assert_eq!(apply("start"), both("started"));
    assert_eq!(target(&account, "api").await, (2, 6, (false, false, true)), "restored exactly");
    assert_eq!(desired(&account, &scaled).await, (5, None));
    assert_eq!(desired(&account, &plain).await, (2, None));
    assert_eq!(apply("start"), both("unchanged"));
    // offhours: one read per service stopped (none at a start: the record says it all),
    // a change at each of the two stops and at the start of the service with a target;
    // the test's own: two reads and the registration.
    let calls = account.calls();
    assert_eq!((calls.get("DescribeScalableTargets"), calls.get("RegisterScalableTarget")), (Some(&(3 + 2)), Some(&(3 + 1))), "{calls:?}");
}

#[tokio::test]
async fn a_target_that_cannot_be_changed_leaves_the_service_as_it_was() {
    let account = Account::new().await;
    let scaled = service(&account, "api", 3).await;
    register(&account, "api", 1, 4, false).await;
    account.fault(json!({"action": "RegisterScalableTarget", "status": 400, "code": "AccessDeniedException",
        "message": "not authorized to perform: application-autoscaling:RegisterScalableTarget", "protocol": "json", "count": 1}));
    let config = account.write_config(CONFIG);
    let run = account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(1);
    let json = run.json();
    let r = &json["results"][0];
    assert_eq!(r["outcome"], "failed", "{json}");
    let reason = r["reason"].as_str().unwrap();
    assert!(reason.contains("RegisterScalableTarget") && reason.contains("AccessDenied"), "{reason}");
    assert_eq!(desired(&account, &scaled).await, (3, None), "count unchanged, record removed again");
    assert_eq!(target(&account, "api").await, (1, 4, (false, false, false)));
}

#[tokio::test]
async fn a_count_that_cannot_be_set_leaves_the_service_its_target_and_its_tags_as_they_were() {
    let account = Account::new().await;
    let scaled = service(&account, "api", 3).await;
    register(&account, "api", 1, 4, false).await;
    account.fault(json!({"action": "UpdateService", "status": 400, "code": "AccessDeniedException",
        "message": "not authorized to perform: ecs:UpdateService", "protocol": "json", "count": 1}));
    let config = account.write_config(CONFIG);
    let run = account.run(&["apply", "office", "stop", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(1);
    let json = run.json();
    let r = &json["results"][0];
    assert_eq!(r["outcome"], "failed", "{json}");
    assert!(r["reason"].as_str().unwrap().contains("UpdateService"), "{json}");
    assert_eq!(desired(&account, &scaled).await, (3, None), "count as it was, record removed again");
    assert_eq!(target(&account, "api").await, (1, 4, (false, false, false)), "target as it was, scaling not suspended");
}
