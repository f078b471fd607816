//! Thin adapters over the AWS SDK: client set-up (credentials, region, timeouts,
//! retries) and per-service calls with their errors classified. Nothing else in the
//! crate talks to the SDK.
//!
//! Layout: this file builds clients, classifies errors, and defines [`Adapter`], what
//! each resource kind's adapter does ([`adapter`] lists them): [`ec2`] instances,
//! [`rds`] DB instances and clusters, [`asg`] Auto Scaling groups, [`ecs`] services;
//! [`cloudwatch`] reads and writes the billing alarm; [`iam`] reads the credential
//! report and access keys.

pub mod asg;
pub mod cloudwatch;
pub mod dynamodb;
pub mod ec2;
pub mod ecs;
pub mod iam;
pub mod observe;
pub mod organizations;
pub mod pricing;
pub mod rds;
mod settings;
pub mod sns;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::operation::RequestId;

pub use settings::{AwsSettings, DEFAULT_MAX_CONCURRENT_CALLS};

use crate::kinds::Rules;
use crate::model::{Action, Kind, Phase, Resource};

/// IAM, STS (for identity), the billing metrics and alarms live in or answer from
/// us-east-1 whatever regions the schedules use.
pub const GLOBAL_REGION: &str = "us-east-1";

/// What kind of failure an AWS call met; callers branch on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The instance id does not exist (or no longer).
    NotFound,
    /// The instance is not in a state that allows the action.
    IncorrectState,
    /// The action is not supported for the instance (e.g. instance-store, spot).
    Unsupported,
    /// EC2 has no capacity for the instance type in the zone right now.
    InsufficientCapacity,
    /// Throttled after the SDK's retries were spent.
    Throttled,
    /// The credentials lack a permission.
    Unauthorized,
    /// A dry run that would have succeeded.
    DryRunOk,
    /// No answer within the configured timeout.
    Timeout,
    /// No connection (endpoint unreachable, DNS, TLS).
    Unreachable,
    /// No credentials could be found or assumed.
    Credentials,
    /// Anything else the service answered.
    Other,
}

