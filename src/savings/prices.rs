//! Hourly prices by type or class: the file's `[savings.prices]` first, then the Price
//! List's (kept in the price cache), and how a Price List answer reads.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::*;
use crate::model::{ApiProduct, Deployment, Kind, Part};

/// Where a figure's prices came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PriceSource {
    /// `[savings.prices]` in the config file.
    File,
    /// The AWS Price List API (on-demand).
    Api,
    /// Some of the figure's resources from the file, others from the API or unpriced.
    Mixed,
    /// No price known: hours are counted, money is not.
    None,
}

impl PriceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceSource::File => "file",
            PriceSource::Api => "api",
            PriceSource::Mixed => "mixed",
            PriceSource::None => "none",
        }
    }

    /// The source of a figure made of parts priced from `sources`.
    pub(super) fn of(sources: &BTreeSet<PriceSource>) -> PriceSource {
        match sources.len() {
            0 => PriceSource::None,
            1 => *sources.first().expect("one element"),
            _ => PriceSource::Mixed,
        }
    }
}

/// What the Price List API would be asked for a resource of `kind` priced as a whole
/// (the kind says: [`crate::kinds::ResourceKind::price_product`]).
pub fn api_product(
    kind: Kind,
    region: &str,
    size: Option<&str>,
    engine: Option<&str>,
    deployment: Option<Deployment>,
) -> Option<ApiProduct> {
    crate::kinds::of(kind).pricing().product(region, size, engine, deployment)
}

/// What the hourly price of a resource of `kind` in `region` is the sum of (the kind
/// says: [`crate::kinds::ResourceKind::price_parts`]); `None` when nothing can price it.
pub fn parts(kind: Kind, region: &str, size: Option<&str>, engine: Option<&str>, deployment: Option<Deployment>) -> Option<Vec<Part>> {
    crate::kinds::of(kind).pricing().parts(region, size, engine, deployment)
}

/// Hourly prices by instance type or DB class: the file's (`[savings.prices]`, for one
/// region or all) before the API's (per product). All in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prices {
    pub(super) currency: String,
    /// (region or every region, size) -> price.
    file: BTreeMap<(Option<String>, String), Rate>,
    /// The Price List's answers.
    api: BTreeMap<ApiProduct, Rate>,
}

impl Prices {
    /// No prices yet; every price given must be in `currency`.
    pub fn new(currency: impl Into<String>) -> Prices {
        Prices { currency: currency.into(), file: BTreeMap::new(), api: BTreeMap::new() }
    }

    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// The prices of `[savings]` (currency, `prices`) and the cached Price List's
    /// prices (however old): what the daemon's figures use, without asking the
    /// API. An entry the config check would have refused is left out.
    pub fn of(savings: &crate::config::Savings, cache: &PriceCache) -> Prices {
        let mut prices = Prices::new(savings.currency.clone());
        for (key, price) in &savings.prices {
            if let Ok(rate) = Rate::from_f64(*price) {
                let _ = prices.set_file(key, rate);
            }
        }
        cache.apply(&mut prices);
        prices
    }

    /// A `[savings.prices]` entry: `key` is a type (`t3.micro`, `db.t3.micro`) or
    /// `REGION:TYPE` (`eu-west-1:t3.micro`), which wins over the type alone.
    pub fn set_file(&mut self, key: &str, per_hour: Rate) -> Result<(), String> {
        let (region, size) = match key.split_once(':') {
            Some((region, size)) => (Some(region), size),
            None => (None, key),
        };
        if size.is_empty() || size.contains(':') || region.is_some_and(str::is_empty) {
            return Err(format!("{key:?} is neither an instance type or DB class nor REGION:TYPE"));
        }
        self.file.insert((region.map(str::to_string), size.to_string()), per_hour);
        Ok(())
    }

    /// A price the Price List API gave for `product`. One in another currency than
    /// this set's cannot be used: `false`, and it is not kept.
    pub fn set_api(&mut self, product: &ApiProduct, price: &Price) -> bool {
        if price.currency != self.currency {
            return false;
        }
        self.api.insert(product.clone(), price.per_hour);
        true
    }

