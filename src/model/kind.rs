//! The kinds of resource offhours starts and stops, by name. A kind's facts live in its
//! folder under `kinds/`, which declares its [`Kind`]; the kinds' registry lists them.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::Serialize;

/// What every layer may know of a kind without asking the registry: its name, its
/// place in outputs, and how its resources are named.
#[derive(Debug)]
pub struct KindInfo {
    /// The kind's row in the registry: the order outputs list kinds in.
    pub rank: u8,
    /// The name of the config, the logs and the JSON (`ec2`, `rds-cluster`).
    pub name: &'static str,
    /// What one resource of the kind is called in messages.
    pub noun: &'static str,
    /// A prefix every id of the kind has and no other kind's has (EC2's `i-`): such an
    /// id names its kind by itself (`offhours snooze` needs no `--kind`).
    pub id_prefix: Option<&'static str>,
    /// Whether the log also names the id `instance_id`, the field the first release
    /// logged instances under (kept for log queries written then).
    pub logs_instance_id: bool,
}

/// A kind of resource: a handle on its [`KindInfo`], compared by rank and name.
#[derive(Clone, Copy)]
pub struct Kind(&'static KindInfo);

impl Kind {
    pub const fn new(info: &'static KindInfo) -> Kind {
        Kind(info)
    }

    pub fn as_str(self) -> &'static str {
        self.0.name
    }

    pub fn rank(self) -> usize {
        self.0.rank as usize
    }

    pub fn noun(self) -> &'static str {
        self.0.noun
    }

    pub fn info(self) -> &'static KindInfo {
        self.0
    }
}

impl PartialEq for Kind {
    fn eq(&self, other: &Kind) -> bool {
        (self.0.rank, self.0.name) == (other.0.rank, other.0.name)
    }
}

impl Eq for Kind {}

impl PartialOrd for Kind {
    fn partial_cmp(&self, other: &Kind) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Kind {
    fn cmp(&self, other: &Kind) -> Ordering {
        (self.0.rank, self.0.name).cmp(&(other.0.rank, other.0.name))
    }
}

impl Hash for Kind {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.name.hash(state);
    }
}

impl fmt::Debug for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name)
    }
}
