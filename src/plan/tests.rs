use std::collections::BTreeSet;

use std::collections::BTreeMap;

use super::*;
use crate::kinds::asg::{GroupDetail, Sizes};
use crate::kinds::ecs::ServiceDetail;
use crate::kinds::{ec2, rds};
use crate::model::{Detail, Kind, Resource};
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
        ..Schedule::empty(crate::kinds::ec2::KIND)
    }
}

/// A test instance: `state`, then `key=value` tags, `root=instance-store`,
/// `lifecycle=spot` or `hibernation` in any order.
fn instance(state: &str, attrs: &[&str]) -> Resource {
    let mut tags = BTreeMap::from([("Name".to_string(), "web".to_string())]);
    let (mut root, mut lifecycle, mut hibernation) = (Some("ebs".to_string()), None, false);
    for attr in attrs {
        match attr.split_once('=') {
            Some(("root", v)) => root = Some(v.into()),
            Some(("lifecycle", v)) => lifecycle = Some(v.into()),
            Some((k, v)) => {
                tags.insert(k.into(), v.into());
            }
            None if *attr == "hibernation" => hibernation = true,
            None => panic!("unknown attribute {attr}"),
        }
    }
    Resource {
        kind: crate::kinds::ec2::KIND,
        id: "i-0123".into(),
        region: "eu-central-1".into(),
        state: state.into(),
        tags,
        state_reason: None,
        size: None,
        engine: None,
        deployment: None,
        detail: Detail::new(ec2::InstanceDetail { root_device_type: root, lifecycle, hibernation_configured: hibernation }),
    }
}

fn resource(kind: Kind, state: &str, detail: Detail) -> Resource {
    Resource {
        kind,
        id: "r-1".into(),
        region: "eu-central-1".into(),
        state: state.into(),
        tags: BTreeMap::new(),
        state_reason: None,
        size: None,
        engine: None,
        deployment: None,
        detail,
    }
}

fn db(status: &str, replica_of: Option<&str>, replicas: usize, cluster: Option<&str>) -> Resource {
    let detail =
        Detail::new(rds::InstanceDetail { replica_of: replica_of.map(String::from), replicas, cluster: cluster.map(String::from) });
    Resource { engine: Some("postgres".into()), ..resource(rds::INSTANCE, status, detail) }
}

fn group(min: i32, max: i32, desired: i32, record: Option<&str>) -> Resource {
    let sizes = Sizes { min, max, desired };
    let record = record.map(crate::kinds::asg::parse_record);
    resource(crate::kinds::asg::KIND, crate::kinds::asg::state_name(sizes), Detail::new(GroupDetail { sizes, record }))
}

fn service(desired: i32, record: Option<&str>) -> Resource {
    let record = record.map(crate::kinds::ecs::record::parse);
    resource(
        crate::kinds::ecs::KIND,
        crate::kinds::ecs::state_name(desired),
        Detail::new(ServiceDetail { cluster: "arn:c".into(), desired, record }),
    )
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().with_timezone(&Utc)
}

const MONDAY: &str = "2026-11-23T19:00:00+01:00";

fn render(d: &Decision) -> String {
    let verdict = match &d.verdict {
        Verdict::Act { mode } if *mode == crate::kinds::ec2::HIBERNATE => "act hibernate".to_string(),
        Verdict::Act { mode } => {
            assert_eq!(*mode, Mode::PLAIN);
            "act".to_string()
        }
        Verdict::Unchanged => "unchanged".to_string(),
        Verdict::Skip(r) => format!("skip: {r}"),
    };
    match &d.warning {
        Some(w) => format!("{verdict} (warning: {w})"),
        None => verdict,
    }
}

