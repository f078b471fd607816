//! Checks on the repository itself: the docs name every config field, every module
//! says what it is for, and no debugging leftovers are in the source.

mod layers;

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
        }
    }
}

fn all_sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

/// The reference: every page under `docs/`, with its name.
fn reference() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let mut pages: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    pages.sort();
    pages
}

#[test]
fn the_reference_names_every_config_field() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("docs/configuration.md")).unwrap()
        + &reference().into_iter().map(|(_, text)| text).collect::<String>();
    let example = std::fs::read_to_string(root.join("config/offhours.toml")).unwrap();
    let raw = std::fs::read_to_string(root.join("src/config/raw.rs")).unwrap();
    let mut in_raw_struct = false;
    let mut fields = Vec::new();
    for line in raw.lines() {
        if line.starts_with("pub struct Raw") && !line.starts_with("pub struct RawError") {
            in_raw_struct = true;
        } else if line.starts_with('}') {
            in_raw_struct = false;
        } else if in_raw_struct && let Some(name) = line.trim().strip_prefix("pub ").and_then(|l| l.split(':').next()) {
            fields.push(name.to_string());
        }
    }
    assert!(fields.len() > 30, "found only {fields:?}");
    for field in fields {
        let described =
            readme.contains(&format!("`{field}`")) || readme.contains(&format!("`[{field}")) || readme.contains(&format!("[{field}."));
        assert!(described, "docs/ does not describe `{field}`");
        assert!(example.contains(&field), "config/offhours.toml does not show `{field}`");
    }
}

#[test]
fn every_module_says_what_it_is_for() {
    for (path, text) in all_sources() {
        if path.ends_with("main.rs") || path.ends_with("tests.rs") {
            continue;
        }
        assert!(text.starts_with("//!"), "{path} has no //! module doc");
    }
}

#[test]
fn no_debugging_leftovers() {
    let banned = [concat!("db", "g!("), concat!("to", "do!("), concat!("unimple", "mented!(")];
    for (path, text) in all_sources() {
        for b in banned {
            assert!(!text.contains(b), "{path} contains {b}");
        }
    }
}

/// The reference's command table names every command and, in its row, every flag of
/// it: checked against the clap definitions `--help` prints, so neither drifts.
#[test]
fn the_reference_documents_every_command_and_flag() {
    use clap::CommandFactory;
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md")).unwrap();
    let section = readme.as_str();
    let cli = crate::cli::Cli::command();
    for arg in cli.get_arguments().filter_map(|a| a.get_long()) {
        assert!(section.contains(&format!("--{arg}")), "docs/cli.md does not show the global --{arg}");
    }
    let mut missing = Vec::new();
    for sub in cli.get_subcommands() {
        let row = section
            .lines()
            .find(|l| l.starts_with(&format!("| `{} ", sub.get_name())) || l.starts_with(&format!("| `{}`", sub.get_name())));
        let Some(row) = row else {
            missing.push(format!("command {}", sub.get_name()));
            continue;
        };
        for long in sub.get_arguments().filter(|a| !a.is_global_set()).filter_map(|a| a.get_long()) {
            if !row.contains(&format!("--{long}")) {
                missing.push(format!("{} --{long}", sub.get_name()));
            }
        }
    }
    assert!(missing.is_empty(), "docs/cli.md's command table lacks: {missing:?}");
}

/// A heading's anchor as GitHub and mdBook make it: lower case, punctuation dropped,
/// spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == ' ' || *c == '_')
        .collect::<String>()
        .replace(' ', "-")
}

/// Every internal link of the README and the reference resolves: the file exists and,
/// with `#anchor`, one of its headings makes that anchor.
#[test]
fn every_internal_link_and_anchor_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let anchors = |path: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text.lines().filter_map(|l| l.strip_prefix('#')).map(|l| anchor(l.trim_start_matches('#'))).collect()
    };
    let mut files = vec![root.join("README.md")];
    files.extend(reference().into_iter().map(|(name, _)| root.join("docs").join(name)));
    let mut broken = Vec::new();
    for file in &files {
        // Links outside inline code spans (`[text](url)` in code is an example).
        let text: String =
            std::fs::read_to_string(file).unwrap().lines().map(|l| l.split('`').step_by(2).collect::<String>() + "\n").collect();
        for link in text.split("](").skip(1).filter_map(|rest| rest.split(')').next()) {
            if link.starts_with("http") || link.starts_with("mailto:") {
                continue;
            }
            let (target, fragment) = link.split_once('#').map_or((link, None), |(t, f)| (t, Some(f)));
            let target = if target.is_empty() { file.clone() } else { file.parent().unwrap().join(target) };
            if !target.exists() {
                broken.push(format!("{}: {link}: no such file", file.display()));
            } else if let Some(f) = fragment
                && !anchors(&target).iter().any(|a| a == f)
            {
                broken.push(format!("{}: {link}: no heading makes #{f}", file.display()));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    // The book's table of contents names every page.
    let summary = std::fs::read_to_string(root.join("docs/SUMMARY.md")).unwrap();
    for (name, _) in reference().into_iter().filter(|(n, _)| n != "SUMMARY.md") {
        assert!(summary.contains(&format!("]({name})")), "docs/SUMMARY.md does not list {name}");
    }
}

/// Every metric the daemon registers is in the reference's metrics page.
#[test]
fn the_reference_names_every_metric() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("src/metrics.rs")).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap();
    let page = std::fs::read_to_string(root.join("docs/metrics.md")).unwrap();
    let names: Vec<&str> =
        code.split('"').filter(|s| s.starts_with("offhours_") && s.chars().all(|c| c.is_ascii_lowercase() || c == '_')).collect();
    assert!(names.len() > 10, "found only {names:?}");
    let missing: Vec<&&str> = names.iter().filter(|n| !page.contains(&format!("`{n}"))).collect();
    assert!(missing.is_empty(), "docs/metrics.md does not name {missing:?}");
}

