//! What a resource's hourly price is asked of the Price List as: products, and the parts
//! a price is the sum of. Each kind says how its resources are priced.

use std::fmt;

use super::Deployment;

/// One product the Price List API is asked the on-demand price of: the key of its
/// answers here and in the price cache. A kind builds it from what its listing read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiProduct {
    /// The Price List's service code (`AmazonEC2`, `AmazonRDS`).
    pub service: String,
    pub region: String,
    /// The instance type or DB class.
    pub size: String,
    /// A database's engine (RDS's name: `postgres`), one the Price List names.
    pub engine: Option<String>,
    /// A database's deployment, as the Price List prices it.
    pub deployment: Option<Deployment>,
}

impl ApiProduct {
    /// The Price List's service code.
    pub fn service(&self) -> &str {
        &self.service
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// The instance type or DB class.
    pub fn size(&self) -> &str {
        &self.size
    }
}

impl fmt::Display for ApiProduct {
    /// `t3.micro in eu-west-1`, `db.t3.micro (postgres, Multi-AZ) in eu-west-1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.size)?;
        if let (Some(engine), Some(deployment)) = (&self.engine, self.deployment) {
            write!(f, " ({engine}, {})", deployment.as_str())?;
        }
        write!(f, " in {}", self.region)
    }
}

/// One part of a resource's hourly price: `count` instances of one instance type or DB
/// class, each at the file's price for `size`, else the Price List's for `product`
/// (`None`: the file's only).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Part {
    /// The instance type or DB class.
    pub size: String,
    pub count: u32,
    pub product: Option<ApiProduct>,
}

impl Part {
    /// One instance of `size`.
    pub fn one(size: impl Into<String>, product: Option<ApiProduct>) -> Part {
        Part { size: size.into(), count: 1, product }
    }
}
