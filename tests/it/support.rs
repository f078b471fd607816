//! Test fixtures: an AWS account of the test's own inside the shared moto server, a
//! fleet builder, the real binary as a subprocess, and moto's fault controls.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_ec2::types::{Tag, TagSpecification};

/// The moto endpoint `scripts/with-moto.sh` started.
pub fn endpoint() -> String {
    std::env::var("OFFHOURS_TEST_ENDPOINT")
        .expect("OFFHOURS_TEST_ENDPOINT is not set: run the tests with `make test`, which starts the AWS emulator")
}

static NEXT_ACCOUNT: AtomicU64 = AtomicU64::new(0);

/// One AWS account in moto, private to a test (moto keeps accounts apart), with
/// credentials obtained by assuming a role in it.
pub struct Account {
    /// The 12-digit account id.
    pub id: String,
    /// The moto this account lives in.
    pub endpoint: String,
    pub creds: Credentials,
    pub dir: tempfile::TempDir,
}

fn sdk_config(endpoint: &str, creds: Credentials, region: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .build()
}

impl Account {
    pub async fn new() -> Account {
        Self::new_on(&endpoint()).await
    }

    /// An account in the moto at `endpoint`.
    pub async fn new_on(endpoint: &str) -> Account {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
        let n = NEXT_ACCOUNT.fetch_add(1, Ordering::SeqCst);
        let id = format!("{:012}", (u64::from(std::process::id()) * 1_000_003 + nanos % 1_000_000 * 1000 + n) % 1_000_000_000_000);
        let base = Credentials::new("testing", "testing", None, None, "test");
        let sts = aws_sdk_sts::Client::new(&sdk_config(endpoint, base, "us-east-1"));
        let out = sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{id}:role/offhours-test"))
            .role_session_name("offhours-test")
            .send()
            .await
            .expect("AssumeRole in moto");
        let c = out.credentials().expect("credentials");
        let creds = Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_string()), None, "moto");
        Account { id, endpoint: endpoint.to_string(), creds, dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&sdk_config(&self.endpoint, self.creds.clone(), region))
    }

    pub fn rds(&self, region: &str) -> aws_sdk_rds::Client {
        aws_sdk_rds::Client::new(&sdk_config(&self.endpoint, self.creds.clone(), region))
    }

    pub fn asg(&self, region: &str) -> aws_sdk_autoscaling::Client {
        aws_sdk_autoscaling::Client::new(&sdk_config(&self.endpoint, self.creds.clone(), region))
    }

    pub fn ecs(&self, region: &str) -> aws_sdk_ecs::Client {
        aws_sdk_ecs::Client::new(&sdk_config(&self.endpoint, self.creds.clone(), region))
    }

    pub fn aas(&self, region: &str) -> aws_sdk_applicationautoscaling::Client {
        aws_sdk_applicationautoscaling::Client::new(&sdk_config(&self.endpoint, self.creds.clone(), region))
    }

    pub fn redshift(&self, region: &str) -> aws_sdk_redshift::Client {
        aws_sdk_redshift::Client::new(&sdk_config(&self.endpoint, self.creds.clone(), region))
    }

    pub fn eks(&self, region: &str) -> aws_sdk_eks::Client {
        aws_sdk_eks::Client::new(&sdk_config(&self.endpoint, self.creds.clone(), region))
    }

    pub fn sagemaker(&self, region: &str) -> aws_sdk_sagemaker::Client {
        aws_sdk_sagemaker::Client::new(&sdk_config(&self.endpoint, self.creds.clone(), region))
    }

    pub fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&sdk_config(&self.endpoint, self.creds.clone(), "us-east-1"))
    }

    pub fn cloudwatch_in(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&sdk_config(&self.endpoint, self.creds.clone(), region))
    }

    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&sdk_config(&self.endpoint, self.creds.clone(), "us-east-1"))
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&sdk_config(&self.endpoint, self.creds.clone(), "us-east-1"))
    }

    /// Launches one instance with these tags (`Name` included if given); returns its id.
    pub async fn launch(&self, region: &str, tags: &[(&str, &str)]) -> String {
        self.launch_many(region, 1, tags).await.remove(0)
    }

    pub async fn launch_many(&self, region: &str, count: i32, tags: &[(&str, &str)]) -> Vec<String> {
        let mut req = self
            .ec2(region)
            .run_instances()
            .image_id("ami-12c6146b")
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .min_count(count)
            .max_count(count);
        if !tags.is_empty() {
            let spec = TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
                .set_tags(Some(tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build()).collect()))
                .build();
            req = req.tag_specifications(spec);
        }
        let out = req.send().await.expect("RunInstances");
        out.instances().iter().map(|i| i.instance_id().unwrap().to_string()).collect()
    }

    /// Creates a small PostgreSQL DB instance with these tags.
    pub async fn db_instance(&self, region: &str, id: &str, tags: &[(&str, &str)]) {
        self.rds(region)
            .create_db_instance()
            .db_instance_identifier(id)
            .engine("postgres")
            .db_instance_class("db.t3.micro")
            .allocated_storage(20)
            .master_username("admin")
            .master_user_password("not-a-secret-1")
            .set_tags(Some(tags.iter().map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(*k).value(*v).build()).collect()))
            .send()
            .await
            .expect("CreateDBInstance");
    }

    pub async fn stop(&self, region: &str, ids: &[String]) {
        self.ec2(region).stop_instances().set_instance_ids(Some(ids.to_vec())).send().await.expect("StopInstances");
    }

    /// Instance id -> state name, for every instance in the region.
    pub async fn states(&self, region: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut pages = self.ec2(region).describe_instances().max_results(1000).into_paginator().send();
        while let Some(page) = pages.next().await {
            for r in page.expect("DescribeInstances").reservations() {
                for i in r.instances() {
                    out.insert(i.instance_id().unwrap().to_string(), i.state().and_then(|s| s.name()).unwrap().as_str().to_string());
                }
            }
        }
        out
    }

    /// Writes a config file in the account's temp dir; returns its path.
    pub fn write_config(&self, text: &str) -> PathBuf {
        let path = self.dir.path().join("offhours.toml");
        std::fs::write(&path, text).expect("write config");
        path
    }

    /// The real binary, with this account's credentials, moto as endpoint, and no
    /// trace of the developer's own AWS set-up.
    pub fn offhours(&self, args: &[&str]) -> Command {
        let aws_config = self.dir.path().join("aws-config");
        let aws_credentials = self.dir.path().join("aws-credentials");
        for empty in [&aws_config, &aws_credentials] {
            if !empty.exists() {
                std::fs::write(empty, "").expect("write empty aws file");
            }
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_offhours"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("TZ", "UTC")
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", self.creds.access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", self.creds.secret_access_key())
            .env("AWS_SESSION_TOKEN", self.creds.session_token().unwrap_or_default())
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", aws_config)
            .env("AWS_SHARED_CREDENTIALS_FILE", aws_credentials);
        cmd
    }

    /// Runs the binary to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        let started = Instant::now();
        let output = self.offhours(args).output().expect("run offhours");
        Run { output, elapsed: started.elapsed() }
    }

    /// Tells moto to answer matching requests of this account with an error.
    pub fn fault(&self, spec: serde_json::Value) {
        let mut spec = spec;
        spec["access_key_id"] = self.creds.access_key_id().into();
        control(&self.endpoint, "POST", "/_offhours/faults", &spec.to_string());
    }

    pub fn falls_back(&self, instance_id: &str, code: &str, message: &str) {
        let spec = serde_json::json!({
            "access_key_id": self.creds.access_key_id(),
            "instance_id": instance_id, "code": code, "message": message,
        });
        control(&self.endpoint, "POST", "/_offhours/falls-back", &spec.to_string());
    }

    /// API calls moto received from this account, by action.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        let path = format!("/_offhours/calls?access_key_id={}", self.creds.access_key_id());
        let body = control(&self.endpoint, "GET", &path, "");
        serde_json::from_str(&body).expect("calls json")
    }

    /// The actions moto received from this account's key, in order of arrival.
    pub fn call_log(&self) -> Vec<String> {
        let path = format!("/_offhours/call-log?access_key_id={}", self.creds.access_key_id());
        let log: Vec<(f64, String)> = serde_json::from_str(&control(&self.endpoint, "GET", &path, "")).expect("call log");
        log.into_iter().map(|(_, a)| a).collect()
    }

    /// The calls made in this account by any key, a role assumed into it included.
    pub fn calls_in_account(&self) -> BTreeMap<String, u64> {
        let body = control(&self.endpoint, "GET", &format!("/_offhours/calls?account={}", self.id), "");
        serde_json::from_str(&body).expect("calls json")
    }
}

