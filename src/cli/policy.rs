//! `offhours policy`: the IAM policy to attach to offhours' role; across accounts, the
//! hub's and the member role's (`--role` prints one of them, for `put-role-policy`).

use super::{Cli, EXIT_OK, EXIT_USAGE, print_json};
use crate::config;
use crate::policy::{Features, Role, output};

/// `role`: only the hub's or the member's policy (a file with other accounts).
pub fn run(cli: &Cli, snooze: bool, role: Option<Role>, for_suggest: bool) -> u8 {
    // With a readable, valid file, only what it turns on; otherwise everything (across
    // accounts when a role is asked for).
    let fallback = || if role.is_some() { Features::all_accounts() } else { Features::all() };
    let mut features = config::load(&cli.config).map_or_else(|_| fallback(), |c| Features::of(&c));
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