    /// Whether the file prices `size` in `region` (then the API need not be asked).
    pub fn in_file(&self, region: &str, size: &str) -> bool {
        self.lookup(region, Some(size), None).is_some_and(|(_, source)| source == PriceSource::File)
    }

    /// The hourly price of a resource of `size` in `region`: the file's for the region,
    /// the file's for every region, then the API's for its `product`.
    pub fn lookup(&self, region: &str, size: Option<&str>, product: Option<&ApiProduct>) -> Option<(Rate, PriceSource)> {
        if let Some(size) = size {
            let file = |region: Option<&str>| self.file.get(&(region.map(str::to_string), size.to_string()));
            if let Some(rate) = file(Some(region)).or_else(|| file(None)) {
                return Some((*rate, PriceSource::File));
            }
        }
        self.api.get(product?).map(|rate| (*rate, PriceSource::Api))
    }

    /// The hourly price of a resource in `region` made of `parts` ([`parts`]): each
    /// part's price ([`Prices::lookup`]) times its count, summed; `None` when a part has
    /// none (a cluster is priced whole or not at all). Its source is the parts' (`mixed`
    /// when they differ).
    pub fn price(&self, region: &str, parts: &[Part]) -> Option<(Rate, PriceSource)> {
        if parts.is_empty() {
            return None;
        }
        let (mut units, mut sources) = (0i64, BTreeSet::new());
        for part in parts {
            let (rate, source) = self.lookup(region, Some(&part.size), part.product.as_ref())?;
            units = units.checked_add(rate.units().checked_mul(i64::from(part.count))?)?;
            sources.insert(source);
        }
        Some((Rate(units), PriceSource::of(&sources)))
    }

    /// The Price List products of those `parts` the file does not price in `region`.
    pub fn api_products(&self, region: &str, parts: &[Part]) -> Vec<ApiProduct> {
        parts.iter().filter(|p| !self.in_file(region, &p.size)).filter_map(|p| p.product.clone()).collect()
    }
}

/// The products of the intervals (of each cluster's members) the file does not price:
/// what to ask the Price List API for.
pub fn needed(intervals: &[Interval], prices: &Prices) -> BTreeSet<ApiProduct> {
    intervals.iter().filter_map(|i| Some(prices.api_products(&i.resource.region, &i.parts()?))).flatten().collect()
}

/// Prices read from the Price List API, each with when it was read: the state
/// directory's `prices.json`, so that a report does not ask again for every type, and
/// the daemon's figures can use what a report read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PriceCache {
    /// One per (service, region, size), in that order.
    pub prices: Vec<CachedPrice>,
}

/// One Price List answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedPrice {
    /// The Price List's service code: `AmazonEC2`, `AmazonRDS`.
    pub service: String,
    pub region: String,
    /// The instance type or DB class.
    pub size: String,
    /// A database's engine (RDS's name); absent for instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// A database's deployment as priced; absent for instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Deployment>,
    /// The hourly on-demand price as the Price List gives it (`0.0104000000`); `None`:
    /// it has no such product.
    pub per_hour: Option<String>,
    pub currency: Option<String>,
    pub read_at: DateTime<Utc>,
}

impl CachedPrice {
    /// Read less than `refresh` before `now`.
    pub fn fresh(&self, now: DateTime<Utc>, refresh: std::time::Duration) -> bool {
        TimeDelta::from_std(refresh).is_ok_and(|refresh| now - self.read_at < refresh)
    }

    /// The price, when there is one and it reads.
    pub fn price(&self) -> Option<Price> {
        Some(Price { per_hour: self.per_hour.as_deref()?.parse().ok()?, currency: self.currency.clone()? })
    }

    /// The product it is the price of; `None` for an entry this offhours does not know
    /// (no kind asks the Price List for such a product).
    pub fn product(&self) -> Option<ApiProduct> {
        let product = ApiProduct {
            service: self.service.clone(),
            region: self.region.clone(),
            size: self.size.clone(),
            engine: self.engine.clone(),
            deployment: self.deployment,
        };
        crate::kinds::price_filters(&product).map(|_| product)
    }
}