/// POSTs a JSON body to one of moto's control paths.
pub fn control_json(path: &str, body: serde_json::Value) {
    control(&endpoint(), "POST", path, &body.to_string());
}

/// A plain HTTP/1.1 request to moto's control paths.
pub fn control(endpoint: &str, method: &str, path: &str, body: &str) -> String {
    let addr = endpoint.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&addr).expect("connect to moto");
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read moto answer");
    assert!(response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"), "{response}");
    response.split("\r\n\r\n").nth(1).unwrap_or_default().to_string()
}

pub struct Run {
    pub output: Output,
    pub elapsed: Duration,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.output.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout(), self.stderr()))
    }
    /// Asserts the exit code, showing both streams when it is wrong.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), code, "stdout:\n{}\nstderr:\n{}", self.stdout(), self.stderr());
        self
    }
}

/// A moto server of a test's own, for what would disturb the shared one (its clock).
pub struct PrivateMoto {
    child: std::process::Child,
    pub endpoint: String,
    _dir: tempfile::TempDir,
}

impl PrivateMoto {
    pub fn start() -> PrivateMoto {
        Self::start_with(&[])
    }

    /// One request at a time, so that DynamoDB's conditional writes are atomic.
    pub fn start_single_threaded() -> PrivateMoto {
        Self::start_with(&["--single-threaded"])
    }

    fn start_with(args: &[&str]) -> PrivateMoto {
        let python = std::env::var("OFFHOURS_TEST_PYTHON").expect("OFFHOURS_TEST_PYTHON: run the tests with `make test`");
        let server = std::env::var("OFFHOURS_TEST_MOTO_SERVER").expect("OFFHOURS_TEST_MOTO_SERVER: run the tests with `make test`");
        let dir = tempfile::tempdir().unwrap();
        let port_file = dir.path().join("port");
        let child = Command::new(python)
            .arg(server)
            .arg("--port-file")
            .arg(&port_file)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start a private moto");
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            if let Ok(p) = std::fs::read_to_string(&port_file) {
                break p;
            }
            assert!(Instant::now() < deadline, "private moto did not start within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        };
        PrivateMoto { child, endpoint: format!("http://127.0.0.1:{}", port.trim()), _dir: dir }
    }

    /// Sets moto's clock (it keeps ticking from there); `None` back to real time.
    pub fn set_clock(&self, now: Option<&str>) {
        control(&self.endpoint, "POST", "/_offhours/clock", &serde_json::json!({ "now": now }).to_string());
    }
}

impl Drop for PrivateMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
