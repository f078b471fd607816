//! Many accounts: one daemon's credentials, a role assumed in each account, every
//! account and region at once, one account's refusal reported while the others act.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::Account;

const REGIONS: [&str; 2] = ["eu-west-1", "eu-central-1"];

fn role(account: &Account) -> String {
    format!("arn:aws:iam::{}:role/offhours-member", account.id)
}

/// Three member accounts, each with an instance per region, and offhours' own (hub)
/// account with one of its own; the third member's role cannot be assumed.
struct Fleet {
    hub: Account,
    members: Vec<Account>,
    /// Member index -> its instances.
    instances: Vec<Vec<String>>,
    hub_instance: String,
}

async fn fleet() -> Fleet {
    let hub = Account::new().await;
    let mut members = Vec::new();
    let mut instances = Vec::new();
    for _ in 0..3 {
        let m = Account::new().await;
        let mut ids = Vec::new();
        for region in REGIONS {
            ids.push(m.launch(region, &[("Schedule", "office")]).await);
        }
        members.push(m);
        instances.push(ids);
    }
    let hub_instance = hub.launch("eu-west-1", &[("Schedule", "office")]).await;
    hub.fault(json!({
        "action": "AssumeRole", "protocol": "query", "status": 403, "code": "AccessDenied",
        "message": "User is not authorized to perform: sts:AssumeRole", "count": -1, "if_instance": role(&members[2]),
    }));
    Fleet { hub, members, instances, hub_instance }
}

fn config(f: &Fleet) -> String {
    let mut text = String::from("regions = [\"eu-west-1\", \"eu-central-1\"]\nverify_timeout = \"20s\"\n");
    for (i, m) in f.members.iter().enumerate() {
        text.push_str(&format!("[[accounts]]\nrole_arn = \"{}\"\nname = \"member-{}\"\n", role(m), i + 1));
    }
    text.push_str("[schedules.office]\nstart = \"0 8 * * MON-FRI\"\nstop = \"0 19 * * MON-FRI\"\n");
    text
}

async fn states(account: &Account) -> BTreeMap<String, String> {
    let mut all = BTreeMap::new();
    for region in REGIONS {
        all.extend(account.states(region).await);
    }
    all
}

#[tokio::test]
async fn each_account_is_acted_on_with_its_own_role_and_a_refused_one_is_reported_while_the_others_proceed() {
    let f = fleet().await;
    let path = f.hub.write_config(&config(&f));
    let c = path.to_str().unwrap();

    // plan: every row carries its account.
    let plan = f.hub.run(&["plan", "--config", c, "--output", "json"]);
    assert_eq!(plan.code(), 1, "an account could not be read: {}", plan.stderr());
    let plan = plan.json();
    let rows = plan["schedules"][0]["resources"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 4, "two members x two regions: {rows:?}");
    for (i, m) in f.members[..2].iter().enumerate() {
        for id in &f.instances[i] {
            let row = rows.iter().find(|r| r["id"] == id.as_str()).unwrap_or_else(|| panic!("{id} planned: {rows:?}"));
            assert_eq!(
                (row["account"].as_str(), row["account_name"].as_str()),
                (Some(m.id.as_str()), Some(format!("member-{}", i + 1).as_str()))
            );
        }
    }
    assert_eq!(plan["failed_accounts"][0]["account"], f.members[2].id.as_str(), "{plan}");

    // apply: the two reachable accounts stop, in both regions; the refused one is named.
    let run = f.hub.run(&["apply", "office", "stop", "--config", c, "--output", "json"]);
    assert_eq!(run.code(), 1, "an account failed: exit 1\n{}", run.stderr());
    let report: Value = run.json();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "{report}");
    for r in results {
        let owner = f.instances.iter().position(|ids| ids.iter().any(|id| r["id"] == id.as_str())).expect("a member's instance");
        assert_eq!(r["account"], f.members[owner].id.as_str(), "each result names the account that owns it: {r}");
        assert_eq!(r["outcome"], "stopped", "{r}");
        assert!(r["type"].as_str().is_some_and(|t| t.contains('.')), "the instance type, for the savings ledger: {r}");
    }
    let failed = report["failed_accounts"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{report}");
    assert_eq!(failed[0]["account"], f.members[2].id.as_str());
    assert_eq!(failed[0]["account_name"], "member-3");
    assert!(
        failed[0]["error"].as_str().unwrap().contains("AccessDenied") || failed[0]["error"].as_str().unwrap().contains("not authorized"),
        "{report}"
    );

    for (i, m) in f.members.iter().enumerate() {
        let want = if i < 2 { "stopped" } else { "running" };
        for id in &f.instances[i] {
            assert_eq!(states(m).await[id], want, "member {} {id}", i + 1);
        }
        // Each account holds only its own instances: nothing of another was created or moved there.
        assert_eq!(states(m).await.len(), 2, "member {}", i + 1);
    }
    assert_eq!(f.hub.states("eu-west-1").await[&f.hub_instance], "running", "the hub's own account is not listed: untouched");
    // Default regions only: a member's role is proved by assuming it, no region check
    // is sent in the member account.
    for m in &f.members[..2] {
        let calls = m.calls_in_account();
        assert!(calls.get("StopInstances").is_some_and(|n| *n >= 1), "the role's calls are counted in its account: {calls:?}");
        assert_eq!(calls.get("DescribeRegions"), None, "{calls:?}");
    }
    // The log names the account of every action.
    let log = run.stderr();
    let line = log.lines().find(|l| l.contains(&f.instances[0][0])).expect("a log line for the instance");
    assert!(line.contains(&format!("account=\"{}\"", f.members[0].id)) || line.contains(&format!("account={}", f.members[0].id)), "{line}");
}