impl PriceCache {
    /// From `prices.json`'s text.
    pub fn from_json(text: &str) -> Result<PriceCache, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("serializable")
    }

    pub fn get(&self, product: &ApiProduct) -> Option<&CachedPrice> {
        self.prices.iter().find(|p| p.product().as_ref() == Some(product))
    }

    /// Records an answer read at `at` (`None`: no such product), replacing an older one.
    pub fn put(&mut self, product: &ApiProduct, price: Option<&Price>, at: DateTime<Utc>) {
        self.prices.retain(|p| p.product().as_ref() != Some(product));
        let (engine, deployment) = (product.engine.clone(), product.deployment);
        self.prices.push(CachedPrice {
            service: product.service().into(),
            region: product.region().into(),
            size: product.size().into(),
            engine,
            deployment,
            per_hour: price.map(|p| p.per_hour.to_string()),
            currency: price.map(|p| p.currency.clone()),
            read_at: at,
        });
        self.prices.sort_by(|a, b| {
            (&a.service, &a.region, &a.size, &a.engine, a.deployment).cmp(&(&b.service, &b.region, &b.size, &b.engine, b.deployment))
        });
    }

    /// Which of `products` to ask the Price List API for: those without an answer read
    /// less than `refresh` before `now` (an answer "no such product" counts as one), in
    /// the order given.
    pub fn to_ask(&self, products: &[ApiProduct], now: DateTime<Utc>, refresh: std::time::Duration) -> Vec<ApiProduct> {
        products.iter().filter(|p| !self.get(p).is_some_and(|c| c.fresh(now, refresh))).cloned().collect()
    }

    /// Hands every cached price, however old, to `prices` as the API's (prices in
    /// another currency, and entries of products this offhours does not know, are not
    /// kept there).
    pub fn apply(&self, prices: &mut Prices) {
        for p in &self.prices {
            if let (Some(product), Some(price)) = (p.product(), p.price()) {
                prices.set_api(&product, &price);
            }
        }
    }
}

/// The on-demand hourly price in one GetProducts item (a JSON document): the
/// `pricePerUnit` of the `Hrs` dimensions under `terms.OnDemand`, in USD (or in the
/// one currency given, where the Price List is not in USD). `None` when the item has
/// no on-demand hourly price; an error when it is not such a document, a price is not
/// a decimal, or its on-demand hourly prices differ.
pub fn parse_on_demand(price_list_item: &str) -> Result<Option<Price>, String> {
    let item: Value = serde_json::from_str(price_list_item).map_err(|e| format!("not JSON: {e}"))?;
    if !item.is_object() {
        return Err("not a JSON object".to_string());
    }
    let Some(on_demand) = item.pointer("/terms/OnDemand") else {
        return Ok(None);
    };
    let terms = on_demand.as_object().ok_or("terms.OnDemand is not an object")?;
    let mut found: Option<Price> = None;
    for (term_code, term) in terms {
        let Some(dimensions) = term.get("priceDimensions") else { continue };
        let dimensions = dimensions.as_object().ok_or_else(|| format!("{term_code}: priceDimensions is not an object"))?;
        for (rate_code, dimension) in dimensions {
            if dimension.get("unit").and_then(Value::as_str) != Some("Hrs") {
                continue;
            }
            let per_unit =
                dimension.get("pricePerUnit").and_then(Value::as_object).ok_or_else(|| format!("{rate_code}: no pricePerUnit"))?;
            let (currency, text) = match per_unit.get("USD") {
                Some(usd) => ("USD", usd),
                None if per_unit.len() == 1 => per_unit.iter().next().map(|(c, t)| (c.as_str(), t)).expect("one entry"),
                None => return Err(format!("{rate_code}: no USD price among {:?}", per_unit.keys().collect::<Vec<_>>())),
            };
            let text = text.as_str().ok_or_else(|| format!("{rate_code}: the {currency} price is not a string"))?;
            let per_hour: Rate = text.parse().map_err(|e| format!("{rate_code}: {e}"))?;
            let price = Price { per_hour, currency: currency.to_string() };
            match &found {
                Some(earlier) if *earlier != price => {
                    return Err(format!(
                        "several on-demand hourly prices: {} {} and {} {}",
                        earlier.per_hour, earlier.currency, price.per_hour, price.currency
                    ));
                }
                _ => found = Some(price),
            }
        }
    }
    Ok(found)
}
