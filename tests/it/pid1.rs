//! The daemon as the container image runs it: PID 1 of a new PID namespace, as uid
//! 65532, with the image's environment (`OFFHOURS_CONFIG`, `STATE_DIRECTORY`), the
//! config in a directory it can read but not write and the state in one of its own.
//! A namespace's init ignores every signal it has no handler for (only SIGKILL and
//! SIGSTOP are forced on it from outside), so SIGHUP and SIGTERM sent from the parent
//! namespace reach the daemon only through the handlers it installed: what `docker
//! kill --signal HUP` and `docker stop` rely on.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::Account;

/// The image's user and group (distroless `nonroot`).
const USER: u32 = 65532;
const REGION: &str = "eu-west-1";
/// `setpriv`'s arguments that make the rest of its command line run as the image's user.
const AS_USER: [&str; 6] = ["--reuid", "65532", "--regid", "65532", "--clear-groups", "--"];
const HEADER: &str = "timezone = \"UTC\"\nregions = [\"eu-west-1\"]\nverify_timeout = \"10s\"\n";
/// How long the test waits for anything (a process, an event, a state in moto).
const DEADLINE: Duration = Duration::from_secs(30);

/// `unshare` and `setpriv` (util-linux), and root to use them; otherwise a panic that
/// says what is missing.
struct Tools {
    unshare: PathBuf,
    setpriv: PathBuf,
}

impl Tools {
    fn check() -> Tools {
        let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
        let euid = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|u| u.parse::<u32>().ok())
            .expect("the effective uid in /proc/self/status");
        assert_eq!(
            euid, 0,
            "this test runs the daemon as the container image does (PID 1 of a new PID namespace, as uid {USER}) with \
             `unshare --pid --fork --mount-proc` and `setpriv --reuid`: it must run as root (it does in CI); it runs as uid {euid}"
        );
        let find = |name: &str| {
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
                .unwrap_or_else(|| {
                    panic!(
                        "`{name}` is not in PATH: this test needs util-linux's `unshare` and `setpriv` (Debian: apt-get install util-linux)"
                    )
                })
        };
        Tools { unshare: find("unshare"), setpriv: find("setpriv") }
    }
}

/// The image's layout in a temp dir: `etc/` (root's, read-only to the user: the
/// config and empty AWS files), `state/` (the user's, as the image's volume), and the
/// daemon's log (opened by the test, inherited as stderr).
struct Image {
    _root: tempfile::TempDir,
    config: PathBuf,
    state: PathBuf,
    log: PathBuf,
    env: Vec<(OsString, OsString)>,
    tools: Tools,
}

impl Image {
    fn new(account: &Account, config: &str) -> Image {
        let tools = Tools::check();
        let root = tempfile::Builder::new().prefix("offhours-pid1-").tempdir().expect("temp dir");
        let mode = |path: &Path, mode: u32| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        // tempfile makes it 0700: the user must be able to walk through it.
        mode(root.path(), 0o755);
        let etc = root.path().join("etc");
        std::fs::create_dir(&etc).unwrap();
        mode(&etc, 0o755);
        let config_path = etc.join("offhours.toml");
        let (aws_config, aws_credentials) = (etc.join("aws-config"), etc.join("aws-credentials"));
        for (path, text) in [(&config_path, config), (&aws_config, ""), (&aws_credentials, "")] {
            std::fs::write(path, text).unwrap();
            mode(path, 0o644);
        }
        let state = root.path().join("state");
        std::fs::create_dir(&state).unwrap();
        std::os::unix::fs::chown(&state, Some(USER), Some(USER)).expect("chown the state dir");
        mode(&state, 0o755);

        // The account's environment (moto, its credentials, no developer AWS files),
        // with files the user can read, plus the image's ENV.
        let base = account.offhours(&[]);
        let mut env: Vec<(OsString, OsString)> = base
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_os_string(), v?.to_os_string())))
            .filter(|(k, _)| !["HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"].contains(&k.to_str().unwrap_or_default()))
            .collect();
        env.extend([
            ("HOME".into(), etc.clone().into()),
            ("AWS_CONFIG_FILE".into(), aws_config.into()),
            ("AWS_SHARED_CREDENTIALS_FILE".into(), aws_credentials.into()),
            ("OFFHOURS_CONFIG".into(), config_path.clone().into()),
            ("STATE_DIRECTORY".into(), state.clone().into()),
            ("OFFHOURS_LOG_FORMAT".into(), "json".into()),
        ]);
        let image = Image { log: root.path().join("daemon.log"), _root: root, config: config_path, state, env, tools };
        image.check_user_can_run_the_binary();
        image
    }

    /// A command run as the image's user with the image's environment (no namespace).
    fn as_user(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.tools.setpriv);
        cmd.args(AS_USER)
            .arg(env!("CARGO_BIN_EXE_offhours"))
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    fn check_user_can_run_the_binary(&self) {
        let out = self.as_user(&["--version"]).output().expect("run setpriv");
        assert!(
            out.status.success(),
            "uid {USER} cannot run {}: every directory above it needs o+x and the file o+rx ({}; {})",
            env!("CARGO_BIN_EXE_offhours"),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }

    /// `offhours health` as the image's HEALTHCHECK runs it; its exit code and output.
    fn health(&self) -> (i32, String) {
        let out = self.as_user(&["health"]).output().expect("run offhours health");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text.trim().to_string())
    }

    fn write_config(&self, text: &str) {
        std::fs::write(&self.config, text).expect("rewrite the config");
    }
}

