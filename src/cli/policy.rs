//! `offhours policy`: the IAM policy to attach to offhours' role; across accounts, the
//! hub's and the member role's (`--role` prints one of them, for `put-role-policy`).

use super::{Cli, EXIT_OK, EXIT_USAGE, print_json};
use crate::config;
use crate::policy::{Features, Role, output};

/// `role`: only the hub's or the member's policy (a file with other accounts). The
/// policy is the file's; a file that cannot be read or is invalid fails as `check`
/// does (every error, exit 2), never silently widening to every feature. Every feature
/// only with `all`, or when no file is at the default path.
pub fn run(cli: &Cli, snooze: bool, role: Option<Role>, for_suggest: bool, all: bool) -> u8 {
    let every = || if role.is_some() { Features::all_accounts() } else { Features::all() };
    let mut features = if all {
        every()
    } else {
        match config::load(&cli.config) {
            Ok(c) => Features::of(&c),
            Err(config::LoadError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound && cli.config == std::path::Path::new(config::DEFAULT_PATH) =>
            {
                eprintln!("offhours: no file at {}: the policy of every feature (--config FILE for a file's own)", config::DEFAULT_PATH);
                every()
            }
            Err(e @ config::LoadError::Invalid(_)) => {
                eprintln!("{e}");
                return EXIT_USAGE;
            }
            Err(e) => {
                eprintln!("offhours: {e}");
                return EXIT_USAGE;
            }
        }
    };
    features.snooze |= snooze;
    features.suggest |= for_suggest;
    match output(&features, role) {
        Ok(policy) => {
            print_json(&policy);
            EXIT_OK
        }
        Err(message) => {
            eprintln!("offhours: {message}");
            EXIT_USAGE
        }
    }
}
