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

#[test]
fn the_readme_names_every_config_field() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
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
        assert!(described, "README.md does not describe `{field}`");
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

/// The README's command table names every command and, in its row, every flag of it:
/// checked against the clap definitions `--help` prints, so neither drifts.
#[test]
fn the_readme_documents_every_command_and_flag() {
    use clap::CommandFactory;
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("## Command line").expect("a Command line section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let cli = crate::cli::Cli::command();
    for arg in cli.get_arguments().filter_map(|a| a.get_long()) {
        assert!(section.contains(&format!("--{arg}")), "README's Command line does not show the global --{arg}");
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
    assert!(missing.is_empty(), "README's command table lacks: {missing:?}");
}
