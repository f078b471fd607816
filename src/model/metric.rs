//! What `offhours suggest` reads of a resource: CloudWatch metrics at one-hour
//! resolution, each measuring one thing an idle hour is judged by.

/// What a metric measures, for its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Measure {
    /// Percent CPU (average over the hour).
    Cpu,
    /// Bytes in and out over the hour (the metrics of one resource summed).
    Network,
    /// Database connections (the hour's maximum).
    Connections,
    /// Instances in service (the hour's maximum): a group with none is idle.
    InService,
}

/// One metric of one resource, as GetMetricData's `MetricStat` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricQuery {
    pub namespace: &'static str,
    pub name: &'static str,
    pub dimensions: Vec<(&'static str, String)>,
    /// `Average`, `Sum` or `Maximum`.
    pub stat: &'static str,
    pub measure: Measure,
}

impl MetricQuery {
    pub fn new(
        namespace: &'static str,
        name: &'static str,
        dimensions: Vec<(&'static str, String)>,
        stat: &'static str,
        measure: Measure,
    ) -> Self {
        MetricQuery { namespace, name, dimensions, stat, measure }
    }
}