/// Every JSON key `apply`, `plan` and `suggest` print is named in the reference (as
/// `"key"`): a key added to the output without its documentation fails here.
#[test]
fn the_reference_names_every_json_key() {
    use crate::jobs::apply::ApplyReport;
    use crate::jobs::preview::{FireView, PlanReport, PlannedResource, SchedulePlan};
    use crate::jobs::suggest::{Failure, Left, Member, SuggestReport, Suggested, Tagged};
    use crate::model::{AccountFailure, Action, Deployment, ListFailure, Outcome, Resource, ResourceResult};
    use serde_json::Value;

    fn keys(v: &Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    out.insert(k.clone());
                    keys(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| keys(i, out)),
            _ => {}
        }
    }
    let some = || Some("x".to_string());
    let kind = crate::kinds::ec2::KIND;
    let result = ResourceResult {
        account: "1".into(),
        account_name: some(),
        kind,
        id: "i".into(),
        size: some(),
        engine: some(),
        deployment: Some(Deployment::SingleAz),
        region: "r".into(),
        name: some(),
        before: "b".into(),
        after: some(),
        outcome: Outcome::Stopped,
        reason: some(),
        request_id: some(),
    };
    let apply = ApplyReport {
        schedule: "s".into(),
        action: Action::Stop,
        dry_run: false,
        results: vec![result],
        errors: vec![ListFailure { account: "1".into(), account_name: some(), kind, region: "r".into(), error: "e".into() }],
        failed_accounts: vec![AccountFailure { account: "1".into(), account_name: some(), error: "e".into() }],
        calls: Default::default(),
        duration: Default::default(),
    };
    let planned = PlannedResource {
        account: "1".into(),
        account_name: some(),
        kind,
        id: "i".into(),
        region: "r".into(),
        name: some(),
        state: "s".into(),
        decision: "stop",
        reason: some(),
        snoozed_until: some(),
    };
    let fire = || Some(FireView { action: Action::Stop, at: "t".into() });
    let order = crate::plan::order::OrderView { start: "a".into(), stop: "b".into(), on_failure: "halt" };
    let plan = PlanReport {
        at: "t".into(),
        schedules: vec![SchedulePlan {
            schedule: "s".into(),
            timezone: "z".into(),
            last_fire: fire(),
            next_fire: fire(),
            order: Some(order),
            resources: vec![planned],
            alarms: Some(vec![crate::jobs::preview::PlannedAlarm {
                account: "1".into(),
                region: "r".into(),
                name: "a".into(),
                actions_enabled: true,
            }]),
        }],
        failed_accounts: vec![AccountFailure { account: "1".into(), account_name: some(), error: "e".into() }],
    };
    let resource = Resource {
        kind,
        id: "i".into(),
        region: "r".into(),
        state: "s".into(),
        tags: Default::default(),
        state_reason: None,
        size: None,
        engine: None,
        deployment: None,
        detail: Default::default(),
    };
    let member = Member {
        id: "i".into(),
        kind,
        account: "1".into(),
        region: "r".into(),
        name: some(),
        schedule_now: some(),
        schedule_now_hours_off_per_week: Some(1),
        schedule_now_busy_hours_off: Some(1),
        idle_hours_per_week: 1,
        governed: crate::savings::Governed::of(&resource),
        resource,
    };
    let suggest = SuggestReport {
        since: "a".into(),
        until: "b".into(),
        schedules: vec![Suggested {
            name: "n".into(),
            timezone: "z".into(),
            start: "a".into(),
            stop: "b".into(),
            resources: vec![member],
            hours_off_per_week: 1,
            monthly_savings: Some(Default::default()),
            currency: "USD".into(),
            unpriced_resources: 0,
        }],
        left_out: vec![Left {
            id: "i".into(),
            kind,
            account: "1".into(),
            region: "r".into(),
            reason: "x".into(),
            schedule_now: some(),
            schedule_now_busy_hours_off: Some(1),
        }],
        errors: vec![Failure { account: "1".into(), region: "r".into(), kind: Some(kind), error: "e".into() }],
        calls: Default::default(),
    };
    let tagged =
        Tagged { account: "1".into(), kind, id: "i".into(), region: "r".into(), schedule: "s".into(), outcome: "tagged", reason: some() };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reference = reference().into_iter().map(|(_, text)| text).collect::<String>();
    let mut missing = Vec::new();
    for value in [
        serde_json::to_value(&apply).unwrap(),
        serde_json::to_value(&plan).unwrap(),
        serde_json::to_value(&suggest).unwrap(),
        serde_json::to_value(&tagged).unwrap(),
    ] {
        let mut found = std::collections::BTreeSet::new();
        keys(&value, &mut found);
        missing.extend(found.into_iter().filter(|k| !reference.contains(&format!("\"{k}\""))));
    }
    assert!(missing.is_empty(), "docs/ does not name the JSON keys {missing:?} ({})", root.join("docs").display());
}
