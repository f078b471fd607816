//! `offhours run`: the real daemon against moto, driven with real signals.

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::{Timelike, Utc};
use serde_json::{Value, json};

use crate::support::Account;

/// A running daemon whose JSON log goes to a file we can read while it runs.
pub(crate) struct Daemon {
    pub(crate) child: Child,
    log: PathBuf,
}

impl Daemon {
    pub(crate) fn start(account: &Account, config: &std::path::Path, run: &str) -> Daemon {
        let log = account.dir.path().join(format!("daemon-{run}.log"));
        let state = account.dir.path().join("state");
        let child = account
            .offhours(&["run", "--config", config.to_str().unwrap(), "--state-dir", state.to_str().unwrap(), "--log-format", "json"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start the daemon");
        let d = Daemon { child, log };
        d.wait_for_event("daemon start", |e| e["message"] == "Daemon started.");
        d
    }

    pub(crate) fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// Polls the log until an event matches, or fails after 30 s.
    #[track_caller]
    pub(crate) fn wait_for_event(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(e) = self.events().into_iter().find(|e| pred(e)) {
                return e;
            }
            assert!(Instant::now() < deadline, "no {what} within 30 s; log:\n{}", std::fs::read_to_string(&self.log).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill").arg(format!("-{name}")).arg(self.child.id().to_string()).status().unwrap();
        assert!(status.success());
    }

    /// Waits (bounded) for the process to exit; returns its exit code.
    pub(crate) fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "daemon did not exit within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls moto until the instance is in `state`, or fails after 30 s.
pub(crate) async fn wait_for_state(account: &Account, id: &str, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if account.states("eu-west-1").await.get(id).map(String::as_str) == Some(state) {
            return;
        }
        assert!(Instant::now() < deadline, "{id} not {state} within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) const HEADER: &str = "timezone = \"UTC\"\nregions = [\"eu-west-1\"]\nverify_timeout = \"10s\"\n";

#[tokio::test]
async fn schedules_firing_every_few_seconds_stop_and_start_instances() {
    let account = Account::new().await;
    let id = account.launch("eu-west-1", &[("Schedule", "blink"), ("Name", "blinker")]).await;
    let bystander = account.launch("eu-west-1", &[("Schedule", "other")]).await;
    let config =
        account.write_config(&format!("{HEADER}[schedules.blink]\nstop = \"0,20,40 * * * * *\"\nstart = \"10,30,50 * * * * *\"\n"));
    let daemon = Daemon::start(&account, &config, "1");
    wait_for_state(&account, &id, "stopped").await;
    wait_for_state(&account, &id, "running").await;
    let stopped = daemon.wait_for_event("a stop event", |e| e["instance_id"] == id.as_str() && e["outcome"] == "stopped");
    assert_eq!(stopped["job"], "schedule");
    assert_eq!(stopped["schedule"], "blink");
    assert_eq!(stopped["name"], "blinker");
    let fire = daemon.wait_for_event("a fire", |e| e["message"] == "Fire started.");
    assert!(fire["lag_ms"].is_i64(), "the fire event carries its lag: {fire}");
    assert_eq!(account.states("eu-west-1").await[&bystander], "running");
    // Regions are checked once per config generation, never on a fire's path.
    assert_eq!(account.calls().get("DescribeRegions"), Some(&1), "{:?}", account.calls());
}

#[tokio::test]
async fn sighup_applies_a_changed_file_and_keeps_the_old_one_when_broken() {
    let account = Account::new().await;
    let id = account.launch("eu-west-1", &[("Schedule", "blink")]).await;
    let config = account.write_config(&format!("{HEADER}[schedules.blink]\nstop = \"*/3 * * * * *\"\n"));
    let mut daemon = Daemon::start(&account, &config, "1");
    wait_for_state(&account, &id, "stopped").await;

    // A start-only schedule: the instance comes back.
    std::fs::write(&config, format!("{HEADER}[schedules.blink]\nstart = \"*/3 * * * * *\"\n")).unwrap();
    daemon.signal("HUP");
    let reload = daemon.wait_for_event("a reload", |e| e["message"] == "Reload applied.");
    assert_eq!((reload["outcome"].as_str(), reload["changed"].as_str()), (Some("applied"), Some("blink")));
    wait_for_state(&account, &id, "running").await;
    // Same [aws] settings and regions: the clients and the region check are reused.
    assert_eq!(account.calls().get("DescribeRegions"), Some(&1), "{:?}", account.calls());

    // A broken file: every error logged, the start-only schedule goes on.
    std::fs::write(&config, format!("{HEADER}[schedules.blink]\nstrat = \"*/3 * * * * *\"\nstop = \"0 25 * * *\"\n")).unwrap();
    daemon.signal("HUP");
    daemon.signal("HUP");
    let rejected = daemon.wait_for_event("a rejected reload", |e| e["outcome"] == "rejected");
    assert_eq!(rejected["errors"], 2, "the unknown field and the bad cron");
    let error = daemon.wait_for_event("the config error", |e| e["field"] == "schedules.blink.strat");
    assert_eq!(error["line"], 5);
    account.stop("eu-west-1", std::slice::from_ref(&id)).await;
    wait_for_state(&account, &id, "running").await;
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(), 0);
}

#[tokio::test]
async fn sigterm_during_an_action_exits_0_after_it_finished() {
    let account = Account::new().await;
    let id = account.launch("eu-west-1", &[("Schedule", "slow")]).await;
    // StopInstances takes 3 s to answer.
    crate::support::control_json(
        "/_offhours/hang",
        json!({"access_key_id": account.creds.access_key_id(), "action": "StopInstances", "seconds": 3}),
    );
    let config = account.write_config(&format!("{HEADER}[schedules.slow]\nstop = \"*/2 * * * * *\"\n"));
    let mut daemon = Daemon::start(&account, &config, "1");
    daemon.wait_for_event("a fire", |e| e["message"] == "Fire started.");
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(), 0);
    let events = daemon.events();
    let done = events.iter().position(|e| e["message"] == "Action finished.").expect("the action finished");
    let stopped = events.iter().position(|e| e["message"] == "Daemon stopped.").expect("a clean stop");
    assert!(done < stopped);
    assert_eq!(account.states("eu-west-1").await[&id], "stopped");
}

#[tokio::test]
async fn a_fire_missed_during_a_crash_is_carried_out_once_on_restart() {
    let account = Account::new().await;
    let id = account.launch("eu-west-1", &[("Schedule", "office")]).await;
    // One stop, a few seconds from now.
    let fire_at = Utc::now() + chrono::TimeDelta::seconds(10);
    let cron = format!("{} {} {} * * *", fire_at.second(), fire_at.minute(), fire_at.hour());
    let config = account.write_config(&format!("{HEADER}max_lateness = \"10m\"\n[schedules.office]\nstop = \"{cron}\"\n"));
    let mut daemon = Daemon::start(&account, &config, "1");
    assert!(Utc::now() < fire_at - chrono::TimeDelta::seconds(1), "the daemon took too long to start for this test");
    // kill -9 before the fire.
    daemon.signal("KILL");
    daemon.wait_exit();
    while Utc::now() < fire_at + chrono::TimeDelta::seconds(1) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(account.states("eu-west-1").await[&id], "running", "nothing ran while down");

    let mut daemon = Daemon::start(&account, &config, "2");
    wait_for_state(&account, &id, "stopped").await;
    let fire = daemon.wait_for_event("the catch-up", |e| e["message"] == "Fire started.");
    assert_eq!(fire["job"], "catch-up");
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(), 0);

    // A third start: already handled, nothing more.
    let mut daemon = Daemon::start(&account, &config, "3");
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(), 0);
    assert!(!daemon.events().iter().any(|e| e["message"] == "Fire started."));
    assert_eq!(account.calls()["StopInstances"], 1, "carried out exactly once");
}

#[tokio::test]
async fn readiness_is_notified_to_systemd() {
    let account = Account::new().await;
    let socket_path = account.dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let config = account.write_config(&format!("{HEADER}[schedules.a]\nstart = \"0 8 * * *\"\n"));
    let state = account.dir.path().join("state");
    let child = account
        .offhours(&["run", "--config", config.to_str().unwrap(), "--state-dir", state.to_str().unwrap()])
        .env("NOTIFY_SOCKET", &socket_path)
        // As systemd sets it for WatchdogSec=2s.
        .env("WATCHDOG_USEC", "2000000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    // (Without WATCHDOG_PID the interval is this process's, as sd_watchdog_enabled says.)
    let next = || {
        let mut buf = [0u8; 256];
        let n = socket.recv(&mut buf).expect("a notification within 30 s");
        // Each field ends with a newline (sd-notify writes them so).
        String::from_utf8_lossy(&buf[..n]).trim_end().to_string()
    };
    // Watchdog pings are interleaved with everything else: skip them, but count them.
    let pings = std::cell::Cell::new(0);
    let next_note = || loop {
        let note = next();
        if note == "WATCHDOG=1" {
            pings.set(pings.get() + 1);
        } else {
            return note;
        }
    };
    assert!(next_note().starts_with("READY=1"));
    // Pings at half the interval: three within ~3 s.
    let deadline = Instant::now() + Duration::from_secs(30);
    while pings.get() < 3 {
        assert_eq!(next(), "WATCHDOG=1");
        pings.set(pings.get() + 1);
        assert!(Instant::now() < deadline);
    }
    let kill = |sig: &str| std::process::Command::new("kill").arg(format!("-{sig}")).arg(child.0.id().to_string()).status().unwrap();
    kill("HUP");
    let reloading = next_note();
    let usec: u64 = reloading.strip_prefix("RELOADING=1\nMONOTONIC_USEC=").expect(&reloading).parse().unwrap();
    assert!(usec > 0);
    assert!(next_note().starts_with("READY=1"));
    kill("TERM");
    assert_eq!(next_note(), "STOPPING=1");
    assert_eq!(child.0.wait().unwrap().code(), Some(0));
}

/// A child process that is killed if the test fails before it exits.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn offhours_reload_waits_for_the_outcome_and_never_sends_a_bad_file() {
    let account = Account::new().await;
    let config = account.write_config(&format!("{HEADER}[schedules.a]\nstart = \"0 8 * * *\"\n"));
    let daemon = Daemon::start(&account, &config, "1");
    let state = account.dir.path().join("state");
    let pid = daemon.child.id().to_string();
    let reload = || account.run(&["reload", "--config", config.to_str().unwrap(), "--pid", &pid, "--state-dir", state.to_str().unwrap()]);

    std::fs::write(&config, format!("{HEADER}[schedules.a]\nstart = \"0 9 * * *\"\n")).unwrap();
    let run = reload();
    run.expect_code(0);
    assert_eq!(run.stdout(), "reload applied\n");
    // It returned after the swap, not before.
    assert!(daemon.events().iter().any(|e| e["message"] == "Reload applied."));

    // A file that does not validate never reaches the daemon.
    std::fs::write(&config, format!("{HEADER}[schedules.a]\nstart = \"0 25 * * *\"\n")).unwrap();
    let run = reload();
    run.expect_code(2);
    assert!(run.stderr().contains("schedules.a.start: bad cron `0 25 * * *`"), "{}", run.stderr());
    let signals = daemon.events().iter().filter(|e| e["message"] == "Signal received.").count();
    assert_eq!(signals, 1, "only the first reload signalled the daemon");

    // Valid, but the daemon cannot prepare it (a region this account does not have):
    // rejected by the daemon, and the command says so and fails.
    std::fs::write(&config, "timezone = \"UTC\"\nregions = [\"eu-west-1\", \"xx-nowhere-9\"]\n[schedules.a]\nstart = \"0 9 * * *\"\n")
        .unwrap();
    let run = reload();
    run.expect_code(1);
    assert!(run.stderr().contains("xx-nowhere-9"), "{}", run.stderr());
    assert!(run.stderr().contains("reload rejected"), "{}", run.stderr());

    // No daemon to signal: a clear usage error.
    let run = account.run(&["reload", "--config", config.to_str().unwrap(), "--state-dir", state.to_str().unwrap()]);
    run.expect_code(2);
    assert!(run.stderr().contains("$MAINPID"), "{}", run.stderr());
}

#[tokio::test]
async fn an_unwritable_state_directory_is_an_error_before_ready() {
    let account = Account::new().await;
    let config = account.write_config(&format!("{HEADER}[schedules.a]\nstart = \"0 8 * * *\"\n"));
    // A directory under a regular file cannot be created, whoever runs the test.
    std::fs::write(account.dir.path().join("not-a-dir"), "").unwrap();
    let state = account.dir.path().join("not-a-dir/state");
    let socket_path = account.dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket.set_nonblocking(true).unwrap();
    let output = account
        .offhours(&["run", "--config", config.to_str().unwrap(), "--state-dir", state.to_str().unwrap()])
        .env("NOTIFY_SOCKET", &socket_path)
        .output()
        .unwrap();
    let run = crate::support::Run { output, elapsed: Duration::ZERO };
    run.expect_code(1);
    let stderr = run.stderr();
    assert!(stderr.contains(&format!("offhours: state directory {}: cannot create it", state.display())), "{stderr}");
    assert!(stderr.contains("--state-dir or $STATE_DIRECTORY"), "{stderr}");
    assert!(!stderr.contains("Daemon started."), "{stderr}");
    let mut buf = [0u8; 64];
    assert!(socket.recv(&mut buf).is_err(), "no READY=1 was sent");
}

#[tokio::test]
async fn health_reports_a_state_file_it_cannot_write_and_a_stop() {
    let account = Account::new().await;
    let id = account.launch("eu-west-1", &[("Schedule", "blink")]).await;
    let config = account.write_config(&format!("{HEADER}[schedules.blink]\nstop = \"*/2 * * * * *\"\n"));
    let mut daemon = Daemon::start(&account, &config, "1");
    let state = account.dir.path().join("state");
    let health = || account.run(&["health", "--state-dir", state.to_str().unwrap()]);
    health().expect_code(0);
    // Every state write now fails: the temporary file's name is a directory.
    std::fs::create_dir(state.join("state.json.tmp")).unwrap();
    wait_for_state(&account, &id, "stopped").await;
    let failed = daemon.wait_for_event("a failed state write", |e| {
        e["level"] == "ERROR" && e["message"].as_str().is_some_and(|m| m.starts_with("Cannot record handled fires"))
    });
    assert!(failed["error"].as_str().unwrap().contains("Is a directory"), "{failed}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let run = loop {
        let run = health();
        if run.code() != 0 || Instant::now() > deadline {
            break run;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    run.expect_code(1);
    assert!(run.stdout().starts_with("unhealthy: the state file cannot be written (cannot write "), "{}", run.stdout());
    // Fixed: healthy again at the next write.
    std::fs::remove_dir(state.join("state.json.tmp")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while health().code() != 0 {
        assert!(Instant::now() < deadline, "still unhealthy: {}", health().stdout());
        std::thread::sleep(Duration::from_millis(100));
    }
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(), 0);
    let run = health();
    run.expect_code(1);
    assert!(run.stdout().starts_with("stopped: the daemon shut down at "), "{}", run.stdout());
}

#[tokio::test]
async fn the_global_jobs_run_without_schedules_billing_at_start_up_and_reload_audit_on_cron() {
    let account = Account::new().await;
    let threshold = |account: &Account| {
        let cw = account.cloudwatch();
        async move {
            let out = cw.describe_alarms().alarm_names("budget").send().await.unwrap();
            out.metric_alarms().first().and_then(|a| a.threshold())
        }
    };
    // No schedules at all: the daemon runs the global jobs only.
    let config = account.write_config("[billing_alarm]\nthreshold = 100\nalarm_name = \"budget\"\n[iam_audit]\ncron = \"*/3 * * * * *\"\n");
    let mut daemon = Daemon::start(&account, &config, "1");
    let created = daemon.wait_for_event("the start-up check", |e| e["message"] == "Billing alarm checked.");
    assert_eq!((created["job"].as_str(), created["outcome"].as_str()), (Some("startup"), Some("created")));
    assert_eq!(threshold(&account).await, Some(100.0));
    // The key audit runs on its cron.
    let audit = daemon.wait_for_event("an audit run", |e| e["message"] == "Access key audit finished.");
    assert_eq!(audit["job"], "audit-keys");

    std::fs::write(&config, "[billing_alarm]\nthreshold = 250\nalarm_name = \"budget\"\n[iam_audit]\ncron = \"*/3 * * * * *\"\n").unwrap();
    daemon.signal("HUP");
    let updated = daemon.wait_for_event("the reload check", |e| e["message"] == "Billing alarm checked." && e["job"] == "reload");
    assert_eq!((updated["outcome"].as_str(), updated["changed"].as_str()), (Some("updated"), Some("threshold")));
    assert_eq!(threshold(&account).await, Some(250.0));
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(), 0);
}

/// A plain HTTP GET on loopback: (status, body).
pub(crate) fn http_get(port: u16, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to the endpoint");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, response.split("\r\n\r\n").nth(1).unwrap_or_default().to_string())
}

/// The value of the sample whose name and labels start with `prefix`.
fn sample(metrics: &str, prefix: &str) -> Option<f64> {
    metrics.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn the_http_endpoint_serves_metrics_health_and_readiness() {
    let account = Account::new().await;
    let ids = account.launch_many("eu-west-1", 3, &[("Schedule", "blink")]).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config =
        account.write_config(&format!("{HEADER}[http]\nlisten = \"127.0.0.1:{port}\"\n[schedules.blink]\nstop = \"*/2 * * * * *\"\n"));
    let mut daemon = Daemon::start(&account, &config, "1");
    assert_eq!(http_get(port, "/readyz").0, 200);
    let (status, body) = http_get(port, "/healthz");
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("ok: last loop"), "{body}");
    daemon.wait_for_event("an action", |e| e["message"] == "Action finished." && e["outcomes"] == r#"{"stopped":3}"#);
    for id in &ids {
        wait_for_state(&account, id, "stopped").await;
    }
    let (status, metrics) = http_get(port, "/metrics");
    assert_eq!(status, 200);
    let stopped = r#"offhours_resource_outcomes_total{schedule="blink",action="stop",kind="ec2",outcome="stopped"}"#;
    assert_eq!(sample(&metrics, stopped), Some(3.0), "{metrics}");
    assert!(sample(&metrics, r#"offhours_fire_lag_seconds_count{schedule="blink",action="stop"}"#).unwrap_or(0.0) >= 1.0, "{metrics}");
    let stops = sample(&metrics, r#"offhours_aws_calls_total{service="EC2",operation="StopInstances",outcome="ok"}"#);
    assert!(stops.unwrap_or(0.0) >= 1.0, "{metrics}");
    assert!(
        sample(&metrics, r#"offhours_aws_call_duration_seconds_count{service="EC2",operation="DescribeInstances"}"#).unwrap_or(0.0) >= 1.0
    );
    assert!(sample(&metrics, r#"offhours_last_success_timestamp_seconds{schedule="blink",action="stop"}"#).unwrap_or(0.0) > 1.7e9);
    assert_eq!(sample(&metrics, r#"offhours_build_info{version=""#), Some(1.0), "{metrics}");
    assert!(metrics.ends_with("# EOF\n"), "OpenMetrics text ends with EOF");
    // A reload is counted by outcome.
    std::fs::write(&config, format!("{HEADER}[http]\nlisten = \"127.0.0.1:{port}\"\n[schedules.blink]\nstop = \"0 25 * * *\"\n")).unwrap();
    daemon.signal("HUP");
    daemon.wait_for_event("a rejected reload", |e| e["outcome"] == "rejected");
    let metrics = http_get(port, "/metrics").1;
    assert_eq!(sample(&metrics, r#"offhours_reloads_total{outcome="rejected"}"#), Some(1.0), "{metrics}");
    assert!(!metrics.contains(account.creds.access_key_id()), "no secret or credential in the metrics");
    assert_eq!(http_get(port, "/nowhere").0, 404);
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(), 0);
}

#[tokio::test]
async fn port_0_is_chosen_by_the_kernel_and_the_log_names_the_bound_one() {
    let account = Account::new().await;
    let config = account.write_config(&format!("{HEADER}[http]\nlisten = \"127.0.0.1:0\"\n[schedules.late]\nstop = \"0 19 * * *\"\n"));
    let daemon = Daemon::start(&account, &config, "1");
    let listening = daemon.wait_for_event("the endpoint", |e| e["message"] == "HTTP endpoint listening (/, /metrics, /healthz, /readyz).");
    let listen = listening["listen"].as_str().unwrap().to_string();
    let port: u16 = listen.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0, "{listening}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = http_get(port, "/healthz");
        if status == 200 {
            assert!(body.starts_with("ok"), "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "/healthz on {listen}: {status} {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
