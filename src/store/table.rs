//! The shared state table (`[state] backend = "dynamodb"`): its items, and the few
//! DynamoDB calls the store makes on them. Every write that must not race is
//! conditional; a condition that fails is an answer (`Ok(false)`), not an error.
//!
//! One table, a string partition key `pk` and sort key `sk`:
//! - `lease` / `lease`: the leader lease (owner, rvn, fence, lease_ms, released).
//! - `watermark` / JOB KEY: up to when that job's fires are handled (`at`, RFC 3339),
//!   and the fence of the leader that wrote it.
//! - `meta` / `migrated`: written once by `offhours migrate-state`.
//! - `hold` / SCHEDULE: a schedule's hold (`offhours hold`), its JSON in `hold`, and
//!   `expires_at` a day after it ends (time to live removes it; readers ignore an
//!   expired one before that).
//! - `ledger#YYYY-MM` / INSTANT#ACCOUNT#REGION#KIND#ID#ACTION: one start or stop (the
//!   savings ledger), in the partition of its instant's UTC month; the instant is RFC 3339
//!   in UTC with milliseconds, fixed width, so that the sort key sorts by time. Every
//!   [`Entry`] field is an attribute (the optional ones, `size`, `engine`, `deployment`,
//!   only when known: an item without them, as earlier releases wrote, reads as unknown),
//!   and `expires_at` (epoch seconds) is the instant plus `[savings] retention`:
//!   DynamoDB's time to live removes the row after that.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, KeySchemaElement, KeyType, Put, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification, TransactWriteItem,
};
use chrono::{DateTime, Datelike, Months, NaiveDate, TimeDelta, Utc};

use super::lease::{Expect, Fence, Record};
use super::ledger::Entry;
use crate::aws::AwsError;
use crate::model::Deployment;
use crate::plan::hold::Hold;

pub const LEASE_PK: &str = "lease";
pub const WATERMARK_PK: &str = "watermark";
pub const META_PK: &str = "meta";
pub const MIGRATED_SK: &str = "migrated";
pub const HOLD_PK: &str = "hold";
/// The attribute DynamoDB's time to live reads (the ledger's rows).
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// The ledger's partitions are this followed by the month (`YYYY-MM`, UTC).
pub const LEDGER_PK_PREFIX: &str = "ledger#";
/// A transaction holds at most 100 items; one is the lease's condition.
const WRITES_PER_TRANSACTION: usize = 99;

/// One table in one region.
#[derive(Debug, Clone)]
pub struct StateTable {
    client: Client,
    pub table: String,
    pub region: String,
}

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key(pk: &str, sk: &str) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn get_n(item: &Item, name: &str) -> Option<u64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

/// Whether an SDK error is a failed condition (the answer "someone else wrote first").
fn condition_failed<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(e: &SdkError<E, aws_smithy_runtime_api::http::Response>) -> bool {
    matches!(e, SdkError::ServiceError(se) if se.err().code() == Some("ConditionalCheckFailedException"))
}

/// A table that is not as `offhours init-state` makes it.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("state table {table} in {region}: {problem}")]
    Shape { table: String, region: String, problem: String },
    #[error("state table {table} in {region}: still {status} after {waited_s} s")]
    NotActive { table: String, region: String, status: String, waited_s: u64 },
}

/// What `init-state` found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Created,
    AlreadyThere,
}

impl StateTable {
    pub fn new(client: Client, table: &str, region: &str) -> Self {
        StateTable { client, table: table.to_string(), region: region.to_string() }
    }

    /// The lease record, read consistently.
    pub async fn read_lease(&self) -> Result<Option<Record>, AwsError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(LEASE_PK, LEASE_PK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetItem", &self.region, e))?;
        Ok(out.item.as_ref().map(|item| Record {
            owner: get_s(item, "owner").unwrap_or_default().to_string(),
            rvn: get_s(item, "rvn").unwrap_or_default().to_string(),
            fence: Fence(get_n(item, "fence").unwrap_or(0)),
            duration: Duration::from_millis(get_n(item, "lease_ms").unwrap_or(0)),
            released: item.get("released").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
        }))
    }

