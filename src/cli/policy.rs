//! `offhours policy`: the IAM policy to attach to offhours' role.

use super::{Cli, EXIT_OK, print_json};
use crate::config;
use crate::policy::{Features, document};

pub fn run(cli: &Cli, snooze: bool) -> u8 {
    // With a readable, valid file, only what it turns on; otherwise everything.
    let mut features = config::load(&cli.config).map_or_else(|_| Features::all(), |c| Features::of(&c));
    features.snooze |= snooze;
    print_json(&document(features));
    EXIT_OK
}
