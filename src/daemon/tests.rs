//! The loop under tokio's paused clock: days of virtual time in milliseconds.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::TimeDelta;

use super::clock::TestClock;
use super::*;
use crate::daemon::notify::Note;

/// A recorded fire: job key, fire instant, wall time it ran at, why it ran.
type Recorded = (String, DateTime<Utc>, DateTime<Utc>, Cause);

/// Records every fire it is given, with the wall time it ran at.
struct Recorder {
    clock: Arc<TestClock>,
    fires: Mutex<Vec<Recorded>>,
    /// How long each fire takes (virtual time).
    work: Duration,
    /// Prepares so far; from `hang_from` on, prepare never returns (a stuck reload).
    prepares: AtomicUsize,
    hang_from: usize,
}

impl Executor for Recorder {
    type Prepared = ();

    async fn prepare(&self, _config: Arc<Config>, _previous: Option<(&Config, &())>) -> Result<(), String> {
        if self.prepares.fetch_add(1, Ordering::SeqCst) + 1 >= self.hang_from {
            std::future::pending::<()>().await;
        }
        Ok(())
    }

    async fn execute(&self, task: FireTask<()>) {
        let ran_at = self.clock.now();
        tokio::time::sleep(self.work).await;
        self.fires.lock().unwrap().push((task.fire.key.clone(), task.fire.at, ran_at, task.cause));
    }
}

/// Records what the daemon tells systemd, with the (virtual) time it was told.
#[derive(Default)]
struct Notes(Mutex<Vec<(tokio::time::Instant, Note)>>);

impl Notifier for Notes {
    fn notify(&self, note: Note) {
        self.0.lock().unwrap().push((tokio::time::Instant::now(), note));
    }
}

impl Notes {
    fn pings(&self) -> Vec<tokio::time::Instant> {
        self.0.lock().unwrap().iter().filter(|(_, n)| *n == Note::Watchdog).map(|(t, _)| *t).collect()
    }
}

struct Harness {
    dir: tempfile::TempDir,
    clock: Arc<TestClock>,
    recorder: Arc<Recorder>,
    notes: Arc<Notes>,
    control: mpsc::UnboundedSender<Control>,
    daemon: tokio::task::JoinHandle<Result<(), DaemonError>>,
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

impl Harness {
    /// Starts the daemon at `start` over `config`, with `state` as the state file.
    async fn start(start: &str, config: &str, state: Option<&str>) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("offhours.toml"), config).unwrap();
        if let Some(state) = state {
            std::fs::write(dir.path().join(crate::store::state::FILE_NAME), state).unwrap();
        }
        Self::start_in(dir, start).await
    }

    async fn start_in(dir: tempfile::TempDir, start: &str) -> Harness {
        Self::start_working(dir, start, Duration::from_millis(10)).await
    }

    /// As `start_in`, each fire taking `work` of virtual time.
    async fn start_working(dir: tempfile::TempDir, start: &str, work: Duration) -> Harness {
        Self::start_with(dir, start, work, usize::MAX, |_| {}).await
    }

    /// The general form: fires take `work`, the `hang_from`-th prepare never returns,
    /// and `tune` may change the options.
    async fn start_with(dir: tempfile::TempDir, start: &str, work: Duration, hang_from: usize, tune: impl FnOnce(&mut Options)) -> Harness {
        let clock = Arc::new(TestClock::new(at(start)));
        let recorder =
            Arc::new(Recorder { clock: clock.clone(), fires: Mutex::new(Vec::new()), work, prepares: AtomicUsize::new(0), hang_from });
        let notes = Arc::new(Notes::default());
        let (control, rx) = mpsc::unbounded_channel();
        let mut opts = Options::new(dir.path().join("offhours.toml"), dir.path().to_path_buf());
        opts.heartbeat_every = Duration::from_secs(3600);
        opts.notifier = notes.clone();
        tune(&mut opts);
        let daemon = tokio::spawn(run(opts, recorder.clone(), clock.clone(), rx));
        // Let it start up.
        tokio::time::sleep(Duration::from_millis(1)).await;
        Harness { dir, clock, recorder, notes, control, daemon }
    }

    async fn advance(&self, d: TimeDelta) {
        tokio::time::sleep(d.to_std().unwrap()).await;
    }

    async fn stop(self) -> (Vec<Recorded>, tempfile::TempDir) {
        self.control.send(Control::Shutdown).unwrap();
        self.daemon.await.unwrap().unwrap();
        let fires = self.recorder.fires.lock().unwrap().clone();
        (fires, self.dir)
    }
}

