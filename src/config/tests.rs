use super::*;

fn host() -> HostTimezone {
    HostTimezone::fixed(chrono_tz::Europe::Berlin)
}

fn load_str(text: &str) -> Result<Config, LoadError> {
    from_str(text, "t.toml", &host())
}

/// The file is rejected with exactly these errors, in order.
#[track_caller]
fn check_errors(text: &str, expect: &[&str]) {
    match load_str(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(LoadError::Invalid(errors)) => {
            let got: Vec<String> = errors.iter().map(ToString::to_string).collect();
            assert_eq!(got, expect, "for:\n{text}");
        }
        Err(e) => panic!("unexpected error {e}"),
    }
}

const OK_SCHEDULE: &str = "[schedules.office]\nstart = \"0 8 * * MON-FRI\"\n";

#[test]
fn kinds_are_named_and_default_to_instances() {
    let c = load_str(OK_SCHEDULE).unwrap();
    assert_eq!((c.kinds.as_slice(), c.schedules[0].kinds.as_slice()), (&[crate::kinds::ec2::KIND][..], &[crate::kinds::ec2::KIND][..]));
    let c = load_str("kinds = [\"ec2\", \"rds\"]\n[schedules.a]\nstart = \"0 8 * * *\"\n[schedules.b]\nstart = \"0 8 * * *\"\nkinds = [\"asg\", \"ecs\", \"rds-cluster\"]\n").unwrap();
    assert_eq!(c.schedules[0].kinds, vec![crate::kinds::ec2::KIND, crate::kinds::rds::INSTANCE]);
    assert_eq!(c.schedules[1].kinds, vec![crate::kinds::asg::KIND, crate::kinds::ecs::KIND, crate::kinds::rds::CLUSTER]);
    check_errors(
        "kinds = [\"ec2\", \"rdss\", \"lambda\"]\n[schedules.a]\nstart = \"0 8 * * *\"\nkinds = [\"asg\", \"asg\"]\n",
        &[
            "t.toml:1:17: kinds: unknown kind `rdss` (did you mean `rds`? valid: ec2, rds, rds-cluster, asg, ecs, redshift, eks-nodegroup, sagemaker-notebook)",
            "t.toml:1:25: kinds: unknown kind `lambda` (valid: ec2, rds, rds-cluster, asg, ecs, redshift, eks-nodegroup, sagemaker-notebook)",
            "t.toml:4:17: schedules.a.kinds: `asg` is listed twice",
        ],
    );
    check_errors("kinds = []\n[schedules.a]\nstart = \"0 8 * * *\"\n", &["t.toml:1:9: kinds: must name at least one kind"]);
}

#[test]
fn unknown_fields_do_not_hide_other_errors() {
    check_errors(
        "timezone = \"Mars/Olympus\"\n[schedules.a]\nstart = \"61 * * * *\"\nstrat = \"0 8 * * *\"\n",
        &[
            "t.toml:1:12: timezone: unknown timezone `Mars/Olympus`",
            "t.toml:3:9: schedules.a.start: bad cron `61 * * * *`: minute field `61`: number out of bounds",
            "t.toml:4:1: schedules.a.strat: unknown field (did you mean `start`?)",
        ],
    );
    // A wrong type and a bad value in the same table: both.
    check_errors(
        "[schedules.a]\nhibernate = \"yes\"\nstop = \"0 25 * * *\"\n",
        &[
            "t.toml:2:13: schedules.a.hibernate: invalid type: string \"yes\", expected true or false",
            "t.toml:3:8: schedules.a.stop: bad cron `0 25 * * *`: hour field `25`: number out of bounds",
        ],
    );
    // The only trigger is unreadable: its table is not also called empty.
    check_errors("[schedules.a]\nstart = 8\n", &["t.toml:2:9: schedules.a.start: invalid type: integer `8`, expected a string"]);
}

