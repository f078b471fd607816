//! The savings report's reads: the ledger's changes over a window (the SQLite file or
//! the shared table), the Price List's prices of what the file does not price (through
//! the price cache), and the resources each schedule governs now (the projection's).
//! `offhours report` renders what these return; the arithmetic is `savings`'.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::aws::Aws;
use crate::config::{Config, StateSettings};
use crate::jobs::listing::{self, Read};
use crate::model::ApiProduct;
use crate::savings::{Change, Governed, PriceCache, Prices, governed, off_seconds_per_week};
use crate::store::price_cache::{CACHE_FILE, read_cache, write_cache};
use crate::store::shared_ledger::TableLedger;
use crate::store::table::StateTable;
use crate::store::{LEDGER_FILE, Ledger};

/// The ledger's changes that matter to `[since, until)` (the last one before it says
/// what was already stopped at its start), and where they were read: the shared
/// table's name, or `None` for the state directory's file. No file yet is a warning
/// and no changes.
pub async fn ledger_changes(
    config: &Config,
    aws: &Aws,
    state_dir: &std::path::Path,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    warn: &mut dyn FnMut(String),
) -> Result<(Vec<Change>, Option<String>), String> {
    let mut changes = Vec::new();
    match &config.state {
        StateSettings::DynamoDb(s) => {
            let table = StateTable::new(aws.dynamodb_in(&s.region), &s.table, &s.region);
            let ledger = TableLedger::new(table, config.savings.retention);
            let (before, within) = (ledger.last_before(since).await, ledger.between(since, until).await);
            let (before, within) = (before.map_err(|e| e.to_string())?, within.map_err(|e| e.to_string())?);
            changes.extend(before.iter().chain(within.iter()).filter_map(|e| e.change()));
            Ok((changes, Some(ledger.describe())))
        }
        StateSettings::File => {
            let path = state_dir.join(LEDGER_FILE);
            if path.exists() {
                let ledger = Ledger::open(&path).map_err(|e| e.to_string())?;
                let before = ledger.last_before(since).map_err(|e| e.to_string())?;
                let within = ledger.between(since, until).map_err(|e| e.to_string())?;
                changes.extend(before.iter().chain(within.iter()).filter_map(|e| e.change()));
            } else {
                warn(format!("no ledger yet at {} (the daemon writes it at its first start or stop)", path.display()));
            }
            // The file's place is the state directory, as before: not repeated.
            Ok((changes, None))
        }
    }
}

/// The Price List's prices of `missing` products into `prices`: from the
/// state directory's cache when read less than `refresh` ago, else asked again (and
/// cached); an older price when asking fails, said so. The cache is written back only
/// when the state directory exists.
pub async fn api_prices(
    aws: &Aws,
    state_dir: &std::path::Path,
    missing: &[ApiProduct],
    refresh: std::time::Duration,
    now: DateTime<Utc>,
    prices: &mut Prices,
    warn: &mut dyn FnMut(String),
) {
    let path = state_dir.join(CACHE_FILE);
    let mut cache = read_cache(&path).unwrap_or_else(|e| {
        warn(format!("{e}; asking the Price List API again"));
        PriceCache::default()
    });
    let before = cache.clone();
    let client = crate::aws::pricing::client(aws);
    for product in cache.to_ask(missing, now, refresh) {
        let answer = crate::jobs::prices::on_demand(&client, &product).await;
        match answer {
            Ok(answer) => cache.put(&product, answer.as_ref(), now),
            Err(e) => match cache.get(&product).filter(|c| c.price().is_some()) {
                Some(old) => warn(format!(
                    "cannot read the price of {product}: {e}; using the one read at {}",
                    old.read_at.to_rfc3339_opts(SecondsFormat::Secs, true)
                )),
                None => warn(format!("cannot read the price of {product}: {e}; its hours are counted, not priced")),
            },
        }
        if cache.get(&product).is_some_and(|c| c.per_hour.is_none()) {
            warn(format!("no on-demand price for {product}; its hours are counted, not priced"));
        }
    }
    cache.apply(prices);
    if cache != before
        && state_dir.is_dir()
        && let Err(e) = write_cache(&path, &cache)
    {
        warn(format!("{e}; the prices read are not kept"));
    }
}

/// Each schedule's off seconds in the week from `now` and the resources it governs
/// now, listed in every account and region it applies to (every listing at once; the
/// regions' bounds on calls in flight pace them). Any listing that fails fails it all:
/// a projection missing some resources would read as a smaller one.
pub async fn governed_now(config: &Config, aws: &Aws, now: DateTime<Utc>) -> Result<Vec<(String, Option<i64>, Vec<Governed>)>, String> {
    let targets = crate::jobs::targets::targets(aws, config).await.map_err(|e| e.to_string())?;
    let calls = Arc::new(crate::aws::CallCounter::default());
    let calls = &calls;
    let mut reads = Vec::new();
    for (index, schedule) in config.schedules.iter().enumerate() {
        for t in targets.iter().filter(|t| crate::jobs::targets::applies(schedule, &t.account)) {
            let regions = t.regions.as_ref().map_err(|e| format!("account {}: {e}", t.account.id))?;
            reads.push(async move {
                let selector = schedule.selector(&config.tag_key);
                let listings = listing::read(&t.aws, &schedule.kinds, regions, Read::Tagged(&selector), calls).await;
                let found = listing::whole(listings).map_err(|f| {
                    format!(
                        "schedule {}: cannot list {} in account {} region {}: {}",
                        schedule.name,
                        f.kind.noun(),
                        t.account.id,
                        f.region,
                        f.error
                    )
                })?;
                Ok::<_, String>((index, found))
            });
        }
    }
    let mut by_schedule: Vec<Vec<crate::model::Resource>> = vec![Vec::new(); config.schedules.len()];
    for read in futures_util::future::join_all(reads).await {
        let (index, found) = read?;
        by_schedule[index].extend(found);
    }
    Ok(config
        .schedules
        .iter()
        .zip(by_schedule)
        .map(|(s, found)| (s.name.clone(), off_seconds_per_week(s, now), governed(s, &config.skip_tag, now, &found)))
        .collect())
}
