use std::collections::BTreeSet;

use super::*;
use crate::schedule::{CronExpr, Trigger};

fn schedule(hibernate: bool) -> Schedule {
    let tz = chrono_tz::Europe::Berlin;
    let skip: BTreeSet<NaiveDate> = ["2026-12-25".parse().unwrap()].into();
    Schedule {
        name: "office".into(),
        timezone: tz,
        start: Some(Trigger::new(CronExpr::parse("0 8 * * MON-FRI").unwrap(), tz).with_skip_dates(skip.clone())),
        stop: Some(Trigger::new(CronExpr::parse("0 19 * * MON-FRI").unwrap(), tz).with_skip_dates(skip.clone())),
        skip_dates: skip,
        hibernate,
        by_name: true,
        tags: BTreeMap::new(),
        description: None,
    }
}

/// A test instance: `state`, then `key=value` tags, `root=instance-store`,
/// `lifecycle=spot` or `hibernation` in any order.
fn instance(state: &str, attrs: &[&str]) -> Instance {
    let mut i = Instance {
        id: "i-0123".into(),
        region: "eu-central-1".into(),
        state: InstanceState::parse(state),
        tags: BTreeMap::from([("Name".to_string(), "web".to_string())]),
        root_device_type: Some("ebs".into()),
        lifecycle: None,
        hibernation_configured: false,
        state_reason: None,
    };
    for attr in attrs {
        match attr.split_once('=') {
            Some(("root", v)) => i.root_device_type = Some(v.into()),
            Some(("lifecycle", v)) => i.lifecycle = Some(v.into()),
            Some((k, v)) => {
                i.tags.insert(k.into(), v.into());
            }
            None if *attr == "hibernation" => i.hibernation_configured = true,
            None => panic!("unknown attribute {attr}"),
        }
    }
    i
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&Utc)
}

const MONDAY: &str = "2026-11-23T19:00:00+01:00";

fn render(d: &Decision) -> String {
    let verdict = match &d.verdict {
        Verdict::Act { hibernate: true } => "act hibernate".to_string(),
        Verdict::Act { hibernate: false } => "act".to_string(),
        Verdict::Unchanged => "unchanged".to_string(),
        Verdict::Skip(r) => format!("skip: {r}"),
    };
    match &d.warning {
        Some(w) => format!("{verdict} (warning: {w})"),
        None => verdict,
    }
}

#[track_caller]
fn check_plan(hibernate: bool, action: Action, now: &str, inst: Instance, expect: &str) {
    let decisions = plan(&schedule(hibernate), action, "offhours:skip", at(now), &[inst]);
    assert_eq!(render(&decisions[0]), expect);
}

#[test]
fn decisions() {
    use Action::{Start, Stop};
    check_plan(false, Stop, MONDAY, instance("running", &[]), "act");
    check_plan(false, Start, MONDAY, instance("stopped", &[]), "act");
    check_plan(false, Stop, MONDAY, instance("stopped", &[]), "unchanged");
    check_plan(false, Start, MONDAY, instance("running", &[]), "unchanged");
    check_plan(false, Stop, MONDAY, instance("pending", &[]), "skip: in transition (pending)");
    check_plan(false, Start, MONDAY, instance("stopping", &[]), "skip: in transition (stopping)");
    check_plan(false, Stop, MONDAY, instance("stopping", &[]), "skip: in transition (stopping)");
    check_plan(false, Stop, MONDAY, instance("shutting-down", &[]), "skip: shutting-down");
    check_plan(false, Start, MONDAY, instance("terminated", &[]), "skip: terminated");
    check_plan(
        false,
        Stop,
        MONDAY,
        instance("running", &["aws:autoscaling:groupName=web-asg"]),
        "skip: member of auto scaling group web-asg",
    );
    check_plan(false, Stop, MONDAY, instance("running", &["root=instance-store"]), "skip: instance-store root device cannot be stopped");
    check_plan(false, Stop, MONDAY, instance("running", &["lifecycle=spot"]), "skip: spot instance");
    // An ASG member that is also stopped is still reported as an ASG member.
    check_plan(false, Start, MONDAY, instance("stopped", &["aws:autoscaling:groupName=g"]), "skip: member of auto scaling group g");
}

