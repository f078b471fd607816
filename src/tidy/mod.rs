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
