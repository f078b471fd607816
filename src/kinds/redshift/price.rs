//! How the Price List prices a cluster: its nodes, each an on-demand node of its type
//! (product family "Compute Instance" of AmazonRedshift). The size recorded is the
//! node type with the number of nodes after `*` when above 1: `ra3.xlplus*2`.

use crate::kinds::Pricing;
use crate::model::{ApiProduct, Deployment, Part};

/// The Price List's service code for Redshift.
pub const SERVICE_CODE: &str = "AmazonRedshift";

/// A cluster's size as recorded: `NODE_TYPE` or `NODE_TYPE*NODES`.
pub fn size(node_type: &str, nodes: i32) -> String {
    if nodes > 1 { format!("{node_type}*{nodes}") } else { node_type.to_string() }
}

/// The node type and count of a size [`size`] wrote; `None` when it does not read.
pub fn nodes(size: &str) -> Option<(&str, u32)> {
    let (node_type, count) = match size.split_once('*') {
        Some((node_type, count)) => (node_type, count.parse().ok().filter(|n| *n > 0)?),
        None => (size, 1),
    };
    (!node_type.is_empty()).then_some((node_type, count))
}

/// The product of one node of `node_type` in `region`.
pub fn product(region: &str, node_type: &str) -> ApiProduct {
    ApiProduct {
        service: SERVICE_CODE.to_string(),
        region: region.to_string(),
        size: node_type.to_string(),
        engine: None,
        deployment: None,
    }
}

/// Clusters, priced as their nodes.
pub struct Nodes;

impl Pricing for Nodes {
    fn product(&self, _region: &str, _size: Option<&str>, _engine: Option<&str>, _deployment: Option<Deployment>) -> Option<ApiProduct> {
        None
    }

    fn parts(&self, region: &str, size: Option<&str>, _engine: Option<&str>, _deployment: Option<Deployment>) -> Option<Vec<Part>> {
        let (node_type, count) = nodes(size?)?;
        Some(vec![Part { size: node_type.to_string(), count, product: Some(product(region, node_type)) }])
    }

    fn filters(&self, product: &ApiProduct) -> Option<Vec<(&'static str, String)>> {
        (product.service == SERVICE_CODE).then(|| {
            vec![
                ("productFamily", "Compute Instance".to_string()),
                ("instanceType", product.size.clone()),
                ("regionCode", product.region.clone()),
            ]
        })
    }

    fn asks_price_list(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_is_priced_as_its_nodes() {
        assert_eq!(size("ra3.xlplus", 2), "ra3.xlplus*2");
        assert_eq!(size("dc2.large", 1), "dc2.large");
        // (size, reads as)
        let cases = [
            ("ra3.xlplus*2", Some(("ra3.xlplus", 2))),
            ("dc2.large", Some(("dc2.large", 1))),
            ("dc2.large*0", None),
            ("dc2.large*x", None),
            ("*2", None),
        ];
        for (size, want) in cases {
            assert_eq!(nodes(size), want, "{size}");
        }
        let parts = Nodes.parts("eu-west-1", Some("ra3.xlplus*2"), None, None).unwrap();
        assert_eq!(parts, [Part { size: "ra3.xlplus".into(), count: 2, product: Some(product("eu-west-1", "ra3.xlplus")) }]);
        assert_eq!(
            Nodes.filters(&product("eu-west-1", "ra3.xlplus")).unwrap(),
            [
                ("productFamily", "Compute Instance".to_string()),
                ("instanceType", "ra3.xlplus".to_string()),
                ("regionCode", "eu-west-1".to_string())
            ]
        );
        assert_eq!(Nodes.filters(&ApiProduct { service: "AmazonEC2".into(), ..product("eu-west-1", "t3.micro") }), None);
    }
}
