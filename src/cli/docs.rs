//! `offhours completions` and `offhours man`: shell completion scripts and man pages,
//! generated from the same clap definitions as `--help`, so none can drift from it.

use std::path::Path;

use clap::CommandFactory;

use super::{Cli, EXIT_FAILED, EXIT_OK};

/// Prints the completion script of `shell` (bash, zsh or fish) on stdout.
pub fn completions(shell: &str) -> u8 {
    let Ok(shell) = shell.parse::<clap_complete::Shell>() else {
        eprintln!("offhours: no completions for `{shell}` (bash, zsh or fish)");
        return super::EXIT_USAGE;
    };
    clap_complete::generate(shell, &mut Cli::command(), "offhours", &mut std::io::stdout());
    EXIT_OK
}

/// The man pages: `offhours.1`, and `offhours-COMMAND.1` for each command.
pub fn pages() -> Vec<(String, Vec<u8>)> {
    let cmd = Cli::command();
    let mut out = Vec::new();
    let mut render = |name: String, cmd: clap::Command| {
        let mut page = Vec::new();
        // Rendering into memory cannot fail.
        let _ = clap_mangen::Man::new(cmd).render(&mut page);
        out.push((format!("{name}.1"), page));
    };
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("offhours-{}", sub.get_name());
        render(name.clone(), sub.clone().name(name));
    }
    render("offhours".into(), cmd);
    out.sort();
    out
}

/// Writes the man pages into `dir` (created if missing), one path a line on stdout.
pub fn man(dir: &Path) -> u8 {
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("offhours: {}: cannot create it: {e}", dir.display());
        return EXIT_FAILED;
    }
    for (name, page) in pages() {
        let path = dir.join(&name);
        if let Err(e) = std::fs::write(&path, page) {
            eprintln!("offhours: {}: cannot write it: {e}", path.display());
            return EXIT_FAILED;
        }
        out!("{}", path.display());
    }
    EXIT_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_completes_every_command_and_flag() {
        for shell in [clap_complete::Shell::Bash, clap_complete::Shell::Zsh, clap_complete::Shell::Fish] {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "offhours", &mut script);
            let script = String::from_utf8(script).unwrap();
            for word in ["suggest", "snooze", "report", "state-dir"] {
                assert!(script.contains(word), "{shell}: {word}");
            }
        }
    }

    #[test]
    fn each_command_has_its_man_page() {
        let pages = pages();
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        let commands = Cli::command().get_subcommands().filter(|s| s.get_name() != "help").count();
        assert_eq!(pages.len(), commands + 1, "{names:?}");
        assert!(names.contains(&"offhours.1") && names.contains(&"offhours-suggest.1"), "{names:?}");
        let suggest = String::from_utf8(pages.iter().find(|(n, _)| n == "offhours-suggest.1").unwrap().1.clone()).unwrap();
        assert!(suggest.starts_with(".ie") || suggest.contains(".TH offhours-suggest"), "{suggest}");
        assert!(suggest.contains("\\-\\-days"), "{suggest}");
    }
}
