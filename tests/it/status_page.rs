//! The status page `/` in a real headless Chromium (Debian's `chromium` package, which
//! `make test` installs): the daemon acts on moto with one resource failing, the browser
//! loads the page, the test reads the DOM it built and saves a screenshot.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Timelike, Utc};
use serde_json::json;

use crate::daemon::Daemon;
use crate::support::Account;

/// How long one Chromium run may take before the test kills it.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);

/// A plain HTTP GET on loopback: (status, head, body).
fn http_get(port: u16, path: &str) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to the endpoint");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (status, head.to_lowercase(), body.to_string())
}

/// `OFFHOURS_TEST_CHROMIUM`, else `chromium` on PATH.
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("OFFHOURS_TEST_CHROMIUM") {
        return PathBuf::from(path);
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no `chromium` on PATH (nor OFFHOURS_TEST_CHROMIUM): run `make test`, which installs Debian's chromium package \
                 (scripts/chromium.sh)"
            )
        })
}

/// Runs headless Chromium with `args` in a fresh profile, killed after
/// [`CHROMIUM_TIMEOUT`]; returns its stdout.
fn run_chromium(args: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let (stdout, stderr) = (profile.path().join("stdout"), profile.path().join("stderr"));
    let data_dir = profile.path().join("profile");
    let mut child = Command::new(chromium())
        // As root in a container: no sandbox, no GPU; and no traffic to Google's
        // services, which would keep it waiting on the closed network.
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"])
        .arg(format!("--user-data-dir={}", data_dir.display()))
        .args(args)
        .env("HOME", profile.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + CHROMIUM_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium {args:?} did not finish within {CHROMIUM_TIMEOUT:?}; stderr:\n{}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "chromium {args:?} exited with {status}; stderr:\n{}", std::fs::read_to_string(&stderr).unwrap_or_default());
    std::fs::read_to_string(&stdout).unwrap()
}

/// A PNG's width and height, from its IHDR chunk.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some((be(&bytes[16..20]), be(&bytes[20..24])))
}

#[tokio::test]
async fn the_status_page_shows_outcomes_failures_and_timelines_in_headless_chromium() {
    let browser = chromium();
    let account = Account::new().await;
    let ids = account.launch_many("eu-west-1", 3, &[("Schedule", "web-dev"), ("Name", "web <1>")]).await;
    let bad = ids[1].clone();
    account.fault(json!({"action": "StopInstances", "if_instance": bad, "status": 400, "code": "UnsupportedOperation", "message": format!("The instance '{bad}' does not support this operation."), "count": -1}));
    // One stop a few seconds from now, written in Berlin time; a start on weekday mornings.
    let fire_at = (Utc::now() + chrono::TimeDelta::seconds(6)).with_timezone(&chrono_tz::Europe::Berlin);
    let stop = format!("{} {} {} * * *", fire_at.second(), fire_at.minute(), fire_at.hour());
    // A second schedule, with a skip date the day after tomorrow (hatched in its timeline).
    let skip = (Utc::now() + chrono::TimeDelta::days(2)).with_timezone(&chrono_tz::America::New_York).date_naive();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = account.write_config(&format!(
        r#"timezone = "UTC"
regions = ["eu-west-1"]
verify_timeout = "10s"
[http]
listen = "127.0.0.1:{port}"
[schedules.web-dev]
timezone = "Europe/Berlin"
description = "Dev machines <and a test>"
start = "0 8 * * MON-FRI"
stop = "{stop}"
[schedules.office]
timezone = "America/New_York"
start = "30 7 * * MON-FRI"
stop = "0 19 * * MON-FRI"
skip_dates = ["{skip}"]
[iam_audit]
cron = "0 7 1 1 *"
[billing_alarm]
threshold = 100
alarm_name = "budget"
[savings.prices]
"t3.micro" = 0.0104
"#
    ));
    let mut daemon = Daemon::start(&account, &config, "1");
    daemon.wait_for_event("the billing check", |e| e["message"] == "Billing alarm checked.");
    let finished = daemon.wait_for_event("the stop", |e| e["message"] == "Action finished." && e["schedule"] == "web-dev");
    assert_eq!(finished["outcomes"], r#"{"failed":1,"stopped":2}"#, "{finished}");
    let (status, head, body) = http_get(port, "/");
    assert_eq!(status, 200, "{body}");
    assert!(head.contains("content-type: text/html; charset=utf-8"), "{head}");
    // The ledger's writer counts the two stops right after writing them: the page and
    // /metrics show web-dev's hours off (seconds so far) and an estimate in USD.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, _, page) = http_get(port, "/");
        let (_, _, metrics) = http_get(port, "/metrics");
        let on_page = page.contains("<h2>Savings (estimate)</h2>")
            && page.contains("<tr><td>web-dev</td>")
            && page.contains(" USD</td><td>file</td>");
        if on_page
            && metrics.contains(r#"offhours_resource_off_seconds{schedule="web-dev"}"#)
            && metrics.contains(r#"offhours_estimated_savings{schedule="web-dev",currency="USD"}"#)
        {
            break;
        }
        assert!(Instant::now() < deadline, "no savings shown within 10 s:\n{page}\n{metrics}");
        std::thread::sleep(Duration::from_millis(200));
    }

    let url = format!("http://127.0.0.1:{port}/");
    let started = Instant::now();
    let dom = run_chromium(&["--dump-dom", &url]);
    let dump_took = started.elapsed();
    let (office, web) = (dom.find("<h2>office</h2>"), dom.find("<h2>web-dev</h2>"));
    assert!(office.is_some() && office < web, "schedules sorted by name:\n{dom}");
    for want in [
        r#"<dd class="tz">America/New_York</dd>"#,
        r#"class="skip""#,
        "Dev machines &lt;and a test&gt;",
        r#"<dd class="tz">Europe/Berlin</dd>"#,
        "stopped 2, failed 1",
        // The region, then the account the resource is in.
        &format!(
            "<td class=\"id\"><code>{bad}</code></td><td>web &lt;1&gt;</td><td>eu-west-1<br><span class=\"muted\">account {}</span></td>",
            account.id
        ),
        "UnsupportedOperation",
        &format!("The instance '{bad}' does not support this operation."),
        "<svg",
        "web-dev: on and off periods in the week of",
        r#"class="now""#,
        "Not run yet since the daemon started.",
        "<strong>created</strong> (alarm <code>budget</code>)",
        "Savings (estimate)",
        "An estimate at on-demand prices",
    ] {
        assert!(dom.contains(want), "the DOM lacks {want:?}:\n{dom}");
    }
    assert!(!dom.contains(account.creds.access_key_id()), "no credential on the page");

    let png = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/status-page.png");
    let _ = std::fs::remove_file(&png);
    let started = Instant::now();
    run_chromium(&[&format!("--screenshot={}", png.display()), "--window-size=1280,1600", &url]);
    let shot_took = started.elapsed();
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", png.display()));
    assert_eq!(png_size(&bytes), Some((1280, 1600)), "not a 1280x1600 PNG");
    // A blank page compresses to a few kilobytes; this one has text, tables and pictures.
    assert!(bytes.len() > 30_000, "screenshot is only {} bytes", bytes.len());
    eprintln!(
        "status page: {} ({}), --dump-dom {dump_took:?}, screenshot {shot_took:?} -> {} ({} bytes)",
        browser.display(),
        Command::new(&browser).arg("--version").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default(),
        png.display(),
        bytes.len()
    );
    daemon.signal("TERM");
    assert_eq!(daemon.wait_exit(), 0);
}
