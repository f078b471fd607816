//! Enforce: between fires, a resource whose state differs from what the schedule's
//! last fire wants is acted on, once it has been found so for `grace`. Pure: which
//! resources wait, from when each was first found out of step.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::{Decision, SkipReason, Verdict};

/// `decisions` of one enforce tick, with every resource out of step for less than
/// `grace` turned into a skip (it may be in use: started by hand in off hours). `seen`
/// holds, per resource key, when it was first found out of step; resources back in
/// step (or gone) are forgotten, so that the next time counts from then.
pub fn with_grace(
    decisions: Vec<Decision>,
    key: impl Fn(&Decision) -> String,
    seen: &mut BTreeMap<String, DateTime<Utc>>,
    now: DateTime<Utc>,
    grace: Duration,
) -> Vec<Decision> {
    let grace = TimeDelta::from_std(grace).unwrap_or(TimeDelta::MAX);
    let mut still: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    let out = decisions
        .into_iter()
        .map(|mut d| {
            if matches!(d.verdict, Verdict::Act { .. }) {
                let k = key(&d);
                let since = seen.get(&k).copied().unwrap_or(now);
                still.insert(k, since);
                let until = since.checked_add_signed(grace).unwrap_or(DateTime::<Utc>::MAX_UTC);
                if now < until {
                    d.verdict = Verdict::Skip(SkipReason::Grace { until: until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) });
                }
            }
            d
        })
        .collect();
    *seen = still;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Detail, Resource};

    fn decision(id: &str, act: bool) -> Decision {
        let resource = Resource {
            kind: crate::kinds::ec2::KIND,
            id: id.into(),
            region: "eu-west-1".into(),
            state: "running".into(),
            tags: BTreeMap::new(),
            state_reason: None,
            size: None,
            engine: None,
            deployment: None,
            detail: Detail::new(crate::kinds::ec2::InstanceDetail::default()),
        };
        Decision {
            resource,
            verdict: if act { Verdict::Act { mode: crate::model::Mode::PLAIN } } else { Verdict::Unchanged },
            warning: None,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn tick(seen: &mut BTreeMap<String, DateTime<Utc>>, now: &str, found: &[(&str, bool)], grace_s: u64) -> Vec<String> {
        let decisions = found.iter().map(|(id, act)| decision(id, *act)).collect();
        with_grace(decisions, |d| d.resource.id.clone(), seen, at(now), Duration::from_secs(grace_s))
            .into_iter()
            .map(|d| match d.verdict {
                Verdict::Act { .. } => format!("{} act", d.resource.id),
                Verdict::Skip(SkipReason::Grace { until }) => format!("{} wait until {until}", d.resource.id),
                _ => format!("{} as wanted", d.resource.id),
            })
            .collect()
    }

    #[test]
    fn a_resource_out_of_step_is_acted_on_once_the_grace_is_over() {
        let mut seen = BTreeMap::new();
        // 21:00: a box started by hand in off hours; another already stopped.
        assert_eq!(
            tick(&mut seen, "2026-11-24T21:00:00Z", &[("i-1", true), ("i-2", false)], 7200),
            ["i-1 wait until 2026-11-24T23:00:00Z", "i-2 as wanted"]
        );
        assert_eq!(tick(&mut seen, "2026-11-24T22:59:59Z", &[("i-1", true)], 7200), ["i-1 wait until 2026-11-24T23:00:00Z"]);
        assert_eq!(tick(&mut seen, "2026-11-24T23:00:00Z", &[("i-1", true)], 7200), ["i-1 act"]);
        // Stopped: forgotten. Started again later: the grace counts from then.
        assert_eq!(tick(&mut seen, "2026-11-24T23:15:00Z", &[("i-1", false)], 7200), ["i-1 as wanted"]);
        assert!(seen.is_empty());
        assert_eq!(tick(&mut seen, "2026-11-25T01:00:00Z", &[("i-1", true)], 7200), ["i-1 wait until 2026-11-25T03:00:00Z"]);
    }

    #[test]
    fn without_grace_every_resource_out_of_step_is_acted_on_at_once() {
        let mut seen = BTreeMap::new();
        assert_eq!(tick(&mut seen, "2026-11-24T21:00:00Z", &[("i-1", true), ("i-2", true)], 0), ["i-1 act", "i-2 act"]);
    }
}