    /// Takes the lease: writes `new` if the record is still as `expect` says.
    pub async fn acquire(&self, expect: &Expect, new: &Record) -> Result<bool, AwsError> {
        let mut item = key(LEASE_PK, LEASE_PK);
        item.insert("owner".into(), s(&new.owner));
        item.insert("rvn".into(), s(&new.rvn));
        item.insert("fence".into(), n(new.fence.0));
        item.insert("lease_ms".into(), n(new.duration.as_millis()));
        item.insert("released".into(), AttributeValue::Bool(false));
        item.insert("acquired_at".into(), s(Utc::now().to_rfc3339()));
        let put = self.client.put_item().table_name(&self.table).set_item(Some(item));
        let put = match expect {
            Expect::Absent => put.condition_expression("attribute_not_exists(pk)"),
            Expect::Rvn(rvn) => put.condition_expression("rvn = :seen").expression_attribute_values(":seen", s(rvn)),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(AwsError::from_sdk("PutItem", &self.region, e)),
        }
    }

    /// Renews the lease `held` (a new rvn) if it is still ours as last written;
    /// `release` gives it up at the same time.
    pub async fn renew(&self, held: &Record, new_rvn: &str, release: bool) -> Result<bool, AwsError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(LEASE_PK, LEASE_PK)))
            .condition_expression("#owner = :me AND rvn = :rvn")
            .update_expression("SET rvn = :new, released = :released, lease_ms = :ms")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":me", s(&held.owner))
            .expression_attribute_values(":rvn", s(&held.rvn))
            .expression_attribute_values(":new", s(new_rvn))
            .expression_attribute_values(":released", AttributeValue::Bool(release))
            .expression_attribute_values(":ms", n(held.duration.as_millis()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(AwsError::from_sdk("UpdateItem", &self.region, e)),
        }
    }

    /// Every job's watermark, read consistently.
    pub async fn watermarks(&self) -> Result<BTreeMap<String, DateTime<Utc>>, AwsError> {
        let mut out = BTreeMap::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(WATERMARK_PK))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("Query", &self.region, e))?;
            for item in page.items() {
                if let (Some(job), Some(at)) = (get_s(item, "sk"), get_s(item, "at").and_then(|t| DateTime::parse_from_rfc3339(t).ok())) {
                    out.insert(job.to_string(), at.with_timezone(&Utc));
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// Writes watermarks, each transaction conditioned on `owner` holding the lease
    /// with `fence`. `Ok(false)`: it does not (nothing of that transaction written).
    pub async fn write_watermarks(&self, owner: &str, fence: Fence, marks: &[(String, DateTime<Utc>)]) -> Result<bool, AwsError> {
        for chunk in marks.chunks(WRITES_PER_TRANSACTION) {
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(LEASE_PK, LEASE_PK)))
                .condition_expression("#owner = :me AND fence = :fence AND released = :no")
                .expression_attribute_names("#owner", "owner")
                .expression_attribute_values(":me", s(owner))
                .expression_attribute_values(":fence", n(fence.0))
                .expression_attribute_values(":no", AttributeValue::Bool(false))
                .build()
                .expect("table, key and condition are set");
            let mut items = vec![TransactWriteItem::builder().condition_check(check).build()];
            for (job, at) in chunk {
                items.push(self.put_item(watermark_item(job, *at, Some(fence)), None));
            }
            // A renewal of the lease at the same moment cancels the transaction with a
            // conflict, which the SDK does not retry: try again, briefly.
            let mut tries = 0;
            loop {
                tries += 1;
                match self.client.transact_write_items().set_transact_items(Some(items.clone())).send().await {
                    Ok(_) => break,
                    Err(e) if transaction_condition_failed(&e) => return Ok(false),
                    Err(e) if tries < 4 && transaction_conflict(&e) => {
                        tokio::time::sleep(std::time::Duration::from_millis(50 * tries + u64::from(fastrand::u8(..)))).await;
                    }
                    Err(e) => return Err(AwsError::from_sdk("TransactWriteItems", &self.region, e)),
                }
            }
        }
        Ok(true)
    }

    fn put_item(&self, item: Item, condition: Option<&str>) -> TransactWriteItem {
        let put = Put::builder().table_name(&self.table).set_item(Some(item)).set_condition_expression(condition.map(str::to_string));
        TransactWriteItem::builder().put(put.build().expect("table and item are set")).build()
    }

    /// `migrate-state`: writes a state file's watermarks and the `migrated` marker, the
    /// marker only if it is not there yet. `Ok(None)`: done; `Ok(Some(when))`: the table
    /// was migrated before (at `when`), nothing written.
    pub async fn migrate(&self, marks: &[(String, DateTime<Utc>)], source: &str) -> Result<Option<String>, AwsError> {
        let mut marker = key(META_PK, MIGRATED_SK);
        marker.insert("at".into(), s(Utc::now().to_rfc3339()));
        marker.insert("source".into(), s(source));
        let mut chunks: Vec<&[(String, DateTime<Utc>)]> = marks.chunks(WRITES_PER_TRANSACTION).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        for chunk in chunks {
            // The marker's condition rides in every transaction, so that a second run
            // writes nothing at all.
            let mut items = vec![self.put_item(marker.clone(), Some("attribute_not_exists(pk)"))];
            for (job, at) in chunk {
                items.push(self.put_item(watermark_item(job, *at, None), None));
            }
            match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
                Ok(_) => {}
                Err(e) if transaction_condition_failed(&e) => {
                    let item = self
                        .client
                        .get_item()
                        .table_name(&self.table)
                        .set_key(Some(key(META_PK, MIGRATED_SK)))
                        .consistent_read(true)
                        .send()
                        .await
                        .map_err(|e| AwsError::from_sdk("GetItem", &self.region, e))?;
                    let when = item.item.as_ref().and_then(|i| get_s(i, "at")).unwrap_or("an unknown time").to_string();
                    return Ok(Some(when));
                }
                Err(e) => return Err(AwsError::from_sdk("TransactWriteItems", &self.region, e)),
            }
        }
        Ok(None)
    }

    /// Writes one ledger row (PutItem; the same entry again overwrites it with itself).
    /// Not fenced: a replica records what it did, lease or not.
    pub async fn put_ledger_entry(&self, entry: &Entry, retention: Duration) -> Result<(), AwsError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(ledger_item(entry, retention)))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("PutItem", &self.region, e))?;
        Ok(())
    }

    /// The ledger rows of partition `pk` with `lo <= sk <= hi`, oldest first, read
    /// consistently: each row's sort key and its entry, or what is wrong with the item.
    pub async fn ledger_rows(&self, pk: &str, lo: &str, hi: &str) -> Result<Vec<(String, Result<Entry, String>)>, AwsError> {
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":lo", s(lo))
            .expression_attribute_values(":hi", s(hi))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk("Query", &self.region, e))?;
        Ok(items.iter().map(|item| (get_s(item, "sk").unwrap_or_default().to_string(), ledger_entry(item))).collect())
    }

    /// Every hold stored, read consistently; an item that does not read as a hold
    /// comes back as its sort key and what is wrong.
    pub async fn holds(&self) -> Result<Vec<Result<Hold, String>>, AwsError> {
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(HOLD_PK))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| AwsError::from_sdk("Query", &self.region, e))?;
        Ok(items.iter().map(hold_of).collect())
    }

    /// Stores `hold` in place of its schedule's; the one it replaced, if any.
    pub async fn put_hold(&self, hold: &Hold) -> Result<Option<Hold>, AwsError> {
        let mut item = key(HOLD_PK, &hold.schedule);
        item.insert("hold".into(), s(serde_json::to_string(hold).expect("serializable")));
        item.insert(TTL_ATTRIBUTE.into(), n((hold.until + TimeDelta::days(1)).timestamp()));
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("PutItem", &self.region, e))?;
        Ok(out.attributes.as_ref().and_then(|item| hold_of(item).ok()))
    }

    /// Removes `schedule`'s hold; the one removed, if any.
    pub async fn delete_hold(&self, schedule: &str) -> Result<Option<Hold>, AwsError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(HOLD_PK, schedule)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DeleteItem", &self.region, e))?;
        Ok(out.attributes.as_ref().and_then(|item| hold_of(item).ok()))
    }

    /// `init-state`: creates the table (on-demand), waits until it is active and turns
    /// on time to live; a table already there passes if its keys are right.
    pub async fn create(&self, wait: Duration) -> Result<Created, TableError> {
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().expect("set"))
            .key_schema(KeySchemaElement::builder().attribute_name("sk").key_type(KeyType::Range).build().expect("set"))
            .attribute_definitions(
                AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build().expect("set"),
            )
            .attribute_definitions(
                AttributeDefinition::builder().attribute_name("sk").attribute_type(ScalarAttributeType::S).build().expect("set"),
            )
            .send()
            .await;
        let outcome = match created {
            Ok(_) => Created::Created,
            Err(SdkError::ServiceError(se)) if se.err().is_resource_in_use_exception() => Created::AlreadyThere,
            Err(e) => return Err(AwsError::from_sdk("CreateTable", &self.region, e).into()),
        };
        let began = std::time::Instant::now();
        loop {
            let table = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("DescribeTable", &self.region, e))?;
            let Some(table) = table.table else {
                return Err(TableError::Shape {
                    table: self.table.clone(),
                    region: self.region.clone(),
                    problem: "DescribeTable answered without a table".into(),
                });
            };
            let keys: Vec<(String, String)> =
                table.key_schema().iter().map(|k| (k.attribute_name().to_string(), k.key_type().as_str().to_string())).collect();
            let want = [("pk".to_string(), "HASH".to_string()), ("sk".to_string(), "RANGE".to_string())];
            if keys != want {
                let found = keys.iter().map(|(n, t)| format!("{n} ({t})")).collect::<Vec<_>>().join(", ");
                return Err(TableError::Shape {
                    table: self.table.clone(),
                    region: self.region.clone(),
                    problem: format!(
                        "its keys are {found}; offhours needs pk (HASH) and sk (RANGE), both strings: choose another table name"
                    ),
                });
            }
            match table.table_status() {
                Some(TableStatus::Active) => break,
                status => {
                    if began.elapsed() >= wait {
                        return Err(TableError::NotActive {
                            table: self.table.clone(),
                            region: self.region.clone(),
                            status: status.map_or("unknown", |s| s.as_str()).to_string(),
                            waited_s: wait.as_secs(),
                        });
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        if outcome == Created::Created {
            self.client
                .update_time_to_live()
                .table_name(&self.table)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder().attribute_name(TTL_ATTRIBUTE).enabled(true).build().expect("set"),
                )
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("UpdateTimeToLive", &self.region, e))?;
        }
        Ok(outcome)
    }
}

