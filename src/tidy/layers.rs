//! The layering, held: every `crate::` path in the source names a module of its own
//! layer or one below (ARCHITECTURE.md, "Layers"), and no two top-level modules import
//! each other, however indirectly. Test code is not held to it.

use std::collections::{BTreeMap, BTreeSet};

use super::all_sources;

/// The layers, bottom up. A module may use its own layer's modules and those below.
const LAYERS: &[&[&str]] = &[
    &["model"],
    &["schedule", "events"],
    &["aws"],
    &["kinds"],
    &["config"],
    &["plan", "savings", "audit", "billing", "policy", "accounts", "suggest"],
    &["store"],
    &["jobs"],
    &["metrics", "notify", "http"],
    &["daemon"],
    &["cli"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The source without its test modules (`#[cfg(test)]` at the start of a line and the
/// `mod` block after it) and without comments, line by line (numbers kept).
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut depth_in_test: Option<i64> = None;
    let mut pending_test = false;
    for (i, line) in text.lines().enumerate() {
        if let Some(depth) = depth_in_test.as_mut() {
            *depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
            if *depth <= 0 && line.contains('}') {
                depth_in_test = None;
            }
            continue;
        }
        if line == "#[cfg(test)]" {
            pending_test = true;
            continue;
        }
        if pending_test {
            pending_test = false;
            let depth = line.matches('{').count() as i64 - line.matches('}').count() as i64;
            if depth > 0 {
                depth_in_test = Some(depth);
            }
            continue;
        }
        let code = line.split("//").next().unwrap_or_default();
        out.push((i + 1, code.to_string()));
    }
    out
}

/// The top-level modules a line of code names after `crate::` (grouped `use`
/// included); a `use` spanning lines is read whole from its first line.
fn named(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in code.split("crate::").skip(1) {
        if let Some(group) = part.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(std::mem::take(&mut item));
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.push(item);
        } else {
            out.push(part.to_string());
        }
    }
    out.into_iter()
        .map(|p| p.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>())
        .filter(|m| !m.is_empty())
        .collect()
}

/// Every (file's module, line, file, named module) in the crate's code, `use`
/// statements over several lines joined.
fn imports() -> Vec<(String, String, usize, String)> {
    let mut out = Vec::new();
    for (path, text) in all_sources() {
        let rel = path.split("/src/").nth(1).unwrap_or(&path).to_string();
        let module = rel.split(['/', '.']).next().unwrap_or_default().to_string();
        if layer(&module).is_none() {
            continue; // lib.rs, main.rs, tidy
        }
        let lines = code_lines(&text);
        let mut i = 0;
        while i < lines.len() {
            let (number, mut code) = lines[i].clone();
            if code.trim_start().starts_with("use crate::") || code.trim_start().starts_with("pub use crate::") {
                while !code.contains(';') && i + 1 < lines.len() {
                    i += 1;
                    code.push_str(&lines[i].1);
                }
            }
            for used in named(&code) {
                if used != module {
                    out.push((module.clone(), rel.clone(), number, used));
                }
            }
            i += 1;
        }
    }
    out
}

#[test]
fn imports_go_down_the_layers() {
    let mut wrong = Vec::new();
    for (module, file, line, used) in imports() {
        match (layer(&module), layer(&used)) {
            (Some(from), Some(to)) if to > from => wrong.push(format!(
                "src/{file}:{line}: {module} (layer {from}) uses {used} (layer {to}): a module uses only its own layer and those below"
            )),
            (_, None) => wrong.push(format!("src/{file}:{line}: {used} is in no layer: add it to LAYERS and to ARCHITECTURE.md")),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{} upward imports:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn no_two_modules_import_each_other() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut example: BTreeMap<(String, String), String> = BTreeMap::new();
    for (module, file, line, used) in imports() {
        example.entry((module.clone(), used.clone())).or_insert(format!("src/{file}:{line}"));
        edges.entry(module).or_default().insert(used);
    }
    // A module reaches itself through its imports: a circle.
    let mut circles = Vec::new();
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<Vec<String>> = vec![vec![start.clone()]];
        while let Some(trail) = stack.pop() {
            let last = trail.last().expect("never empty");
            for next in edges.get(last).into_iter().flatten() {
                if next == start {
                    let hops: Vec<String> = trail
                        .windows(2)
                        .chain([[last.clone(), next.clone()].as_slice()])
                        .map(|w| example[&(w[0].clone(), w[1].clone())].clone())
                        .collect();
                    circles.push(format!("{} -> {start} ({})", trail.join(" -> "), hops.join(", ")));
                } else if seen.insert(next.clone()) {
                    stack.push([trail.clone(), vec![next.clone()]].concat());
                }
            }
        }
    }
    assert!(circles.is_empty(), "{} circles:\n{}", circles.len(), circles.join("\n"));
}

#[test]
fn the_reader_finds_grouped_and_inline_paths() {
    assert_eq!(named("use crate::{aws::X, kinds::{a, b}, model};"), ["aws", "kinds", "model"]);
    assert_eq!(named("let x = crate::kinds::of(k).adapter(); crate::aws::GLOBAL_REGION"), ["kinds", "aws"]);
    let text = "use crate::model::Kind;\n// crate::cli in a comment\n#[cfg(test)]\nmod tests {\n    use crate::cli;\n}\nfn f() { crate::store::x(); }\n";
    let lines: Vec<(usize, Vec<String>)> =
        code_lines(text).into_iter().map(|(n, c)| (n, named(&c))).filter(|(_, m)| !m.is_empty()).collect();
    assert_eq!(lines, [(1, vec!["model".to_string()]), (7, vec!["store".to_string()])]);
}
