//! How the Price List prices RDS: its names for RDS's engines and deployments, the
//! products a DB instance and a DB cluster's members are asked as, and a cluster's size
//! (its members' classes).

use crate::kinds::Pricing;
use crate::model::{ApiProduct, Deployment, Part};

/// The Price List's service code for RDS DB instances.
pub const SERVICE_CODE: &str = "AmazonRDS";

/// An RDS engine as the Price List names its products: `databaseEngine`, and for the
/// licensed engines `databaseEdition` and `licenseModel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceListEngine {
    pub database_engine: &'static str,
    pub edition: Option<&'static str>,
    pub licence: Option<&'static str>,
}

/// The Price List's names for RDS's `engine` (as DescribeDBInstances gives it); `None`
/// for an engine not priced from the Price List (Db2, custom engines, Neptune,
/// DocumentDB...): those are priced in `[savings.prices]`.
///
/// Licensed engines are priced as RDS sells them by default: Oracle Enterprise with
/// your own licence, Oracle Standard Two and SQL Server with the licence included.
pub fn price_list_engine(engine: &str) -> Option<PriceListEngine> {
    let (database_engine, edition, licence) = match engine {
        "mysql" => ("MySQL", None, None),
        "postgres" => ("PostgreSQL", None, None),
        "mariadb" => ("MariaDB", None, None),
        "aurora" | "aurora-mysql" => ("Aurora MySQL", None, None),
        "aurora-postgresql" => ("Aurora PostgreSQL", None, None),
        "oracle-ee" | "oracle-ee-cdb" => ("Oracle", Some("Enterprise"), Some("Bring your own license")),
        "oracle-se2" | "oracle-se2-cdb" => ("Oracle", Some("Standard Two"), Some("License included")),
        "sqlserver-ee" => ("SQL Server", Some("Enterprise"), Some("License included")),
        "sqlserver-se" => ("SQL Server", Some("Standard"), Some("License included")),
        "sqlserver-ex" => ("SQL Server", Some("Express"), Some("License included")),
        "sqlserver-web" => ("SQL Server", Some("Web"), Some("License included")),
        _ => return None,
    };
    Some(PriceListEngine { database_engine, edition, licence })
}

/// Whether `engine` is Aurora's (`aurora`, `aurora-mysql`, `aurora-postgresql`): each
/// instance of its clusters is billed on its own.
pub fn aurora(engine: &str) -> bool {
    engine.starts_with("aurora")
}

/// The deployment the Price List prices an instance of `engine` at: Aurora bills each
/// instance of a cluster on its own, always as `Single-AZ`, whatever the cluster's
/// spread; other engines as deployed (`None`: not known).
pub fn priced_deployment(engine: &str, deployment: Option<Deployment>) -> Option<Deployment> {
    if aurora(engine) { Some(Deployment::SingleAz) } else { deployment }
}

/// The class of an Aurora Serverless v2 instance: billed by the capacity units it
/// uses, not by the hour, so a cluster with one has no hourly price.
pub const SERVERLESS: &str = "db.serverless";

/// A DB cluster's size, as the ledger records it and `apply` shows it (`type`): its
/// member instances' classes, sorted, each once with its count after `*` when above 1,
/// joined with `+`: `db.r6g.large*2+db.r6g.xlarge`. `None` for a cluster without
/// members.
pub fn cluster_size<'a>(classes: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut counts: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
    for class in classes {
        *counts.entry(class).or_default() += 1;
    }
    let parts: Vec<String> = counts.into_iter().map(|(class, n)| if n == 1 { class.to_string() } else { format!("{class}*{n}") }).collect();
    (!parts.is_empty()).then(|| parts.join("+"))
}

/// The members of a cluster's size as [`cluster_size`] writes it: each class with its
/// count, in the order written. `None` when it does not read (an empty class, a count
/// that is not a number from 1 up).
pub fn cluster_members(size: &str) -> Option<Vec<(String, u32)>> {
    size.split('+')
        .map(|part| {
            let (class, count) = match part.split_once('*') {
                Some((class, count)) if count.bytes().all(|b| b.is_ascii_digit()) => (class, count.parse().ok().filter(|n| *n > 0)?),
                Some(_) => return None,
                None => (part, 1),
            };
            (!class.is_empty()).then(|| (class.to_string(), count))
        })
        .collect()
}

/// The GetProducts filters (field, value) of an RDS DB instance of `class` running
/// `engine` (RDS's own engine name, as DescribeDBInstances gives it); `None` for an
/// engine the Price List is not asked about ([`price_list_engine`]).
/// Aurora is always asked as `Single-AZ` ([`priced_deployment`]).
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

