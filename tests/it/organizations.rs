//! Organizations discovery against moto: the whole organization, organizational units
//! searched recursively, closed and excluded accounts left out, an account created
//! after a first discovery found by the next, every listing paginated, and the errors
//! of a unit that does not exist. Each test is the management account of an
//! organization of its own.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::{CreateAccountState, OrganizationFeatureSet};
use offhours::accounts::{Discovered, changes, select};
use offhours::aws::ErrorKind;
use offhours::aws::organizations::discover;
use offhours::model::AccountRef;

use crate::support::Account;

/// A copy of `support::sdk_config`, which is private there.
fn sdk_config(endpoint: &str, creds: Credentials, region: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .build()
}

/// The account's Organizations client (us-east-1, as `Aws::organizations` pins it).
fn organizations(account: &Account) -> Client {
    Client::new(&sdk_config(&account.endpoint, account.creds.clone(), "us-east-1"))
}

/// An organization whose management account is the test's own.
pub(crate) struct Org {
    client: Client,
    management: String,
    root: String,
}

impl Org {
    pub(crate) async fn create(account: &Account) -> Org {
        let client = organizations(account);
        client.create_organization().feature_set(OrganizationFeatureSet::All).send().await.expect("CreateOrganization");
        let roots = client.list_roots().send().await.expect("ListRoots");
        let root = roots.roots()[0].id().expect("root id").to_string();
        Org { client, management: account.id.clone(), root }
    }

