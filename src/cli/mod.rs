//! Command line: argument parsing, logging set-up, and rendering results as text or
//! JSON. Decisions and AWS calls live in the library; this is only the front.
//!
//! Layout: one file per command (`check`, `plan`, `apply`, `run` (with `health` and
//! `reload`), `keys` for `audit-keys`, `billing`, `policy`).

/// `println!` that does not panic when stdout is closed early (`offhours plan | head`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// The value of a `Result`, or the end of the command: `offhours: ERROR` on stderr and
/// exit [`EXIT_FAILED`].
macro_rules! or_fail {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(e) => {
                eprintln!("offhours: {e}");
                return $crate::cli::EXIT_FAILED;
            }
        }
    };
}

mod apply;
mod billing;
mod check;
mod docs;
mod hold;
mod keys;
mod plan;
mod policy;
mod report;
mod run;
mod snooze;
mod state;
mod suggest;
mod tags;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{self, Config, LoadError};
use crate::model::Kind;

/// Exit status: everything went as asked.
pub const EXIT_OK: u8 = 0;
/// An action or an AWS call failed.
pub const EXIT_FAILED: u8 = 1;
/// Bad usage or a bad config file.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "offhours",
    version,
    about = "Start and stop cloud resources on local-time cron schedules: EC2, RDS, Aurora, Auto Scaling, ECS, Redshift, EKS node groups, SageMaker notebooks"
)]
pub struct Cli {
    /// The config file.
    #[arg(long, global = true, env = "OFFHOURS_CONFIG", default_value = config::DEFAULT_PATH)]
    pub config: PathBuf,
    /// Output format of the command's result (stdout).
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    /// Format of the log events (stderr).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "OFFHOURS_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Change nothing on AWS; report what would be done.
    #[arg(long, global = true)]
    pub dry_run: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// `[schedules.*]` tables (`suggest` only).
    Toml,
}