#[test]
fn one_error_per_case() {
    check_errors(
        "[schedules.office]\nstrat = \"0 8 * * *\"\nstop = \"0 19 * * *\"\n",
        &["t.toml:2:1: schedules.office.strat: unknown field (did you mean `start`?)"],
    );
    check_errors(
        "timezon = \"UTC\"\n[schedules.a]\nstart = \"0 8 * * *\"\n",
        &["t.toml:1:1: timezon: unknown field (did you mean `timezone`?)"],
    );
    check_errors(
        "[schedules.office]\nstart = \"0 25 * * *\"\n",
        &["t.toml:2:9: schedules.office.start: bad cron `0 25 * * *`: hour field `25`: number out of bounds"],
    );
    check_errors(
        "[schedules.office]\nstart = \"0 8 * *\"\n",
        &[
            "t.toml:2:9: schedules.office.start: bad cron `0 8 * *`: expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, found 4",
        ],
    );
    check_errors(
        "timezone = \"Europe/Berln\"\n[schedules.a]\nstart = \"0 8 * * *\"\n",
        &["t.toml:1:12: timezone: unknown timezone `Europe/Berln` (did you mean `Europe/Berlin`?)"],
    );
    check_errors(
        "[schedules.office]\nstart = \"0 8 * * *\"\ntimezone = \"Mars/Olympus\"\n",
        &["t.toml:3:12: schedules.office.timezone: unknown timezone `Mars/Olympus`"],
    );
    check_errors(
        "[schedules.office]\nstart = \"0 8 * * *\"\nskip_dates = [2026-12-25, \"2026-13-01\"]\n",
        &["t.toml:3:27: schedules.office.skip_dates: `2026-13-01` is not a date (YYYY-MM-DD)"],
    );
    check_errors("[schedules.office]\nhibernate = true\n", &["t.toml:1:1: schedules.office: has neither `start` nor `stop`"]);
    check_errors(
        "[schedules.office]\nstart = \"0 8 * * *\"\nby_name = false\n",
        &["t.toml:1:1: schedules.office: selects no instances: with by_name = false, `tags` must name at least one tag"],
    );
    check_errors("[schedules.office]\nstart = \"0 8 * * *\"\n[schedules.office]\nstop = \"0 9 * * *\"\n", &["t.toml:3:12: duplicate key"]);
    check_errors(
        "max_instances_per_action = \"ten\"\n[schedules.a]\nstart = \"0 8 * * *\"\n",
        &["t.toml:1:28: max_instances_per_action: invalid type: string \"ten\", expected an integer"],
    );
    check_errors(
        "max_instances_per_action = -1\n[schedules.a]\nstart = \"0 8 * * *\"\n",
        &["t.toml:1:28: max_instances_per_action: must be between 0 and 1000000, found -1"],
    );
    check_errors(
        "regions = [\"eu-central-1\", \"Frankfurt\", \"eu-central-1\"]\n[schedules.a]\nstart = \"0 8 * * *\"\n",
        &[
            "t.toml:1:28: regions: `Frankfurt` is not a region name (e.g. eu-central-1)",
            "t.toml:1:41: regions: `eu-central-1` is listed twice",
        ],
    );
    check_errors(
        "max_lateness = \"soon\"\n[schedules.a]\nstart = \"0 8 * * *\"\n",
        &["t.toml:1:16: max_lateness: `soon` is not a duration (use e.g. 90s, 15m, 6h, 1d)"],
    );
    check_errors(
        "[schedules.a]\nstart = \"0 8 * * *\"\nstop = \"0 8 * * *\"\n",
        &["t.toml:3:8: schedules.a.stop: is the same expression as `start`"],
    );
    check_errors(
        "[schedules.a]\nstart = \"0 0 30 2 *\"\n",
        &["t.toml:2:9: schedules.a.start: bad cron `0 0 30 2 *`: never fires (no matching date exists)"],
    );
    check_errors(
        "[aws]\nrole_arn = \"offhours\"\n[schedules.a]\nstart = \"0 8 * * *\"\n",
        &["t.toml:2:12: aws.role_arn: `offhours` is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"],
    );
    check_errors(
        "[aws]\nexternal_id = \"x\"\n[schedules.a]\nstart = \"0 8 * * *\"\n",
        &["t.toml:2:15: aws.external_id: only has a meaning with aws.role_arn"],
    );
    check_errors(
        "[billing_alarm]\ncurrency = \"USD\"\n",
        &["t.toml:1:1: billing_alarm.threshold: is required (the estimated charges, in `currency`, that raise the alarm)"],
    );
    check_errors("[billing_alarm]\nthreshold = 0\n", &["t.toml:2:13: billing_alarm.threshold: must be greater than 0, found 0"]);
    check_errors(
        "[billing_alarm]\nthreshold = 50\nsns_topic_arn = \"arn:aws:sns:eu-west-1:123456789012:bills\"\n",
        &[
            "t.toml:3:17: billing_alarm.sns_topic_arn: the topic is in eu-west-1, but billing alarms live in us-east-1 and can only notify a topic there",
        ],
    );
    check_errors("[iam_audit]\nmax_key_age_days = 0\n", &["t.toml:2:20: iam_audit.max_key_age_days: must be between 1 and 3650, found 0"]);
    check_errors(
        "dry_run = \"yes\"\n",
        &[
            "t.toml:1:1: schedules: the file configures nothing: add a [schedules.NAME] table",
            "t.toml:1:11: dry_run: invalid type: string \"yes\", expected true or false",
        ],
    );
    check_errors("dry_run = true\n", &["t.toml:1:1: schedules: the file configures nothing: add a [schedules.NAME] table"]);
    check_errors("[schedules.a\nstart = 1\n", &["t.toml:1:13: unclosed table, expected `]`"]);
}