/// The ledger partition an instant's rows live in: its UTC month.
pub fn ledger_pk(at: DateTime<Utc>) -> String {
    format!("{LEDGER_PK_PREFIX}{}", at.format("%Y-%m"))
}

/// An instant as the ledger's sort keys begin: RFC 3339 in UTC with milliseconds, fixed
/// width, so that text order is time order (what the SQLite ledger keeps, too).
pub fn ledger_instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A ledger row's sort key: its instant, then what makes it unique for one resource's
/// one action at that instant. The same entry always has the same key, so writing it
/// again changes nothing.
pub fn ledger_sk(e: &Entry) -> String {
    format!("{}#{}#{}#{}#{}#{}", ledger_instant(e.at), e.account, e.region, e.kind.as_str(), e.id, e.action.as_str())
}

/// The ledger partitions holding rows in `[since, until)`, oldest first, each with the
/// sort-key range to query (`sk BETWEEN lo AND hi`): `lo` is `since`'s instant, which
/// sorts before every row at `since`; `hi` is `until`'s, which sorts before every row
/// at `until`. At millisecond precision, as rows are kept.
pub fn ledger_ranges(since: DateTime<Utc>, until: DateTime<Utc>) -> Vec<(String, String, String)> {
    if since >= until {
        return Vec::new();
    }
    let (lo, hi) = (ledger_instant(since), ledger_instant(until));
    let mut month = NaiveDate::from_ymd_opt(since.year(), since.month(), 1).expect("the first of a month");
    let mut out = Vec::new();
    while month.and_time(chrono::NaiveTime::MIN).and_utc() < until {
        out.push((format!("{LEDGER_PK_PREFIX}{}", month.format("%Y-%m")), lo.clone(), hi.clone()));
        let Some(next) = month.checked_add_months(Months::new(1)) else { break };
        month = next;
    }
    out
}

