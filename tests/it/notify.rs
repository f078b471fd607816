//! Notifications end to end: the warning before a stop on SNS (read back from an SQS
//! queue with raw delivery) and on webhooks served by this test, a snooze set from the
//! warning's own command, receivers that hang or fail, and a fleet of 300 with hostile names
//! (escaped per sink, summarised within each sink's limits).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};
use serde_json::Value;

use crate::daemon::{Daemon, HEADER, wait_for_state};
use crate::support::Account;

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Hit {
    path: String,
    body: Value,
    at: DateTime<Utc>,
}

/// A webhook receiver on loopback: answers 200, except `/hang*` (never answers) and
/// `/fail*` (500).
struct Receiver {
    port: u16,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let record = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let record = record.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    let path = line.split(' ').nth(1).unwrap_or_default().to_string();
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).unwrap();
                        if header.trim().is_empty() {
                            break;
                        }
                        if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    record.lock().unwrap().push(Hit { path: path.clone(), body, at: Utc::now() });
                    if path.starts_with("/hang") {
                        std::thread::sleep(Duration::from_secs(3600));
                    }
                    let status = if path.starts_with("/fail") { "500 Internal Server Error" } else { "200 OK" };
                    let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                });
            }
        });
        Receiver { port, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn hits(&self, prefix: &str) -> Vec<Hit> {
        self.hits.lock().unwrap().iter().filter(|h| h.path.starts_with(prefix)).cloned().collect()
    }

    /// Polls until `count` requests to `prefix` arrived, or fails after 30 s.
    #[track_caller]
    fn wait_for(&self, prefix: &str, count: usize) -> Vec<Hit> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let hits = self.hits(prefix);
            if hits.len() >= count {
                return hits;
            }
            assert!(Instant::now() < deadline, "{count} requests to {prefix} not received within 30 s: {:?}", self.hits.lock().unwrap());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A topic with an SQS queue subscribed with raw delivery; returns (topic ARN, queue URL).
async fn topic_with_queue(account: &Account) -> (String, String) {
    let sns = account.sns();
    let topic = sns.create_topic().name("offhours-notices").send().await.unwrap().topic_arn().unwrap().to_string();
    let sqs = account.sqs();
    let queue_url = sqs.create_queue().queue_name("notices").send().await.unwrap().queue_url().unwrap().to_string();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let queue_arn = attributes.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(queue_arn).attributes("RawMessageDelivery", "true").send().await.unwrap();
    (topic, queue_url)
}

/// Polls the queue until a message arrives, or fails after 30 s.
async fn receive(account: &Account, queue_url: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = account.sqs().receive_message().queue_url(queue_url).max_number_of_messages(10).send().await.unwrap();
        if let Some(m) = out.messages().first() {
            return serde_json::from_str(m.body().unwrap()).expect("raw delivery: the body is the JSON notice");
        }
        assert!(Instant::now() < deadline, "no message on the queue within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_warning_arrives_ahead_of_the_stop_on_every_sink_and_a_snooze_keeps_the_instance_running() {
    let account = Account::new().await;
    let keep = account.launch("eu-west-1", &[("Schedule", "late"), ("Name", "late worker")]).await;
    let other = account.launch("eu-west-1", &[("Schedule", "late")]).await;
    let (topic, queue_url) = topic_with_queue(&account).await;
    let rx = Receiver::start();
    // The URL's last part stands for the webhook's secret: it must never be logged.
    let teams_file = account.dir.path().join("teams-url");
    std::fs::write(&teams_file, rx.url("/teams/SECRET-TEAMS")).unwrap();
    let stop_at = (Utc::now() + chrono::TimeDelta::seconds(20)).with_nanosecond(0).unwrap();
    let config = account.write_config(&format!(
        "{HEADER}[notify]\nsns_topic_arn = \"{topic}\"\n\
         [[notify.webhooks]]\nformat = \"slack\"\nurl = \"{}\"\n\
         [[notify.webhooks]]\nname = \"teams\"\nformat = \"teams\"\nurl_file = \"{}\"\n\
         [[notify.webhooks]]\nname = \"hangs\"\nformat = \"json\"\nurl = \"{}\"\n\
         [[notify.webhooks]]\nname = \"fails\"\nformat = \"json\"\nurl = \"{}\"\n\
         [[notify.webhooks]]\nname = \"ops\"\nformat = \"json\"\nurl = \"{}\"\n\
         [schedules.late]\nstop = \"{} {} {} * * *\"\nwarn_before = \"8s\"\n",
        rx.url("/slack/SECRET-SLACK"),
        teams_file.display(),
        rx.url("/hang/SECRET-HANG"),
        rx.url("/fail/SECRET-FAIL"),
        rx.url("/json/SECRET-JSON"),
        stop_at.second(),
        stop_at.minute(),
        stop_at.hour(),
    ));
    let daemon = Daemon::start(&account, &config, "1");

    // The warning, on every webhook, before the stop.
    let slack = rx.wait_for("/slack/SECRET-SLACK", 1).remove(0);
    assert!(slack.at < stop_at, "the warning came at {} for a stop at {stop_at}", slack.at);
    assert_eq!(slack.body["text"], "offhours: schedule late stops 2 resources in 8s", "{}", slack.body);
    assert_eq!(slack.body["blocks"][0]["type"], "header");
    let listed = slack.body["blocks"].to_string();
    assert!(listed.contains(&keep) && listed.contains(&other) && listed.contains("late worker"), "{listed}");
    let teams = rx.wait_for("/teams/SECRET-TEAMS", 1).remove(0);
    assert_eq!(teams.body["type"], "message");
    assert_eq!(teams.body["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(teams.body["attachments"][0]["content"]["type"], "AdaptiveCard");
    let json = rx.wait_for("/json/SECRET-JSON", 1).remove(0);
    assert_eq!(json.body["event"], "stop-warning");
    rx.wait_for("/hang/SECRET-HANG", 1);

    // Snooze one instance with the exact command the warning gives.
    let command = json.body["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == keep.as_str())
        .and_then(|r| r["detail"].as_str())
        .expect("the warning names each resource with its snooze command")
        .to_string();
    assert!(command.starts_with(&format!("offhours snooze --config {} {keep} --region eu-west-1 --for 1h", config.display())), "{command}");
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let snoozed = account.run(&args);
    snoozed.expect_code(0);
    assert!(snoozed.stdout().contains("snoozed until"), "{}", snoozed.stdout());

    // At the stop: the snoozed instance stays running, the other stops.
    let finished = daemon.wait_for_event("the stop", |e| e["message"] == "Action finished." && e["action"] == "stop");
    assert_eq!(finished["outcomes"], r#"{"skipped":1,"stopped":1}"#, "{finished}");
    wait_for_state(&account, &other, "stopped").await;
    assert_eq!(account.states("eu-west-1").await[&keep], "running");
    let skipped = daemon.wait_for_event("the skip", |e| e["id"] == keep.as_str() && e["outcome"] == "skipped");
    assert!(skipped["reason"].as_str().unwrap().starts_with("snoozed until "), "{skipped}");
    // A receiver that never answers held nothing up: the stop fired on time.
    let fire = daemon.wait_for_event("the stop's fire", |e| e["message"] == "Fire started." && e["action"] == "stop");
    assert!(fire["lag_ms"].as_i64().unwrap() < 5_000, "a notification delayed the stop: {fire}");
    // A receiver answering 500 is tried again.
    rx.wait_for("/fail/SECRET-FAIL", 2);

    // SNS: the JSON notice, through the queue.
    let message = receive(&account, &queue_url).await;
    assert_eq!(message["event"], "stop-warning", "{message}");
    assert_eq!(message["source"], "offhours");
    let ids: Vec<&str> = message["resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&keep.as_str()) && ids.contains(&other.as_str()), "{message}");

    let log = std::fs::read_to_string(account.dir.path().join("daemon-1.log")).unwrap();
    assert!(!log.contains("SECRET-"), "a webhook URL was logged");
    assert!(log.contains("\"sink\":\"teams\""), "sinks are named in the log");
}

/// A name that tries a channel-wide mention and disguised links in each sink's markup.
const HOSTILE: &str = "late worker <!channel> & <https://evil.example|click here> [text](https://evil.example) **bold**";

#[tokio::test]
async fn a_warning_for_300_resources_with_a_hostile_name_reaches_every_sink_escaped_and_summarised() {
    let account = Account::new().await;
    // Every one so named, so that whichever the sinks list first carries the name.
    account.launch_many("eu-west-1", 300, &[("Schedule", "fleet"), ("Name", HOSTILE)]).await;
    let (topic, queue_url) = topic_with_queue(&account).await;
    let rx = Receiver::start();
    let stop_at = (Utc::now() + chrono::TimeDelta::seconds(20)).with_nanosecond(0).unwrap();
    let config = account.write_config(&format!(
        "{HEADER}max_instances_per_action = 0\n[notify]\nsns_topic_arn = \"{topic}\"\nevents = [\"stop-warning\"]\n\
         [[notify.webhooks]]\nformat = \"slack\"\nurl = \"{}\"\n\
         [[notify.webhooks]]\nformat = \"teams\"\nurl = \"{}\"\n\
         [[notify.webhooks]]\nformat = \"json\"\nurl = \"{}\"\n\
         [schedules.fleet]\nstop = \"{} {} {} * * *\"\nwarn_before = \"8s\"\n",
        rx.url("/slack/S"),
        rx.url("/teams/T"),
        rx.url("/json/J"),
        stop_at.second(),
        stop_at.minute(),
        stop_at.hour(),
    ));
    let _daemon = Daemon::start(&account, &config, "1");

    // Slack: the name's markup is text; the list is whole resources within the section's
    // 3,000 characters and says how many more and where.
    let slack = rx.wait_for("/slack/S", 1).remove(0).body;
    let text = slack.to_string();
    assert!(!text.contains("<!channel>") && !text.contains("<https://evil.example|"), "{text}");
    let sections: Vec<&str> = slack["blocks"].as_array().unwrap().iter().filter_map(|b| b["text"]["text"].as_str()).collect();
    assert!(sections.iter().all(|s| s.chars().count() <= 3000), "{sections:?}");
    let listing = sections.iter().find(|s| s.contains("... and ")).expect("a section that says how many more");
    assert!(listing.contains("more: `offhours plan` and the status page list them all"), "{listing}");
    assert!(text.contains("late worker &lt;!channel&gt; &amp; &lt;https://evil.example|click here&gt;"), "{text}");

    // Teams: no link or emphasis from the name.
    let teams = rx.wait_for("/teams/T", 1).remove(0).body.to_string();
    assert!(!teams.contains("[text](https://evil.example)") && !teams.contains(" **bold**"), "{teams}");
    assert!(teams.contains(r"\\[text\\]\\(https://evil.example\\)"), "{teams}");
    assert!(teams.contains("... and "), "{teams}");

    // JSON webhook: every resource, the name as it is.
    let json = rx.wait_for("/json/J", 1).remove(0).body;
    assert_eq!(json["resources"].as_array().unwrap().len(), 300);
    assert!(json.to_string().contains("<!channel>"), "the JSON sink carries values unchanged");

    // SNS (through SQS): under its 256 KiB limit, summarised, never dropped.
    let message = receive(&account, &queue_url).await;
    assert_eq!(message["event"], "stop-warning", "{message}");
    assert!(message.to_string().len() < 256 * 1024);
    assert_eq!(message["resources_total"], 300, "{message}");
    let listed = message["resources"].as_array().unwrap().len() as u64;
    assert!(listed > 0 && listed <= 100, "{listed}");
    assert_eq!(message["resources_not_listed"].as_u64(), Some(300 - listed));
}