/// Every fire of every job between `from` and `to`, as the schedule engine lists them.
fn expected(config: &str, from: &str, to: &str) -> Vec<(String, DateTime<Utc>)> {
    let c = config::from_str(config, "t.toml", &config::HostTimezone::fixed(chrono_tz::UTC)).unwrap();
    let mut all: Vec<(String, DateTime<Utc>)> = timer::timed_jobs(&c)
        .iter()
        .flat_map(|j| j.trigger.fires_between(at(from), at(to)).into_iter().map(move |t| (j.key(), t)))
        .collect();
    all.sort_by_key(|(k, t)| (*t, k.clone()));
    all
}

const DST_ZONES: &str = r#"
[schedules.berlin]
timezone = "Europe/Berlin"
start = "30 2 * * *"
stop = "45 * * * *"
[schedules.newyork]
timezone = "America/New_York"
start = "30 1 * * *"
stop = "0 */4 * * *"
"#;

#[tokio::test(start_paused = true)]
async fn every_fire_once_at_its_instant_across_both_dst_changes() {
    for (from, days) in [("2026-03-06T12:00:00Z", 25), ("2026-10-23T12:00:00Z", 11)] {
        let h = Harness::start(from, DST_ZONES, None).await;
        h.advance(TimeDelta::days(days)).await;
        let to = h.clock.now();
        let (fires, _dir) = h.stop().await;
        let want = expected(DST_ZONES, from, &to.to_rfc3339());
        let mut got: Vec<(String, DateTime<Utc>)> = fires.iter().map(|(k, t, _, _)| (k.clone(), *t)).collect();
        got.sort_by_key(|(k, t)| (*t, k.clone()));
        assert_eq!(got.len(), want.len(), "from {from}");
        assert_eq!(got, want, "from {from}");
        for (key, fire_at, ran_at, trigger) in &fires {
            assert_eq!(*trigger, Cause::Scheduled);
            let lag = *ran_at - *fire_at;
            assert!(lag >= TimeDelta::zero() && lag < TimeDelta::milliseconds(50), "{key} at {fire_at} ran {lag} late");
        }
    }
}

const EVERY_HOUR: &str = r#"
max_lateness = "1h"
[schedules.hourly]
timezone = "UTC"
start = "0 * * * *"
[schedules.halves]
timezone = "UTC"
start = "30 */2 * * *"
stop = "30 1-23/2 * * *"
"#;

#[tokio::test(start_paused = true)]
async fn a_clock_step_forward_runs_the_latest_fire_once_and_back_repeats_nothing() {
    let h = Harness::start("2026-06-01T00:10:00Z", EVERY_HOUR, None).await;
    h.advance(TimeDelta::minutes(55)).await; // 01:05: hourly ran at 01:00, halves at 00:30
    // Suspend for 2h40m: wakes at 03:45 wall time.
    h.clock.step(TimeDelta::minutes(160));
    h.advance(TimeDelta::seconds(31)).await;
    // Step back one hour (to ~02:46): 02:00 and 03:00 must not run again.
    h.clock.step(TimeDelta::hours(-1));
    h.advance(TimeDelta::minutes(80)).await; // wall ~04:06
    let (fires, _dir) = h.stop().await;
    let got: Vec<(String, String)> = fires.iter().map(|(k, t, _, _)| (k.clone(), t.format("%H:%M").to_string())).collect();
    let want: Vec<(String, String)> = [
        ("schedule:halves:start", "00:30"),
        ("schedule:hourly:start", "01:00"),
        // After the suspend: the latest of each group, once.
        ("schedule:halves:stop", "03:30"),
        ("schedule:hourly:start", "03:00"),
        // After the step back, the loop waits for the wall clock to pass 03:45 again.
        ("schedule:hourly:start", "04:00"),
    ]
    .iter()
    .map(|(k, t)| (k.to_string(), t.to_string()))
    .collect();
    let mut got_sorted = got.clone();
    got_sorted.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let mut want_sorted = want;
    want_sorted.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    assert_eq!(got_sorted, want_sorted);
}

