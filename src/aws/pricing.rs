//! The AWS Price List Query API (pricing:GetProducts): on-demand hourly prices of EC2
//! Linux instances and RDS DB instances, and the pure reading of its answers.
//!
//! The API is served from us-east-1 (and ap-south-1) whatever region is priced; the
//! region priced is a filter (`regionCode`). Each answer item is a JSON document (a
//! string) holding one product and its terms; [`parse_on_demand`] reads its on-demand
//! hourly price. Answers are cached in the state directory ([`CACHE_FILE`], read and
//! written whole by [`read_cache`] / [`write_cache`]).

use aws_sdk_pricing::Client;
use aws_sdk_pricing::config::Region;
use aws_sdk_pricing::types::{Filter, FilterType};
use serde_json::Value;

use super::{Aws, AwsError, ErrorKind, observe};
use crate::kinds::rds::{price_list_engine, priced_deployment};
use crate::savings::{Price, PriceCache, Rate};

/// The price cache's file name in the state directory.
pub const CACHE_FILE: &str = "prices.json";

/// Why the price cache cannot be read or written; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("price cache {}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("price cache {}: not a price cache: {what}", path.display())]
    Unreadable { path: std::path::PathBuf, what: String },
}

/// The cache in `path`; empty when there is no such file.
pub fn read_cache(path: &std::path::Path) -> Result<PriceCache, CacheError> {
    match std::fs::read_to_string(path) {
        Ok(text) => PriceCache::from_json(&text).map_err(|what| CacheError::Unreadable { path: path.into(), what }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(PriceCache::default()),
        Err(source) => Err(CacheError::Io { path: path.into(), source }),
    }
}

/// Writes the cache to `path` whole or not at all (a temporary file renamed over it).
pub fn write_cache(path: &std::path::Path, cache: &PriceCache) -> Result<(), CacheError> {
    let io = |source| CacheError::Io { path: path.into(), source };
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, cache.to_json()).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Where the Price List Query API is asked (the other endpoint is ap-south-1).
pub const PRICING_REGION: &str = "us-east-1";

/// A Pricing client on these credentials, in [`PRICING_REGION`].
pub fn client(aws: &Aws) -> Client {
    let conf =
        aws_sdk_pricing::config::Builder::from(&aws.base).interceptor(observe::Observe).region(Region::from_static(PRICING_REGION)).build();
    Client::from_conf(conf)
}

/// The GetProducts filters (field, value) of an EC2 Linux on-demand instance on
/// shared tenancy, without pre-installed software, as used (not a capacity
/// reservation's unused hours).
pub fn ec2_filters(region: &str, instance_type: &str) -> Vec<(&'static str, String)> {
    vec![
        ("instanceType", instance_type.to_string()),
        ("regionCode", region.to_string()),
        ("operatingSystem", "Linux".to_string()),
        ("tenancy", "Shared".to_string()),
        ("preInstalledSw", "NA".to_string()),
        ("capacitystatus", "Used".to_string()),
    ]
}

/// The hourly on-demand price of a Linux `instance_type` in `region`; `None` when the
/// Price List has no such product (an unknown type, or one the region lacks).
pub async fn ec2_linux_on_demand(client: &Client, region: &str, instance_type: &str) -> Result<Option<Price>, AwsError> {
    first_price(client, "AmazonEC2", &ec2_filters(region, instance_type)).await
}

pub use crate::model::Deployment;

/// The GetProducts filters (field, value) of an RDS DB instance of `class` running
/// `engine` (RDS's own engine name, as DescribeDBInstances gives it); `None` for an
/// engine the Price List is not asked about (see `kinds::rds::price_list_engine`).
/// Aurora is always asked as `Single-AZ` (see `kinds::rds::priced_deployment`).
pub fn rds_filters(region: &str, class: &str, engine: &str, deployment: Deployment) -> Option<Vec<(&'static str, String)>> {
    let names = price_list_engine(engine)?;
    let deployment = priced_deployment(engine, Some(deployment)).unwrap_or(deployment);
    let mut filters = vec![
        ("instanceType", class.to_string()),
        ("regionCode", region.to_string()),
        ("databaseEngine", names.database_engine.to_string()),
        ("deploymentOption", deployment.as_str().to_string()),
    ];
    filters.extend(names.edition.map(|e| ("databaseEdition", e.to_string())));
    filters.extend(names.licence.map(|l| ("licenseModel", l.to_string())));
    Some(filters)
}

/// The hourly on-demand price of an RDS DB instance of `class` running `engine` (RDS's
/// engine name: `mysql`, `postgres`, `aurora-postgresql`...) in `region`; `None` when
/// the Price List has no such product or the engine is not one [`rds_filters`] knows.
pub async fn rds_on_demand(
    client: &Client,
    region: &str,
    class: &str,
    engine: &str,
    deployment: Deployment,
) -> Result<Option<Price>, AwsError> {
    match rds_filters(region, class, engine, deployment) {
        Some(filters) => first_price(client, "AmazonRDS", &filters).await,
        None => Ok(None),
    }
}

/// The first on-demand hourly price among the products matching every filter, all
/// pages read until one is found. An item that cannot be read is skipped; if no other
/// item has a price, its error is the answer.
async fn first_price(client: &Client, service_code: &str, filters: &[(&'static str, String)]) -> Result<Option<Price>, AwsError> {
    let endpoint_region = client.config().region().map_or(PRICING_REGION.to_string(), |r| r.to_string());
    let filters = filters
        .iter()
        .map(|(field, value)| {
            Filter::builder().r#type(FilterType::TermMatch).field(*field).value(value).build().expect("type, field and value are set")
        })
        .collect();
    let mut items = client.get_products().service_code(service_code).set_filters(Some(filters)).into_paginator().items().send();
    let mut unreadable = None;
    while let Some(item) = items.next().await {
        let item = item.map_err(|e| AwsError::from_sdk("GetProducts", &endpoint_region, e))?;
        match parse_on_demand(&item) {
            Ok(Some(price)) => return Ok(Some(price)),
            Ok(None) => {}
            Err(message) => {
                unreadable.get_or_insert(message);
            }
        }
    }
    match unreadable {
        Some(message) => Err(AwsError {
            operation: "GetProducts",
            region: endpoint_region,
            kind: ErrorKind::Other,
            code: None,
            message: format!("unreadable price list item: {message}"),
            request_id: None,
        }),
        None => Ok(None),
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_pricing::config::retry::RetryConfig;
    use aws_sdk_pricing::config::{BehaviorVersion, Credentials};
    use aws_sdk_pricing::operation::get_products::GetProductsOutput;
    use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock};
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    /// A GetProducts item for t3.micro (Linux, shared, eu-west-1), reconstructed from the
    /// documented item shape: see tests/fixtures/pricing/README.md.
    const EC2_T3_MICRO: &str = include_str!("../../tests/fixtures/pricing/ec2-t3.micro-eu-west-1.json");
    /// db.t3.micro, MySQL, Single-AZ, eu-west-1; reconstructed likewise.
    const RDS_DB_T3_MICRO: &str = include_str!("../../tests/fixtures/pricing/rds-db.t3.micro-mysql-eu-west-1.json");
    /// db.m5.large, PostgreSQL, Multi-AZ, eu-west-1, with a reserved term; likewise.
    const RDS_DB_M5_LARGE_PG_MULTI_AZ: &str = include_str!("../../tests/fixtures/pricing/rds-db.m5.large-postgres-multi-az-eu-west-1.json");

    fn usd(text: &str) -> Option<Price> {
        Some(Price { per_hour: text.parse().unwrap(), currency: "USD".into() })
    }

    #[test]
    fn parse_on_demand_reads_the_recorded_answers() {
        assert_eq!(parse_on_demand(EC2_T3_MICRO), Ok(usd("0.0114")));
        assert_eq!(parse_on_demand(RDS_DB_T3_MICRO), Ok(usd("0.018")));
        assert_eq!(parse_on_demand(RDS_DB_M5_LARGE_PG_MULTI_AZ), Ok(usd("0.382")));
    }

    /// An item with these on-demand dimensions `(unit, {currency: price})`.
    fn item(dimensions: &[(&str, Value)]) -> String {
        let dims: serde_json::Map<String, Value> = dimensions
            .iter()
            .enumerate()
            .map(|(i, (unit, per_unit))| (format!("SKU.TERM.R{i}"), serde_json::json!({"unit": unit, "pricePerUnit": per_unit})))
            .collect();
        serde_json::json!({"product": {"sku": "SKU"}, "terms": {"OnDemand": {"SKU.TERM": {"priceDimensions": dims}}}}).to_string()
    }

    #[test]
    fn parse_on_demand_cases() {
        use serde_json::json;
        let check = |text: &str, expect: Result<Option<Price>, &str>| {
            assert_eq!(parse_on_demand(text), expect.map_err(str::to_string), "{text}");
        };
        check(&item(&[("Hrs", json!({"USD": "0.0104000000"}))]), Ok(usd("0.0104")));
        // The same price twice (two terms or dimensions) is one price.
        check(&item(&[("Hrs", json!({"USD": "0.0104"})), ("Hrs", json!({"USD": "0.0104000000"}))]), Ok(usd("0.0104")));
        // Other units are not hourly prices.
        check(&item(&[("Quantity", json!({"USD": "812"})), ("Hrs", json!({"USD": "0.5"}))]), Ok(usd("0.5")));
        check(&item(&[("GB-Mo", json!({"USD": "0.115"}))]), Ok(None));
        // USD first; else the only currency given.
        check(&item(&[("Hrs", json!({"CNY": "0.1", "USD": "0.02"}))]), Ok(usd("0.02")));
        check(&item(&[("Hrs", json!({"CNY": "0.1"}))]), Ok(Some(Price { per_hour: "0.1".parse().unwrap(), currency: "CNY".into() })));
        // No on-demand terms (a reserved-only item), or none at all.
        check(r#"{"product": {}, "terms": {"Reserved": {}}}"#, Ok(None));
        check(r#"{"product": {}}"#, Ok(None));
        check(r#"{"terms": {"OnDemand": {}}}"#, Ok(None));
        // Errors name what is wrong.
        check("not json", Err("not JSON: expected ident at line 1 column 2"));
        check("[1]", Err("not a JSON object"));
        check(r#"{"terms": {"OnDemand": []}}"#, Err("terms.OnDemand is not an object"));
        check(
            &item(&[("Hrs", json!({"USD": "0.0104"})), ("Hrs", json!({"USD": "0.02"}))]),
            Err("several on-demand hourly prices: 0.0104 USD and 0.02 USD"),
        );
        check(&item(&[("Hrs", json!({"USD": "free"}))]), Err(r#"SKU.TERM.R0: not a price: "free" (expected a decimal such as 0.0104)"#));
        check(&item(&[("Hrs", json!({"USD": 0.01}))]), Err("SKU.TERM.R0: the USD price is not a string"));
        check(&item(&[("Hrs", json!({"CNY": "1", "EUR": "1"}))]), Err(r#"SKU.TERM.R0: no USD price among ["CNY", "EUR"]"#));
        check(&item(&[("Hrs", json!("0.1"))]), Err("SKU.TERM.R0: no pricePerUnit"));
    }

    #[test]
    fn the_cache_file_round_trips_and_errors_name_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CACHE_FILE);
        assert_eq!(read_cache(&path).unwrap(), PriceCache::default(), "no file: empty");
        let mut cache = PriceCache::default();
        let t3 = crate::savings::ApiProduct::Ec2 { region: "eu-west-1".into(), instance_type: "t3.micro".into() };
        cache.put(&t3, usd("0.0114").as_ref(), "2026-11-01T00:00:00Z".parse().unwrap());
        let pg = crate::savings::ApiProduct::Rds {
            region: "eu-west-1".into(),
            class: "db.t3.micro".into(),
            engine: "postgres".into(),
            deployment: Deployment::MultiAz,
        };
        cache.put(&pg, usd("0.036").as_ref(), "2026-11-01T00:00:00Z".parse().unwrap());
        write_cache(&path, &cache).unwrap();
        assert_eq!(read_cache(&path).unwrap(), cache);
        assert!(!path.with_extension("json.tmp").exists());
        std::fs::write(&path, "[").unwrap();
        let e = read_cache(&path).unwrap_err().to_string();
        assert!(e.starts_with(&format!("price cache {}: not a price cache: ", path.display())), "{e}");
        let e = write_cache(&dir.path().join("missing/prices.json"), &cache).unwrap_err().to_string();
        assert!(e.contains("missing/prices.json: No such file"), "{e}");
    }

    #[test]
    fn rds_filters_map_engines_to_the_price_list_names() {
        let show = |engine: &str, deployment: Deployment| {
            rds_filters("eu-west-1", "db.t3.micro", engine, deployment)
                .map(|f| f.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "))
        };
        let base = "instanceType=db.t3.micro regionCode=eu-west-1";
        assert_eq!(show("mysql", Deployment::SingleAz), Some(format!("{base} databaseEngine=MySQL deploymentOption=Single-AZ")));
        assert_eq!(show("postgres", Deployment::MultiAz), Some(format!("{base} databaseEngine=PostgreSQL deploymentOption=Multi-AZ")));
        assert_eq!(
            show("aurora-postgresql", Deployment::MultiAz),
            Some(format!("{base} databaseEngine=Aurora PostgreSQL deploymentOption=Single-AZ"))
        );
        assert_eq!(
            show("sqlserver-se", Deployment::SingleAz),
            Some(format!(
                "{base} databaseEngine=SQL Server deploymentOption=Single-AZ databaseEdition=Standard licenseModel=License included"
            ))
        );
        assert_eq!(show("db2-se", Deployment::SingleAz), None);
        assert_eq!(Deployment::from_multi_az(true), Deployment::MultiAz);
    }

    /// A Pricing client answered by `rules` in order, without retries.
    fn mocked(rules: &[&Rule]) -> Client {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        let conf = aws_sdk_pricing::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::from_static(PRICING_REGION))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .retry_config(RetryConfig::disabled())
            .http_client(create_mock_http_client())
            .interceptor(interceptor)
            .build();
        Client::from_conf(conf)
    }

    /// The request asks AmazonEC2 for t3.micro in eu-west-1 with every filter.
    fn asks_for_t3_micro(input: &aws_sdk_pricing::operation::get_products::GetProductsInput) -> bool {
        let filters: Vec<(String, String)> = input.filters().iter().map(|f| (f.field().to_string(), f.value().to_string())).collect();
        let expected: Vec<(String, String)> = ec2_filters("eu-west-1", "t3.micro").into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        input.service_code() == Some("AmazonEC2")
            && filters == expected
            && input.filters().iter().all(|f| *f.r#type() == FilterType::TermMatch)
    }

    #[tokio::test]
    async fn ec2_linux_on_demand_reads_the_recorded_answer() {
        let rule = mock!(Client::get_products)
            .match_requests(asks_for_t3_micro)
            .then_output(|| GetProductsOutput::builder().format_version("aws_v1").price_list(EC2_T3_MICRO).build());
        let client = mocked(&[&rule]);
        assert_eq!(ec2_linux_on_demand(&client, "eu-west-1", "t3.micro").await.unwrap(), usd("0.0114"));
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn ec2_linux_on_demand_reads_every_page() {
        let rule = mock!(Client::get_products)
            .match_requests(asks_for_t3_micro)
            .sequence()
            .output(|| GetProductsOutput::builder().format_version("aws_v1").next_token("page-2").build())
            .output(|| GetProductsOutput::builder().format_version("aws_v1").price_list(EC2_T3_MICRO).build())
            .build();
        let client = mocked(&[&rule]);
        assert_eq!(ec2_linux_on_demand(&client, "eu-west-1", "t3.micro").await.unwrap(), usd("0.0114"));
        assert_eq!(rule.num_calls(), 2);
    }

    #[tokio::test]
    async fn ec2_linux_on_demand_without_products_is_none() {
        let rule = mock!(Client::get_products).then_output(|| GetProductsOutput::builder().format_version("aws_v1").build());
        let client = mocked(&[&rule]);
        assert_eq!(ec2_linux_on_demand(&client, "eu-west-1", "t9.nothing").await.unwrap(), None);
    }

    #[tokio::test]
    async fn ec2_linux_on_demand_reports_an_unreadable_answer() {
        let rule = mock!(Client::get_products).then_output(|| GetProductsOutput::builder().price_list("{}}").build());
        let err = ec2_linux_on_demand(&mocked(&[&rule]), "eu-west-1", "t3.micro").await.unwrap_err();
        assert_eq!((err.operation, err.region.as_str(), err.kind.clone()), ("GetProducts", "us-east-1", ErrorKind::Other));
        assert!(err.message.starts_with("unreadable price list item: not JSON"), "{err}");
    }

    /// A JSON 1.1 error answer, as the service sends it.
    fn error_answer(status: u16, error_type: &'static str, message: &'static str) -> impl Fn() -> HttpResponse + Send + Sync {
        move || {
            let body = format!(r#"{{"__type":"{error_type}","Message":"{message}"}}"#);
            let mut response = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
            response.headers_mut().insert("content-type", "application/x-amz-json-1.1");
            response.headers_mut().insert("x-amzn-requestid", "req-1234");
            response
        }
    }

    #[tokio::test]
    async fn ec2_linux_on_demand_keeps_the_error_kind() {
        let denied = mock!(Client::get_products).then_http_response(error_answer(
            400,
            "AccessDeniedException",
            "User is not authorized to perform: pricing:GetProducts",
        ));
        let err = ec2_linux_on_demand(&mocked(&[&denied]), "eu-west-1", "t3.micro").await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unauthorized, "{err}");
        assert_eq!((err.operation, err.region.as_str(), err.code.as_deref()), ("GetProducts", "us-east-1", Some("AccessDeniedException")));
        assert_eq!(err.request_id.as_deref(), Some("req-1234"));
        assert_eq!(err.message, "User is not authorized to perform: pricing:GetProducts");

        let throttled = mock!(Client::get_products).then_http_response(error_answer(400, "ThrottlingException", "Rate exceeded"));
        let err = rds_on_demand(&mocked(&[&throttled]), "eu-west-1", "db.t3.micro", "mysql", Deployment::SingleAz).await.unwrap_err();
        assert_eq!((err.kind.clone(), err.code.as_deref()), (ErrorKind::Throttled, Some("ThrottlingException")), "{err}");
    }

    #[tokio::test]
    async fn rds_on_demand_asks_for_the_class_engine_and_deployment() {
        let rule = mock!(Client::get_products)
            .match_requests(|input| {
                let fields: Vec<String> = input.filters().iter().map(|f| format!("{}={}", f.field(), f.value())).collect();
                input.service_code() == Some("AmazonRDS")
                    && fields == ["instanceType=db.t3.micro", "regionCode=eu-west-1", "databaseEngine=MySQL", "deploymentOption=Single-AZ"]
            })
            .then_output(|| GetProductsOutput::builder().format_version("aws_v1").price_list(RDS_DB_T3_MICRO).build());
        let client = mocked(&[&rule]);
        let price = rds_on_demand(&client, "eu-west-1", "db.t3.micro", "mysql", Deployment::SingleAz).await.unwrap();
        assert_eq!(price, usd("0.018"));
        assert_eq!(rule.num_calls(), 1);
        // An engine the Price List is not asked about: no call.
        assert_eq!(rds_on_demand(&client, "eu-west-1", "db.t3.micro", "db2-se", Deployment::SingleAz).await.unwrap(), None);
        assert_eq!(rule.num_calls(), 1);
    }

    /// The request's service code and filters as `field=value`, each a TERM_MATCH.
    fn asked(input: &aws_sdk_pricing::operation::get_products::GetProductsInput) -> (String, Vec<String>) {
        assert!(input.filters().iter().all(|f| *f.r#type() == FilterType::TermMatch));
        let fields = input.filters().iter().map(|f| format!("{}={}", f.field(), f.value())).collect();
        (input.service_code().unwrap_or_default().to_string(), fields)
    }

    #[tokio::test]
    async fn rds_on_demand_asks_for_a_multi_az_postgres_and_reads_its_on_demand_price() {
        let rule = mock!(Client::get_products)
            .match_requests(|input| {
                asked(input)
                    == (
                        "AmazonRDS".to_string(),
                        vec![
                            "instanceType=db.m5.large".to_string(),
                            "regionCode=eu-west-1".to_string(),
                            "databaseEngine=PostgreSQL".to_string(),
                            "deploymentOption=Multi-AZ".to_string(),
                        ],
                    )
            })
            .then_output(|| GetProductsOutput::builder().format_version("aws_v1").price_list(RDS_DB_M5_LARGE_PG_MULTI_AZ).build());
        let client = mocked(&[&rule]);
        let price = rds_on_demand(&client, "eu-west-1", "db.m5.large", "postgres", Deployment::MultiAz).await.unwrap();
        assert_eq!(price, usd("0.382"), "the on-demand hourly price, not the reserved term's");
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn rds_on_demand_names_the_edition_and_licence_of_licensed_engines() {
        let rule = mock!(Client::get_products)
            .match_requests(|input| {
                asked(input).1
                    == [
                        "instanceType=db.m5.xlarge",
                        "regionCode=us-east-1",
                        "databaseEngine=SQL Server",
                        "deploymentOption=Single-AZ",
                        "databaseEdition=Standard",
                        "licenseModel=License included",
                    ]
            })
            .then_output(|| GetProductsOutput::builder().format_version("aws_v1").build());
        let client = mocked(&[&rule]);
        // No such product in the answer: no price, and no error.
        assert_eq!(rds_on_demand(&client, "us-east-1", "db.m5.xlarge", "sqlserver-se", Deployment::SingleAz).await.unwrap(), None);
        assert_eq!(rule.num_calls(), 1);
    }
}