/// A failed AWS call, classified, with what the operator needs to act on it.
#[derive(Debug, Clone, thiserror::Error)]
pub struct AwsError {
    pub operation: &'static str,
    pub region: String,
    pub kind: ErrorKind,
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}: ", self.operation, self.region)?;
        match self.kind {
            ErrorKind::Timeout => write!(f, "no answer within the timeout ({})", self.message)?,
            ErrorKind::Unreachable => write!(f, "cannot reach the endpoint ({})", self.message)?,
            ErrorKind::Credentials => write!(f, "no usable credentials ({})", self.message)?,
            _ => match &self.code {
                Some(code) => write!(f, "{code}: {}", self.message)?,
                None => f.write_str(&self.message)?,
            },
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl AwsError {
    /// A resource the call's answer does not contain.
    pub fn not_found(operation: &'static str, region: &str, message: String) -> Self {
        AwsError { operation, region: region.to_string(), kind: ErrorKind::NotFound, code: None, message, request_id: None }
    }

    /// Classifies an SDK error without flattening it before the caller decides.
    pub fn from_sdk<E, R>(operation: &'static str, region: &str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
        SdkError<E, R>: RequestId,
    {
        let request_id = match &err {
            SdkError::ServiceError(s) => s.err().meta().extra("aws_request_id").map(str::to_string),
            _ => None,
        }
        .or_else(|| err.request_id().map(str::to_string));
        let (kind, code, message) = match &err {
            SdkError::TimeoutError(_) => (ErrorKind::Timeout, None, "operation or attempt timeout".to_string()),
            SdkError::DispatchFailure(d) => {
                let text = DisplayErrorContext(&err).to_string();
                let kind = if d.is_timeout() {
                    ErrorKind::Timeout
                } else if text.contains("credentials") || text.contains("credential") {
                    ErrorKind::Credentials
                } else {
                    ErrorKind::Unreachable
                };
                (kind, None, text)
            }
            SdkError::ConstructionFailure(_) => {
                let text = DisplayErrorContext(&err).to_string();
                let kind = if text.contains("credential") { ErrorKind::Credentials } else { ErrorKind::Other };
                (kind, None, text)
            }
            _ => {
                let code = err.code().map(str::to_string);
                let message = err.message().map(str::to_string).unwrap_or_else(|| DisplayErrorContext(&err).to_string());
                (classify_code(code.as_deref()), code, message)
            }
        };
        AwsError { operation, region: region.to_string(), kind, code, message, request_id }
    }
}

fn classify_code(code: Option<&str>) -> ErrorKind {
    match code.unwrap_or_default() {
        c if c.starts_with("InvalidInstanceID") => ErrorKind::NotFound,
        "NoSuchEntity"
        | "DBInstanceNotFound"
        | "DBInstanceNotFoundFault"
        | "DBClusterNotFoundFault"
        | "ServiceNotFoundException"
        | "ClusterNotFoundException" => ErrorKind::NotFound,
        "IncorrectInstanceState"
        | "IncorrectState"
        | "InvalidDBInstanceState"
        | "InvalidDBInstanceStateFault"
        | "InvalidDBClusterStateFault"
        | "ScalingActivityInProgress"
        | "ScalingActivityInProgressFault" => ErrorKind::IncorrectState,
        "UnsupportedOperation" | "UnsupportedHibernationConfiguration" => ErrorKind::Unsupported,
        "InsufficientInstanceCapacity" | "Server.InsufficientInstanceCapacity" | "InsufficientDBInstanceCapacity" => {
            ErrorKind::InsufficientCapacity
        }
        "RequestLimitExceeded" | "Throttling" | "ThrottlingException" => ErrorKind::Throttled,
        "UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException" | "AuthFailure" => ErrorKind::Unauthorized,
        "DryRunOperation" => ErrorKind::DryRunOk,
        "ExpiredToken" | "InvalidClientTokenId" | "UnrecognizedClientException" => ErrorKind::Credentials,
        _ => ErrorKind::Other,
    }
}

/// The SDK configuration every client is built from, and what is built from it once per
/// config generation: one EC2 client and one bound on calls in flight per region.
#[derive(Clone, Debug)]
pub struct Aws {
    base: SdkConfig,
    /// The credentials before AssumeRole, when a role is assumed.
    base_credentials: Option<SharedCredentialsProvider>,
    max_concurrent_calls: usize,
    regions: Arc<Mutex<BTreeMap<String, Arc<RegionClients>>>>,
}

/// A region's clients, each built on first use (a file of instances only never builds
/// the others), and its bound on calls in flight, shared by every service.
#[derive(Debug)]
struct RegionClients {
    base: SdkConfig,
    region: Region,
    ec2: std::sync::OnceLock<aws_sdk_ec2::Client>,
    rds: std::sync::OnceLock<aws_sdk_rds::Client>,
    asg: std::sync::OnceLock<aws_sdk_autoscaling::Client>,
    ecs: std::sync::OnceLock<aws_sdk_ecs::Client>,
    /// Calls in flight, per service: each service throttles on its own, and a slow
    /// service (databases) must not queue the others' calls.
    permits: [Arc<tokio::sync::Semaphore>; 4],
}

/// The services a region's calls go to, each with its own bound on calls in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Ec2 = 0,
    Rds = 1,
    AutoScaling = 2,
    Ecs = 3,
}

impl RegionClients {
    fn ec2(&self) -> &aws_sdk_ec2::Client {
        self.ec2.get_or_init(|| {
            aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(&self.base).interceptor(observe::Observe).region(self.region.clone()).build(),
            )
        })
    }

    fn rds(&self) -> &aws_sdk_rds::Client {
        self.rds.get_or_init(|| {
            aws_sdk_rds::Client::from_conf(
                aws_sdk_rds::config::Builder::from(&self.base).interceptor(observe::Observe).region(self.region.clone()).build(),
            )
        })
    }

    fn asg(&self) -> &aws_sdk_autoscaling::Client {
        self.asg.get_or_init(|| {
            aws_sdk_autoscaling::Client::from_conf(
                aws_sdk_autoscaling::config::Builder::from(&self.base).interceptor(observe::Observe).region(self.region.clone()).build(),
            )
        })
    }

    fn ecs(&self) -> &aws_sdk_ecs::Client {
        self.ecs.get_or_init(|| {
            aws_sdk_ecs::Client::from_conf(
                aws_sdk_ecs::config::Builder::from(&self.base).interceptor(observe::Observe).region(self.region.clone()).build(),
            )
        })
    }
}

/// One region for one action: its clients, its bound on calls in flight, and the
/// action's call counter. Adapters take a permit for every call they make.
#[derive(Clone, Debug)]
pub struct Api {
    pub region: String,
    clients: Arc<RegionClients>,
    pub calls: Arc<ec2::CallCounter>,
}