#[tokio::test(start_paused = true)]
async fn a_reload_mid_day_changes_what_fires_next_and_a_bad_file_keeps_the_old() {
    let h = Harness::start("2026-06-01T06:00:00Z", "[schedules.a]\ntimezone = \"UTC\"\nstart = \"0 8 * * *\"\n", None).await;
    h.advance(TimeDelta::hours(3)).await; // 09:00: a:start ran at 08:00
    let path = h.dir.path().join("offhours.toml");
    std::fs::write(
        &path,
        "[schedules.a]\ntimezone = \"UTC\"\nstart = \"0 10 * * *\"\n[schedules.b]\ntimezone = \"UTC\"\nstop = \"0 11 * * *\"\n",
    )
    .unwrap();
    h.control.send(Control::Reload).unwrap();
    h.advance(TimeDelta::hours(3)).await; // 12:00: a:start at 10:00, b:stop at 11:00
    std::fs::write(&path, "[schedules.a]\ntimezone = \"UTC\"\nstart = \"0 25 * * *\"\n").unwrap();
    h.control.send(Control::Reload).unwrap();
    h.control.send(Control::Reload).unwrap();
    h.advance(TimeDelta::hours(24)).await; // the old jobs keep running: a at 10:00, b at 11:00
    let (fires, _dir) = h.stop().await;
    let got: Vec<String> = fires.iter().map(|(k, t, _, _)| format!("{k} {}", t.format("%d %H:%M"))).collect();
    assert_eq!(
        got,
        vec![
            "schedule:a:start 01 08:00",
            "schedule:a:start 01 10:00",
            "schedule:b:stop 01 11:00",
            "schedule:a:start 02 10:00",
            "schedule:b:stop 02 11:00",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_fire_missed_while_down_is_caught_up_once() {
    let config = "max_lateness = \"2h\"\n[schedules.office]\ntimezone = \"UTC\"\nstart = \"0 8 * * *\"\nstop = \"0 18 * * *\"\n";
    // Last ran until 07:59; back at 08:10: the start is carried out, once.
    let state =
        r#"{"version":1,"handled_until":{"schedule:office:start":"2026-06-01T07:59:00Z","schedule:office:stop":"2026-06-01T07:59:00Z"}}"#;
    let h = Harness::start("2026-06-01T08:10:00Z", config, Some(state)).await;
    h.advance(TimeDelta::minutes(30)).await;
    let (fires, dir) = h.stop().await;
    assert_eq!(fires.len(), 1);
    assert_eq!((fires[0].0.as_str(), fires[0].1, fires[0].3), ("schedule:office:start", at("2026-06-01T08:00:00Z"), Cause::CatchUp));

    // Restarted again: nothing left to catch up.
    let h = Harness::start_in(dir, "2026-06-01T08:45:00Z").await;
    h.advance(TimeDelta::minutes(30)).await;
    let (fires, dir) = h.stop().await;
    assert!(fires.is_empty(), "{fires:?}");

    // Down from 08:50 until 19:00: start and stop were missed; only the stop runs.
    let h = Harness::start_in(dir, "2026-06-01T19:00:00Z").await;
    h.advance(TimeDelta::minutes(1)).await;
    let (fires, dir) = h.stop().await;
    assert_eq!(fires.iter().map(|f| (f.0.as_str(), f.1)).collect::<Vec<_>>(), vec![("schedule:office:stop", at("2026-06-01T18:00:00Z"))]);

    // Down for two days: the last fire is older than max_lateness: nothing runs.
    let h = Harness::start_in(dir, "2026-06-03T21:00:00Z").await;
    h.advance(TimeDelta::minutes(1)).await;
    let (fires, _dir) = h.stop().await;
    assert!(fires.is_empty(), "{fires:?}");
}

#[tokio::test(start_paused = true)]
async fn a_corrupt_state_file_means_no_history() {
    let config = "[schedules.office]\ntimezone = \"UTC\"\nstart = \"0 8 * * *\"\n";
    let h = Harness::start("2026-06-01T08:10:00Z", config, Some("{{{ not json")).await;
    h.advance(TimeDelta::minutes(5)).await;
    let (fires, dir) = h.stop().await;
    assert!(fires.is_empty());
    let state: State = serde_json::from_slice(&std::fs::read(dir.path().join(crate::store::state::FILE_NAME)).unwrap()).unwrap();
    assert!(state.handled_until.contains_key("schedule:office:start"), "rewritten: {state:?}");
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_the_action_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("offhours.toml"), "[schedules.a]\ntimezone = \"UTC\"\nstart = \"0 8 * * *\"\n").unwrap();
    let h = Harness::start_working(dir, "2026-06-01T07:59:00Z", Duration::from_secs(20)).await;
    h.advance(TimeDelta::seconds(65)).await; // the fire at 08:00 is 5 s into its 20 s of work
    let (fires, _dir) = h.stop().await;
    assert_eq!(fires.len(), 1, "the action finished before the daemon returned");
}

fn dir_with(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("offhours.toml"), config).unwrap();
    dir
}

/// The largest gap between watchdog pings in `[from, to]`, counting the edges.
fn largest_gap(pings: &[tokio::time::Instant], from: tokio::time::Instant, to: tokio::time::Instant) -> Duration {
    let mut edges: Vec<tokio::time::Instant> = vec![from];
    edges.extend(pings.iter().copied().filter(|p| *p >= from && *p <= to));
    edges.push(to);
    edges.windows(2).map(|w| w[1] - w[0]).max().unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_watchdog_is_fed_by_the_loop_at_half_its_interval_even_while_a_worker_is_busy() {
    let config = "[schedules.a]\ntimezone = \"UTC\"\nstart = \"0 8 * * *\"\n";
    // Each fire works for an hour: the worker is busy, the loop is not.
    let h = Harness::start_with(dir_with(config), "2026-06-01T07:59:00Z", Duration::from_secs(3600), usize::MAX, |o| {
        o.watchdog = Some(Duration::from_secs(10));
    })
    .await;
    let from = tokio::time::Instant::now();
    h.advance(TimeDelta::minutes(30)).await;
    let to = tokio::time::Instant::now();
    assert!(largest_gap(&h.notes.pings(), from, to) <= Duration::from_secs(5), "pings at half the interval");
    assert!(h.notes.pings().len() >= 360, "{} pings in 30 min", h.notes.pings().len());
    let ready = h.notes.0.lock().unwrap().iter().position(|(_, n)| *n == Note::Ready).unwrap();
    let first_ping = h.notes.0.lock().unwrap().iter().position(|(_, n)| *n == Note::Watchdog).unwrap();
    assert!(ready < first_ping, "the watchdog starts after READY");
    h.control.send(Control::Shutdown).unwrap();
    // The worker's fire outlives the grace period; the daemon still returns.
    h.daemon.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_stuck_loop_stops_feeding_the_watchdog() {
    let config = "[schedules.a]\ntimezone = \"UTC\"\nstart = \"0 8 * * *\"\n";
    // The second prepare (the reload's) never returns: the loop is stuck in it.
    let h = Harness::start_with(dir_with(config), "2026-06-01T06:00:00Z", Duration::ZERO, 2, |o| {
        o.watchdog = Some(Duration::from_secs(10));
    })
    .await;
    h.advance(TimeDelta::minutes(1)).await;
    let before = h.notes.pings().len();
    assert!(before >= 12, "{before}");
    h.control.send(Control::Reload).unwrap();
    h.advance(TimeDelta::minutes(10)).await;
    let notes = h.notes.0.lock().unwrap().clone();
    let reloading = notes.iter().rposition(|(_, n)| matches!(n, Note::Reloading { .. })).expect("RELOADING sent");
    assert!(!notes[reloading..].iter().any(|(_, n)| *n == Note::Watchdog), "no ping once the loop is stuck");
    h.daemon.abort();
}

#[tokio::test(start_paused = true)]
async fn reloads_are_stamped_and_their_outcome_recorded() {
    let h = Harness::start("2026-06-01T06:00:00Z", "[schedules.a]\ntimezone = \"UTC\"\nstart = \"0 8 * * *\"\n", None).await;
    let read = |h: &Harness| -> status::ReloadStatus {
        serde_json::from_slice(&std::fs::read(h.dir.path().join(status::RELOAD_FILE)).unwrap()).unwrap()
    };
    let before = notify::monotonic_usec();
    h.control.send(Control::Reload).unwrap();
    h.advance(TimeDelta::seconds(1)).await;
    let applied = read(&h);
    assert_eq!((applied.outcome.as_str(), applied.errors.len()), ("applied", 0));
    assert!(applied.began_monotonic_usec >= before);
    std::fs::write(h.dir.path().join("offhours.toml"), "[schedules.a]\nstart = \"0 25 * * *\"\n").unwrap();
    h.control.send(Control::Reload).unwrap();
    h.advance(TimeDelta::seconds(1)).await;
    let rejected = read(&h);
    assert_eq!(rejected.outcome, "rejected");
    assert!(rejected.errors[0].contains("schedules.a.start: bad cron `0 25 * * *`"), "{rejected:?}");
    assert!(rejected.began_monotonic_usec >= applied.began_monotonic_usec);
    let notes: Vec<Note> = h.notes.0.lock().unwrap().iter().map(|(_, n)| *n).collect();
    let shape: Vec<&str> = notes
        .iter()
        .map(|n| match n {
            Note::Ready => "ready",
            Note::Reloading { .. } => "reloading",
            Note::Stopping => "stopping",
            Note::Watchdog => "watchdog",
        })
        .collect();
    assert_eq!(shape, ["ready", "reloading", "ready", "reloading", "ready"]);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_failing_state_write_is_reported_by_the_heartbeat_until_it_works_again() {
    let config = "[schedules.a]\ntimezone = \"UTC\"\nstart = \"0 8 * * *\"\n";
    let h = Harness::start("2026-06-01T07:59:00Z", config, None).await;
    let beat = |h: &Harness| status::parse_heartbeat(&std::fs::read_to_string(h.dir.path().join(HEARTBEAT_FILE)).unwrap()).unwrap();
    assert_eq!(beat(&h).state_error, None);
    // The temporary file's name is taken by a directory: every write fails (as root too).
    let blocker = h.dir.path().join("state.json.tmp");
    std::fs::create_dir(&blocker).unwrap();
    h.advance(TimeDelta::minutes(2)).await; // the 08:00 fire ran and could not be recorded
    assert_eq!(h.recorder.fires.lock().unwrap().len(), 1);
    let error = beat(&h).state_error.expect("the heartbeat names the failure");
    assert!(error.starts_with(&format!("cannot write {}", h.dir.path().join(crate::store::state::FILE_NAME).display())), "{error}");
    // (The harness beats hourly; judge as of the last beat.)
    let verdict = status::judge(Some(&beat(&h)), beat(&h).loop_at.unwrap(), Duration::from_secs(90));
    assert!(matches!(verdict, status::Verdict::StateUnwritable { .. }), "{verdict:?}");
    std::fs::remove_dir(&blocker).unwrap();
    h.advance(TimeDelta::days(1)).await; // the next fire is recorded again
    assert_eq!(beat(&h).state_error, None);
    let (_, dir) = h.stop().await;
    let stopped = status::parse_heartbeat(&std::fs::read_to_string(dir.path().join(HEARTBEAT_FILE)).unwrap()).unwrap();
    assert!(stopped.stopped_at.is_some(), "a clean stop is written down");
}

#[tokio::test(start_paused = true)]
async fn an_unwritable_state_directory_stops_the_start() {
    let dir = dir_with("[schedules.a]\ntimezone = \"UTC\"\nstart = \"0 8 * * *\"\n");
    std::fs::write(dir.path().join("file"), "").unwrap();
    let clock = Arc::new(TestClock::new(at("2026-06-01T07:00:00Z")));
    let recorder = Arc::new(Recorder {
        clock: clock.clone(),
        fires: Mutex::new(Vec::new()),
        work: Duration::ZERO,
        prepares: AtomicUsize::new(0),
        hang_from: usize::MAX,
    });
    let notes = Arc::new(Notes::default());
    let (_control, rx) = mpsc::unbounded_channel();
    let mut opts = Options::new(dir.path().join("offhours.toml"), dir.path().join("file/state"));
    opts.notifier = notes.clone();
    let e = run(opts, recorder, clock, rx).await.unwrap_err();
    assert!(matches!(e, DaemonError::StateDir(_)), "{e}");
    assert!(notes.0.lock().unwrap().is_empty(), "no READY: {:?}", notes.0.lock().unwrap());
}