/// When a row recorded at `at` expires (epoch seconds, DynamoDB's time to live).
pub fn ledger_expires_at(at: DateTime<Utc>, retention: Duration) -> i64 {
    let keep = TimeDelta::from_std(retention).unwrap_or(TimeDelta::MAX);
    at.checked_add_signed(keep).unwrap_or(DateTime::<Utc>::MAX_UTC).timestamp()
}

fn ledger_item(e: &Entry, retention: Duration) -> Item {
    let mut item = key(&ledger_pk(e.at), &ledger_sk(e));
    item.insert("at".into(), s(ledger_instant(e.at)));
    item.insert("account".into(), s(&e.account));
    item.insert("region".into(), s(&e.region));
    item.insert("kind".into(), s(e.kind.as_str()));
    item.insert("resource".into(), s(&e.id));
    if let Some(size) = &e.size {
        item.insert("size".into(), s(size));
    }
    if let Some(engine) = &e.engine {
        item.insert("engine".into(), s(engine));
    }
    if let Some(deployment) = e.deployment {
        item.insert("deployment".into(), s(deployment.as_str()));
    }
    item.insert("schedule".into(), s(&e.schedule));
    item.insert("job".into(), s(&e.job));
    item.insert("action".into(), s(e.action.as_str()));
    item.insert("outcome".into(), s(&e.outcome));
    item.insert(TTL_ATTRIBUTE.into(), n(ledger_expires_at(e.at, retention)));
    item
}

