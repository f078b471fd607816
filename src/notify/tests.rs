use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::*;
use crate::events::ResourceRef;
use crate::model::Filter;
use crate::model::{Action, ResourceResult};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn result(id: &str, outcome: Outcome, reason: Option<&str>) -> ResourceResult {
    ResourceResult {
        account: String::new(),
        account_name: None,
        size: None,
        engine: None,
        deployment: None,
        kind: crate::kinds::ec2::KIND,
        id: id.into(),
        region: "eu-west-1".into(),
        name: Some("build box".into()),
        before: "stopped".into(),
        after: Some("stopped".into()),
        outcome,
        reason: reason.map(str::to_string),
        request_id: None,
    }
}

fn finished<'a>(results: &'a [ResourceResult], calls: &'a BTreeMap<&'static str, u64>) -> Event<'a> {
    Event::ActionFinished {
        job: "schedule",
        schedule: "office",
        action: Action::Start,
        dry_run: false,
        kinds: &[crate::kinds::ec2::KIND],
        regions: &[],
        results,
        list_failures: 0,
        failed_accounts: &[],
        calls,
        duration: Duration::from_millis(3),
    }
}

/// The notice's kind, severity and title; `None` when the event is not news.
type Expected = Option<(NoticeKind, Severity, &'static str)>;

const NOW: &str = "2026-11-24T17:45:00Z";

#[test]
fn events_become_notices_with_their_kind_and_severity() {
    let ctx = Context::default();
    let now = at(NOW);
    let ok = [result("i-1", Outcome::Started, None)];
    let failed = [result("i-1", Outcome::Started, None), result("i-2", Outcome::Failed, Some("InsufficientInstanceCapacity"))];
    let calls = BTreeMap::new();
    let missed = Event::FireMissed {
        job: "catch-up",
        schedule: "office",
        action: "start",
        fire_at: at("2026-11-24T07:00:00Z"),
        late: Duration::from_secs(7 * 3600),
        max_lateness: Duration::from_secs(6 * 3600),
    };
    let findings = BTreeMap::from([("key-too-old", 2usize), ("key-unused", 0)]);
    let none = BTreeMap::from([("key-too-old", 0usize)]);
    let errors = ["t.toml:3:1: colour: unknown field".to_string()];
    let table: Vec<(Event<'_>, Expected)> = vec![
        (finished(&ok, &calls), None),
        (
            finished(&failed, &calls),
            Some((NoticeKind::ActionFailed, Severity::Error, "offhours: start of schedule office failed for 1 resources")),
        ),
        (
            Event::BrakeTripped {
                account: None,
                job: "schedule",
                schedule: "office",
                action: Action::Stop,
                would_touch: 80,
                limit: 50,
                dry_run: false,
            },
            Some((NoticeKind::BrakeTripped, Severity::Error, "offhours: safety brake stopped the stop of schedule office")),
        ),
        (
            Event::ActionAborted {
                job: "schedule",
                schedule: "office",
                action: Action::Start,
                error: "DescribeInstances in eu-west-1: cannot reach the endpoint",
            },
            Some((NoticeKind::AwsUnreachable, Severity::Error, "offhours: start of schedule office not carried out: AWS unreachable")),
        ),
        (Event::Reload { applied: true, errors: &[] }, None),
        (
            Event::Reload { applied: false, errors: &errors },
            Some((NoticeKind::ReloadRejected, Severity::Error, "offhours: reload rejected, the running schedules stay")),
        ),
        (missed, Some((NoticeKind::FireMissed, Severity::Warning, "offhours: start of schedule office missed"))),
        (
            Event::AuditFinished { findings: &findings },
            Some((NoticeKind::AuditFindings, Severity::Warning, "offhours: the access-key audit found 2 keys to look at")),
        ),
        (Event::AuditFinished { findings: &none }, None),
        (
            Event::AlarmChecked { outcome: "created", alarm_name: "bill" },
            Some((NoticeKind::BillingAlarm, Severity::Info, "offhours: billing alarm bill created")),
        ),
        (
            Event::AlarmChecked { outcome: "foreign", alarm_name: "bill" },
            Some((NoticeKind::BillingAlarm, Severity::Warning, "offhours: billing alarm bill foreign")),
        ),
        (Event::AlarmChecked { outcome: "unchanged", alarm_name: "bill" }, None),
        (Event::AwsCall { service: "EC2", operation: "StopInstances", ok: false, duration: Duration::ZERO }, None),
    ];
    for (event, want) in table {
        let got = notice(&event, &ctx, now).map(|n| (n.kind, n.severity, n.title));
        assert_eq!(got, want.map(|(k, s, t)| (k, s, t.to_string())), "{event:?}");
    }
    let n = notice(&finished(&failed, &calls), &ctx, now).unwrap();
    assert_eq!(n.resources.len(), 1);
    assert_eq!(n.resources[0].detail.as_deref(), Some("InsufficientInstanceCapacity"));
    assert!(n.text.starts_with("1 of 2 resources failed (failed 1, started 1)."), "{}", n.text);
    // A failed group of the schedule's order held the next: the notice says how many.
    let held = [result("i-2", Outcome::Failed, Some("did not start")), result("db-1", Outcome::Held, Some("not started: ..."))];
    let n = notice(&finished(&held, &calls), &ctx, now).unwrap();
    assert_eq!((n.kind, n.resources.len()), (NoticeKind::ActionFailed, 1));
    assert!(
        n.text.contains("1 resources were held: a group before theirs in the schedule's order failed (order_on_failure = \"halt\")."),
        "{}",
        n.text
    );
    let halted = Event::OrderHalted {
        job: "schedule",
        schedule: "office",
        action: crate::model::Action::Start,
        account: &crate::model::AccountRef { id: "123456789012".into(), name: None },
        failed: "ec2",
        held: "rds",
    };
    assert!(notice(&halted, &ctx, now).is_none(), "told within the action's own notice");
    // Accounts that could not be acted in are news too, with why.
    let accounts = [crate::model::AccountFailure {
        account: "333333333333".into(),
        account_name: Some("sandbox".into()),
        error: "AssumeRole: AccessDenied".into(),
    }];
    let event = Event::ActionFinished {
        job: "schedule",
        schedule: "office",
        action: Action::Stop,
        dry_run: false,
        kinds: &[crate::kinds::ec2::KIND],
        regions: &[],
        results: &ok,
        list_failures: 0,
        failed_accounts: &accounts,
        calls: &calls,
        duration: Duration::from_millis(3),
    };
    let n = notice(&event, &ctx, now).expect("a failed account is news");
    assert_eq!(n.title, "offhours: stop of schedule office failed for 0 resources and 1 accounts");
    assert!(n.text.contains("sandbox (333333333333): AssumeRole: AccessDenied"), "{}", n.text);
}

fn warning(ctx: &Context) -> Notice {
    let resources = [
        ResourceRef {
            account: None,
            kind: crate::kinds::ec2::KIND,
            id: "i-0abc".into(),
            region: "eu-west-1".into(),
            name: Some("late worker".into()),
        },
        ResourceRef { account: None, kind: crate::kinds::rds::INSTANCE, id: "orders db".into(), region: "eu-west-1".into(), name: None },
    ];
    let event = Event::StopWarning {
        schedule: "office",
        stop_at: at("2026-11-24T18:00:00Z"),
        timezone: chrono_tz::Europe::Berlin,
        resources: &resources,
    };
    notice(&event, ctx, at(NOW)).unwrap()
}

#[test]
fn the_stop_warning_carries_the_exact_snooze_command() {
    let n = warning(&Context::default());
    assert_eq!(n.title, "offhours: schedule office stops 2 resources in 15m");
    assert!(n.text.contains("2026-11-24 19:00:00 CET"), "{}", n.text);
    assert_eq!(n.resources[0].detail.as_deref(), Some("offhours snooze i-0abc --region eu-west-1 --for 1h"));
    assert_eq!(n.resources[1].detail.as_deref(), Some("offhours snooze 'orders db' --kind rds --region eu-west-1 --for 1h"));
    let custom = warning(&Context { config_path: Some("/srv/off hours.toml".into()) });
    assert_eq!(
        custom.resources[0].detail.as_deref(),
        Some("offhours snooze --config '/srv/off hours.toml' i-0abc --region eu-west-1 --for 1h")
    );
}

#[test]
fn slack_teams_json_and_sns_shapes() {
    let n = warning(&Context::default());
    let slack = format::slack(&n);
    assert_eq!(slack["text"], n.title.as_str());
    let blocks = slack["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert!(
        blocks
            .iter()
            .any(|b| b["text"]["text"].as_str().is_some_and(|t| t.contains("`offhours snooze i-0abc --region eu-west-1 --for 1h`")))
    );
    let teams = format::teams(&n);
    assert_eq!(teams["type"], "message");
    let attachment = &teams["attachments"][0];
    assert_eq!(attachment["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(attachment["content"]["type"], "AdaptiveCard");
    assert_eq!(attachment["content"]["version"], "1.4");
    let body = attachment["content"]["body"].as_array().unwrap();
    assert_eq!(body[0]["text"], n.title.as_str());
    assert!(body.iter().any(|b| b["type"] == "FactSet"));
    let json = format::json(&n);
    assert_eq!(json["source"], "offhours");
    assert_eq!(json["event"], "stop-warning");
    assert_eq!(json["severity"], "info");
    assert_eq!(json["at"], NOW);
    assert_eq!(json["facts"]["schedule"], "office");
    assert_eq!(json["resources"][1]["kind"], "rds");
    let (subject, message) = format::sns(&n);
    assert!(subject.len() < 100 && subject.is_ascii());
    let message: Value = serde_json::from_str(&message).unwrap();
    assert!(message["default"].as_str().unwrap().contains("- ec2 i-0abc \"late worker\" (eu-west-1): offhours snooze"));
    let sqs: Value = serde_json::from_str(message["sqs"].as_str().unwrap()).unwrap();
    assert_eq!(sqs["event"], "stop-warning");
}

#[test]
fn long_lists_are_cut_and_subjects_made_ascii() {
    let many: Vec<ResourceRef> = (0..40)
        .map(|i| ResourceRef {
            account: None,
            kind: crate::kinds::ec2::KIND,
            id: format!("i-{i:04}"),
            region: "eu-west-1".into(),
            name: None,
        })
        .collect();
    let event = Event::StopWarning { schedule: "büro", stop_at: at("2026-11-24T18:00:00Z"), timezone: chrono_tz::UTC, resources: &many };
    let n = notice(&event, &Context::default(), at(NOW)).unwrap();
    assert!(format::plain(&n).contains("... and 15 more"));
    let (subject, _) = format::sns(&n);
    assert!(subject.starts_with("offhours: schedule b?ro stops 40"), "{subject}");
}

#[test]
fn filters() {
    let n = warning(&Context::default());
    assert!(Filter::default().accepts(n.kind, n.severity));
    assert!(!Filter { events: None, min_severity: Severity::Warning }.accepts(n.kind, n.severity));
    assert!(!Filter { events: Some([NoticeKind::ActionFailed].into()), min_severity: Severity::Info }.accepts(n.kind, n.severity));
    assert!(Filter { events: Some([NoticeKind::StopWarning].into()), min_severity: Severity::Info }.accepts(n.kind, n.severity));
}

#[test]
fn human_durations() {
    for (s, want) in [(0, "0s"), (45, "45s"), (900, "15m"), (3725, "1h 2m 5s"), (90_000, "1d 1h")] {
        assert_eq!(human(Duration::from_secs(s)), want);
    }
}

/// Values from AWS or from people reach each sink as text: no Slack mention or link,
/// no Teams link or emphasis, whatever a Name tag, an id, an error or a schedule says.
#[test]
fn hostile_names_stay_text_in_every_sink() {
    let hostile = "late worker <!channel> & <https://evil.example|click here> [text](https://evil.example) **bold**";
    let mut failed = result("i-1", Outcome::Failed, Some(hostile));
    failed.name = Some(hostile.into());
    let results = [failed];
    let calls = BTreeMap::new();
    let mut notice = notice(&finished(&results, &calls), &Context::default(), at(NOW)).unwrap();
    notice.facts.push(("schedule".into(), hostile.into()));
    notice.title = format!("offhours: stop of schedule {hostile} failed");
    // (sink, its text, what must not be in it, what must)
    // Slack parses mentions and links in mrkdwn and the top-level text (the header is
    // plain_text, shown as written).
    let message = format::slack(&notice);
    let mut slack = message["text"].as_str().unwrap().to_string();
    for block in message["blocks"].as_array().unwrap() {
        for part in [&block["text"]].into_iter().chain(block["fields"].as_array().into_iter().flatten()) {
            if part["type"] == "mrkdwn" {
                slack.push_str(part["text"].as_str().unwrap());
            }
        }
    }
    let teams = format::teams(&notice).to_string();
    let cases: [(&str, &str, &[&str], &str); 2] = [
        (
            "slack",
            &slack,
            &["<!channel>", "<https://evil.example|", "& <"],
            "&lt;!channel&gt; &amp; &lt;https://evil.example|click here&gt;",
        ),
        ("teams", &teams, &["[text](https://evil.example)", " **bold**"], r"\\[text\\]\\(https://evil.example\\) \\*\\*bold\\*\\*"),
    ];
    for (sink, text, never, escaped) in cases {
        for bad in never {
            assert!(!text.contains(bad), "{sink} carries {bad:?}: {text}");
        }
        assert!(text.contains(escaped), "{sink}: {text}");
    }
    // The table of each escaping.
    assert_eq!(format::slack_text("a <b> & c"), "a &lt;b&gt; &amp; c");
    assert_eq!(format::teams_text("[x](y) *z* _w_ `v`"), r"\[x\]\(y\) \*z\* \_w\_ \`v\`");
}

/// A notice about a large fleet reaches every sink inside its limits, listing whole
/// resources and saying how many it does not and where to see them.
#[test]
fn large_fleets_fit_every_sink_by_summarising() {
    for n in [50usize, 300, 5000] {
        let resources: Vec<NoticeResource> = (0..n)
            .map(|i| NoticeResource {
                account: Some("123456789012".into()),
                kind: crate::kinds::ec2::KIND,
                id: format!("i-{i:017x}"),
                region: "eu-west-1".into(),
                name: Some(format!("web-{i} `with a code span` and a long name to fill the line")),
                detail: Some("offhours snooze i-0123456789abcdef0 --for 2h --region eu-west-1".into()),
            })
            .collect();
        let notice = Notice { resources, ..warning(&Context::default()) };
        let slack = format::slack(&notice);
        let section = slack["blocks"].as_array().unwrap().iter().rev().nth(1).unwrap()["text"]["text"].as_str().unwrap().to_string();
        assert!(section.chars().count() <= 3000, "{n}: {} characters", section.chars().count());
        let listed = section.lines().filter(|l| l.starts_with("• ec2 ")).count();
        assert!(
            listed > 0 && section.ends_with(&format!("... and {} more: `offhours plan` and the status page list them all", n - listed)),
            "{n}: {section}"
        );
        assert_eq!(section.matches('`').count() % 2, 0, "{n}: no code span cut");
        let (_, body) = format::sns(&notice);
        assert!(body.len() <= 256 * 1024, "{n}: SNS body {} bytes", body.len());
        let body: Value = serde_json::from_str(&body).unwrap();
        let machine: Value = serde_json::from_str(body["sqs"].as_str().unwrap()).unwrap();
        let in_machine = machine["resources"].as_array().unwrap().len();
        assert_eq!(
            (machine["resources_total"].as_u64(), machine["resources_not_listed"].as_u64()),
            (Some(n as u64), Some((n - in_machine) as u64))
        );
        let teams = format::teams(&notice).to_string();
        assert!(teams.contains(&format!("... and {} more", n - 25)), "{n}");
    }
}
