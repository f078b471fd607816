//! `offhours policy`: the IAM policy to attach to offhours' role.

use super::{Cli, EXIT_OK, print_json};
use crate::config;
use crate::policy::{Features, document};

pub fn run(cli: &Cli) -> u8 {
    // With a readable, valid file, only what it turns on; otherwise everything.
    let features = config::load(&cli.config).map_or(Features::ALL, |c| Features::of(&c));
    print_json(&document(features));
    EXIT_OK
}