/// A ledger item read back; what is wrong with it otherwise.
fn ledger_entry(item: &Item) -> Result<Entry, String> {
    let text = |name: &str| get_s(item, name).map(str::to_string).ok_or_else(|| format!("no `{name}`"));
    let at = text("at")?;
    let kind = text("kind")?;
    Ok(Entry {
        at: DateTime::parse_from_rfc3339(&at).map_err(|e| format!("time `{at}`: {e}"))?.with_timezone(&Utc),
        account: text("account")?,
        region: text("region")?,
        kind: crate::kinds::parse(&kind).ok_or_else(|| format!("unknown kind `{kind}`"))?,
        id: text("resource")?,
        size: get_s(item, "size").map(str::to_string),
        engine: get_s(item, "engine").map(str::to_string),
        deployment: match get_s(item, "deployment") {
            Some(name) => Some(Deployment::parse(name).ok_or_else(|| format!("unknown deployment `{name}`"))?),
            None => None,
        },
        schedule: text("schedule")?,
        job: text("job")?,
        action: text("action")?.parse()?,
        outcome: text("outcome")?,
    })
}

fn hold_of(item: &Item) -> Result<Hold, String> {
    let sk = get_s(item, "sk").unwrap_or_default();
    let text = get_s(item, "hold").ok_or_else(|| format!("hold {sk}: no `hold` attribute"))?;
    serde_json::from_str(text).map_err(|e| format!("hold {sk}: {e}"))
}

