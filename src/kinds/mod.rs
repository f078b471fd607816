//! Resource kinds as plug-ins: each kind is one folder (`ec2`, `rds` with its DB
//! instances and DB clusters, `asg`, `ecs`) holding its [`ResourceKind`] (its rules,
//! pure: what its states mean, what it never touches, what a stop records) and its
//! [`Adapter`] (`aws.rs`: its AWS calls over the shared plumbing in `aws/`).
//!
//! Layout: this file defines the two traits and the registry ([`KINDS`]), one row per
//! kind. The rest of offhours asks the registry ([`of`], [`all`], [`parse`]) and never
//! names a kind.

pub mod asg;
pub mod ec2;
pub mod ecs;
pub mod eks;
pub mod rds;
pub mod record;
pub mod redshift;
pub mod sagemaker;

use std::collections::BTreeMap;

use crate::aws::{Api, Pending};
use crate::model::{Action, ApiProduct, Asks, Deployment, Kind, MetricQuery, Mode, Part, Phase, Resource};

/// What the engine needs from a resource kind's adapter, in one region.
pub trait Adapter: Send + Sync {
    /// Resources per act call. A call refused because of one of them is split.
    fn batch_size(&self) -> usize;
    /// Every resource of the kind carrying all the `selector` tags.
    fn list<'a>(&'a self, api: &'a Api, selector: &'a BTreeMap<String, String>) -> Pending<'a, Vec<Resource>>;
    /// A fresh full view of these resources; gone ones are absent.
    fn describe<'a>(&'a self, api: &'a Api, ids: &'a [String]) -> Pending<'a, Vec<Resource>>;
    /// The state name and phase of each, with the lightest read the kind has.
    fn states<'a>(&'a self, api: &'a Api, ids: &'a [String]) -> Pending<'a, BTreeMap<String, (String, Phase)>> {
        Box::pin(
            async move { Ok(self.describe(api, ids).await?.into_iter().map(|r| (r.id.clone(), (r.state.clone(), r.phase()))).collect()) },
        )
    }
    /// Starts or stops the batch; the ids the service accepted. A dry run changes
    /// nothing (EC2 checks the permission with its DryRun flag; the others cannot).
    fn act<'a>(&'a self, api: &'a Api, action: Action, batch: &'a [Resource], mode: Mode, dry_run: bool) -> Pending<'a, Vec<String>>;
    /// Sets one tag on the resource (`Some(value)`) or removes it (`None`): the snooze.
    fn tag<'a>(&'a self, api: &'a Api, resource: &'a Resource, key: &'a str, value: Option<&'a str>) -> Pending<'a, ()>;
}

/// Which of the file's timeouts a kind's changes are awaited within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// `verify_timeout`: instances, groups and services change in seconds.
    Default,
    /// `db_verify_timeout`: databases take minutes to stop and start.
    Database,
}

/// Everything offhours knows of one kind of resource. Each kind implements it in its
/// folder, next to its adapter; every method is required, so a kind that does not say
/// what it does is a compile error.
pub trait ResourceKind: Send + Sync {
    /// What the kind is, as data.
    fn facts(&self) -> &Facts;
    /// The kind's name, rank and naming facts.
    fn kind(&self) -> Kind {
        self.facts().kind
    }
    fn phase(&self, r: &Resource) -> Phase;
    /// The kind's own reason to leave the resource alone for `action`, if any.
    fn skip(&self, r: &Resource, action: Action) -> Option<String>;
    /// Something the operator should know when the action goes ahead (by default
    /// nothing).
    fn note(&self, _r: &Resource, _action: Action) -> Option<String> {
        None
    }
    /// The resource's name: the `Name` tag, or what the kind's ids say.
    fn name<'a>(&self, r: &'a Resource) -> Option<&'a str> {
        name_tag(r)
    }
    /// How `action` is carried out on `r` given what the schedule `asks`, and what the
    /// operator should know of that choice (by default [`Mode::PLAIN`] and no word:
    /// kinds with one way only).
    fn mode(&self, _r: &Resource, _action: Action, _asks: Asks) -> (Mode, Option<String>) {
        (Mode::PLAIN, None)
    }
    /// Its AWS calls.
    fn adapter(&self) -> &'static dyn Adapter;
    /// How its resources are priced ([`NotPriced`] when the file cannot name them by
    /// size).
    fn pricing(&self) -> &'static dyn Pricing;
    /// The IAM statements a schedule of the kind needs.
    fn iam_statements(&self) -> Vec<serde_json::Value>;
    /// The CloudWatch metrics `offhours suggest` judges an hour of `r` idle by; none
    /// for a kind it cannot judge (its resources are left out, and said so).
    fn metrics(&self, r: &Resource) -> Vec<MetricQuery>;
    /// The CloudWatch dimensions that name `r` in its alarms (`mute_alarms`): by
    /// default those of its first metric; none for a kind without metrics.
    fn alarm_identity(&self, r: &Resource) -> Vec<(&'static str, String)> {
        self.metrics(r).into_iter().next().map(|q| q.dimensions).unwrap_or_default()
    }
}

