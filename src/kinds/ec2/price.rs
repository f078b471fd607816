//! How the Price List prices an instance: as a Linux on-demand instance of its type.

use crate::kinds::Pricing;
use crate::model::{ApiProduct, Deployment, Part};

/// The Price List's service code for EC2 instances.
pub const SERVICE_CODE: &str = "AmazonEC2";

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

/// The product of an instance of `instance_type` in `region`.
pub fn product(region: &str, instance_type: &str) -> ApiProduct {
    ApiProduct {
        service: SERVICE_CODE.to_string(),
        region: region.to_string(),
        size: instance_type.to_string(),
        engine: None,
        deployment: None,
    }
}

/// An instance is priced as one instance of its type.
pub fn parts(region: &str, size: Option<&str>) -> Option<Vec<Part>> {
    let size = size?;
    Some(vec![Part::one(size, Some(product(region, size)))])
}

/// The GetProducts filters of an EC2 product; `None` for another service's.
pub fn filters_of(product: &ApiProduct) -> Option<Vec<(&'static str, String)>> {
    (product.service == SERVICE_CODE && product.engine.is_none() && product.deployment.is_none())
        .then(|| ec2_filters(&product.region, &product.size))
}

/// Instances, priced as Linux on-demand instances of their type.
pub struct Linux;

impl Pricing for Linux {
    fn product(&self, region: &str, size: Option<&str>, _engine: Option<&str>, _deployment: Option<Deployment>) -> Option<ApiProduct> {
        Some(product(region, size?))
    }

    fn parts(&self, region: &str, size: Option<&str>, _engine: Option<&str>, _deployment: Option<Deployment>) -> Option<Vec<Part>> {
        parts(region, size)
    }

    fn filters(&self, product: &ApiProduct) -> Option<Vec<(&'static str, String)>> {
        filters_of(product)
    }

    fn asks_price_list(&self) -> bool {
        true
    }
}