fn watermark_item(job: &str, at: DateTime<Utc>, fence: Option<Fence>) -> Item {
    let mut item = key(WATERMARK_PK, job);
    item.insert("at".into(), s(at.to_rfc3339()));
    if let Some(f) = fence {
        item.insert("fence".into(), n(f.0));
    }
    item
}

fn transaction_condition_failed(
    e: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, aws_smithy_runtime_api::http::Response>,
) -> bool {
    match e {
        SdkError::ServiceError(se) => match se.err() {
            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(t) => {
                t.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
                    || t.message().is_some_and(|m| m.contains("ConditionalCheckFailed"))
            }
            _ => false,
        },
        _ => false,
    }
}

/// A transaction cancelled because another request touched one of its items at the same
/// time (worth retrying, unlike a failed condition).
fn transaction_conflict(
    e: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, aws_smithy_runtime_api::http::Response>,
) -> bool {
    match e {
        SdkError::ServiceError(se) => match se.err() {
            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(t) => {
                t.cancellation_reasons().iter().any(|r| r.code() == Some("TransactionConflict"))
            }
            other => other.meta().code() == Some("TransactionConflictException"),
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// The partitions and range `[since, until)` is read from: `expect` as
    /// `"MONTH LO HI"`.
    #[track_caller]
    fn check_ranges(since: &str, until: &str, expect: &[&str]) {
        let got: Vec<String> = ledger_ranges(at(since), at(until))
            .into_iter()
            .map(|(pk, lo, hi)| format!("{} {lo} {hi}", pk.strip_prefix(LEDGER_PK_PREFIX).unwrap()))
            .collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn ledger_ranges_cover_each_utc_month_of_the_window() {
        check_ranges("2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z", &["2026-06 2026-06-01T00:00:00.000Z 2026-06-02T00:00:00.000Z"]);
        // Across a year's end; UTC months, whatever the offset written.
        check_ranges(
            "2025-11-30T23:00:00-02:00",
            "2026-01-01T00:30:00+01:00",
            &["2025-12 2025-12-01T01:00:00.000Z 2025-12-31T23:30:00.000Z"],
        );
        check_ranges(
            "2025-11-15T00:00:00Z",
            "2026-01-15T00:00:00Z",
            &[
                "2025-11 2025-11-15T00:00:00.000Z 2026-01-15T00:00:00.000Z",
                "2025-12 2025-11-15T00:00:00.000Z 2026-01-15T00:00:00.000Z",
                "2026-01 2025-11-15T00:00:00.000Z 2026-01-15T00:00:00.000Z",
            ],
        );
        // Until at a month's start: that month holds nothing before it.
        check_ranges("2026-05-20T00:00:00Z", "2026-06-01T00:00:00Z", &["2026-05 2026-05-20T00:00:00.000Z 2026-06-01T00:00:00.000Z"]);
        // Milliseconds kept, finer parts dropped (as rows are written).
        check_ranges("2026-06-01T08:00:00.1234Z", "2026-06-01T08:00:01Z", &["2026-06 2026-06-01T08:00:00.123Z 2026-06-01T08:00:01.000Z"]);
        check_ranges("2026-06-01T00:00:00Z", "2026-06-01T00:00:00Z", &[]);
        check_ranges("2026-06-02T00:00:00Z", "2026-06-01T00:00:00Z", &[]);
    }

    fn entry(when: &str) -> Entry {
        Entry {
            at: at(when),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            kind: crate::kinds::ec2::KIND,
            id: "i-0abc".into(),
            size: Some("t3.large".into()),
            engine: None,
            deployment: None,
            schedule: "office".into(),
            job: "schedule".into(),
            action: Action::Stop,
            outcome: "stopped".into(),
        }
    }

    #[test]
    fn a_ledger_row_s_keys_sort_by_time_and_are_the_same_for_the_same_entry() {
        let e = entry("2026-06-01T18:00:05.5Z");
        assert_eq!(ledger_pk(e.at), "ledger#2026-06");
        assert_eq!(ledger_sk(&e), "2026-06-01T18:00:05.500Z#123456789012#eu-west-1#ec2#i-0abc#stop");
        assert_eq!(ledger_sk(&e), ledger_sk(&e.clone()), "idempotent");
        let start = Entry { action: Action::Start, outcome: "started".into(), ..e.clone() };
        assert_ne!(ledger_sk(&e), ledger_sk(&start), "one resource's stop and start at one instant");
        let other = Entry { region: "us-east-1".into(), ..e.clone() };
        assert_ne!(ledger_sk(&e), ledger_sk(&other));
        // Fixed width: text order is time order, and a row at an instant sorts after it.
        let times = ["2026-06-01T09:59:59.999Z", "2026-06-01T10:00:00Z", "2026-06-01T10:00:00.001Z", "2026-06-01T10:00:01Z"];
        let sks: Vec<String> = times.iter().map(|t| ledger_sk(&entry(t))).collect();
        assert!(sks.windows(2).all(|w| w[0] < w[1]), "{sks:?}");
        assert!(ledger_instant(at("2026-06-01T10:00:00Z")) < sks[1] && sks[1] < ledger_instant(at("2026-06-01T10:00:00.001Z")));
    }

    #[test]
    fn a_ledger_item_keeps_every_field_and_expires_after_retention() {
        let retention = Duration::from_secs(400 * 86_400);
        let db = Entry {
            kind: crate::kinds::rds::INSTANCE,
            id: "db-1".into(),
            size: Some("db.t3.micro".into()),
            engine: Some("postgres".into()),
            deployment: Some(Deployment::MultiAz),
            ..entry("2026-06-02T18:00:00Z")
        };
        for e in [
            entry("2026-06-01T18:00:05.5Z"),
            Entry { size: None, kind: crate::kinds::ecs::KIND, ..entry("2026-06-30T23:59:59.999Z") },
            db.clone(),
        ] {
            let item = ledger_item(&e, retention);
            assert_eq!(ledger_entry(&item), Ok(e.clone()));
            assert_eq!(get_n(&item, TTL_ATTRIBUTE), Some((e.at.timestamp() + 400 * 86_400) as u64));
        }
        let mut item = ledger_item(&entry("2026-06-01T18:00:05Z"), retention);
        item.insert("kind".into(), s("lambda"));
        assert_eq!(ledger_entry(&item), Err("unknown kind `lambda`".into()));
        item.insert("kind".into(), s("ec2"));
        item.remove("schedule");
        assert_eq!(ledger_entry(&item), Err("no `schedule`".into()));
        // The database's attributes as written; an item without them (as earlier
        // releases wrote) is a database of unknown engine and deployment.
        let mut item = ledger_item(&db, retention);
        assert_eq!((get_s(&item, "engine"), get_s(&item, "deployment")), (Some("postgres"), Some("Multi-AZ")));
        item.remove("engine");
        item.remove("deployment");
        assert_eq!(ledger_entry(&item), Ok(Entry { engine: None, deployment: None, ..db.clone() }));
        item.insert("deployment".into(), s("Multi-AZ (readable standbys)"));
        assert_eq!(ledger_entry(&item), Err("unknown deployment `Multi-AZ (readable standbys)`".into()));
        assert_eq!(ledger_expires_at(at("2026-06-01T00:00:00Z"), Duration::MAX), DateTime::<Utc>::MAX_UTC.timestamp());
    }
}