/// What a kind is, as data: a struct literal in its folder, every field given.
#[derive(Debug)]
pub struct Facts {
    pub kind: Kind,
    /// The IAM prefix of its actions (`ec2`, `rds`...), which also names its bound on
    /// calls in flight per region.
    pub service: &'static str,
    /// The state a start leads to, in the kind's own words.
    pub started: &'static str,
    /// The state a stop leads to, in the kind's own words.
    pub stopped: &'static str,
    /// Which timeout its changes are awaited within.
    pub verify: Verify,
    /// What `offhours snooze` needs to find one of its resources by id and tag it.
    pub snooze_actions: &'static [&'static str],
    /// Its resources' ARN pattern: where snooze's tag writes are granted.
    pub snooze_resource: &'static str,
    /// The reads among `snooze_actions` that IAM checks against the resource (granted
    /// on `snooze_resource`); the others have no resource-level permission (`*`).
    pub snooze_reads_on_resource: &'static [&'static str],
}

impl Facts {
    /// The state name an action leads to, in the kind's own words.
    pub fn target_state(&self, action: Action) -> &'static str {
        match action {
            Action::Start => self.started,
            Action::Stop => self.stopped,
        }
    }
}

/// How a kind's resources are priced: the products the Price List is asked for (and
/// their filters), else the file's prices by size alone.
pub trait Pricing: Send + Sync {
    /// What the Price List is asked for a resource priced as a whole, from what its
    /// listing recorded; `None` when only the file can price it (or nothing can).
    fn product(&self, region: &str, size: Option<&str>, engine: Option<&str>, deployment: Option<Deployment>) -> Option<ApiProduct>;
    /// What a resource's hourly price is the sum of; `None` when nothing prices it.
    fn parts(&self, region: &str, size: Option<&str>, engine: Option<&str>, deployment: Option<Deployment>) -> Option<Vec<Part>>;
    /// The GetProducts filters of a product the kind asks for; `None` for any other.
    fn filters(&self, product: &ApiProduct) -> Option<Vec<(&'static str, String)>>;
    /// Whether `offhours report` may ask the Price List about its resources (the
    /// policy grants pricing:GetProducts for it).
    fn asks_price_list(&self) -> bool;
}

/// Kinds whose cost is their members' (a group's instances, a service's tasks), which
/// the file cannot name by size: counted in hours, not priced.
pub struct NotPriced;

impl Pricing for NotPriced {
    fn product(&self, _region: &str, _size: Option<&str>, _engine: Option<&str>, _deployment: Option<Deployment>) -> Option<ApiProduct> {
        None
    }

    fn parts(&self, _region: &str, _size: Option<&str>, _engine: Option<&str>, _deployment: Option<Deployment>) -> Option<Vec<Part>> {
        None
    }

    fn filters(&self, _product: &ApiProduct) -> Option<Vec<(&'static str, String)>> {
        None
    }

    fn asks_price_list(&self) -> bool {
        false
    }
}

/// The registry: every kind, one row each, in the order outputs list them (a kind's
/// rank is its row).
static KINDS: &[&dyn ResourceKind] = &[
    // Row 0 is what a file without `kinds` acts on.
    &ec2::Instances,
    &rds::DB_INSTANCES,
    &rds::DB_CLUSTERS,
    &asg::Groups,
    &ecs::Services,
    &redshift::Clusters,
    &eks::Nodegroups,
    &sagemaker::Notebooks,
];

/// Every kind, in registry order.
pub fn all() -> impl Iterator<Item = &'static dyn ResourceKind> {
    KINDS.iter().copied()
}