    /// A new member account; waits (bounded) until its creation succeeded.
    pub(crate) async fn account(&self, name: &str) -> String {
        let out = self.client.create_account().account_name(name).email(format!("{name}@example.com")).send().await.expect("CreateAccount");
        let mut status = out.create_account_status().expect("CreateAccountStatus").clone();
        let deadline = Instant::now() + Duration::from_secs(30);
        while status.state() == Some(&CreateAccountState::InProgress) {
            assert!(Instant::now() < deadline, "account {name} still being created after 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
            let request = status.id().expect("request id").to_string();
            let out = self.client.describe_create_account_status().create_account_request_id(request).send().await.expect("Describe");
            status = out.create_account_status().expect("CreateAccountStatus").clone();
        }
        assert_eq!(status.state(), Some(&CreateAccountState::Succeeded), "{status:?}");
        status.account_id().expect("account id").to_string()
    }

    async fn unit(&self, parent: &str, name: &str) -> String {
        let out = self.client.create_organizational_unit().parent_id(parent).name(name).send().await.expect("CreateOrganizationalUnit");
        out.organizational_unit().and_then(|u| u.id()).expect("OU id").to_string()
    }

    async fn move_to(&self, account: &str, from: &str, to: &str) {
        self.client.move_account().account_id(account).source_parent_id(from).destination_parent_id(to).send().await.expect("MoveAccount");
    }

    /// The ids `discover` finds under `ous` (the whole organization when empty), in
    /// the order found, duplicates kept.
    async fn ids(&self, ous: &[&str]) -> Vec<String> {
        self.discover(ous).await.into_iter().map(|a| a.id).collect()
    }

    async fn discover(&self, ous: &[&str]) -> Vec<Discovered> {
        let ous: Vec<String> = ous.iter().map(|s| s.to_string()).collect();
        let mut told = Vec::new();
        let found = discover(&self.client, &ous, |page| told.extend_from_slice(page)).await.expect("discover");
        let ids = |list: &[Discovered]| sorted(list.iter().map(|a| a.id.as_str()));
        assert_eq!(ids(&told), ids(&found), "each account found is told with its page");
        found
    }
}

/// The ids, sorted (duplicates kept, so that a test sees one).
fn sorted<S: AsRef<str>>(ids: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut out: Vec<String> = ids.into_iter().map(|s| s.as_ref().to_string()).collect();
    out.sort();
    out
}

#[tokio::test]
async fn finds_the_whole_organization_and_units_recursively() {
    let account = Account::new().await;
    let org = Org::create(&account).await;
    let (a, b, c) = (org.account("alpha").await, org.account("bravo").await, org.account("charlie").await);
    let teams = org.unit(&org.root, "teams").await;
    let dev = org.unit(&teams, "dev").await;
    org.move_to(&a, &org.root, &teams).await;
    org.move_to(&b, &org.root, &dev).await;

    // The whole organization: the management account and the three, all active.
    let whole = org.discover(&[]).await;
    assert_eq!(sorted(whole.iter().map(|d| &d.id)), sorted([&org.management, &a, &b, &c]));
    assert!(whole.iter().all(|d| d.status.as_deref() == Some("ACTIVE")), "{whole:?}");
    let alpha = whole.iter().find(|d| d.id == a).unwrap();
    assert_eq!(alpha.name.as_deref(), Some("alpha"));

    // A unit: the accounts in it and in its child unit, not the root's.
    assert_eq!(sorted(org.ids(&[&teams]).await), sorted([&a, &b]));
    assert_eq!(org.ids(&[&dev]).await, sorted([&b]));
    // Overlapping units are searched once each: no account twice.
    assert_eq!(sorted(org.ids(&[&teams, &dev]).await), sorted([&a, &b]));
    assert_eq!(sorted(org.ids(&[&dev, &teams]).await), sorted([&a, &b]));
    // The root searched down is the whole organization.
    assert_eq!(sorted(org.ids(&[&org.root]).await), sorted([&org.management, &a, &b, &c]));

    // Excluded ids are dropped.
    let exclude: BTreeSet<String> = [a.clone()].into();
    let chosen: Vec<String> = select(whole, &exclude).into_iter().map(|r| r.id).collect();
    assert_eq!(chosen, sorted([&org.management, &b, &c]));

    // A closed account is listed as SUSPENDED and left out.
    org.client.close_account().account_id(&c).send().await.expect("CloseAccount");
    let after = org.discover(&[]).await;
    assert_eq!(after.iter().find(|d| d.id == c).and_then(|d| d.status.as_deref()), Some("SUSPENDED"));
    let chosen: Vec<String> = select(after, &BTreeSet::new()).into_iter().map(|r| r.id).collect();
    assert_eq!(chosen, sorted([&org.management, &a, &b]));
}

/// What "picked up at the next reload" rests on: nothing is cached between calls.
#[tokio::test]
async fn an_account_created_after_a_discovery_is_found_by_the_next() {
    let account = Account::new().await;
    let org = Org::create(&account).await;
    let teams = org.unit(&org.root, "teams").await;
    let dev = org.unit(&teams, "dev").await;
    let a = org.account("alpha").await;
    org.move_to(&a, &org.root, &teams).await;

    let before_org = select(org.discover(&[]).await, &BTreeSet::new());
    let before_ou = select(org.discover(&[&teams]).await, &BTreeSet::new());
    assert_eq!(sorted(before_ou.iter().map(|r| &r.id)), sorted([&a]));

    let late = org.account("late").await;
    org.move_to(&late, &org.root, &dev).await;

    let after_org = select(org.discover(&[]).await, &BTreeSet::new());
    let after_ou = select(org.discover(&[&teams]).await, &BTreeSet::new());
    let expected = AccountRef { id: late.clone(), name: Some("late".into()) };
    assert_eq!(changes(&before_org, &after_org), (vec![expected.clone()], vec![]));
    assert_eq!(changes(&before_ou, &after_ou), (vec![expected], vec![]));
}

/// moto pages ListAccountsForParent and ListOrganizationalUnitsForParent by 20 and
/// ListAccounts by 100 when no MaxResults is given: more than that is only found
/// through the paginators.
#[tokio::test]
async fn every_listing_is_paginated() {
    let account = Account::new().await;
    let org = Org::create(&account).await;
    let big = org.unit(&org.root, "big").await;
    let mut members = Vec::new();
    for i in 0..101 {
        members.push(org.account(&format!("member{i:03}")).await);
    }
    for id in &members[..25] {
        org.move_to(id, &org.root, &big).await;
    }
    // 22 units under `big`, the last of them holding one account.
    let mut units = Vec::new();
    for i in 0..22 {
        units.push(org.unit(&big, &format!("unit{i:02}")).await);
    }
    org.move_to(&members[25], &org.root, units.last().unwrap()).await;

    let whole = org.ids(&[]).await;
    assert_eq!(whole.len(), 102, "the management account and 101 members");
    assert_eq!(whole.iter().collect::<BTreeSet<_>>().len(), 102, "no account twice");
    assert_eq!(sorted(org.ids(&[&big]).await), sorted(&members[..26]), "25 accounts in the unit, one in its 22nd child");
}

#[tokio::test]
async fn a_unit_that_does_not_exist_is_a_not_found_error() {
    let account = Account::new().await;
    let org = Org::create(&account).await;
    let err = discover(&org.client, &["ou-zzzz-zzzzzzzz".to_string()], |_| ()).await.expect_err("an unknown unit");
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
    assert_eq!(err.code.as_deref(), Some("ParentNotFoundException"), "{err}");
    assert!(["ListAccountsForParent", "ListOrganizationalUnitsForParent"].contains(&err.operation), "{err}");
    assert_eq!(err.region, "us-east-1");
}

/// An organization of 300 accounts in nested units is found in a few paginated calls:
/// each unit's accounts and child units once, 20 to a page (Organizations' largest).
#[tokio::test]
async fn three_hundred_accounts_in_nested_units_are_found_in_a_few_pages_each() {
    let account = Account::new().await;
    let org = Org::create(&account).await;
    let mut leaves = Vec::new();
    for i in 0..3 {
        let region = org.unit(&org.root, &format!("region-{i}")).await;
        for j in 0..3 {
            leaves.push(org.unit(&region, &format!("team-{i}-{j}")).await);
        }
    }
    let mut members = Vec::new();
    for n in 0..300 {
        let id = org.account(&format!("member-{n:03}")).await;
        org.move_to(&id, &org.root, &leaves[n % leaves.len()]).await;
        members.push(id);
    }
    let before = account.calls();
    let found = org.ids(&[&org.root]).await;
    let after = account.calls();
    let made = |op: &str| after.get(op).copied().unwrap_or(0) - before.get(op).copied().unwrap_or(0);

    members.push(org.management.clone());
    assert_eq!(sorted(&found), sorted(&members), "every account once");
    // 13 units (the root, 3, 9); the 9 teams hold 33 or 34 accounts: 2 pages each.
    assert_eq!(made("ListOrganizationalUnitsForParent"), 13);
    assert!(made("ListAccountsForParent") <= 1 + 3 + 9 * 2, "{after:?}");

    // The whole organization: 301 accounts in pages of 20.
    let before = account.calls();
    assert_eq!(org.ids(&[]).await.len(), 301);
    let listed = account.calls().get("ListAccounts").copied().unwrap_or(0) - before.get("ListAccounts").copied().unwrap_or(0);
    assert!(listed <= 16, "{listed} ListAccounts pages for 301 accounts");
}

#[tokio::test]
async fn accounts_are_prepared_while_deeper_units_are_still_listed() {
    let hub = Account::new().await;
    let org = Org::create(&hub).await;
    let top = org.account("top").await;
    let deep = org.account("deep").await;
    let a = org.unit(&org.root, "a").await;
    let b = org.unit(&a, "b").await;
    let c = org.unit(&b, "c").await;
    org.move_to(&deep, &org.root, &c).await;
    let config = hub.write_config(&format!(
        "regions = [\"eu-west-1\"]\n[organization]\nrole_name = \"offhours-member\"\nous = [\"{}\"]\n\
         [schedules.office]\nstop = \"0 19 * * MON-FRI\"\n",
        org.root
    ));
    hub.run(&["plan", "--config", config.to_str().unwrap(), "--output", "json"]).expect_code(0);
    let log = hub.call_log();
    let calls: Vec<&str> = log.iter().map(String::as_str).collect();
    // The root's accounts (the management account, `top`) are assumed into while the
    // units below are searched, level by level, down to `deep`'s.
    let first_assume = calls.iter().position(|a| *a == "AssumeRole").expect("an AssumeRole");
    let last_listing = calls.iter().rposition(|a| a.ends_with("ForParent")).expect("a listing");
    assert!(first_assume < last_listing, "{calls:?}");
    assert_eq!(calls.iter().filter(|a| **a == "AssumeRole").count(), 3, "{top} and {deep} and the management account: {calls:?}");
}