#[tokio::test]
async fn a_schedule_names_its_accounts_and_the_overall_cap_holds_every_account() {
    let f = fleet().await;
    let mut text = config(&f);
    text = text.replace("[schedules.office]\n", "[schedules.office]\naccounts = [\"member-1\"]\n");
    let path = f.hub.write_config(&text);
    let c = path.to_str().unwrap();
    let run = f.hub.run(&["apply", "office", "stop", "--config", c, "--output", "json"]);
    run.expect_code(0);
    let report = run.json();
    assert!(report["results"].as_array().unwrap().iter().all(|r| r["account"] == f.members[0].id.as_str()), "{report}");
    assert_eq!(states(&f.members[1]).await[&f.instances[1][0]], "running", "member-2 is not named by the schedule");

    // member-2's two running instances are over an overall cap of 1: nothing is touched
    // anywhere, whatever each account's own brake says.
    let capped = config(&f).replace("verify_timeout", "max_instances_per_action_total = 1\nverify_timeout");
    let path = f.hub.write_config(&capped);
    let run = f.hub.run(&["apply", "office", "stop", "--config", path.to_str().unwrap()]);
    run.expect_code(1);
    assert!(run.stderr().contains("would touch 2 instances, more than max_instances_per_action_total = 1"), "{}", run.stderr());
    assert_eq!(states(&f.members[1]).await[&f.instances[1][0]], "running", "the cap touched nothing");
}

#[tokio::test]
async fn an_organization_account_created_after_start_up_is_acted_in_after_the_next_reload() {
    use crate::daemon::Daemon;
    use crate::organizations::Org;
    let hub = Account::new().await;
    let org = Org::create(&hub).await;
    let first = org.account("first").await;
    let config = hub.write_config(
        "regions = [\"eu-west-1\"]\n[organization]\nrole_name = \"offhours-member\"\n\
         [schedules.office]\nstart = \"0 8 * * MON-FRI\"\nstop = \"0 19 * * MON-FRI\"\n",
    );
    let mut daemon = Daemon::start(&hub, &config, "1");
    let prepared = daemon.wait_for_event("the accounts", |e| e["message"] == "Accounts prepared.");
    assert_eq!(prepared["accounts"], 2, "the management account and the first member: {prepared}");
    assert!(prepared["list"].as_str().unwrap().contains(&first), "{prepared}");

    let late = org.account("late").await;
    daemon.signal("HUP");
    let again = daemon.wait_for_event("the accounts after the reload", |e| {
        e["message"] == "Accounts prepared." && e["list"].as_str().is_some_and(|l| l.contains(&late))
    });
    assert_eq!(again["accounts"], 3, "{again}");
    // plan names the new account's resources with their account.
    let run = hub.run(&["plan", "--config", config.to_str().unwrap(), "--output", "json"]);
    run.expect_code(0);
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(), 0);
}