/// Every kind's id, in registry order.
pub fn ids() -> Vec<Kind> {
    all().map(|k| k.kind()).collect()
}

/// The kind of that id.
pub fn of(kind: Kind) -> &'static dyn ResourceKind {
    KINDS[kind.rank()]
}

/// What a file without `kinds` acts on: the first row, instances, as the first release
/// did (older files keep their meaning and their IAM policy).
pub fn default_kind() -> Kind {
    KINDS[0].kind()
}

/// The kind of that name (the config's, the logs', the ledger's).
pub fn parse(name: &str) -> Option<Kind> {
    all().map(|k| k.kind()).find(|k| k.as_str() == name)
}

/// The kinds' names, for error messages: `ec2, rds, ...`.
pub fn names() -> String {
    all().map(|k| k.kind().as_str()).collect::<Vec<_>>().join(", ")
}

/// The GetProducts filters of a product, from the kind that asks for it; `None` for a
/// product no kind asks for.
pub fn price_filters(product: &ApiProduct) -> Option<Vec<(&'static str, String)>> {
    all().find_map(|k| k.pricing().filters(product))
}

/// The `Name` tag, which every kind's resources may carry.
pub fn name_tag(r: &Resource) -> Option<&str> {
    r.tags.get("Name").map(String::as_str)
}

/// Each kind's rules, asked of a resource of any kind.
pub trait Rules {
    fn name(&self) -> Option<&str>;
    fn phase(&self) -> Phase;
    fn kind_skip(&self, action: Action) -> Option<String>;
    fn kind_note(&self, action: Action) -> Option<String>;
}

impl Rules for Resource {
    fn name(&self) -> Option<&str> {
        of(self.kind).name(self)
    }

    fn phase(&self) -> Phase {
        of(self.kind).phase(self)
    }

    fn kind_skip(&self, action: Action) -> Option<String> {
        of(self.kind).skip(self, action)
    }

    fn kind_note(&self, action: Action) -> Option<String> {
        of(self.kind).note(self, action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_s_rank_is_its_registry_row_and_names_are_unique() {
        for (row, k) in all().enumerate() {
            assert_eq!(k.kind().rank(), row, "{}", k.kind());
            assert_eq!(parse(k.kind().as_str()), Some(k.kind()));
        }
        let mut names: Vec<&str> = all().map(|k| k.kind().as_str()).collect();
        names.dedup();
        assert_eq!(names.len(), KINDS.len());
        assert_eq!(names, ["ec2", "rds", "rds-cluster", "asg", "ecs", "redshift", "eks-nodegroup", "sagemaker-notebook"]);
    }

    #[test]
    fn each_kind_s_target_states_and_verification() {
        // (kind, a start leads to, a stop leads to, verified within)
        let cases = [
            ("ec2", "running", "stopped", Verify::Default),
            ("rds", "available", "stopped", Verify::Database),
            ("rds-cluster", "available", "stopped", Verify::Database),
            ("asg", "scaled", "stopped", Verify::Default),
            ("ecs", "scaled", "stopped", Verify::Default),
            ("redshift", "available", "paused", Verify::Database),
            ("eks-nodegroup", "scaled", "stopped", Verify::Database),
            ("sagemaker-notebook", "InService", "Stopped", Verify::Database),
        ];
        for (name, started, stopped, verify) in cases {
            let facts = of(parse(name).unwrap()).facts();
            assert_eq!(
                (facts.target_state(Action::Start), facts.target_state(Action::Stop), facts.verify),
                (started, stopped, verify),
                "{name}"
            );
        }
        assert_eq!(cases.len(), KINDS.len(), "every kind is in the table");
    }

    #[test]
    fn an_id_prefix_names_one_kind_only() {
        let prefixes: Vec<&str> = all().filter_map(|k| k.kind().info().id_prefix).collect();
        for (i, p) in prefixes.iter().enumerate() {
            assert!(prefixes.iter().skip(i + 1).all(|q| !q.starts_with(p) && !p.starts_with(q)), "{prefixes:?}");
        }
    }
}