#[test]
fn override_tag_values() {
    use Action::Stop;
    check_plan(false, Stop, MONDAY, instance("running", &["offhours:skip=true"]), "skip: override tag offhours:skip=true");
    check_plan(false, Stop, MONDAY, instance("running", &["offhours:skip=TRUE"]), "skip: override tag offhours:skip=true");
    check_plan(false, Stop, MONDAY, instance("running", &["offhours:skip=false"]), "act");
    // A date skips until that day begins in the schedule's timezone.
    check_plan(
        false,
        Stop,
        MONDAY,
        instance("running", &["offhours:skip=2026-11-24"]),
        "skip: override tag offhours:skip until 2026-11-24",
    );
    check_plan(
        false,
        Stop,
        "2026-11-23T23:59:59+01:00",
        instance("running", &["offhours:skip=2026-11-24"]),
        "skip: override tag offhours:skip until 2026-11-24",
    );
    check_plan(false, Stop, "2026-11-24T00:00:00+01:00", instance("running", &["offhours:skip=2026-11-24"]), "act");
    check_plan(false, Stop, MONDAY, instance("running", &["offhours:skip=2026-11-23"]), "act");
    check_plan(
        false,
        Stop,
        MONDAY,
        instance("running", &["offhours:skip=2026-11-23T19:30:00+01:00"]),
        "skip: override tag offhours:skip until 2026-11-23T19:30:00+01:00",
    );
    check_plan(false, Stop, MONDAY, instance("running", &["offhours:skip=2026-11-23T18:00:00Z"]), "act");
    check_plan(
        false,
        Stop,
        MONDAY,
        instance("running", &["offhours:skip=next week"]),
        "skip: bad override tag value offhours:skip=\"next week\" (expected true, a date YYYY-MM-DD or an RFC 3339 time)",
    );
    check_plan(
        false,
        Stop,
        MONDAY,
        instance("running", &["offhours:skip="]),
        "skip: bad override tag value offhours:skip=\"\" (expected true, a date YYYY-MM-DD or an RFC 3339 time)",
    );
}

#[test]
fn skip_dates_and_hibernation() {
    use Action::{Start, Stop};
    check_plan(false, Start, "2026-12-25T08:00:00+01:00", instance("stopped", &[]), "skip: 2026-12-25 is a skip date");
    check_plan(false, Start, "2026-12-24T23:30:00Z", instance("stopped", &[]), "skip: 2026-12-25 is a skip date");
    check_plan(true, Stop, MONDAY, instance("running", &["hibernation"]), "act hibernate");
    check_plan(
        true,
        Stop,
        MONDAY,
        instance("running", &[]),
        "act (warning: hibernation is not configured on this instance: a normal stop instead)",
    );
    check_plan(true, Start, MONDAY, instance("stopped", &["hibernation"]), "act");
    check_plan(false, Stop, MONDAY, instance("running", &["hibernation"]), "act");
}

#[test]
fn brake_at_under_and_over_the_limit() {
    let s = schedule(false);
    let fleet: Vec<Instance> = (0..5).map(|_| instance("running", &[])).collect();
    let mut decisions = plan(&s, Action::Stop, "offhours:skip", at(MONDAY), &fleet);
    decisions.push(plan(&s, Action::Stop, "offhours:skip", at(MONDAY), &[instance("stopped", &[])]).remove(0));
    assert_eq!(check_brake("office", Action::Stop, &decisions, 6), Ok(()));
    assert_eq!(check_brake("office", Action::Stop, &decisions, 5), Ok(()), "unchanged instances do not count");
    assert_eq!(check_brake("office", Action::Stop, &decisions, 0), Ok(()), "0 = no limit");
    let err = check_brake("office", Action::Stop, &decisions, 4).unwrap_err();
    assert_eq!(
        err.to_string(),
        "schedule office: stop would touch 5 instances, more than max_instances_per_action = 4; nothing was touched (raise the setting, or 0 for no limit, if this is intended)"
    );
}

#[test]
fn last_and_next_fire() {
    let s = schedule(false);
    let fire = |f: Option<Fire>| f.map(|f| format!("{} {}", f.action, f.at.with_timezone(&s.timezone).to_rfc3339()));
    assert_eq!(fire(last_fire(&s, at(MONDAY))).as_deref(), Some("stop 2026-11-23T19:00:00+01:00"));
    assert_eq!(fire(last_fire(&s, at("2026-11-23T18:59:59+01:00"))).as_deref(), Some("start 2026-11-23T08:00:00+01:00"));
    assert_eq!(fire(next_fire(&s, at(MONDAY))).as_deref(), Some("start 2026-11-24T08:00:00+01:00"));
    // Saturday: the last fire is Friday's stop.
    assert_eq!(fire(last_fire(&s, at("2026-11-28T12:00:00+01:00"))).as_deref(), Some("stop 2026-11-27T19:00:00+01:00"));
    // Christmas is a skip date: the fire before Dec 28 08:00 is Dec 24's stop.
    assert_eq!(fire(last_fire(&s, at("2026-12-28T07:00:00+01:00"))).as_deref(), Some("stop 2026-12-24T19:00:00+01:00"));
}