/// How log events are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One line per event, fields as `key=value`.
    Text,
    /// One JSON object per event.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the file and print the next fire times of every job.
    Check {
        /// Count fires from this instant (RFC 3339) instead of now.
        #[arg(long, value_parser = parse_instant)]
        from: Option<DateTime<Utc>>,
        /// How many fires to show per job.
        #[arg(long, default_value_t = 5)]
        next: usize,
        /// Where the last good copies of calendar feeds are kept (used when a feed cannot
        /// be fetched) [default: $STATE_DIRECTORY, else /var/lib/offhours].
        #[arg(long)]
        state_dir: Option<PathBuf>,
        /// Also read every account and region for resources that schedule themselves by
        /// their tags (`offhours:stop`, `offhours:start`) and check each such tag.
        #[arg(long)]
        tags: bool,
    },
    /// Show which instances each schedule governs and what it would do (read-only).
    Plan {
        /// Evaluate at this instant (RFC 3339) instead of now.
        #[arg(long, value_parser = parse_instant)]
        at: Option<DateTime<Utc>>,
        /// The daemon's state directory, whose holds (`offhours hold`) the plan follows with
        /// `[state] backend = "file"` [default: $STATE_DIRECTORY, else /var/lib/offhours].
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Carry out one action of one schedule now, in every configured region.
    Apply {
        /// The schedule's name, as in [schedules.NAME].
        schedule: String,
        /// `start` or `stop`.
        #[arg(value_parser = ["start", "stop"])]
        action: String,
        /// The daemon's state directory, whose ledger records the action (none there:
        /// not recorded) [default: $STATE_DIRECTORY, else /var/lib/offhours].
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Audit IAM access keys: too old, unused, root keys, two active keys.
    AuditKeys {
        /// Evaluate as of this instant (RFC 3339) instead of now.
        #[arg(long, value_parser = parse_instant)]
        at: Option<DateTime<Utc>>,
        /// Set stale keys Inactive (with every guard), even if the file does not say so.
        #[arg(long)]
        deactivate: bool,
    },
    /// Make sure the billing alarm exists as the file describes (create, restore, or warn).
    BillingAlarm,
    /// Print the least-privilege IAM policy the service needs.
    Policy {
        /// Add what `offhours snooze` needs (for the people who snooze resources).
        #[arg(long)]
        snooze: bool,
        /// With other accounts: print only the hub's or the member role's policy.
        #[arg(long, value_enum)]
        role: Option<crate::policy::Role>,
        /// Add what a command needs beyond the file's features: `suggest` (its metrics).
        #[arg(long = "for", value_parser = ["suggest"])]
        for_: Vec<String>,
        /// Every feature's policy, whatever the file says.
        #[arg(long)]
        all: bool,
    },
    /// Keep one resource out of its schedule until a time: sets the override tag to that
    /// instant (or removes it with --clear). Stops and starts leave it alone meanwhile.
    Snooze {
        /// The resource: an instance id, a DB instance or cluster identifier, an Auto
        /// Scaling group name, an ECS service ARN.
        id: String,
        /// The resource's kind [default: ec2 for an i- id, else every kind the file uses].
        #[arg(long, value_parser = parse_kind)]
        kind: Option<Kind>,
        /// The resource's region [default: every region of the file].
        #[arg(long)]
        region: Option<String>,
        /// The resource's account, by id or name, with [[accounts]] or [organization]
        /// [default: every account of the file].
        #[arg(long)]
        account: Option<String>,
        /// How long from now, e.g. 2h or 90m.
        #[arg(long = "for", value_parser = config::parse_duration, conflicts_with_all = ["until", "clear"])]
        for_: Option<std::time::Duration>,
        /// Until when: 21:00, 2026-11-24 21:00 (the file's timezone) or an RFC 3339 instant.
        #[arg(long, conflicts_with = "clear")]
        until: Option<String>,
        /// Remove the override tag: the schedule governs the resource again.
        #[arg(long)]
        clear: bool,
    },
    /// Keep a schedule's resources on (or off) until a time without editing the file:
    /// no stop (no start) fires inside the hold, and with --on its resources are started
    /// when it begins. Stored in the state backend; it ends by itself.
    Hold {
        /// The schedule's name, as in [schedules.NAME].
        #[arg(required_unless_present = "list")]
        schedule: Option<String>,
        /// Keep its resources on: no stop inside the hold, a start when it begins.
        #[arg(long, conflicts_with_all = ["off", "clear", "list"], required_unless_present_any = ["off", "clear", "list"])]
        on: bool,
        /// Keep its resources off: no start inside the hold.
        #[arg(long, conflicts_with_all = ["clear", "list"])]
        off: bool,
        /// When it ends: 2027-07-20 (the whole day), 21:00, 2027-07-20 08:00 (the
        /// schedule's timezone) or an RFC 3339 instant.
        #[arg(long, required_unless_present_any = ["clear", "list"], conflicts_with_all = ["clear", "list"])]
        until: Option<String>,
        /// When it begins, as --until (a date: its first moment) [default: now].
        #[arg(long, conflicts_with_all = ["clear", "list"])]
        from: Option<String>,
        /// Why, for the log, the notices and the status page.
        #[arg(long, conflicts_with_all = ["clear", "list"])]
        reason: Option<String>,
        /// Print every hold in force.
        #[arg(long, conflicts_with = "clear")]
        list: bool,
        /// Remove the schedule's hold: its fires act as usual again.
        #[arg(long)]
        clear: bool,
        /// The daemon's state directory, where holds are kept with `[state] backend =
        /// "file"` [default: $STATE_DIRECTORY, else /var/lib/offhours].
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Run the daemon: fire every job on time; SIGHUP reloads, SIGTERM stops.
    Run {
        /// Where the state file and heartbeat live [default: $STATE_DIRECTORY, else /var/lib/offhours].
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Validate the file, make the running daemon reload it, and wait for the outcome
    /// (systemd's ExecReload): exit 0 when applied, 1 when the daemon rejected it.
    Reload {
        /// The daemon's process id [default: $MAINPID, as systemd sets it for ExecReload].
        #[arg(long, env = "MAINPID")]
        pid: Option<i32>,
        /// The daemon's state directory [default: $STATE_DIRECTORY, else /var/lib/offhours].
        #[arg(long)]
        state_dir: Option<PathBuf>,
        /// How long to wait for the daemon to report the reload.
        #[arg(long, default_value = "90s", value_parser = config::parse_duration)]
        timeout: std::time::Duration,
    },
    /// Resource-hours kept off by offhours and an estimate of the money saved, from the
    /// daemon's ledger.
    Report {
        /// From this long ago (e.g. 30d) or this instant (RFC 3339).
        #[arg(long, default_value = "30d", value_parser = parse_since)]
        since: Since,
        /// Up to this instant (RFC 3339) [default: now].
        #[arg(long, value_parser = parse_instant)]
        until: Option<DateTime<Utc>>,
        /// Group the rows by `schedule`, `kind`, `account` or `type`.
        #[arg(long, default_value = "schedule", value_parser = ["schedule", "kind", "account", "type"])]
        by: String,
        /// The daemon's state directory [default: $STATE_DIRECTORY, else /var/lib/offhours].
        #[arg(long)]
        state_dir: Option<PathBuf>,
        /// CSV on stdout instead of `--output`.
        #[arg(long)]
        csv: bool,
    },
    /// Suggest schedules from each resource's own hourly utilization (CloudWatch), with
    /// the hours off and the money they would save (read-only).
    Suggest {
        /// How many days of hourly metrics to read (7 to 63) [default: [suggest] days, 14].
        #[arg(long)]
        days: Option<u32>,
        /// Only these kinds, comma-separated [default: the file's kinds].
        #[arg(long, value_delimiter = ',', value_parser = parse_kind)]
        kinds: Vec<Kind>,
        /// Only these accounts (ids or names), comma-separated.
        #[arg(long, value_delimiter = ',')]
        accounts: Vec<String>,
        /// Only these regions, comma-separated [default: the file's].
        #[arg(long, value_delimiter = ',')]
        regions: Vec<String>,
        /// Only resources carrying this tag (KEY=VALUE; repeat for several). Alone, without
        /// a value: write the schedule tag on the suggested resources (what would be
        /// tagged, unless --yes).
        #[arg(long = "tag", num_args = 0..=1, default_missing_value = "")]
        tags: Vec<String>,
        /// With a bare --tag: write the tags (else only list what would be tagged).
        #[arg(long)]
        yes: bool,
        /// Read the weeks in this IANA timezone [default: the file's].
        #[arg(long)]
        timezone: Option<chrono_tz::Tz>,
        /// Where the Price List cache is [default: $STATE_DIRECTORY, else /var/lib/offhours].
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Print a shell completion script: bash, zsh or fish.
    Completions {
        #[arg(value_parser = ["bash", "zsh", "fish"])]
        shell: String,
    },
    /// Write the man pages (offhours.1 and offhours-COMMAND.1 for each command) into a
    /// directory.
    Man {
        /// Where the pages go (created if missing).
        dir: PathBuf,
    },
    /// Create the DynamoDB table of `[state] backend = "dynamodb"` (on-demand billing, time
    /// to live on `expires_at`); a table already there with the right keys passes.
    InitState,
    /// Copy a state file's watermarks into the `[state]` table, once, before any replica
    /// runs on it (a second run writes nothing).
    MigrateState {
        /// The state directory whose state.json is copied [default: $STATE_DIRECTORY, else /var/lib/offhours].
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Exit 0 if the daemon's loop ran recently and can record its state (for container
    /// health checks); 1 when stale, stopped, or its state file cannot be written.
    Health {
        /// The daemon's state directory [default: $STATE_DIRECTORY, else /var/lib/offhours].
        #[arg(long)]
        state_dir: Option<PathBuf>,
        /// How old the last loop may be.
        #[arg(long, default_value = "90s", value_parser = config::parse_duration)]
        max_age: std::time::Duration,
    },
}

/// `--since`: a duration before `--until`, or an instant.
#[derive(Debug, Clone, Copy)]
pub enum Since {
    Ago(std::time::Duration),
    At(DateTime<Utc>),
}

fn parse_since(text: &str) -> Result<Since, String> {
    if let Ok(d) = config::parse_duration(text) {
        return Ok(Since::Ago(d));
    }
    parse_instant(text).map(Since::At).map_err(|_| format!("`{text}` is neither a duration (30d) nor an RFC 3339 instant"))
}

fn parse_kind(text: &str) -> Result<Kind, String> {
    crate::kinds::parse(text).ok_or_else(|| format!("unknown kind `{text}` (valid: {})", crate::kinds::names()))
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    if text == "now" {
        return Ok(Utc::now());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{text}` is not an RFC 3339 instant such as 2026-03-30T08:00:00+02:00 ({e})"))
}

/// Parses the command line, runs the command, and returns the process's exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    if cli.output == Format::Toml && !matches!(cli.command, Command::Suggest { .. }) {
        eprintln!("offhours: --output toml is for suggest only");
        return ExitCode::from(EXIT_USAGE);
    }
    init_logging(cli.log_format);
    let code = match &cli.command {
        Command::Check { from, next, state_dir, tags } => {
            with_runtime(|| check::run(&cli, from.unwrap_or_else(Utc::now), *next, run::state_dir(state_dir.clone()), *tags))
        }
        Command::Policy { snooze, role, for_, all } => policy::run(&cli, *snooze, *role, for_.iter().any(|f| f == "suggest"), *all),
        Command::BillingAlarm => with_runtime(|| billing::run(&cli)),
        Command::AuditKeys { at, deactivate } => with_runtime(|| keys::run(&cli, at.unwrap_or_else(Utc::now), *deactivate)),
        Command::Plan { at, state_dir } => with_runtime(|| plan::run(&cli, at.unwrap_or_else(Utc::now), run::state_dir(state_dir.clone()))),
        Command::Run { state_dir } => with_daemon_runtime(|| run::run(&cli, run::state_dir(state_dir.clone()))),
        Command::InitState => with_runtime(|| state::init(&cli)),
        Command::Completions { shell } => docs::completions(shell),
        Command::Man { dir } => docs::man(dir),
        Command::MigrateState { state_dir } => with_runtime(|| state::migrate(&cli, run::state_dir(state_dir.clone()))),
        Command::Health { state_dir, max_age } => run::health(run::state_dir(state_dir.clone()), *max_age),
        Command::Reload { pid, state_dir, timeout } => {
            with_runtime(|| run::reload(&cli, *pid, run::state_dir(state_dir.clone()), *timeout))
        }
        Command::Snooze { id, kind, region, account, for_, until, clear } => with_runtime(|| {
            let args = snooze::Args {
                id,
                kind: *kind,
                region: region.as_deref(),
                account: account.as_deref(),
                for_: *for_,
                until: until.as_deref(),
                clear: *clear,
            };
            snooze::run(&cli, args)
        }),
        Command::Hold { schedule, on, off: _, until, from, reason, list, clear, state_dir } => with_runtime(|| {
            let what = match (*list, *clear, schedule.as_deref()) {
                (true, _, name) => hold::What::List(name),
                (false, true, Some(name)) => hold::What::Clear(name),
                (false, false, Some(name)) => hold::What::Set {
                    schedule: name,
                    keep: if *on { config::Keep::On } else { config::Keep::Off },
                    from: from.as_deref(),
                    until: until.as_deref().unwrap_or_default(),
                    reason: reason.as_deref(),
                },
                (false, _, None) => unreachable!("clap requires a schedule without --list"),
            };
            hold::run(&cli, what, run::state_dir(state_dir.clone()))
        }),
        Command::Report { since, until, by, state_dir, csv } => {
            let until = until.unwrap_or_else(Utc::now);
            let since = match since {
                Since::Ago(d) => until - chrono::TimeDelta::from_std(*d).unwrap_or(chrono::TimeDelta::MAX),
                Since::At(t) => *t,
            };
            let by = crate::savings::GroupBy::parse(by).expect("clap checked the value");
            let args = report::Args { since, until, by, state_dir: run::state_dir(state_dir.clone()), csv: *csv };
            with_runtime(|| report::run(&cli, args))
        }
        Command::Suggest { days, kinds, accounts, regions, tags, yes, timezone, state_dir } => {
            let args = suggest::Args {
                days: *days,
                kinds: kinds.clone(),
                accounts: accounts.clone(),
                regions: regions.clone(),
                tags: tags.clone(),
                yes: *yes,
                timezone: *timezone,
                state_dir: run::state_dir(state_dir.clone()),
            };
            with_runtime(|| suggest::run(&cli, args))
        }
        Command::Apply { schedule, action, state_dir } => {
            let action = action.parse().expect("clap checked the value");
            let state_dir = run::state_dir(state_dir.clone());
            with_runtime(|| apply::run(&cli, schedule, action, &state_dir))
        }
    };
    ExitCode::from(code)
}

/// The daemon's runtime: one thread. It mostly sleeps, its work is waiting on AWS, and
/// every extra worker costs resident memory (a stack and a malloc arena) for nothing;
/// measured in docs/performance.md. Blocking work (DNS, files) still goes to tokio's
/// blocking pool, whose threads end when idle.
fn with_daemon_runtime<F, Fut>(f: F) -> u8
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = u8>,
{
    match tokio::runtime::Builder::new_current_thread().enable_all().max_blocking_threads(4).build() {
        Ok(rt) => rt.block_on(f()),
        Err(e) => {
            eprintln!("offhours: cannot start the async runtime: {e}");
            EXIT_FAILED
        }
    }
}

/// The commands' runtime: two workers. Its blocking pool resolves host names (one
/// lookup per new connection): bounded, so that hundreds of accounts connecting at once
/// queue a few lookups instead of starting a thread (a stack and a malloc arena) each.
fn with_runtime<F, Fut>(f: F) -> u8
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = u8>,
{
    match tokio::runtime::Builder::new_multi_thread().worker_threads(2).max_blocking_threads(16).enable_all().build() {
        Ok(rt) => rt.block_on(f()),
        Err(e) => {
            eprintln!("offhours: cannot start the async runtime: {e}");
            EXIT_FAILED
        }
    }
}

/// Log events go to stderr: text (coloured on a terminal) or JSON lines. The level
/// comes from `OFFHOURS_LOG` (e.g. `debug`), default `info`.
pub fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("OFFHOURS_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn,aws_smithy_runtime_api=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
}

/// Loads the file; on failure prints every error to stderr.
pub fn load_config(cli: &Cli) -> Result<Config, u8> {
    match config::load(&cli.config) {
        Ok(mut c) => {
            c.dry_run |= cli.dry_run;
            Ok(c)
        }
        Err(e @ LoadError::Invalid(_)) => {
            eprintln!("{e}");
            Err(EXIT_USAGE)
        }
        Err(e) => {
            eprintln!("offhours: {e}");
            Err(EXIT_USAGE)
        }
    }
}

/// Connects to AWS and settles the accounts and regions to act in; on failure prints why.
pub async fn connect(config: &Config) -> Result<(crate::aws::Aws, Vec<crate::jobs::targets::Target>), u8> {
    let aws = crate::aws::Aws::connect(&config.aws).await;
    match crate::jobs::targets::targets(&aws, config).await {
        Ok(targets) => Ok((aws, targets)),
        Err(e) => {
            eprintln!("offhours: {e}");
            Err(EXIT_FAILED)
        }
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) {
    out!("{}", serde_json::to_string_pretty(value).expect("serializable"));
}
