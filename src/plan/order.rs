//! Starts in dependency order: a schedule's `order` names groups of kinds; at a start
//! each group is started and verified before the next, at a stop the groups run in
//! reverse. Kinds the order does not name form one more group, last at a start and
//! first at a stop. Without an order, every kind acts at once.

use serde::Serialize;

use crate::config::Schedule;
use crate::model::{Action, Kind};

/// A schedule's order as `plan` and the status page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderView {
    /// The groups at a start, first to last: `rds-cluster, rds -> ec2`.
    pub start: String,
    /// The groups at a stop (the reverse).
    pub stop: String,
    /// `halt` or `continue`.
    pub on_failure: &'static str,
}

/// `None` for a schedule without an `order` (every kind at once).
pub fn view(schedule: &Schedule) -> Option<OrderView> {
    if schedule.order.is_empty() {
        return None;
    }
    let at = |action| describe(&stages(&schedule.order, action, &schedule.kinds));
    Some(OrderView { start: at(Action::Start), stop: at(Action::Stop), on_failure: schedule.order_on_failure.as_str() })
}

impl OrderView {
    /// One line: `start rds -> ec2; stop ec2 -> rds; a failed group halts the later ones`.
    pub fn line(&self) -> String {
        let then =
            if self.on_failure == "halt" { "a failed group halts the later ones" } else { "a failed group does not stop the later ones" };
        format!("start {}; stop {}; {then}", self.start, self.stop)
    }
}

/// The groups of `kinds` in the order `action` acts on them, each non-empty: one group
/// of them all without an `order`.
pub fn stages(order: &[Vec<Kind>], action: Action, kinds: &[Kind]) -> Vec<Vec<Kind>> {
    let named: Vec<Kind> = order.iter().flatten().copied().collect();
    let rest: Vec<Kind> = kinds.iter().copied().filter(|k| !named.contains(k)).collect();
    let mut out: Vec<Vec<Kind>> = order.iter().map(|g| g.iter().copied().filter(|k| kinds.contains(k)).collect()).chain([rest]).collect();
    out.retain(|g: &Vec<Kind>| !g.is_empty());
    if action == Action::Stop {
        out.reverse();
    }
    out
}

/// The groups as `plan` and the status page show them: `rds-cluster, rds -> ec2`.
pub fn describe(stages: &[Vec<Kind>]) -> String {
    stages.iter().map(|g| g.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")).collect::<Vec<_>>().join(" -> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(names: &[&str]) -> Vec<Kind> {
        names.iter().map(|n| crate::kinds::parse(n).unwrap()).collect()
    }

    #[test]
    fn groups_run_in_order_at_a_start_and_in_reverse_at_a_stop() {
        let order = vec![kinds(&["rds-cluster", "rds"]), kinds(&["ec2", "eks-nodegroup"]), kinds(&["asg", "ecs"])];
        // (order, the schedule's kinds, action, stages)
        type Case<'a> = (&'a [Vec<Kind>], &'a [&'a str], Action, &'a str);
        let cases: [Case; 6] = [
            (
                &order,
                &["ec2", "rds", "rds-cluster", "asg", "ecs", "eks-nodegroup"],
                Action::Start,
                "rds-cluster, rds -> ec2, eks-nodegroup -> asg, ecs",
            ),
            (
                &order,
                &["ec2", "rds", "rds-cluster", "asg", "ecs", "eks-nodegroup"],
                Action::Stop,
                "asg, ecs -> ec2, eks-nodegroup -> rds-cluster, rds",
            ),
            // A group of kinds none of which acts here is left out.
            (&order, &["ec2", "rds"], Action::Start, "rds -> ec2"),
            // Kinds the order does not name: one more group, last at a start.
            (&order[..1], &["ec2", "rds", "redshift"], Action::Start, "rds -> ec2, redshift"),
            (&order[..1], &["ec2", "rds", "redshift"], Action::Stop, "ec2, redshift -> rds"),
            (&[], &["ec2", "rds"], Action::Start, "ec2, rds"),
        ];
        for (order, schedule_kinds, action, want) in cases {
            assert_eq!(describe(&stages(order, action, &kinds(schedule_kinds))), want, "{schedule_kinds:?} {action}");
        }
        assert_eq!(stages(&[], Action::Start, &[]), Vec::<Vec<Kind>>::new());
    }

    #[test]
    fn on_failure_reads_its_two_words() {
        use crate::config::OnFailure;
        for v in [OnFailure::Halt, OnFailure::Continue] {
            assert_eq!(OnFailure::parse(v.as_str()), Some(v));
        }
        assert_eq!(OnFailure::parse("stop"), None);
        assert_eq!(OnFailure::default(), OnFailure::Halt);
    }

    #[test]
    fn the_view_reads_both_ways_and_says_what_a_failure_does() {
        let load = |extra: &str| {
            let text = format!("[schedules.a]\nstart = \"0 8 * * *\"\nkinds = [\"ec2\", \"rds\", \"asg\"]\n{extra}");
            let c = crate::config::from_str(&text, "t.toml", &crate::config::HostTimezone::fixed(chrono_tz::UTC)).unwrap();
            view(&c.schedules[0])
        };
        assert_eq!(load(""), None);
        let v = load("order = [[\"rds\"], [\"ec2\"]]\n").unwrap();
        assert_eq!(v.line(), "start rds -> ec2 -> asg; stop asg -> ec2 -> rds; a failed group halts the later ones");
        let v = load("order = [[\"rds\"], [\"ec2\"]]\norder_on_failure = \"continue\"\n").unwrap();
        assert_eq!((v.start.as_str(), v.on_failure), ("rds -> ec2 -> asg", "continue"));
        assert!(v.line().ends_with("a failed group does not stop the later ones"), "{}", v.line());
    }
}