/// The product of a DB instance of `class` running `engine` in `region`, deployed as
/// the Price List prices it.
pub fn product(region: &str, class: &str, engine: &str, deployment: Deployment) -> ApiProduct {
    ApiProduct {
        service: SERVICE_CODE.to_string(),
        region: region.to_string(),
        size: class.to_string(),
        engine: Some(engine.to_string()),
        deployment: Some(deployment),
    }
}

/// What the Price List is asked for a DB instance: by class, engine and deployment when
/// all are known and the engine is one the Price List names (Aurora's deployment needs
/// not be known: always `Single-AZ`); `None` for the rest, which only the file prices.
pub fn instance_product(region: &str, size: Option<&str>, engine: Option<&str>, deployment: Option<Deployment>) -> Option<ApiProduct> {
    let (size, engine) = (size?, engine?);
    price_list_engine(engine)?;
    Some(product(region, size, engine, priced_deployment(engine, deployment)?))
}

/// What a DB cluster's hourly price is the sum of: its members as its size names them
/// ([`cluster_members`]), each a DB instance of the cluster's engine, asked of the
/// Price List only for Aurora (`Single-AZ` per instance, as it prices Aurora's
/// instances; other cluster engines are the file's). `None` when nothing can price it:
/// no size (a cluster recorded before clusters had one, or without members), a size
/// that does not read, or a Serverless v2 member (`db.serverless`, billed by the
/// capacity it uses).
pub fn cluster_parts(region: &str, size: Option<&str>, engine: Option<&str>) -> Option<Vec<Part>> {
    let members = cluster_members(size?)?;
    if members.iter().any(|(class, _)| class == SERVERLESS) {
        return None;
    }
    let engine = engine.filter(|e| aurora(e) && price_list_engine(e).is_some());
    let priced = |class: &str| engine.map(|engine| product(region, class, engine, Deployment::SingleAz));
    Some(members.into_iter().map(|(class, count)| Part { product: priced(&class), size: class, count }).collect())
}

/// The GetProducts filters of an RDS product; `None` for another service's, or one
/// without an engine and deployment.
pub fn filters_of(product: &ApiProduct) -> Option<Vec<(&'static str, String)>> {
    if product.service != SERVICE_CODE {
        return None;
    }
    rds_filters(&product.region, &product.size, product.engine.as_deref()?, product.deployment?)
}

/// DB instances, priced as a whole by class, engine and deployment.
pub struct Instances;

impl Pricing for Instances {
    fn product(&self, region: &str, size: Option<&str>, engine: Option<&str>, deployment: Option<Deployment>) -> Option<ApiProduct> {
        instance_product(region, size, engine, deployment)
    }

    fn parts(&self, region: &str, size: Option<&str>, engine: Option<&str>, deployment: Option<Deployment>) -> Option<Vec<Part>> {
        Some(vec![Part::one(size?, instance_product(region, size, engine, deployment))])
    }

    fn filters(&self, product: &ApiProduct) -> Option<Vec<(&'static str, String)>> {
        filters_of(product)
    }

    fn asks_price_list(&self) -> bool {
        true
    }
}

/// DB clusters, priced only by their members.
pub struct Clusters;

impl Pricing for Clusters {
    fn product(&self, _region: &str, _size: Option<&str>, _engine: Option<&str>, _deployment: Option<Deployment>) -> Option<ApiProduct> {
        None
    }

    fn parts(&self, region: &str, size: Option<&str>, engine: Option<&str>, _deployment: Option<Deployment>) -> Option<Vec<Part>> {
        cluster_parts(region, size, engine)
    }

    fn filters(&self, product: &ApiProduct) -> Option<Vec<(&'static str, String)>> {
        filters_of(product)
    }

