//! One resource as its kind's listing reported it, whatever its kind, and where it
//! stands ([`Phase`]).

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::Kind;

/// Where a resource stands, whatever its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Serving: an instance running, a database available, a group or service above 0.
    Running,
    Stopped,
    /// Between the two, or busy (backing up, modifying): not to be acted on now.
    Transitional,
    /// Going or gone (terminated, deleting): never acted on.
    Gone,
}

/// What only one kind knows about a resource: a value of the kind's own type, which only
/// its folder reads ([`Detail::get`]). Empty for a kind with nothing of its own.
#[derive(Clone, Default)]
pub struct Detail(Option<Arc<dyn KindDetail>>);

/// A kind's own facts about a resource.
pub trait KindDetail: Any + fmt::Debug + Send + Sync {
    fn as_any(&self) -> &dyn Any;
    fn same(&self, other: &dyn KindDetail) -> bool;
}

impl<T: Any + fmt::Debug + PartialEq + Send + Sync> KindDetail for T {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn same(&self, other: &dyn KindDetail) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }
}

impl Detail {
    pub fn new<T: KindDetail>(value: T) -> Detail {
        Detail(Some(Arc::new(value)))
    }

    /// The kind's value, when it is a `T`.
    pub fn get<T: 'static>(&self) -> Option<&T> {
        self.0.as_deref()?.as_any().downcast_ref()
    }
}

impl PartialEq for Detail {
    fn eq(&self, other: &Detail) -> bool {
        match (self.0.as_deref(), other.0.as_deref()) {
            (Some(a), Some(b)) => a.same(b),
            (a, b) => a.is_none() && b.is_none(),
        }
    }
}

impl fmt::Debug for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_deref() {
            Some(d) => d.fmt(f),
            None => f.write_str("-"),
        }
    }
}

/// One resource as its kind's listing reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub kind: Kind,
    /// Instance id, DB identifier, group name or service ARN.
    pub id: String,
    pub region: String,
    /// The kind's own name for its state (`running`, `available`, `stopped`, or for a
    /// group or service `scaled` / `stopped`).
    pub state: String,
    pub tags: BTreeMap<String, String>,
    /// Why it is in its state, when the kind says (EC2's state reason).
    pub state_reason: Option<String>,
    /// The instance type or DB instance class (what the price depends on), when the
    /// kind has one.
    pub size: Option<String>,
    /// A database's engine (RDS's name: `postgres`, `aurora-mysql`...), when listed:
    /// what its price depends on besides its size.
    pub engine: Option<String>,
    /// A database's deployment, when listed (priced per deployment).
    pub deployment: Option<Deployment>,
    pub detail: Detail,
}
/// How a DB instance is deployed, in the Price List's words (`deploymentOption`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Deployment {
    #[serde(rename = "Single-AZ")]
    SingleAz,
    #[serde(rename = "Multi-AZ")]
    MultiAz,
}

impl Deployment {
    /// From DescribeDBInstances' (or DescribeDBClusters') `MultiAZ`.
    pub fn from_multi_az(multi_az: bool) -> Deployment {
        if multi_az { Deployment::MultiAz } else { Deployment::SingleAz }
    }

    /// The Price List's `deploymentOption`, also what the ledger stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Deployment::SingleAz => "Single-AZ",
            Deployment::MultiAz => "Multi-AZ",
        }
    }

    pub fn parse(name: &str) -> Option<Deployment> {
        [Deployment::SingleAz, Deployment::MultiAz].into_iter().find(|d| d.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct A(u8);

    #[derive(Debug, PartialEq)]
    struct B(u8);

    #[test]
    fn a_detail_is_read_only_as_its_own_type_and_compares_by_value() {
        let a = Detail::new(A(1));
        assert_eq!(a.get::<A>(), Some(&A(1)));
        assert_eq!(a.get::<B>(), None, "another kind's type reads nothing");
        assert_eq!(Detail::default().get::<A>(), None);
        assert_eq!(a, Detail::new(A(1)));
        assert_ne!(a, Detail::new(A(2)));
        assert_ne!(a, Detail::new(B(1)), "equal bytes, other type");
        assert_ne!(a, Detail::default());
        assert_eq!(Detail::default(), Detail::default());
        assert_eq!(format!("{a:?}"), "A(1)");
    }
}
