//! The Price List's on-demand hourly price of a product: the kind that asks for the
//! product names its filters, the Price List API is searched, savings reads the answer.

use crate::aws::AwsError;
use crate::aws::pricing::first_match;
use crate::model::ApiProduct;
use crate::savings::{Price, parse_on_demand};

/// The on-demand hourly price of `product`; `None` when the Price List has no such
/// product, or no kind asks for it (then nothing is called).
pub async fn on_demand(client: &aws_sdk_pricing::Client, product: &ApiProduct) -> Result<Option<Price>, AwsError> {
    match crate::kinds::price_filters(product) {
        Some(filters) => first_match(client, &product.service, &filters, parse_on_demand).await,
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::ErrorKind;
    use crate::aws::pricing::PRICING_REGION;
    use crate::kinds::ec2::price::ec2_filters;
    use crate::kinds::{ec2, rds};
    use crate::model::Deployment;
    use aws_sdk_pricing::Client;
    use aws_sdk_pricing::config::retry::RetryConfig;
    use aws_sdk_pricing::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_pricing::operation::get_products::GetProductsOutput;
    use aws_sdk_pricing::types::FilterType;
    use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock};
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    const EC2_T3_MICRO: &str = include_str!("../../tests/fixtures/pricing/ec2-t3.micro-eu-west-1.json");
    const RDS_DB_T3_MICRO: &str = include_str!("../../tests/fixtures/pricing/rds-db.t3.micro-mysql-eu-west-1.json");
    const RDS_DB_M5_LARGE_PG_MULTI_AZ: &str = include_str!("../../tests/fixtures/pricing/rds-db.m5.large-postgres-multi-az-eu-west-1.json");

    fn usd(text: &str) -> Option<Price> {
        Some(Price { per_hour: text.parse().unwrap(), currency: "USD".into() })
    }

    /// An EC2 Linux instance's price, as the report asks it.
    async fn ec2_linux_on_demand(client: &Client, region: &str, instance_type: &str) -> Result<Option<Price>, AwsError> {
        on_demand(client, &ec2::price::product(region, instance_type)).await
    }

    /// A DB instance's price, as the report asks it (an engine the Price List does not
    /// name is not asked).
    async fn rds_on_demand(
        client: &Client,
        region: &str,
        class: &str,
        engine: &str,
        deployment: Deployment,
    ) -> Result<Option<Price>, AwsError> {
        match rds::price::instance_product(region, Some(class), Some(engine), Some(deployment)) {
            Some(product) => on_demand(client, &product).await,
            None => Ok(None),
        }
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
    async fn an_answer_without_an_error_code_is_one_line_with_its_http_status() {
        // What a proxy or an outage answers: HTTP 500 and a page that is not AWS's JSON.
        let page = || {
            let body = format!("<html><body>{}</body></html>", "Internal Server Error ".repeat(200));
            let mut response = HttpResponse::new(StatusCode::try_from(500).unwrap(), SdkBody::from(body));
            response.headers_mut().insert("content-type", "text/html");
            response.headers_mut().insert("x-amzn-requestid", "req-500");
            response
        };
        let failed = mock!(Client::get_products).then_http_response(page);
        let err = ec2_linux_on_demand(&mocked(&[&failed]), "eu-west-1", "t3.micro").await.unwrap_err();
        let line = err.to_string();
        assert_eq!(line, "GetProducts in us-east-1: HTTP 500 without an AWS error code or message (request id req-500)");
        assert!(!line.contains('\n') && !line.contains("SdkBody"), "{line}");
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
