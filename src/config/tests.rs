use super::*;
use crate::kinds::Kind;

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
    assert_eq!((c.kinds.as_slice(), c.schedules[0].kinds.as_slice()), (&[Kind::Ec2][..], &[Kind::Ec2][..]));
    let c = load_str("kinds = [\"ec2\", \"rds\"]\n[schedules.a]\nstart = \"0 8 * * *\"\n[schedules.b]\nstart = \"0 8 * * *\"\nkinds = [\"asg\", \"ecs\", \"rds-cluster\"]\n").unwrap();
    assert_eq!(c.schedules[0].kinds, vec![Kind::Ec2, Kind::Rds]);
    assert_eq!(c.schedules[1].kinds, vec![Kind::Asg, Kind::Ecs, Kind::RdsCluster]);
    check_errors(
        "kinds = [\"ec2\", \"rdss\", \"lambda\"]\n[schedules.a]\nstart = \"0 8 * * *\"\nkinds = [\"asg\", \"asg\"]\n",
        &[
            "t.toml:1:17: kinds: unknown kind `rdss` (did you mean `rds`? valid: ec2, rds, rds-cluster, asg, ecs)",
            "t.toml:1:25: kinds: unknown kind `lambda` (valid: ec2, rds, rds-cluster, asg, ecs)",
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
            "t.toml:3:1: colour: unknown field (expected one of timezone, regions, tag_key, skip_tag, max_instances_per_action, dry_run, max_lateness, verify_timeout, db_verify_timeout, kinds, capacity_retries, capacity_retry_delay, aws, schedules, iam_audit, http, billing_alarm)",
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
