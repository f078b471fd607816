//! Self-service schedules (`[tag_schedules]`): each resource whose tags carry its own
//! times (`offhours:stop = "19:00 mon-fri"`) becomes a schedule of its own, named
//! `tag:<id>`, that acts on that one resource only, through the same engine as the
//! file's (brake, verification, ledger, notices, metrics). A resource whose tags do not
//! read is left alone and reported with what is wrong. Pure.

use chrono_tz::Tz;

use crate::config::{Only, Schedule};
use crate::model::{AccountRef, Kind, Resource};
use crate::schedule::Trigger;
use crate::schedule::tags::read;

/// A resource found carrying a time tag, and its account.
#[derive(Debug, Clone)]
pub struct Tagged {
    pub account: AccountRef,
    pub resource: Resource,
}

/// A self-scheduled resource left alone, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub account: String,
    pub kind: Kind,
    pub region: String,
    pub id: String,
    pub error: String,
}

/// The name of a resource's own schedule: `tag:<id>`, or, when the same id is found in
/// several accounts or regions (a DB identifier, a group name), `tag:<account>:<region>:<id>`.
pub fn name(t: &Tagged, shared_id: bool) -> String {
    if shared_id { format!("tag:{}:{}:{}", t.account.id, t.resource.region, t.resource.id) } else { format!("tag:{}", t.resource.id) }
}

/// One schedule per resource whose tags read, at most `max` of them (by account,
/// kind, region and id); the rest are problems.
pub fn build(tagged: &[Tagged], file_tz: Tz, max: usize) -> (Vec<Schedule>, Vec<Problem>) {
    let mut sorted: Vec<&Tagged> = tagged.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.account.id, a.resource.kind, &a.resource.region, &a.resource.id).cmp(&(
            &b.account.id,
            b.resource.kind,
            &b.resource.region,
            &b.resource.id,
        ))
    });
    let mut seen: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for t in &sorted {
        *seen.entry(t.resource.id.as_str()).or_default() += 1;
    }
    let (mut schedules, mut problems) = (Vec::new(), Vec::new());
    for t in sorted {
        let problem = |error: String| Problem {
            account: t.account.id.clone(),
            kind: t.resource.kind,
            region: t.resource.region.clone(),
            id: t.resource.id.clone(),
            error,
        };
        match read(&t.resource.tags) {
            Ok(None) => {}
            Err(errors) => problems.push(problem(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))),
            Ok(Some(_)) if schedules.len() >= max => {
                problems.push(problem(format!("left out: more than [tag_schedules] max_resources = {max} resources schedule themselves")))
            }
            Ok(Some(times)) => {
                let tz = times.timezone.unwrap_or(file_tz);
                schedules.push(Schedule {
                    name: name(t, seen[t.resource.id.as_str()] > 1),
                    timezone: tz,
                    start: times.start.map(|c| Trigger::new(c, tz)),
                    stop: times.stop.map(|c| Trigger::new(c, tz)),
                    description: Some(format!("set on {} {} by its tags", t.resource.kind, t.resource.id)),
                    accounts: Some(vec![t.account.id.clone()]),
                    only: Some(Only { region: t.resource.region.clone(), ids: vec![t.resource.id.clone()] }),
                    ..Schedule::empty(t.resource.kind)
                });
            }
        }
    }
    (schedules, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::tags::{START_TAG, STOP_TAG, TIMEZONE_TAG};

    fn tagged(id: &str, tags: &[(&str, &str)]) -> Tagged {
        let resource = Resource {
            kind: crate::kinds::ec2::KIND,
            id: id.into(),
            region: "eu-west-1".into(),
            state: "running".into(),
            tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            state_reason: None,
            size: None,
            engine: None,
            deployment: None,
            detail: Default::default(),
        };
        Tagged { account: AccountRef { id: "123456789012".into(), name: None }, resource }
    }

    #[test]
    fn each_resource_whose_tags_read_gets_a_schedule_of_its_own() {
        let found = [
            tagged("i-2", &[(STOP_TAG, "19:00 mon-fri"), (START_TAG, "07:30 mon-fri"), (TIMEZONE_TAG, "America/New_York")]),
            tagged("i-1", &[(STOP_TAG, "22:00 daily")]),
            tagged("i-3", &[(STOP_TAG, "19:00 weekdays")]),
            tagged("i-4", &[("Name", "untagged")]),
        ];
        let (schedules, problems) = build(&found, chrono_tz::Europe::Berlin, 10);
        let names: Vec<&str> = schedules.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["tag:i-1", "tag:i-2"]);
        assert_eq!(schedules[0].timezone, chrono_tz::Europe::Berlin, "the file's timezone by default");
        assert!(schedules[0].start.is_none());
        assert_eq!(schedules[1].timezone, chrono_tz::America::New_York);
        assert_eq!(schedules[1].stop.as_ref().unwrap().cron.as_str(), "0 19 * * MON-FRI");
        assert_eq!(schedules[1].only, Some(Only { region: "eu-west-1".into(), ids: vec!["i-2".into()] }));
        assert_eq!(schedules[1].accounts, Some(vec!["123456789012".to_string()]));
        assert_eq!(
            problems,
            [Problem {
                account: "123456789012".into(),
                kind: crate::kinds::ec2::KIND,
                region: "eu-west-1".into(),
                id: "i-3".into(),
                error: "offhours:stop=\"19:00 weekdays\": `weekdays` is not a day (mon, tue, wed, thu, fri, sat, sun; or daily)".into(),
            }]
        );
    }

    #[test]
    fn an_id_found_in_two_regions_names_both_schedules_by_account_and_region() {
        let mut east = tagged("staging-db", &[(STOP_TAG, "19:00 daily")]);
        east.resource.region = "us-east-1".into();
        let (schedules, _) = build(
            &[tagged("staging-db", &[(STOP_TAG, "19:00 daily")]), east, tagged("i-9", &[(STOP_TAG, "19:00 daily")])],
            chrono_tz::UTC,
            10,
        );
        let names: Vec<&str> = schedules.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["tag:i-9", "tag:123456789012:eu-west-1:staging-db", "tag:123456789012:us-east-1:staging-db"]);
    }

    #[test]
    fn past_max_resources_the_rest_are_left_out_and_said_so() {
        let found: Vec<Tagged> = (1..=3).map(|i| tagged(&format!("i-{i}"), &[(STOP_TAG, "19:00 daily")])).collect();
        let (schedules, problems) = build(&found, chrono_tz::UTC, 2);
        assert_eq!(schedules.len(), 2);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].id, "i-3");
        assert_eq!(problems[0].error, "left out: more than [tag_schedules] max_resources = 2 resources schedule themselves");
    }
}