    fn asks_price_list(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_map_to_the_price_list_s_names() {
        // (RDS engine, databaseEngine / databaseEdition / licenseModel, or "-": not priced)
        let cases = [
            ("postgres", "PostgreSQL"),
            ("mysql", "MySQL"),
            ("mariadb", "MariaDB"),
            ("aurora-postgresql", "Aurora PostgreSQL"),
            ("aurora-mysql", "Aurora MySQL"),
            ("aurora", "Aurora MySQL"),
            ("oracle-ee", "Oracle / Enterprise / Bring your own license"),
            ("oracle-ee-cdb", "Oracle / Enterprise / Bring your own license"),
            ("oracle-se2", "Oracle / Standard Two / License included"),
            ("oracle-se2-cdb", "Oracle / Standard Two / License included"),
            ("sqlserver-ee", "SQL Server / Enterprise / License included"),
            ("sqlserver-se", "SQL Server / Standard / License included"),
            ("sqlserver-ex", "SQL Server / Express / License included"),
            ("sqlserver-web", "SQL Server / Web / License included"),
            ("custom-oracle-ee", "-"),
            ("custom-sqlserver-se", "-"),
            ("db2-se", "-"),
            ("db2-ae", "-"),
            ("neptune", "-"),
            ("docdb", "-"),
            ("", "-"),
            ("Postgres", "-"),
        ];
        for (engine, expect) in cases {
            let got = price_list_engine(engine).map_or("-".to_string(), |p| {
                [Some(p.database_engine), p.edition, p.licence].into_iter().flatten().collect::<Vec<_>>().join(" / ")
            });
            assert_eq!(got, expect, "{engine}");
        }
    }

    #[test]
    fn a_cluster_s_size_is_its_members_classes_counted() {
        // (members' classes, size)
        let cases: [(&[&str], Option<&str>); 6] = [
            (&[], None),
            (&["db.r6g.large"], Some("db.r6g.large")),
            (&["db.r6g.large", "db.r6g.large"], Some("db.r6g.large*2")),
            (&["db.r6g.xlarge", "db.r6g.large", "db.r6g.large"], Some("db.r6g.large*2+db.r6g.xlarge")),
            (&["db.serverless", "db.r6g.large"], Some("db.r6g.large+db.serverless")),
            (&["db.t4g.medium"; 12], Some("db.t4g.medium*12")),
        ];
        for (classes, expect) in cases {
            let size = cluster_size(classes.iter().copied());
            assert_eq!(size.as_deref(), expect, "{classes:?}");
            // Each size reads back as its members.
            if let Some(size) = size {
                let members = cluster_members(&size).unwrap();
                assert_eq!(members.iter().map(|(_, n)| *n as usize).sum::<usize>(), classes.len(), "{size}");
                assert!(classes.iter().all(|c| members.iter().any(|(m, _)| m == c)), "{size}");
            }
        }
    }

    #[test]
    fn a_cluster_s_size_reads_back_or_not_at_all() {
        // (size, members as "class x count", or "-": does not read)
        let cases = [
            ("db.r6g.large", "db.r6g.large x1"),
            ("db.r6g.large*2", "db.r6g.large x2"),
            ("db.r6g.large*2+db.r6g.xlarge", "db.r6g.large x2, db.r6g.xlarge x1"),
            ("db.r6g.xlarge+db.r6g.large*3", "db.r6g.xlarge x1, db.r6g.large x3"),
            ("db.r6g.large+db.r6g.large", "db.r6g.large x1, db.r6g.large x1"),
            ("db.r6g.large*1", "db.r6g.large x1"),
            ("db.serverless", "db.serverless x1"),
            ("", "-"),
            ("+", "-"),
            ("db.r6g.large+", "-"),
            ("*2", "-"),
            ("db.r6g.large*0", "-"),
            ("db.r6g.large*-1", "-"),
            ("db.r6g.large*two", "-"),
            ("db.r6g.large*", "-"),
            ("db.r6g.large*2*2", "-"),
            ("db.r6g.large*+2", "-"),
        ];
        for (size, expect) in cases {
            let got = cluster_members(size)
                .map_or("-".to_string(), |members| members.iter().map(|(class, n)| format!("{class} x{n}")).collect::<Vec<_>>().join(", "));
            assert_eq!(got, expect, "{size:?}");
        }
    }

    #[test]
    fn deployments_as_priced() {
        use Deployment::*;
        let cases = [
            ("postgres", Some(MultiAz), Some(MultiAz)),
            ("postgres", Some(SingleAz), Some(SingleAz)),
            ("postgres", None, None),
            // Aurora: each instance on its own, whatever the cluster's spread.
            ("aurora-postgresql", Some(MultiAz), Some(SingleAz)),
            ("aurora-mysql", None, Some(SingleAz)),
        ];
        for (engine, deployment, expect) in cases {
            assert_eq!(priced_deployment(engine, deployment), expect, "{engine} {deployment:?}");
        }
        for d in [SingleAz, MultiAz] {
            assert_eq!(Deployment::parse(d.as_str()), Some(d));
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
        assert_eq!(Deployment::parse("Multi-AZ (readable standbys)"), None);
        assert_eq!((Deployment::from_multi_az(true), Deployment::from_multi_az(false)), (MultiAz, SingleAz));
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
}
