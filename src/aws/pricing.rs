//! The AWS Price List Query API (pricing:GetProducts): the client and the paginated
//! search for the first product that answers. Which products are asked and how their
//! answers read are the kinds' and the savings' to say.
//!
//! The API is served from us-east-1 (and ap-south-1) whatever region is priced; the
//! region priced is a filter (`regionCode`). Each answer item is a JSON document (a
//! string) holding one product and its terms.

use aws_sdk_pricing::Client;
use aws_sdk_pricing::config::Region;
use aws_sdk_pricing::types::{Filter, FilterType};

use super::{Aws, AwsError, ErrorKind, observe};

/// Where the Price List Query API is asked (the other endpoint is ap-south-1).
pub const PRICING_REGION: &str = "us-east-1";

/// A Pricing client on these credentials, in [`PRICING_REGION`].
pub fn client(aws: &Aws) -> Client {
    let conf =
        aws_sdk_pricing::config::Builder::from(&aws.base).interceptor(observe::Observe).region(Region::from_static(PRICING_REGION)).build();
    Client::from_conf(conf)
}

/// The first answer `read` finds among the products matching every filter (each a
/// JSON document), all pages read until one is found. An item that cannot be read is
/// skipped; if no other item has an answer, its error is the answer.
pub async fn first_match<T>(
    client: &Client,
    service_code: &str,
    filters: &[(&'static str, String)],
    read: fn(&str) -> Result<Option<T>, String>,
) -> Result<Option<T>, AwsError> {
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
        match read(&item) {
            Ok(Some(found)) => return Ok(Some(found)),
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