#[test]
fn every_error_is_reported_at_once() {
    let text = "\
timezone = \"Europe/Berln\"
regions = [\"eu-central-1\"]
colour = \"blue\"

[schedules.office]
start = \"0 8 * * MON-FRI\"
stop = \"0 19 * * MON-FRYDAY\"
skip_dates = [\"2026-02-30\"]

[schedules.lab]
strat = \"0 7 * * *\"
hibernate = \"yes\"
";
    // Both passes: what serde could not read, and what the rest means. `schedules.lab`
    // lost both its keys; that it now has no trigger is not reported a second time.
    check_errors(
        text,
        &[
            "t.toml:1:12: timezone: unknown timezone `Europe/Berln` (did you mean `Europe/Berlin`?)",
            "t.toml:3:1: colour: unknown field (expected one of timezone, regions, tag_key, skip_tag, max_instances_per_action, max_instances_per_action_total, dry_run, max_lateness, verify_timeout, db_verify_timeout, kinds, capacity_retries, capacity_retry_delay, aws, schedules, iam_audit, http, billing_alarm, warn_before, enforce, enforce_grace, notify, accounts, organization, savings, suggest, state, calendars, tag_schedules)",
            "t.toml:7:8: schedules.office.stop: bad cron `0 19 * * MON-FRYDAY`: day-of-week field `MON-FRYDAY`: unknown name or character",
            "t.toml:8:15: schedules.office.skip_dates: `2026-02-30` is not a date (YYYY-MM-DD)",
            "t.toml:11:1: schedules.lab.strat: unknown field (did you mean `start`?)",
            "t.toml:12:13: schedules.lab.hibernate: invalid type: string \"yes\", expected true or false",
        ],
    );
    // Once the shape is right, meaning errors are all listed too.
    let text = "\
timezone = \"Europe/Berln\"
[schedules.office]
start = \"0 8 * * MON-FRI\"
stop = \"0 19 * * MON-FRYDAY\"
skip_dates = [\"2026-02-30\"]
[schedules.lab]
hibernate = true
";
    check_errors(
        text,
        &[
            "t.toml:1:12: timezone: unknown timezone `Europe/Berln` (did you mean `Europe/Berlin`?)",
            "t.toml:4:8: schedules.office.stop: bad cron `0 19 * * MON-FRYDAY`: day-of-week field `MON-FRYDAY`: unknown name or character",
            "t.toml:5:15: schedules.office.skip_dates: `2026-02-30` is not a date (YYYY-MM-DD)",
            "t.toml:6:1: schedules.lab: has neither `start` nor `stop`",
        ],
    );
}

#[test]
fn defaults_apply() {
    let c = load_str(OK_SCHEDULE).unwrap();
    assert_eq!(c.timezone, chrono_tz::Europe::Berlin, "host timezone is the default");
    assert_eq!(c.tag_key, "Schedule");
    assert_eq!(c.skip_tag, "offhours:skip");
    assert_eq!(c.max_instances_per_action, 50);
    assert_eq!(c.max_lateness, Duration::from_secs(6 * 3600));
    assert!(c.regions.is_empty());
    assert!(!c.dry_run);
    assert_eq!(c.aws, AwsSettings::default());
    let s = &c.schedules[0];
    assert_eq!((s.name.as_str(), s.by_name, s.hibernate), ("office", true, false));
    assert!(s.stop.is_none());
    assert_eq!(s.selector("Schedule"), BTreeMap::from([("Schedule".to_string(), "office".to_string())]));
}

#[test]
fn schedule_timezone_overrides_file_timezone() {
    let c = load_str("timezone = \"America/New_York\"\n[schedules.a]\nstart = \"0 8 * * *\"\n[schedules.b]\nstart = \"0 8 * * *\"\ntimezone = \"Asia/Kolkata\"\n").unwrap();
    assert_eq!(c.schedules[0].timezone, chrono_tz::America::New_York);
    assert_eq!(c.schedules[1].timezone, chrono_tz::Asia::Kolkata);
    assert_eq!(c.schedules[1].start.as_ref().unwrap().tz, chrono_tz::Asia::Kolkata);
}

#[test]
fn the_annotated_example_parses() {
    let text = include_str!("../../config/offhours.toml");
    let c = load_str(text).unwrap_or_else(|e| panic!("{e}"));
    assert!(!c.schedules.is_empty());
    assert!(c.iam_audit.is_some());
    assert!(c.billing_alarm.is_some());
    // Its commented-out [notify] block ("# " settings, "## " explanations) is valid too.
    let (before, rest) = text.split_once("# [notify]\n").expect("the example shows [notify]");
    let (block, after) = rest.split_once("[http]").unwrap();
    let uncommented: String = block
        .lines()
        .map(|l| if l.starts_with("## ") { l.to_string() } else { l.trim_start_matches("# ").to_string() })
        .collect::<Vec<_>>()
        .join("\n");
    let full = format!("{before}[notify]\n{uncommented}\n[http]{after}");
    fn example_secrets(what: &SecretRef<'_>) -> Result<String, String> {
        match what {
            SecretRef::Env("OFFHOURS_SLACK_WEBHOOK_URL") => Ok("https://hooks.slack.example/services/T0/B0/x".into()),
            other => Err(format!("{other:?} is not set")),
        }
    }
    let c = from_str(&full, "offhours.toml", &HostTimezone { secrets: example_secrets, ..host() }).unwrap_or_else(|e| panic!("{e}"));
    let notify = c.notify.expect("the uncommented example has [notify]");
    assert!(notify.sns.is_some() && notify.webhooks.len() == 1);
}

#[test]
fn durations() {
    for (text, secs) in [("90s", 90), ("15m", 900), ("6h", 21_600), ("1d", 86_400), ("1h30m", 5_400)] {
        assert_eq!(parse_duration(text), Ok(Duration::from_secs(secs)), "{text}");
    }
    for text in ["", "10", "1w", "h"] {
        assert!(parse_duration(text).is_err(), "{text}");
    }
}

fn fake_secrets(what: &SecretRef<'_>) -> Result<String, String> {
    match what {
        SecretRef::Env("SLACK_URL") => Ok("https://hooks.slack.example/services/T0/B0/secretpart\n".into()),
        SecretRef::Env(name) => Err(format!("environment variable {name} is not set")),
        SecretRef::File("/run/secrets/teams") => Ok("https://example.webhook.office.example/workflows/secretpart".into()),
        SecretRef::File(path) => Err(format!("cannot read {path}: No such file or directory (os error 2)")),
    }
}

fn load_with_secrets(text: &str) -> Result<Config, LoadError> {
    from_str(text, "t.toml", &HostTimezone { secrets: fake_secrets, ..host() })
}

#[test]
fn notify_sinks_filters_and_secret_urls() {
    let c = load_with_secrets(&format!(
        "{OK_SCHEDULE}[notify]\nsns_topic_arn = \"arn:aws:sns:eu-west-1:123456789012:ops\"\nmin_severity = \"warning\"\n\
         [[notify.webhooks]]\nformat = \"slack\"\nurl_env = \"SLACK_URL\"\n\
         [[notify.webhooks]]\nname = \"ops-teams\"\nformat = \"teams\"\nurl_file = \"/run/secrets/teams\"\nevents = [\"stop-warning\", \"action-failed\"]\nmin_severity = \"info\"\n\
         [[notify.webhooks]]\nformat = \"json\"\nurl = \"http://127.0.0.1:9000/hook\"\n"
    ))
    .unwrap();
    let n = c.notify.unwrap();
    let sns = n.sns.unwrap();
    assert_eq!(sns.topic_arn, "arn:aws:sns:eu-west-1:123456789012:ops");
    assert_eq!(sns.filter, crate::model::Filter { events: None, min_severity: crate::model::Severity::Warning });
    let names: Vec<&str> = n.webhooks.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["slack-1", "ops-teams", "json-3"]);
    assert_eq!(n.webhooks[0].url.expose(), "https://hooks.slack.example/services/T0/B0/secretpart", "trimmed");
    assert_eq!(n.webhooks[0].filter.min_severity, crate::model::Severity::Warning, "inherits [notify]'s filter");
    assert_eq!(n.webhooks[1].filter.events.as_ref().map(|e| e.len()), Some(2));
    assert_eq!(n.webhooks[1].filter.min_severity, crate::model::Severity::Info);
    assert!(!format!("{:?}", n.webhooks).contains("secretpart"), "Debug never shows a URL");
}

#[test]
fn notify_errors_name_the_field_and_never_the_url() {
    let text = format!(
        "{OK_SCHEDULE}[notify]\nsns_topic_arn = \"arn:aws:sqs:eu-west-1:123456789012:ops\"\nevents = [\"stop-warnin\"]\n\
         [[notify.webhooks]]\nformat = \"discord\"\nurl = \"https://x.example/secretpart\"\n\
         [[notify.webhooks]]\nformat = \"slack\"\nurl_env = \"NOPE\"\n\
         [[notify.webhooks]]\nformat = \"slack\"\nurl = \"ftp://x.example/secretpart\"\nmin_severity = \"loud\"\n\
         [[notify.webhooks]]\nformat = \"json\"\nurl = \"https://x.example/a\"\nurl_file = \"/run/secrets/teams\"\n\
         [[notify.webhooks]]\nformat = \"json\"\n"
    );
    check_errors_with(
        &text,
        &[
            "t.toml:4:17: notify.sns_topic_arn: `arn:aws:sqs:eu-west-1:123456789012:ops` is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)",
            "t.toml:5:11: notify.events: unknown event `stop-warnin` (did you mean `stop-warning`? valid: action-failed, brake-tripped, aws-unreachable, reload-rejected, fire-missed, audit-findings, billing-alarm, stop-warning, hold)",
            "t.toml:7:10: notify.webhooks[0].format: unknown format `discord` (valid: slack, teams, json)",
            "t.toml:11:11: notify.webhooks[1].url_env: environment variable NOPE is not set",
            "t.toml:14:7: notify.webhooks[2].url: the URL from url is not an http(s) URL (its value is not shown: it is a secret)",
            "t.toml:15:16: notify.webhooks[2].min_severity: unknown severity `loud` (valid: info, warning, error)",
            "t.toml:19:12: notify.webhooks[3].url: set only one of url, url_env and url_file",
        ],
    );
    let Err(LoadError::Invalid(errors)) = load_with_secrets(&text) else { panic!() };
    assert!(errors.iter().all(|e| !e.to_string().contains("secretpart")));
    assert!(errors.iter().any(|e| e.field == "notify.webhooks[4].url" && e.message.starts_with("is required")), "{errors:?}");
}

#[track_caller]
fn check_errors_with(text: &str, expect: &[&str]) {
    let Err(LoadError::Invalid(errors)) = load_with_secrets(text) else { panic!("accepted:\n{text}") };
    let got: Vec<String> = errors.iter().map(ToString::to_string).filter(|e| !e.contains("webhooks[4]")).collect();
    assert_eq!(got, expect, "for:\n{text}");
}

#[test]
fn warn_before_defaults_to_the_file_and_needs_a_stop() {
    let c = load_str(
        "warn_before = \"15m\"\n[schedules.a]\nstart = \"0 8 * * *\"\nstop = \"0 19 * * *\"\n[schedules.b]\nstart = \"0 8 * * *\"\n\
         [schedules.c]\nstop = \"0 19 * * *\"\nwarn_before = \"5s\"\n",
    )
    .unwrap();
    let got: Vec<Option<u64>> = c.schedules.iter().map(|s| s.warn_before.map(|d| d.as_secs())).collect();
    assert_eq!(got, [Some(900), None, Some(5)], "b has no stop to warn about");
    check_errors(
        "warn_before = \"soon\"\n[schedules.a]\nstart = \"0 8 * * *\"\nwarn_before = \"10m\"\n",
        &[
            "t.toml:1:15: warn_before: `soon` is not a duration (use e.g. 90s, 15m, 6h, 1d)",
            "t.toml:4:15: schedules.a.warn_before: warns before a stop, but the schedule has no `stop`",
        ],
    );
}

#[test]
fn accounts_and_the_organization() {
    let c = load_str(&format!(
        "[[accounts]]\nrole_arn = \"arn:aws:iam::111111111111:role/offhours-member\"\nexternal_id = \"ext-123\"\nname = \"dev\"\n\
         [[accounts]]\nrole_arn = \"arn:aws:iam::222222222222:role/team/offhours\"\n\
         {OK_SCHEDULE}accounts = [\"dev\", \"222222222222\"]\n[schedules.all]\nstop = \"0 19 * * *\"\n"
    ))
    .unwrap();
    let ids: Vec<(&str, Option<&str>)> = c.accounts.iter().map(|a| (a.id.as_str(), a.name.as_deref())).collect();
    assert_eq!(ids, [("111111111111", Some("dev")), ("222222222222", None)]);
    assert_eq!(c.accounts[0].external_id.as_deref(), Some("ext-123"));
    let by_name: BTreeMap<&str, Option<Vec<String>>> = c.schedules.iter().map(|s| (s.name.as_str(), s.accounts.clone())).collect();
    assert_eq!(by_name["office"], Some(vec!["dev".to_string(), "222222222222".to_string()]));
    assert_eq!(by_name["all"], None, "every account by default");

    let org = load_str(&format!("[organization]\nrole_name = \"offhours-member\"\nous = [\"ou-ab12-cdef3456\"]\nexclude = [\"333333333333\"]\n{OK_SCHEDULE}accounts = [\"sandbox\"]\n")).unwrap();
    let o = org.organization.unwrap();
    assert_eq!((o.role_name.as_str(), o.ous.len(), o.exclude.len(), o.refresh.as_secs()), ("offhours-member", 1, 1, 3600));

    check_errors(
        &format!(
            "[[accounts]]\nrole_arn = \"arn:aws:iam::12345:role/x\"\n\
             [[accounts]]\nname = \"444444444444\"\nrole_arn = \"arn:aws:iam::111111111111:role/a\"\n\
             [[accounts]]\nrole_arn = \"arn:aws:iam::111111111111:role/b\"\n\
             [organization]\nrole_name = \"has space\"\nous = [\"ou-x\"]\nexclude = [\"12\"]\nrefresh = \"10s\"\n\
             {OK_SCHEDULE}accounts = [\"dve\"]\n"
        ),
        &[
            "t.toml:2:12: accounts[0].role_arn: `arn:aws:iam::12345:role/x` is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
            "t.toml:4:8: accounts[1].name: must not be 12 digits: it would read as an account id",
            "t.toml:6:1: accounts[2].role_arn: account 111111111111 is listed twice",
            "t.toml:9:13: organization.role_name: `has space` is not a role name (1 to 64 of A-Z a-z 0-9 + = , . @ _ -)",
            "t.toml:10:8: organization.ous: `ou-x` is not an organizational unit id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)",
            "t.toml:11:12: organization.exclude: `12` is not a 12-digit account id",
            "t.toml:12:11: organization.refresh: must be at least 1m (Organizations throttles its list calls)",
        ],
    );
    check_errors(
        &format!("{OK_SCHEDULE}accounts = [\"dev\"]\n"),
        &["t.toml:3:12: schedules.office.accounts: names accounts, but the file has no [[accounts]] or [organization]"],
    );
    check_errors(
        &format!("[[accounts]]\nrole_arn = \"arn:aws:iam::111111111111:role/a\"\nname = \"dev\"\n{OK_SCHEDULE}accounts = [\"dve\"]\n"),
        &[
            "t.toml:6:13: schedules.office.accounts: `dve` is neither a 12-digit account id nor the name of an [[accounts]] entry (did you mean `dev`?)",
        ],
    );
}

#[test]
fn the_state_backend() {
    assert_eq!(load_str(OK_SCHEDULE).unwrap().state, StateSettings::File, "the state directory by default");
    let c = load_str(&format!("regions = [\"eu-west-1\"]\n[state]\nbackend = \"dynamodb\"\ntable = \"offhours-state\"\n{OK_SCHEDULE}"))
        .unwrap();
    assert_eq!(
        c.state,
        StateSettings::DynamoDb(DynamoDbState {
            table: "offhours-state".into(),
            region: "eu-west-1".into(),
            lease: DynamoDbState::DEFAULT_LEASE
        }),
        "the region defaults to the file's first"
    );
    let c = load_str(&format!("[state]\nbackend = \"dynamodb\"\ntable = \"t.1\"\nregion = \"us-east-2\"\nlease = \"5s\"\n{OK_SCHEDULE}"))
        .unwrap();
    assert_eq!(
        c.state,
        StateSettings::DynamoDb(DynamoDbState {
            table: "t.1".into(),
            region: "us-east-2".into(),
            lease: std::time::Duration::from_secs(5)
        })
    );
    check_errors(
        &format!("[state]\nbackend = \"dynamo\"\n{OK_SCHEDULE}"),
        &["t.toml:2:11: state.backend: `dynamo` is not a state backend (expected \"file\" or \"dynamodb\")"],
    );
    check_errors(
        &format!("[state]\nbackend = \"dynamodb\"\nregion = \"moon\"\nlease = \"1s\"\n{OK_SCHEDULE}"),
        &[
            "t.toml:1:1: state.table: backend = \"dynamodb\" needs the table's name (create it with `offhours init-state`)",
            "t.toml:3:10: state.region: `moon` is not a region name (e.g. eu-west-1)",
            "t.toml:4:9: state.lease: must be 2s or more: it is renewed every quarter of it",
        ],
    );
    check_errors(&format!("[state]\ntable = \"x\"\n{OK_SCHEDULE}"), &["t.toml:2:9: state.table: applies only to backend = \"dynamodb\""]);
}

#[test]
fn an_order_groups_the_schedule_s_kinds_once_each() {
    let base = "[schedules.a]\nstart = \"0 8 * * *\"\nkinds = [\"ec2\", \"rds\", \"rds-cluster\", \"ecs\"]\n";
    let c = load_str(&format!("{base}order = [[\"rds-cluster\", \"rds\"], [\"ec2\"]]\norder_on_failure = \"continue\"\n")).unwrap();
    let names: Vec<Vec<&str>> = c.schedules[0].order.iter().map(|g| g.iter().map(|k| k.as_str()).collect()).collect();
    assert_eq!((names, c.schedules[0].order_on_failure), (vec![vec!["rds-cluster", "rds"], vec!["ec2"]], OnFailure::Continue));
    let c = load_str(&format!("{base}order = [[\"rds\"], [\"ec2\"]]\n")).unwrap();
    assert_eq!(c.schedules[0].order_on_failure, OnFailure::Halt, "halt is the default");
    assert!(load_str(base).unwrap().schedules[0].order.is_empty(), "no order: every kind at once");
    check_errors(
        &format!("{base}order = [[\"rds\", \"asg\"], [\"ec2\", \"rds\"], [], [\"ecz\"]]\norder_on_failure = \"stop\"\n"),
        &[
            "t.toml:4:18: schedules.a.order[0][1]: `asg` is not a kind this schedule acts on (its kinds: ec2, rds, rds-cluster, ecs)",
            "t.toml:4:34: schedules.a.order[1][1]: `rds` is already in group 0 (schedules.a.order[0]): a kind is in one group only",
            "t.toml:4:42: schedules.a.order[2]: a group must name at least one kind",
            "t.toml:4:47: schedules.a.order[3][0]: unknown kind `ecz` (valid: ec2, rds, rds-cluster, asg, ecs, redshift, eks-nodegroup, sagemaker-notebook)",
            "t.toml:5:20: schedules.a.order_on_failure: `stop` is neither \"halt\" nor \"continue\"",
        ],
    );
    check_errors(
        &format!("{base}order = []\n"),
        &["t.toml:4:9: schedules.a.order: must name at least one group of kinds (or be left out: every kind at once)"],
    );
    check_errors(
        &format!("{base}order_on_failure = \"halt\"\n"),
        &["t.toml:4:20: schedules.a.order_on_failure: only has a meaning with `order`"],
    );
}

#[test]
fn suggest_thresholds_default_and_are_checked() {
    assert_eq!(load_str(OK_SCHEDULE).unwrap().suggest, Suggest::default());
    let c = load_str(&format!(
        "{OK_SCHEDULE}[suggest]\ncpu_percent = 2.5\nnetwork_mb = 1\nconnections = 1\nmargin = \"2h\"\nmin_weeks = 3\ndays = 28\n"
    ))
    .unwrap();
    assert_eq!(c.suggest, Suggest { cpu_percent: 2.5, network_mb: 1.0, connections: 1, margin_hours: 2, min_weeks: 3, days: 28 });
    check_errors(
        &format!("{OK_SCHEDULE}[suggest]\ncpu_percent = 0\nnetwork_mb = -1\nmargin = \"90m\"\nmin_weeks = 5\ndays = 64\n"),
        &[
            "t.toml:4:15: suggest.cpu_percent: must be above 0, found 0",
            "t.toml:5:14: suggest.network_mb: must be above 0, found -1",
            "t.toml:6:10: suggest.margin: must be whole hours, 0h to 6h (a schedule's crons fire on the hour)",
            "t.toml:7:13: suggest.min_weeks: 5 weeks do not fit in suggest.days = 14",
            "t.toml:8:8: suggest.days: must be between 7 and 63, found 64",
        ],
    );
}

#[test]
fn exceptions_are_windows_of_local_time_that_may_not_overlap() {
    let base = "timezone = \"Europe/Berlin\"\n[schedules.qa]\nstart = \"0 8 * * MON-FRI\"\nstop = \"0 19 * * MON-FRI\"\n";
    let c = load_str(&format!(
        "{base}[[schedules.qa.exceptions]]\nfrom = 2027-07-10\nto = 2027-07-20\nkeep = \"on\"\nreason = \"release week\"\n\
         [[schedules.qa.exceptions]]\nfrom = \"2027-12-24T12:00\"\nto = 2027-12-26\nkeep = \"off\"\n"
    ))
    .unwrap();
    let e = &c.schedules[0].exceptions;
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
    // A date covers its whole day, in the schedule's timezone: eleven days.
    assert_eq!((e[0].window.from, e[0].window.to, e[0].keep), (at("2027-07-10T00:00:00+02:00"), at("2027-07-21T00:00:00+02:00"), Keep::On));
    assert_eq!(e[0].reason.as_deref(), Some("release week"));
    assert_eq!(
        (e[1].window.from, e[1].window.to, e[1].keep),
        (at("2027-12-24T12:00:00+01:00"), at("2027-12-27T00:00:00+01:00"), Keep::Off)
    );
    // Kept on: the stop trigger is quiet in the window and the start fires at its start.
    let s = &c.schedules[0];
    assert_eq!(s.stop.as_ref().unwrap().quiet, vec![e[0].window]);
    assert!(s.start.as_ref().unwrap().extra.contains(&e[0].window.from));
    assert_eq!(s.start.as_ref().unwrap().quiet, vec![e[1].window]);

    check_errors(
        &format!(
            "{base}[[schedules.qa.exceptions]]\nfrom = 2027-07-10\nto = 2027-07-20\nkeep = \"on\"\n\
             [[schedules.qa.exceptions]]\nfrom = 2027-07-20\nto = 2027-07-22\nkeep = \"off\"\n\
             [[schedules.qa.exceptions]]\nfrom = 2027-08-02\nto = 2027-08-01\nkeep = \"on\"\n\
             [[schedules.qa.exceptions]]\nfrom = \"next week\"\nto = 2027-09-01\nkeep = \"maybe\"\n"
        ),
        &[
            "t.toml:9:1: schedules.qa.exceptions[1]: overlaps schedules.qa.exceptions[0]",
            "t.toml:15:6: schedules.qa.exceptions[2].to: ends before the exception starts",
            "t.toml:18:8: schedules.qa.exceptions[3].from: `next week` is not a local date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM)",
            "t.toml:20:8: schedules.qa.exceptions[3].keep: `maybe` is not `on` or `off`",
        ],
    );
    check_errors(
        "[schedules.qa]\nstop = \"0 19 * * *\"\n[[schedules.qa.exceptions]]\nfrom = 2027-07-10\nto = 2027-07-20\nkeep = \"off\"\n",
        &["t.toml:6:8: schedules.qa.exceptions[0].keep: holds starts off, but the schedule has no `start`"],
    );
}

#[test]
fn calendars_name_one_source_and_schedules_name_calendars() {
    let c = load_with_secrets(
        "[calendars.company]\nfile = \"holidays.ics\"\n[calendars.public-de]\nurl_env = \"SLACK_URL\"\nrefresh = \"12h\"\n\
         [schedules.office]\nstart = \"0 8 * * *\"\nskip_calendars = [\"company\", \"public-de\"]\n",
    )
    .unwrap();
    assert_eq!(c.calendars[0].source, CalendarSource::File("holidays.ics".into()));
    assert_eq!(c.calendars[0].refresh, std::time::Duration::from_secs(86_400), "a day by default");
    assert_eq!(c.calendars[1].source.describe(), "https://hooks.slack.example/...", "scheme and host only");
    assert!(!format!("{:?}", c.calendars[1]).contains("secretpart"), "Debug never shows the URL");
    assert_eq!(c.schedules[0].skip_calendars, ["company", "public-de"]);
    check_errors_with(
        "[calendars.\"a/b\"]\nfile = \"x.ics\"\n[calendars.both]\nfile = \"x.ics\"\nurl = \"https://x.example/c.ics\"\n[calendars.none]\n\
         [calendars.plain]\nurl = \"http://calendars.example/c.ics\"\n[calendars.fast]\nfile = \"x.ics\"\nrefresh = \"30s\"\n\
         [calendars.gone]\nurl_file = \"/run/secrets/none\"\n\
         [schedules.office]\nstart = \"0 8 * * *\"\nskip_calendars = [\"compnay\", \"fast\", \"both\"]\n[calendars.company]\nfile = \"c.ics\"\n",
        &[
            "t.toml:1:12: calendars.a/b: a calendar name is 1 to 64 letters, digits, `-` or `_`",
            "t.toml:4:8: calendars.both.file: set either file or url (url_env, url_file), not both",
            "t.toml:6:1: calendars.none: needs a source: file = PATH or url = \"https://...\" (or url_env, url_file)",
            "t.toml:8:7: calendars.plain.url: must be https (plain http only to this machine: localhost, 127.0.0.1, ::1)",
            "t.toml:11:11: calendars.fast.refresh: must be at least 1m",
            "t.toml:13:12: calendars.gone.url_file: cannot read /run/secrets/none: No such file or directory (os error 2)",
            "t.toml:16:19: schedules.office.skip_calendars: `compnay` is not a [calendars.NAME] of this file (did you mean `company`?)",
        ],
    );
}

#[test]
fn a_change_calendar_is_a_name_read_in_the_first_region_or_an_arn() {
    let c = load_str(
        "regions = [\"eu-west-1\", \"us-east-1\"]\n[schedules.a]\nstart = \"0 8 * * *\"\nchange_calendar = \"release-freeze\"\n\
         [schedules.b]\nstop = \"0 19 * * *\"\nchange_calendar = \"arn:aws:ssm:us-east-2:123456789012:document/freeze\"\nchange_calendar_closed = \"skip-stops\"\n",
    )
    .unwrap();
    assert_eq!(
        c.schedules[0].change_calendar,
        Some(ChangeCalendar { name: "release-freeze".into(), region: "eu-west-1".into(), closed: ClosedSkips::Starts })
    );
    assert_eq!(c.schedules[1].change_calendar.as_ref().map(|k| (k.region.as_str(), k.closed)), Some(("us-east-2", ClosedSkips::Stops)));
    check_errors(
        "[schedules.a]\nstart = \"0 8 * * *\"\nchange_calendar = \"freeze\"\n[schedules.b]\nstart = \"0 8 * * *\"\nchange_calendar = \"arn:aws:ssm:eu-west-1:1:document/x\"\n\
         [schedules.c]\nstart = \"0 8 * * *\"\nchange_calendar = \"no spaces\"\n[schedules.d]\nstart = \"0 8 * * *\"\nchange_calendar_closed = \"skip-stops\"\n\
         [schedules.e]\nstart = \"0 8 * * *\"\nchange_calendar = \"arn:aws:ssm:eu-west-1:123456789012:document/freeze\"\nchange_calendar_closed = \"stops\"\n",
        &[
            "t.toml:3:19: schedules.a.change_calendar: a calendar named without its ARN is read in the file's first region: set `regions`, or give the calendar's ARN",
            "t.toml:6:19: schedules.b.change_calendar: `arn:aws:ssm:eu-west-1:1:document/x` is not an SSM document ARN (arn:aws:ssm:REGION:ACCOUNT:document/NAME)",
            "t.toml:9:19: schedules.c.change_calendar: `no spaces` is not a Change Calendar name (3 to 128 letters, digits, `_`, `.`, `-`) or ARN",
            "t.toml:12:26: schedules.d.change_calendar_closed: needs a change_calendar",
            "t.toml:16:26: schedules.e.change_calendar_closed: `stops` is not `skip-starts` or `skip-stops`",
        ],
    );
}

#[test]
fn tag_schedules_take_the_files_kinds_and_bounded_settings() {
    let c = load_str(&format!("kinds = [\"ec2\", \"rds\"]\n{OK_SCHEDULE}[tag_schedules]\nenabled = true\n")).unwrap();
    let t = c.tag_schedules.unwrap();
    assert_eq!((t.enabled, t.kinds.len(), t.refresh, t.max_resources), (true, 2, std::time::Duration::from_secs(300), 500));
    check_errors(
        &format!("{OK_SCHEDULE}[tag_schedules]\nkinds = [\"ec3\"]\nrefresh = \"5s\"\nmax_resources = 0\n"),
        &[
            "t.toml:4:10: tag_schedules.kinds: unknown kind `ec3` (did you mean `ec2`? valid: ec2, rds, rds-cluster, asg, ecs, redshift, eks-nodegroup, sagemaker-notebook)",
            "t.toml:5:11: tag_schedules.refresh: must be at least 10s",
            "t.toml:6:17: tag_schedules.max_resources: must be between 1 and 10000, found 0",
        ],
    );
}

#[test]
fn mute_alarms_needs_a_start_to_turn_them_on_again() {
    assert!(
        load_str("[schedules.a]\nstart = \"0 8 * * *\"\nstop = \"0 19 * * *\"\nmute_alarms = true\n").unwrap().schedules[0].mute_alarms
    );
    check_errors(
        "[schedules.a]\nstop = \"0 19 * * *\"\nmute_alarms = true\n",
        &["t.toml:3:15: schedules.a.mute_alarms: turns alarms off at each stop, but the schedule has no `start` to turn them on again"],
    );
}
