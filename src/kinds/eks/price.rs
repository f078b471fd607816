//! How a node group is priced: as its instances, each a Linux on-demand EC2 instance of
//! the group's type (EKS bills managed node groups' instances at EC2 prices). The size
//! recorded is the type with the number of nodes after `*` when above 1:
//! `t3.large*2`. A group of several instance types or of Spot capacity has no size:
//! the Price List cannot say what it would have cost.

use crate::kinds::Pricing;
use crate::model::{ApiProduct, Deployment, Part};

/// A node group's size: its one instance type and its node count (the desired count,
/// or, while scaled to 0, the recorded one); `None` when it cannot be priced so.
pub fn size(instance_types: &[&str], on_demand: bool, nodes: i32) -> Option<String> {
    match (instance_types, on_demand, nodes) {
        ([one], true, 1) => Some(one.to_string()),
        ([one], true, n) if n > 1 => Some(format!("{one}*{n}")),
        _ => None,
    }
}

/// The instance type and count of a size [`size`] wrote.
fn nodes(size: &str) -> Option<(&str, u32)> {
    let (instance_type, count) = match size.split_once('*') {
        Some((t, n)) => (t, n.parse().ok().filter(|n| *n > 0)?),
        None => (size, 1),
    };
    (!instance_type.is_empty()).then_some((instance_type, count))
}

/// Node groups, priced as their EC2 instances (the `ec2` kind's GetProducts filters
/// answer for those products).
pub struct Instances;

impl Pricing for Instances {
    fn product(&self, _region: &str, _size: Option<&str>, _engine: Option<&str>, _deployment: Option<Deployment>) -> Option<ApiProduct> {
        None
    }

    fn parts(&self, region: &str, size: Option<&str>, _engine: Option<&str>, _deployment: Option<Deployment>) -> Option<Vec<Part>> {
        let (instance_type, count) = nodes(size?)?;
        let product = crate::kinds::ec2::price::product(region, instance_type);
        Some(vec![Part { size: instance_type.to_string(), count, product: Some(product) }])
    }

    fn filters(&self, _product: &ApiProduct) -> Option<Vec<(&'static str, String)>> {
        None
    }

    fn asks_price_list(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_on_demand_type_is_priced_by_its_nodes() {
        // (instance types, on demand, nodes, size)
        let cases: [(&[&str], bool, i32, Option<&str>); 6] = [
            (&["t3.large"], true, 2, Some("t3.large*2")),
            (&["t3.large"], true, 1, Some("t3.large")),
            (&["t3.large"], true, 0, None),
            (&["t3.large"], false, 2, None),
            (&["t3.large", "t3a.large"], true, 2, None),
            (&[], true, 2, None),
        ];
        for (types, on_demand, n, want) in cases {
            assert_eq!(size(types, on_demand, n).as_deref(), want, "{types:?} {on_demand} {n}");
        }
        let parts = Instances.parts("eu-west-1", Some("t3.large*2"), None, None).unwrap();
        assert_eq!((parts[0].size.as_str(), parts[0].count), ("t3.large", 2));
        assert_eq!(parts[0].product, Some(crate::kinds::ec2::price::product("eu-west-1", "t3.large")));
        assert!(crate::kinds::price_filters(parts[0].product.as_ref().unwrap()).is_some(), "the ec2 kind's filters price it");
        assert_eq!(Instances.parts("eu-west-1", Some("t3.large*0"), None, None), None);
    }
}