impl Api {
    pub fn ec2(&self) -> ec2::Ec2 {
        ec2::Ec2 {
            client: self.clients.ec2().clone(),
            region: self.region.clone(),
            permits: self.clients.permits[Service::Ec2 as usize].clone(),
            calls: self.calls.clone(),
        }
    }

    pub fn rds(&self) -> &aws_sdk_rds::Client {
        self.clients.rds()
    }

    pub fn asg(&self) -> &aws_sdk_autoscaling::Client {
        self.clients.asg()
    }

    pub fn ecs(&self) -> &aws_sdk_ecs::Client {
        self.clients.ecs()
    }

    /// Waits for one of the region's call slots for `service`; the call holds it until
    /// it returns.
    pub async fn permit(&self, service: Service, operation: &'static str) -> tokio::sync::SemaphorePermit<'_> {
        let permit = self.clients.permits[service as usize].acquire().await.expect("the semaphore is never closed");
        self.calls.add(operation);
        permit
    }
}

/// A boxed future, so that adapters of every kind sit behind one object-safe trait.
pub type Pending<'a, T> = futures_util::future::BoxFuture<'a, Result<T, AwsError>>;

/// What the engine needs from a resource kind's adapter, in one region.
pub trait Adapter: Send + Sync {
    /// Resources per act call. A call refused because of one of them is split.
    fn batch_size(&self) -> usize;
    /// Every resource of the kind carrying all the `selector` tags.
    fn list<'a>(&'a self, api: &'a Api, selector: &'a BTreeMap<String, String>) -> Pending<'a, Vec<Resource>>;
    /// A fresh full view of these resources; gone ones are absent.
    fn describe<'a>(&'a self, api: &'a Api, ids: &'a [String]) -> Pending<'a, Vec<Resource>>;
    /// The state name and phase of each, with the lightest read the kind has.
    fn states<'a>(&'a self, api: &'a Api, ids: &'a [String]) -> Pending<'a, BTreeMap<String, (String, Phase)>> {
        Box::pin(
            async move { Ok(self.describe(api, ids).await?.into_iter().map(|r| (r.id.clone(), (r.state.clone(), r.phase()))).collect()) },
        )
    }
    /// Starts or stops the batch; the ids the service accepted. A dry run changes
    /// nothing (EC2 checks the permission with its DryRun flag; the others cannot).
    fn act<'a>(&'a self, api: &'a Api, action: Action, batch: &'a [Resource], hibernate: bool, dry_run: bool) -> Pending<'a, Vec<String>>;
    /// Sets one tag on the resource (`Some(value)`) or removes it (`None`): the snooze.
    fn tag<'a>(&'a self, api: &'a Api, resource: &'a Resource, key: &'a str, value: Option<&'a str>) -> Pending<'a, ()>;
}

/// The adapter of each kind: the one place where a kind meets its AWS calls.
pub fn adapter(kind: Kind) -> &'static dyn Adapter {
    match kind {
        Kind::Ec2 => &ec2::Instances,
        Kind::Rds => &rds::DbInstances,
        Kind::RdsCluster => &rds::DbClusters,
        Kind::Asg => &asg::Groups,
        Kind::Ecs => &ecs::Services,
    }
}