/// `unshare --pid --fork --mount-proc setpriv ... offhours run`: the daemon is the
/// forked child of `unshare`, PID 1 of its namespace.
struct Pid1 {
    unshare: Child,
    /// The daemon's pid as the test's (parent) namespace sees it.
    pid: u32,
    log: PathBuf,
}

impl Pid1 {
    fn start(image: &Image) -> Pid1 {
        let mut cmd = Command::new(&image.tools.unshare);
        cmd.args(["--pid", "--fork", "--mount-proc"])
            .arg(&image.tools.setpriv)
            .args(AS_USER)
            .arg(env!("CARGO_BIN_EXE_offhours"))
            .arg("run")
            .env_clear()
            .envs(image.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&image.log).expect("create the log file"));
        let mut unshare = cmd.spawn().expect("start unshare");
        let children = format!("/proc/{0}/task/{0}/children", unshare.id());
        let deadline = Instant::now() + DEADLINE;
        let pid = loop {
            if let Some(pid) = std::fs::read_to_string(&children).ok().and_then(|s| s.split_whitespace().next()?.parse().ok()) {
                break pid;
            }
            if let Some(status) = unshare.try_wait().unwrap() {
                panic!(
                    "unshare exited ({status}) before its child appeared; log:\n{}",
                    std::fs::read_to_string(&image.log).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "unshare forked no child within {DEADLINE:?}");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut daemon = Pid1 { unshare, pid, log: image.log.clone() };
        daemon.wait_for_event("the daemon's start", 0, |e| e["message"] == "Daemon started.");
        daemon
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// Polls the log until an event from the `from`-th on matches (returns its index
    /// and the event); fails after the deadline or as soon as the daemon exited.
    #[track_caller]
    fn wait_for_event(&mut self, what: &str, from: usize, pred: impl Fn(&Value) -> bool) -> (usize, Value) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(found) = self.events().into_iter().enumerate().skip(from).find(|(_, e)| pred(e)) {
                return found;
            }
            let log = || std::fs::read_to_string(&self.log).unwrap_or_default();
            if let Some(status) = self.unshare.try_wait().unwrap() {
                panic!("the daemon exited ({status}) before {what}; log:\n{}", log());
            }
            assert!(Instant::now() < deadline, "no {what} within {DEADLINE:?}; log:\n{}", log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends a signal from the parent namespace to the namespace's init.
    fn signal(&self, name: &str) {
        let status = Command::new("kill").arg(format!("-{name}")).arg(self.pid.to_string()).status().expect("run kill");
        assert!(status.success(), "kill -{name} {} failed", self.pid);
    }

    /// The daemon's `/proc/PID/status` field, as the parent namespace sees it.
    fn status_field(&self, field: &str) -> String {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).expect("the daemon's /proc status");
        status.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).unwrap_or_default().trim().to_string()
    }

    /// Waits (bounded) for `unshare` to exit; its status is its child's.
    fn wait_exit(&mut self) -> i32 {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.unshare.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "the daemon did not exit within {DEADLINE:?} of SIGTERM; log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Pid1 {
    /// SIGKILL is always delivered, even to a namespace's init; its death takes the
    /// whole namespace with it.
    fn drop(&mut self) {
        if let Ok(None) = self.unshare.try_wait() {
            let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", self.unshare.id())).unwrap_or_default();
            for pid in children.split_whitespace() {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
    }
}

/// Polls moto until the instance is in `state`, or fails after the deadline.
async fn wait_for_state(account: &Account, id: &str, state: &str) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if account.states(REGION).await.get(id).map(String::as_str) == Some(state) {
            return;
        }
        assert!(Instant::now() < deadline, "{id} not {state} within {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn acted_on(id: &str, outcome: &'static str) -> impl Fn(&Value) -> bool {
    let id = id.to_string();
    move |e| e["instance_id"] == id.as_str() && e["outcome"] == outcome
}

#[tokio::test]
async fn as_pid_1_of_a_namespace_as_the_image_user_the_daemon_fires_reloads_on_sighup_and_stops_on_sigterm() {
    let account = Account::new().await;
    let id = account.launch(REGION, &[("Schedule", "office")]).await;
    let image = Image::new(&account, &format!("{HEADER}[schedules.office]\nstop = \"*/4 * * * * *\"\n"));
    let mut daemon = Pid1::start(&image);
    let nspid = daemon.status_field("NSpid");
    assert_eq!(nspid.split_whitespace().last(), Some("1"), "the daemon is not PID 1 of its namespace (NSpid: {nspid})");
    let uids = daemon.status_field("Uid");
    assert!(uids.split_whitespace().all(|u| u == USER.to_string()), "the daemon does not run as uid {USER} (Uid: {uids})");

    // 1. A fire: the schedule stops the instance.
    wait_for_state(&account, &id, "stopped").await;
    daemon.wait_for_event("the stop", 0, acted_on(&id, "stopped"));

    // 2. SIGHUP with a broken file: rejected, and the old schedule still acts.
    image.write_config(&format!("{HEADER}[schedules.office]\nstop = \"every four seconds\"\n"));
    daemon.signal("HUP");
    let (rejected, _) =
        daemon.wait_for_event("the rejected reload", 0, |e| e["message"].as_str().is_some_and(|m| m.starts_with("Reload rejected")));
    // The instance stays stopped from the first stop until we start it, so a stop
    // logged after the rejection is a fire after our start.
    account.ec2(REGION).start_instances().instance_ids(&id).send().await.expect("StartInstances");
    wait_for_state(&account, &id, "stopped").await;
    daemon.wait_for_event("a stop after the rejected reload", rejected + 1, acted_on(&id, "stopped"));

    // 3. SIGHUP with a good file: applied; the new schedule starts the instance.
    image.write_config(&format!("{HEADER}[schedules.office]\nstart = \"*/4 * * * * *\"\n"));
    daemon.signal("HUP");
    let (applied, reload) = daemon.wait_for_event("the applied reload", rejected + 1, |e| e["message"] == "Reload applied.");
    assert_eq!(reload["changed"], "office");
    wait_for_state(&account, &id, "running").await;
    daemon.wait_for_event("a start after the applied reload", applied + 1, acted_on(&id, "started"));

    // 4. The image's health check passes while the daemon runs.
    let (code, text) = image.health();
    assert_eq!(code, 0, "offhours health while the daemon runs: {text}");
    let beat = std::fs::metadata(image.state.join(offhours::daemon::HEARTBEAT_FILE)).expect("the heartbeat file");
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&beat), USER, "the heartbeat is written by the image's user");

    // 5. SIGTERM: a clean exit, 0, within the grace period.
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(), 0, "log:\n{}", std::fs::read_to_string(&image.log).unwrap_or_default());
    assert!(daemon.events().iter().any(|e| e["message"] == "Daemon stopped."), "no clean stop in the log");

    // 6. The health check fails once the daemon has stopped.
    let (code, text) = image.health();
    assert_eq!(code, 1, "offhours health after a clean stop must fail (exit 1), it said: {text}");
}
