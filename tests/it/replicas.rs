//! Two replicas on one DynamoDB table (`[state] backend = "dynamodb"`), on a moto of
//! their own served one request at a time (its conditional writes are atomic only so):
//! one leader fires, a standby takes over when the leader dies or pauses, an old leader
//! that wakes up starts nothing, and across random kills every fire is carried out and
//! none twice, counted in the StartInstances and StopInstances calls moto received.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use serde_json::Value;

use crate::daemon::HEADER;
use crate::support::{Account, PrivateMoto, control};

/// A fire every 2 s: stops on multiples of 4 s, starts in between.
const SCHEDULE: &str = "[schedules.blink]\nstop = \"*/4 * * * * *\"\nstart = \"2-59/4 * * * * *\"\n";
const LEASE_S: u64 = 2;

fn config_text() -> String {
    format!(
        "{HEADER}max_lateness = \"10m\"\n[state]\nbackend = \"dynamodb\"\ntable = \"offhours-state\"\nlease = \"{LEASE_S}s\"\n{SCHEDULE}"
    )
}

struct Replica {
    child: Child,
    log: PathBuf,
    state: PathBuf,
    name: String,
}

impl Replica {
    fn start(account: &Account, config: &Path, name: &str) -> Replica {
        let log = account.dir.path().join(format!("{name}.log"));
        let state = account.dir.path().join(format!("state-{name}"));
        let child = account
            .offhours(&["run", "--config", config.to_str().unwrap(), "--state-dir", state.to_str().unwrap(), "--log-format", "json"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start a replica");
        let r = Replica { child, log, state, name: name.to_string() };
        r.wait_for("daemon start", Duration::from_secs(30), |e| e["message"] == "Daemon started.");
        r
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    #[track_caller]
    fn wait_for(&self, what: &str, within: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + within;
        loop {
            if let Some(e) = self.events().into_iter().find(|e| pred(e)) {
                return e;
            }
            assert!(Instant::now() < deadline, "{}: no {what} within {within:?}; log:\n{}", self.name, self.log_text());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the replica's heartbeat says of its role (`leader ...`, `standby: ...`).
    fn role(&self) -> String {
        let text = std::fs::read_to_string(self.state.join("heartbeat")).unwrap_or_default();
        serde_json::from_str::<Value>(&text).ok().and_then(|v| v["role"].as_str().map(str::to_string)).unwrap_or_default()
    }

    fn leads(&self) -> bool {
        self.role().starts_with("leader")
    }

    fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill").arg(format!("-{name}")).arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn fires_started(&self) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        self.events()
            .iter()
            .filter(|e| e["message"] == "Fire started.")
            .map(|e| (instant(&e["fire_at"]), instant(&e["timestamp"])))
            .collect()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

fn instant(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_default())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| panic!("not an instant: {v}"))
}

#[track_caller]
fn wait_until(what: &str, within: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let began = Instant::now();
    while !f() {
        assert!(began.elapsed() < within, "no {what} within {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    began.elapsed()
}

/// Sleeps until `offset` after the next even second of the wall clock (a fire instant).
fn sleep_to_fire_offset(offset: Duration) {
    let now = Utc::now();
    let into = Duration::from_nanos(u64::from(now.nanosecond() % 1_000_000_000)) + Duration::from_secs(u64::from(now.second() % 2));
    let to_next = Duration::from_secs(2) - into;
    std::thread::sleep(to_next + offset);
}

async fn set_up() -> (PrivateMoto, Account, PathBuf) {
    let moto = PrivateMoto::start_single_threaded();
    let account = Account::new_on(&moto.endpoint).await;
    account.launch_many("eu-west-1", 2, &[("Schedule", "blink")]).await;
    let config = account.write_config(&config_text());
    let init = account.run(&["init-state", "--config", config.to_str().unwrap()]);
    init.expect_code(0);
    assert_eq!(init.stdout().trim(), "state table offhours-state in eu-west-1: created");
    let again = account.run(&["init-state", "--config", config.to_str().unwrap()]);
    assert_eq!(again.expect_code(0).stdout().trim(), "state table offhours-state in eu-west-1: already there");
    (moto, account, config)
}

/// StartInstances and StopInstances as moto received them, in order.
fn state_calls(account: &Account) -> Vec<(DateTime<Utc>, String)> {
    let path = format!("/_offhours/call-log?access_key_id={}", account.creds.access_key_id());
    let log: Vec<(f64, String)> = serde_json::from_str(&control(&account.endpoint, "GET", &path, "")).unwrap();
    log.into_iter()
        .filter(|(_, a)| a == "StartInstances" || a == "StopInstances")
        .map(|(t, a)| (DateTime::from_timestamp_micros((t * 1e6) as i64).unwrap(), a))
        .collect()
}

/// The fire each call belongs to: the latest fire instant of its action at or before it.
fn fire_of(at: DateTime<Utc>, action: &str) -> DateTime<Utc> {
    let phase = if action == "StopInstances" { 0 } else { 2 };
    let secs = at.timestamp();
    let back = (secs - phase).rem_euclid(4);
    DateTime::from_timestamp(secs - back, 0).unwrap()
}

/// No fire acted twice: calls alternate stop and start, at most one per fire.
#[track_caller]
fn assert_no_fire_acted_twice(calls: &[(DateTime<Utc>, String)]) {
    let mut per_fire: BTreeMap<DateTime<Utc>, usize> = BTreeMap::new();
    for (at, action) in calls {
        *per_fire.entry(fire_of(*at, action)).or_default() += 1;
    }
    let twice: Vec<_> = per_fire.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "fires acted on more than once: {twice:?}; calls: {calls:?}");
    for pair in calls.windows(2) {
        assert_ne!(pair[0].1, pair[1].1, "two {} in a row: a fire acted on twice; calls: {calls:?}", pair[0].1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_leader_fires_a_killed_or_paused_leader_is_replaced_and_a_woken_one_stands_down() {
    let (_moto, account, config) = set_up().await;
    let mut a = Replica::start(&account, &config, "a");
    wait_until("replica a leading", Duration::from_secs(10), || a.leads());
    let b = Replica::start(&account, &config, "b");
    // Health names the holder: `standby: HOST:PID:ID holds the lease`.
    wait_until("replica b standing by", Duration::from_secs(10), || {
        b.role().starts_with("standby") && b.role().ends_with("holds the lease")
    });
    let health = account.run(&["health", "--state-dir", b.state.to_str().unwrap()]);
    assert!(health.expect_code(0).stdout().contains("; standby: "), "{}", health.stdout());
    let leader = account.run(&["health", "--state-dir", a.state.to_str().unwrap()]);
    assert!(leader.expect_code(0).stdout().contains("; leader (fence "), "{}", leader.stdout());

    // The leader fires; the standby does not.
    wait_until("three fires by the leader", Duration::from_secs(15), || a.fires_started().len() >= 3);
    assert!(b.fires_started().is_empty(), "the standby fired:\n{}", b.log_text());

    // kill -9 the leader just before a fire: the standby carries it out, once, within
    // the lease and a few seconds.
    sleep_to_fire_offset(Duration::ZERO);
    std::thread::sleep(Duration::from_millis(1700));
    let killed_at = Utc::now();
    a.kill();
    let fire = DateTime::from_timestamp(killed_at.timestamp() + 1, 0).unwrap();
    let fire = if fire.timestamp() % 2 == 0 { fire } else { fire + TimeDelta::seconds(1) };
    let takeover = wait_until("replica b leading", Duration::from_secs(LEASE_S + 8), || b.leads());
    let carried = b.wait_for("the fire after the kill", Duration::from_secs(LEASE_S + 8), |e| {
        e["message"] == "Fire started." && instant(&e["fire_at"]) == fire
    });
    let late = (instant(&carried["timestamp"]) - fire).to_std().unwrap_or_default();
    assert!(late < Duration::from_secs(LEASE_S + 5), "the fire at {fire} ran {late:?} late");
    eprintln!("takeover after kill -9: {takeover:?}; the fire at {fire} ran {late:?} late");
    assert!(a.fires_started().iter().all(|(f, _)| *f < fire), "the killed leader fired {fire}");

    // SIGSTOP the new leader past its lease: a third replica takes over and fires; the
    // old leader, woken, starts nothing and stands down.
    let c = Replica::start(&account, &config, "c");
    wait_until("replica c standing by", Duration::from_secs(10), || c.role().starts_with("standby"));
    sleep_to_fire_offset(Duration::from_millis(600));
    b.signal("STOP");
    let paused_at = Utc::now();
    wait_until("replica c leading", Duration::from_secs(LEASE_S + 8), || c.leads());
    wait_until("a fire by replica c", Duration::from_secs(10), || c.fires_started().iter().any(|(_, t)| *t > paused_at));
    std::thread::sleep(Duration::from_millis(2500));
    let woken_at = Utc::now();
    b.signal("CONT");
    b.wait_for("the woken leader standing down", Duration::from_secs(10), |e| {
        e["message"] == "Stood down: no fires from this replica until it leads again."
    });
    std::thread::sleep(Duration::from_secs(3));
    let after: Vec<_> = b.fires_started().into_iter().filter(|(_, t)| *t > paused_at).collect();
    assert!(after.is_empty(), "the paused leader fired after it woke at {woken_at}: {after:?}\n{}", b.log_text());
    assert!(c.leads() && !b.leads(), "c: {}; b: {}", c.role(), b.role());

    // Across the whole run: every fire from the first to the last acted at most once.
    assert_no_fire_acted_twice(&state_calls(&account));
    let all: Vec<DateTime<Utc>> = [&a, &b, &c].iter().flat_map(|r| r.fires_started()).map(|(f, _)| f).collect();
    let mut counts: BTreeMap<DateTime<Utc>, usize> = BTreeMap::new();
    for f in all {
        *counts.entry(f).or_default() += 1;
    }
    assert!(counts.values().all(|n| *n == 1), "a fire started twice: {counts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_rounds_of_random_kills_carry_out_every_fire_and_none_twice() {
    let (_moto, account, config) = set_up().await;
    let mut slots = [Replica::start(&account, &config, "r0"), Replica::start(&account, &config, "r1")];
    let mut retired: Vec<Replica> = Vec::new();
    wait_until("a leader", Duration::from_secs(10), || slots.iter().any(Replica::leads));
    let began = Utc::now();
    let mut takeovers = Vec::new();
    for round in 0..20 {
        let leader = wait_until_leader(&slots);
        std::thread::sleep(Duration::from_millis(fastrand_ms(round)));
        let killed = Instant::now();
        slots[leader].kill();
        let other = 1 - leader;
        let deadline = Instant::now() + Duration::from_secs(LEASE_S + 8);
        while !slots[other].leads() {
            if Instant::now() > deadline {
                let text = slots[other].log_text();
                let tail: Vec<&str> = text.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
                panic!(
                    "round {round}: {} did not take over within {} s; role: {}; its log's end:\n{}",
                    slots[other].name,
                    LEASE_S + 8,
                    slots[other].role(),
                    tail.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        takeovers.push(killed.elapsed());
        let fresh = Replica::start(&account, &config, &format!("r{}", round + 2));
        retired.push(std::mem::replace(&mut slots[leader], fresh));
    }
    // Every fire from the first leader on is carried out (on time or caught up) or
    // superseded by a later fire of the schedule caught up with it: polled until the
    // last leader has caught up (a loaded machine takes longer), then judged.
    let ended = Utc::now();
    let first = DateTime::from_timestamp(began.timestamp() + 2 - began.timestamp() % 2, 0).unwrap();
    let unhandled = |replicas: &[&Replica]| {
        let mut handled: BTreeMap<DateTime<Utc>, usize> = BTreeMap::new();
        for r in replicas {
            for e in r.events() {
                if e["message"] == "Fire started." || e["message"] == "Fire superseded by a later fire of the same schedule." {
                    *handled.entry(instant(&e["fire_at"])).or_default() += 1;
                }
            }
        }
        let mut fire = first;
        let mut missing = Vec::new();
        while fire < ended {
            if !handled.contains_key(&fire) {
                missing.push(fire);
            }
            fire += TimeDelta::seconds(2);
        }
        missing
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let replicas: Vec<&Replica> = retired.iter().chain(slots.iter()).collect();
    while !unhandled(&replicas).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let missing = unhandled(&replicas);
    drop(replicas);
    // Then stop both cleanly.
    for r in &slots {
        r.signal("TERM");
    }
    for r in &mut slots {
        let deadline = Instant::now() + Duration::from_secs(30);
        while r.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "{} did not stop", r.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    takeovers.sort();
    eprintln!(
        "takeover after kill -9, 20 rounds, lease {LEASE_S}s: min {:?}, median {:?}, max {:?}",
        takeovers[0], takeovers[10], takeovers[19]
    );

    assert!(missing.is_empty(), "fires never carried out: {missing:?}");
    let calls = state_calls(&account);
    assert!(calls.len() >= 20, "too few actions to judge: {calls:?}");
    assert_no_fire_acted_twice(&calls);
}

fn wait_until_leader(slots: &[Replica; 2]) -> usize {
    let mut leader = None;
    wait_until("a leader", Duration::from_secs(15), || {
        leader = slots.iter().position(Replica::leads);
        leader.is_some()
    });
    leader.unwrap()
}

/// A kill point spread over two fire periods, different every round and every run.
fn fastrand_ms(round: u64) -> u64 {
    let seed = Utc::now().timestamp_subsec_nanos() as u64 ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    seed % 4000
}

#[tokio::test]
async fn migrate_state_copies_a_state_file_once_and_a_missing_table_is_named_at_start() {
    let account = Account::new().await;
    let config = account.write_config(&config_text());
    let cfg = config.to_str().unwrap();

    // The daemon refuses to start on a table that is not there, and says what to do.
    let run = account.run(&["run", "--config", cfg, "--state-dir", account.dir.path().join("s").to_str().unwrap()]);
    assert_ne!(run.code(), 0);
    assert!(
        run.stderr().contains("state.table: table offhours-state not found in eu-west-1: create it with `offhours init-state`"),
        "{}",
        run.stderr()
    );

    account.run(&["init-state", "--config", cfg]).expect_code(0);
    let dir = account.dir.path().join("old-state");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("state.json"),
        r#"{"version":1,"handled_until":{"schedule:blink:stop":"2026-11-23T18:00:00Z","schedule:blink:start":"2026-11-23T08:00:00Z"}}"#,
    )
    .unwrap();
    let first = account.run(&["migrate-state", "--config", cfg, "--state-dir", dir.to_str().unwrap(), "--output", "json"]);
    assert_eq!(first.expect_code(0).json()["copied"], 2);
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::new()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("eu-west-1"))
            .endpoint_url(&account.endpoint)
            .credentials_provider(account.creds.clone())
            .build(),
    );
    let item = client
        .get_item()
        .table_name("offhours-state")
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("watermark".into()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("schedule:blink:stop".into()))
        .send()
        .await
        .unwrap();
    let at = item.item().and_then(|i| i.get("at")).and_then(|v| v.as_s().ok()).cloned();
    assert_eq!(at.as_deref(), Some("2026-11-23T18:00:00+00:00"));

    let second = account.run(&["migrate-state", "--config", cfg, "--state-dir", dir.to_str().unwrap()]);
    assert_eq!(second.code(), 1);
    assert!(second.stderr().contains("already migrated at"), "{}", second.stderr());

    // A file without [state] has no table to set up.
    let plain = account.write_config(&format!("{HEADER}{SCHEDULE}"));
    let refused = account.run(&["init-state", "--config", plain.to_str().unwrap()]);
    assert_eq!(refused.code(), 2);
    assert!(refused.stderr().contains("[state] backend is \"file\""), "{}", refused.stderr());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fire_that_cannot_confirm_the_lease_is_caught_up_by_the_leader_that_still_holds_it() {
    let account = Account::new().await;
    let id = account.launch("eu-west-1", &[("Schedule", "office")]).await;
    let fire_at = Utc::now() + TimeDelta::seconds(12);
    let cron = format!("{} {} {} * * *", fire_at.second(), fire_at.minute(), fire_at.hour());
    let text = format!(
        "{HEADER}max_lateness = \"10m\"\n[state]\nbackend = \"dynamodb\"\ntable = \"offhours-state\"\nlease = \"4s\"\n[schedules.office]\nstop = \"{cron}\"\n"
    );
    let config = account.write_config(&text);
    account.run(&["init-state", "--config", config.to_str().unwrap()]).expect_code(0);
    let r = Replica::start(&account, &config, "only");
    wait_until("the replica leading", Duration::from_secs(10), || r.leads());
    assert!(Utc::now() < fire_at - TimeDelta::seconds(2), "the replica took too long to lead for this test");
    // The lease read before the fire fails, both of its attempts (only a fire reads the
    // lease while this replica leads).
    account.fault(serde_json::json!({ "action": "GetItem", "status": 500, "code": "InternalServerError", "count": 2 }));
    let missed = r.wait_for("the fire not carried out", Duration::from_secs(30), |e| {
        e["message"] == "Fire not carried out: the lease could not be confirmed; whoever leads catches it up."
    });
    assert_eq!(instant(&missed["fire_at"]), DateTime::<Utc>::from_timestamp(fire_at.timestamp(), 0).unwrap());
    let caught = r.wait_for("the catch-up", Duration::from_secs(30), |e| e["message"] == "Fire started." && e["job"] == "catch-up");
    assert_eq!(caught["fire_at"], missed["fire_at"]);
    crate::daemon::wait_for_state(&account, &id, "stopped").await;
    assert_eq!(account.calls().get("StopInstances").copied(), Some(1), "carried out once");
}

/// A hold set with `offhours hold` lives in the shared table: the leader follows it
/// (told once), and a standby that takes over keeps to it until it is cleared.
#[tokio::test(flavor = "multi_thread")]
async fn a_hold_in_the_shared_table_is_kept_by_whichever_replica_leads() {
    let (_moto, account, config) = set_up().await;
    let config = config.to_str().unwrap();
    let mut a = Replica::start(&account, std::path::Path::new(config), "a");
    wait_until("replica a leading", Duration::from_secs(10), || a.leads());
    let b = Replica::start(&account, std::path::Path::new(config), "b");
    wait_until("replica b standing by", Duration::from_secs(10), || b.role().starts_with("standby"));
    wait_until("a stop by the leader", Duration::from_secs(15), || state_calls(&account).iter().any(|(_, c)| c == "StopInstances"));

    let until = (Utc::now() + TimeDelta::hours(1)).to_rfc3339();
    let set_at = Utc::now();
    let set = account.run(&["hold", "blink", "--on", "--until", &until, "--reason", "demo day", "--config", config]);
    assert!(set.expect_code(0).stdout().starts_with("blink: held on from "), "{}", set.stdout());
    let told = a.wait_for("the hold", Duration::from_secs(10), |e| e["message"] == "Hold set.");
    let held_at = instant(&told["timestamp"]) + TimeDelta::seconds(1);
    let listed = account.run(&["hold", "--list", "--config", config, "--output", "json"]);
    assert_eq!(listed.expect_code(0).json()["holds"][0]["reason"], "demo day");

    // The leader dies; the standby leads and stops nothing while the hold lasts.
    a.kill();
    wait_until("replica b leading", Duration::from_secs(LEASE_S + 8), || b.leads());
    let led_at = Utc::now();
    b.wait_for("a fire by the new leader", Duration::from_secs(10), |e| {
        e["message"] == "Fire started." && instant(&e["timestamp"]) > led_at
    });
    std::thread::sleep(Duration::from_secs(5));
    let stops: Vec<_> = state_calls(&account).into_iter().filter(|(t, c)| c == "StopInstances" && *t > held_at).collect();
    assert!(stops.is_empty(), "stopped while held: {stops:?}\n{}", b.log_text());
    assert!(b.events().iter().all(|e| e["message"] != "Hold set."), "the hold was told again by the new leader");

    let cleared_at = Utc::now();
    account.run(&["hold", "blink", "--clear", "--config", config]).expect_code(0);
    b.wait_for("the cleared hold", Duration::from_secs(10), |e| e["message"] == "Hold cleared.");
    wait_until("a stop after the hold", Duration::from_secs(15), || {
        state_calls(&account).iter().any(|(t, c)| c == "StopInstances" && *t > cleared_at)
    });
    // The hold's own start (when the leader read it) is an action of no fire.
    let hold_start = |(t, c): &(DateTime<Utc>, String)| c == "StartInstances" && *t >= set_at && *t <= held_at;
    let mut per_fire: BTreeMap<(DateTime<Utc>, String), usize> = BTreeMap::new();
    for (t, action) in state_calls(&account).into_iter().filter(|c| !hold_start(c)) {
        *per_fire.entry((fire_of(t, &action), action)).or_default() += 1;
    }
    assert!(per_fire.values().all(|n| *n == 1), "a fire acted on twice: {per_fire:?}");
}