#[tokio::test]
async fn the_daemon_reports_a_refused_role_once_and_fires_on_without_trying_it_again() {
    let f = fleet().await;
    let mut text = config(&f).replace("[schedules.office]\nstart = \"0 8 * * MON-FRI\"\nstop = \"0 19 * * MON-FRI\"\n", "");
    text.push_str("[schedules.office]\nstop = \"*/2 * * * * *\"\n");
    let path = f.hub.write_config(&text);
    let daemon = crate::daemon::Daemon::start(&f.hub, &path, "1");
    // Three fires after start-up, each acting in the two other accounts at once.
    for n in 1..=3 {
        let finished = daemon.wait_for_event(&format!("fire {n}"), |e| {
            e["message"] == "Action finished." && daemon.events().iter().filter(|e| e["message"] == "Action finished.").count() >= n
        });
        assert_eq!(finished["failed_accounts"], 1, "{finished}");
    }
    for (i, m) in f.members[..2].iter().enumerate() {
        for id in &f.instances[i] {
            assert_eq!(states(m).await[id], "stopped", "member {} {id}", i + 1);
        }
    }
    let refused: Vec<Value> = daemon
        .events()
        .into_iter()
        .filter(|e| e["message"] == "Account left out until the next refresh: its role cannot be assumed.")
        .collect();
    assert_eq!(refused.len(), 1, "reported once, at start-up: {refused:?}");
    assert_eq!(refused[0]["account"], f.members[2].id.as_str());
    // Only the start-up tried the refused role; the fires did not.
    let tries = f.hub.calls().get("AssumeRole").copied().unwrap_or(0);
    assert!(tries <= 4, "AssumeRole tried {tries} times for three accounts");
}

#[tokio::test]
async fn a_member_account_with_an_opt_in_region_is_checked_with_describe_regions() {
    let hub = Account::new().await;
    let member = Account::new().await;
    let id = member.launch("eu-west-1", &[("Schedule", "office")]).await;
    let text = format!(
        "regions = [\"eu-west-1\", \"eu-south-1\"]\nverify_timeout = \"20s\"\n[[accounts]]\nrole_arn = \"{}\"\nname = \"member\"\n\
         [schedules.office]\nstop = \"0 19 * * MON-FRI\"\n",
        role(&member)
    );
    let path = hub.write_config(&text);
    let run = hub.run(&["plan", "--config", path.to_str().unwrap(), "--output", "json"]);
    let plan = run.json();
    let calls = member.calls_in_account();
    // Milan is opt-in: whether the account has it is asked of EC2, in the account.
    assert_eq!(calls.get("DescribeRegions"), Some(&1), "{calls:?}\n{}", run.stderr());
    let planned = plan["schedules"][0]["resources"].as_array().cloned().unwrap_or_default();
    assert!(planned.iter().any(|r| r["id"] == id.as_str()), "{plan}");
}

#[tokio::test]
async fn a_role_sts_failed_to_answer_for_is_not_taken_for_refused() {
    let hub = Account::new().await;
    let (failing, refusing) = (Account::new().await, Account::new().await);
    let assume_role = |member: &Account, status: u16, code: &str| {
        json!({
            "action": "AssumeRole", "protocol": "query", "status": status, "code": code,
            "message": "it failed", "count": -1, "if_instance": role(member),
        })
    };
    hub.fault(assume_role(&failing, 503, "ServiceUnavailable"));
    hub.fault(assume_role(&refusing, 403, "AccessDenied"));
    // An opt-in region: each account's regions are checked with DescribeRegions there,
    // whose credentials are the AssumeRole that fails.
    let text = format!(
        "regions = [\"eu-west-1\", \"eu-south-1\"]\n[aws]\nmax_attempts = 1\n\
         [[accounts]]\nrole_arn = \"{}\"\nname = \"failing\"\n[[accounts]]\nrole_arn = \"{}\"\nname = \"refusing\"\n\
         [schedules.office]\nstop = \"0 19 * * MON-FRI\"\n",
        role(&failing),
        role(&refusing)
    );
    let path = hub.write_config(&text);
    let run = hub.run(&["plan", "--config", path.to_str().unwrap(), "--output", "json"]);
    let plan = run.json();
    let error_of = |member: &Account| {
        let failed = plan["failed_accounts"].as_array().cloned().unwrap_or_default();
        let entry = failed.iter().find(|f| f["account"] == member.id.as_str()).cloned();
        entry.map(|f| f["error"].as_str().unwrap_or_default().to_string()).unwrap_or_else(|| panic!("{} not failed: {plan}", member.id))
    };
    let (unanswered, refused) = (error_of(&failing), error_of(&refusing));
    assert!(refused.contains("cannot be assumed (tried again at the next refresh)"), "{refused}");
    assert!(!unanswered.contains("cannot be assumed"), "{unanswered}");
    assert!(unanswered.contains("ServiceUnavailable"), "{unanswered}");
    let left_out = run.stderr().lines().filter(|l| l.contains("its role cannot be assumed")).count();
    assert_eq!(left_out, 1, "only the refused role is left out until the next refresh:\n{}", run.stderr());
}