impl Aws {
    /// Loads the SDK's default chain (environment, profiles, SSO, container and
    /// instance roles; `AWS_ENDPOINT_URL` honoured), with the file's profile, role,
    /// timeouts and retry attempts.
    pub async fn connect(settings: &AwsSettings) -> Self {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3).min(settings.attempt_timeout))
            .operation_attempt_timeout(settings.attempt_timeout)
            .operation_timeout(settings.operation_timeout)
            .build();
        // Standard retry mode: throttled and 5xx calls are retried with exponential
        // backoff and jitter, within a retry quota. Adaptive mode would also hold back
        // first attempts after a throttle through a client-side rate limiter; the bound
        // on calls in flight per region already keeps offhours' bursts small, and a
        // fire should not be spread out by another tool's throttling.
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts));
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        let mut base = loader.load().await;
        let mut base_credentials = None;
        if let Some(role) = &settings.role_arn {
            base_credentials = base.credentials_provider();
            let mut provider = aws_config::sts::AssumeRoleProvider::builder(role).session_name(&settings.session_name).configure(&base);
            if let Some(id) = &settings.external_id {
                provider = provider.external_id(id);
            }
            // STS is asked in the default region, else us-east-1.
            if base.region().is_none() {
                provider = provider.region(Region::from_static(GLOBAL_REGION));
            }
            let provider = provider.build().await;
            base = base.into_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build();
        }
        Aws {
            base,
            base_credentials,
            max_concurrent_calls: settings.max_concurrent_calls.max(1) as usize,
            regions: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    /// The same settings in another account: credentials from one AssumeRole of
    /// `role_arn` with these credentials, cached and refreshed before expiry by the
    /// SDK's provider. Clients and bounds on calls in flight are the account's own
    /// (AWS throttles per account and region). Nothing is called until first use.
    pub async fn assume(&self, role_arn: &str, external_id: Option<&str>, session_name: &str) -> Aws {
        let mut provider = aws_config::sts::AssumeRoleProvider::builder(role_arn).session_name(session_name).configure(&self.base);
        if let Some(id) = external_id {
            provider = provider.external_id(id);
        }
        if self.base.region().is_none() {
            provider = provider.region(Region::from_static(GLOBAL_REGION));
        }
        let provider = provider.build().await;
        Aws {
            base: self.base.clone().into_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build(),
            base_credentials: self.base.credentials_provider(),
            max_concurrent_calls: self.max_concurrent_calls,
            regions: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    /// The partition these credentials live in (`aws`, `aws-cn`, `aws-us-gov`), from the
    /// caller's ARN; `aws` when it cannot be read.
    pub async fn partition(&self) -> String {
        match self.sts().get_caller_identity().send().await {
            Ok(out) => out.arn().and_then(|a| a.split(':').nth(1)).filter(|p| !p.is_empty()).unwrap_or("aws").to_string(),
            Err(_) => "aws".to_string(),
        }
    }

    /// The account these credentials act in (GetCallerIdentity needs no permission).
    pub async fn account_id(&self) -> Result<String, AwsError> {
        let out = self.sts().get_caller_identity().send().await.map_err(|e| AwsError::from_sdk("GetCallerIdentity", GLOBAL_REGION, e))?;
        Ok(out.account().unwrap_or_default().to_string())
    }

    /// Regions to act in: the file's list, else the SDK's default region; each
    /// checked against the regions enabled for the account (ec2:DescribeRegions), so
    /// that a typo is an error now rather than a DNS failure at 7 pm. If the check
    /// itself cannot be made (e.g. not permitted), the list is used as it is.
    pub async fn regions(&self, configured: &[String]) -> Result<Vec<String>, RegionError> {
        let regions = self.configured_regions(configured)?;
        self.check_regions(&regions, configured.is_empty()).await?;
        Ok(regions)
    }

    /// The file's regions, else the SDK's default region; no call made.
    pub fn configured_regions(&self, configured: &[String]) -> Result<Vec<String>, RegionError> {
        if configured.is_empty() { Ok(vec![self.base.region().ok_or(RegionError::NoRegion)?.to_string()]) } else { Ok(configured.to_vec()) }
    }

    /// Checks `regions` against the account's enabled regions (one DescribeRegions).
    pub async fn check_regions(&self, regions: &[String], defaulted: bool) -> Result<(), RegionError> {
        let configured = if defaulted { &[][..] } else { regions };
        let home = self.base.region().map_or(GLOBAL_REGION.to_string(), ToString::to_string);
        let home = if regions.contains(&home) || configured.is_empty() { home } else { GLOBAL_REGION.to_string() };
        match ec2::enabled_regions(&self.ec2(&home), &home).await {
            Ok(enabled) => {
                if let Some(unknown) = regions.iter().find(|r| !enabled.contains(r)) {
                    return Err(RegionError::Unknown { region: unknown.clone(), enabled });
                }
            }
            Err(e) if matches!(e.kind, ErrorKind::Unreachable | ErrorKind::Timeout | ErrorKind::Credentials) => {
                return Err(RegionError::Check(e));
            }
            Err(e) => {
                tracing::warn!(error = %e, "Cannot list the account's regions; using the configured ones unchecked.")
            }
        }
        Ok(())
    }

    /// The region's clients and its bound on calls in flight, built on first use and
    /// kept for the life of this `Aws` (one config generation).
    fn region(&self, region: &str) -> Arc<RegionClients> {
        let mut regions = self.regions.lock().expect("region cache lock");
        regions
            .entry(region.to_string())
            .or_insert_with(|| {
                Arc::new(RegionClients {
                    base: self.base.clone(),
                    region: Region::new(region.to_string()),
                    ec2: std::sync::OnceLock::new(),
                    rds: std::sync::OnceLock::new(),
                    asg: std::sync::OnceLock::new(),
                    ecs: std::sync::OnceLock::new(),
                    permits: std::array::from_fn(|_| Arc::new(tokio::sync::Semaphore::new(self.max_concurrent_calls))),
                })
            })
            .clone()
    }

    /// Whether the two share their clients (one config generation reused by the next).
    pub fn same_clients(&self, other: &Aws) -> bool {
        Arc::ptr_eq(&self.regions, &other.regions)
    }

    pub fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        self.region(region).ec2().clone()
    }

    /// Every service in `region` for one action, counting its calls in `calls`.
    pub fn api(&self, region: &str, calls: &Arc<ec2::CallCounter>) -> Api {
        Api { region: region.to_string(), clients: self.region(region), calls: calls.clone() }
    }

    /// CloudWatch in us-east-1, where billing metrics live.
    pub fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        let conf = aws_sdk_cloudwatch::config::Builder::from(&self.base)
            .interceptor(observe::Observe)
            .region(Region::from_static(GLOBAL_REGION))
            .build();
        aws_sdk_cloudwatch::Client::from_conf(conf)
    }

    /// IAM is global: its client is pinned to us-east-1 whatever `regions` says.
    pub fn iam(&self) -> aws_sdk_iam::Client {
        let conf =
            aws_sdk_iam::config::Builder::from(&self.base).interceptor(observe::Observe).region(Region::from_static(GLOBAL_REGION)).build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        let region = self.base.region().cloned().unwrap_or(Region::from_static(GLOBAL_REGION));
        let conf = aws_sdk_sts::config::Builder::from(&self.base).interceptor(observe::Observe).region(region).build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    /// The access key ids of the credentials offhours itself runs with (the base
    /// ones, and the assumed role's when `role_arn` is set).
    pub async fn own_key_ids(&self) -> Vec<String> {
        use aws_credential_types::provider::ProvideCredentials;
        let mut ids = Vec::new();
        if let Some(provider) = self.base.credentials_provider()
            && let Ok(c) = provider.provide_credentials().await
        {
            ids.push(c.access_key_id().to_string());
        }
        if let Some(base) = &self.base_credentials
            && let Ok(c) = base.provide_credentials().await
        {
            ids.push(c.access_key_id().to_string());
        }
        ids
    }

    /// Organizations (a global service, served from us-east-1).
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        let conf = aws_sdk_organizations::config::Builder::from(&self.base)
            .interceptor(observe::Observe)
            .region(Region::from_static(GLOBAL_REGION))
            .build();
        aws_sdk_organizations::Client::from_conf(conf)
    }

    /// An SNS client for a topic's region (notifications).
    pub fn sns_in(&self, region: &str) -> aws_sdk_sns::Client {
        let conf =
            aws_sdk_sns::config::Builder::from(&self.base).interceptor(observe::Observe).region(Region::new(region.to_string())).build();
        aws_sdk_sns::Client::from_conf(conf)
    }

    /// A DynamoDB client for the lease: every call must end well within the lease, so
    /// that one hung connection does not use up what is left of it (attempts of a fifth
    /// of the lease, two of them, a quarter of the lease in all; at least 1 s and 1.5 s).
    pub fn dynamodb_for_lease(&self, region: &str, lease: std::time::Duration) -> aws_sdk_dynamodb::Client {
        let second = std::time::Duration::from_secs(1);
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(second)
            .operation_attempt_timeout((lease / 5).max(second))
            .operation_timeout((lease / 4).max(second * 3 / 2))
            .build();
        let conf = aws_sdk_dynamodb::config::Builder::from(&self.base)
            .interceptor(observe::Observe)
            .region(Region::new(region.to_string()))
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    }

    /// A DynamoDB client for the shared state table's region.
    pub fn dynamodb_in(&self, region: &str) -> aws_sdk_dynamodb::Client {
        let conf = aws_sdk_dynamodb::config::Builder::from(&self.base)
            .interceptor(observe::Observe)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_dynamodb::Client::from_conf(conf)
    }

    pub fn sns(&self) -> aws_sdk_sns::Client {
        let conf =
            aws_sdk_sns::config::Builder::from(&self.base).interceptor(observe::Observe).region(Region::from_static(GLOBAL_REGION)).build();
        aws_sdk_sns::Client::from_conf(conf)
    }
}

/// The regions to act in cannot be settled.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RegionError {
    #[error("no region: list `regions` in the file, or set AWS_REGION or a profile's region")]
    NoRegion,
    #[error("region {region} does not exist or is not enabled for this account (enabled: {})", enabled.join(", "))]
    Unknown { region: String, enabled: Vec<String> },
    #[error("cannot list the account's regions: {0}")]
    Check(AwsError),
}