#[track_caller]
fn check_plan(hibernate: bool, action: Action, now: &str, inst: Resource, expect: &str) {
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
fn decisions_for_databases() {
    use Action::{Start, Stop};
    let seven = "act (warning: AWS starts a stopped DB instance or cluster by itself after 7 days)";
    check_plan(false, Stop, MONDAY, db("available", None, 0, None), seven);
    check_plan(false, Start, MONDAY, db("stopped", None, 0, None), "act");
    check_plan(false, Stop, MONDAY, db("stopped", None, 0, None), "unchanged");
    check_plan(false, Start, MONDAY, db("available", None, 0, None), "unchanged");
    check_plan(false, Stop, MONDAY, db("backing-up", None, 0, None), "skip: in transition (backing-up)");
    check_plan(false, Start, MONDAY, db("stopping", None, 0, None), "skip: in transition (stopping)");
    check_plan(false, Stop, MONDAY, db("deleting", None, 0, None), "skip: deleting");
    check_plan(
        false,
        Stop,
        MONDAY,
        db("available", Some("prod-db"), 0, None),
        "skip: read replica of prod-db: RDS cannot stop a read replica",
    );
    check_plan(
        false,
        Stop,
        MONDAY,
        db("available", None, 2, None),
        "skip: has 2 read replica(s): RDS cannot stop a DB instance that has read replicas",
    );
    check_plan(
        false,
        Stop,
        MONDAY,
        db("available", None, 0, Some("aurora-1")),
        "skip: member of DB cluster aurora-1: the cluster is the unit (tag the cluster, kind rds-cluster)",
    );
    let cluster = |s: &str| resource(crate::kinds::rds::CLUSTER, s, Detail::default());
    check_plan(false, Stop, MONDAY, cluster("available"), seven);
    check_plan(false, Start, MONDAY, cluster("stopped"), "act");
    check_plan(false, Start, MONDAY, cluster("starting"), "skip: in transition (starting)");
    // A hibernating schedule stops databases normally, without a warning about it.
    check_plan(true, Stop, MONDAY, db("available", None, 0, None), seven);
}

#[test]
fn decisions_for_groups_and_services() {
    use Action::{Start, Stop};
    check_plan(false, Stop, MONDAY, group(1, 4, 2, None), "act");
    check_plan(false, Stop, MONDAY, group(0, 4, 0, None), "unchanged");
    check_plan(false, Stop, MONDAY, group(0, 0, 0, Some("min=1,max=4,desired=2")), "unchanged");
    check_plan(false, Start, MONDAY, group(0, 0, 0, Some("min=1,max=4,desired=2")), "act");
    check_plan(false, Start, MONDAY, group(0, 0, 0, None), "skip: no recorded sizes (tag offhours:asg-sizes): nothing to restore");
    check_plan(false, Start, MONDAY, group(1, 4, 2, None), "unchanged");
    check_plan(
        false,
        Start,
        MONDAY,
        group(0, 0, 0, Some("min=3,max=1,desired=2")),
        "skip: unreadable record tag offhours:asg-sizes: sizes out of order (need 0 <= min <= desired <= max)",
    );
    check_plan(false, Stop, MONDAY, service(3, None), "act");
    check_plan(false, Stop, MONDAY, service(0, Some("3")), "unchanged");
    check_plan(false, Start, MONDAY, service(0, Some("3")), "act");
    check_plan(false, Start, MONDAY, service(0, None), "skip: no recorded desired count (tag offhours:ecs-desired): nothing to restore");
    check_plan(
        false,
        Start,
        MONDAY,
        service(0, Some("three")),
        "skip: unreadable record tag offhours:ecs-desired: `three` is not a desired count",
    );
    // The override tag and skip dates hold for every kind.
    let mut pinned = group(1, 4, 2, None);
    pinned.tags.insert("offhours:skip".into(), "true".into());
    check_plan(false, Stop, MONDAY, pinned, "skip: override tag offhours:skip=true");
    check_plan(false, Start, "2026-12-25T08:00:00+01:00", service(0, Some("3")), "skip: 2026-12-25 is a skip date");
}

#[test]
fn asg_records_round_trip() {
    use crate::kinds::asg::{format_record, parse_record};
    let sizes = Sizes { min: 1, max: 4, desired: 2 };
    assert_eq!(format_record(sizes), "min=1,max=4,desired=2");
    assert_eq!(parse_record(&format_record(sizes)), Ok(sizes));
    assert_eq!(parse_record(" desired=2 , min=1,max=4 "), Ok(sizes));
    assert_eq!(parse_record("min=1,max=4"), Err("needs min, max and desired".into()));
    assert_eq!(parse_record("min=1,max=4,desired=x"), Err("`x` is not a number".into()));
    assert_eq!(parse_record("min=1,max=4,wanted=2"), Err("unknown size `wanted`".into()));
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
        "skip: snoozed until 2026-11-24 (override tag offhours:skip)",
    );
    check_plan(
        false,
        Stop,
        "2026-11-23T23:59:59+01:00",
        instance("running", &["offhours:skip=2026-11-24"]),
        "skip: snoozed until 2026-11-24 (override tag offhours:skip)",
    );
    check_plan(false, Stop, "2026-11-24T00:00:00+01:00", instance("running", &["offhours:skip=2026-11-24"]), "act");
    check_plan(false, Stop, MONDAY, instance("running", &["offhours:skip=2026-11-23"]), "act");
    check_plan(
        false,
        Stop,
        MONDAY,
        instance("running", &["offhours:skip=2026-11-23T19:30:00+01:00"]),
        "skip: snoozed until 2026-11-23T19:30:00+01:00 (override tag offhours:skip)",
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
fn a_calendar_date_says_which_event_makes_it_one() {
    let mut s = schedule(false);
    let eve: NaiveDate = "2026-12-24".parse().unwrap();
    s.holidays.insert(eve, "company: Christmas Eve".into());
    s.skip_dates.insert(eve);
    let decisions = plan(&s, Action::Stop, "offhours:skip", at("2026-12-24T18:00:00Z"), &[instance("running", &[])]);
    assert_eq!(render(&decisions[0]), "skip: 2026-12-24 is a skip date (company: Christmas Eve)");
}

#[test]
fn a_start_inside_a_window_kept_on_is_not_held_back_by_a_skip_date() {
    let mut s = schedule(false);
    let christmas: DateTime<Utc> = "2026-12-25T10:00:00Z".parse().unwrap();
    let stopped = [instance("stopped", &[])];
    assert_eq!(render(&plan(&s, Action::Start, "offhours:skip", christmas, &stopped)[0]), "skip: 2026-12-25 is a skip date");
    let window = crate::schedule::Window { from: christmas - chrono::TimeDelta::hours(1), to: christmas + chrono::TimeDelta::days(2) };
    s.exceptions.push(crate::config::Exception { window, keep: crate::config::Keep::On, reason: None, held_by: Some("ops@host".into()) });
    assert_eq!(render(&plan(&s, Action::Start, "offhours:skip", christmas, &stopped)[0]), "act");
    let running = [instance("running", &[])];
    assert_eq!(
        render(&plan(&s, Action::Stop, "offhours:skip", christmas, &running)[0]),
        "skip: 2026-12-25 is a skip date",
        "stops still skip it"
    );
}

#[test]
fn brake_at_under_and_over_the_limit() {
    let s = schedule(false);
    let fleet: Vec<Resource> = (0..5).map(|_| instance("running", &[])).collect();
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
