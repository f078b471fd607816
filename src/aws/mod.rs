//! The AWS plumbing every kind and job shares: the SDK's configuration (credentials,
//! roles, timeouts, retries) and the clients built from it per account and region,
//! bounds on calls in flight, the page loop, the batched act with bisection, the call
//! counter and error classes; and the services that are not resource kinds (IAM,
//! CloudWatch, SNS, Organizations, the Price List). A kind's own calls live in its
//! folder (`kinds/<kind>/aws.rs`) over [`Api`]. Nothing here knows a kind.
//!
//! Layout: this file builds the SDK configuration and checks regions; [`api`] is one
//! region for one action; [`batch`] the batched act; [`error`] the error classes.

pub mod alarms;
mod api;
mod assume;
pub mod batch;
pub mod cloudwatch;
mod error;
pub mod iam;
pub mod metrics;
pub mod observe;
pub mod organizations;
pub mod pricing;
mod settings;
pub mod sns;
pub mod ssm;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;

use api::RegionClients;
pub use api::{Api, CallCounter, CallSlot};
pub use error::{AwsError, ErrorKind};
pub use settings::{AwsSettings, DEFAULT_MAX_CALLS_IN_FLIGHT, DEFAULT_MAX_CONCURRENT_CALLS};

/// IAM, STS (for identity), the billing metrics and alarms live in or answer from
/// us-east-1 whatever regions the schedules use.
pub const GLOBAL_REGION: &str = "us-east-1";

/// A boxed future, so that adapters of every kind sit behind one object-safe trait.
pub type Pending<'a, T> = futures_util::future::BoxFuture<'a, Result<T, AwsError>>;

/// The SDK configuration every client is built from (kept for the config generation,
/// with the account's credentials), and the regions' clients and bounds on calls in
/// flight built from it while actions use them.
#[derive(Clone, Debug)]
pub struct Aws {
    base: SdkConfig,
    /// The credentials before AssumeRole, when a role is assumed.
    base_credentials: Option<SharedCredentialsProvider>,
    max_concurrent_calls: usize,
    /// The regions' clients and bounds while an action holds them: an idle daemon keeps
    /// no client per account and region (hundreds in an organization), and actions
    /// running at once share one set, so the bounds hold over all of them.
    regions: Arc<Mutex<BTreeMap<String, Weak<RegionClients>>>>,
    /// The bound on calls in flight over every account (shared by the accounts' `Aws`).
    overall: Arc<tokio::sync::Semaphore>,
    /// The STS client every account's role is assumed with, built on first use and
    /// shared: one client, not one per account.
    roles: Arc<std::sync::OnceLock<aws_sdk_sts::Client>>,
    /// Whether these are another account's credentials, from [`Aws::assume`].
    assumed: bool,
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
            .http_client(shared_http_client())
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
            overall: Arc::new(tokio::sync::Semaphore::new(settings.max_calls_in_flight.max(1) as usize)),
            roles: Arc::default(),
            assumed: false,
        }
    }

    /// The same settings in another account: credentials from one AssumeRole of
    /// `role_arn` with these credentials (through the STS client every account
    /// shares), cached in the account's own identity cache and refreshed before expiry.
    /// Clients and bounds on calls in flight are the account's own (AWS throttles per
    /// account and region). Nothing is called until first use.
    pub async fn assume(&self, role_arn: &str, external_id: Option<&str>, session_name: &str) -> Aws {
        let sts = self.roles.get_or_init(|| assume::sts_client(&self.base)).clone();
        let provider = assume::AssumedRole::new(sts, role_arn, external_id, session_name);
        // A cache of the account's own: a shared one keeps 64 identities at most, so
        // beyond 64 accounts each call would assume its role again.
        let cache = aws_config::identity::IdentityCache::lazy().build();
        Aws {
            base: self
                .base
                .clone()
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .identity_cache(cache)
                .build(),
            base_credentials: self.base.credentials_provider(),
            max_concurrent_calls: self.max_concurrent_calls,
            regions: Arc::new(Mutex::new(BTreeMap::new())),
            overall: self.overall.clone(),
            roles: self.roles.clone(),
            assumed: true,
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
    ///
    /// In another account whose regions are all enabled in every account
    /// ([`always_enabled`]) nothing is asked of EC2: the role is assumed instead, so
    /// that a refused role is still known now (one call per account fewer, across an
    /// organization, and one round trip fewer before its first listing).
    pub async fn regions(&self, configured: &[String]) -> Result<Vec<String>, RegionError> {
        let regions = self.configured_regions(configured)?;
        if self.assumed && always_enabled(&regions) {
            self.prove_role().await.map_err(RegionError::Check)?;
        } else {
            self.check_regions(&regions, configured.is_empty()).await?;
        }
        Ok(regions)
    }

    /// Assumes the account's role now (its credentials are kept for its first call).
    async fn prove_role(&self) -> Result<(), AwsError> {
        use aws_credential_types::provider::ProvideCredentials;
        let Some(provider) = self.base.credentials_provider() else {
            return Err(AwsError::credentials("AssumeRole", GLOBAL_REGION, "no credentials provider".to_string()));
        };
        let region = self.base.region().map_or(GLOBAL_REGION.to_string(), ToString::to_string);
        let _slot = self.overall.acquire().await.expect("the semaphore is never closed");
        provider.provide_credentials().await.map(drop).map_err(|e| assume::refusal(&e, &region))
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
        let checked = {
            let _slot = self.overall.acquire().await.expect("the semaphore is never closed");
            enabled_regions(&self.region(&home).client(ec2_client), &home).await
        };
        match checked {
            Ok(enabled) => {
                if let Some(unknown) = regions.iter().find(|r| !enabled.contains(r)) {
                    return Err(RegionError::Unknown { region: unknown.clone(), enabled });
                }
            }
            // No answer, no credentials, or the role's AssumeRole failing under the
            // check (throttled, a fault of STS's own): said, not taken for a refusal
            // of DescribeRegions.
            Err(e)
                if e.operation == "AssumeRole"
                    || matches!(e.kind, ErrorKind::Unreachable | ErrorKind::Timeout | ErrorKind::Credentials) =>
            {
                return Err(RegionError::Check(e));
            }
            Err(e) => {
                tracing::warn!(error = %e, "Cannot list the account's regions; using the configured ones unchecked.")
            }
        }
        Ok(())
    }

    /// The region's clients and its bounds on calls in flight: those of the actions
    /// running now, else built anew (and dropped when the last action using them ends).
    fn region(&self, region: &str) -> Arc<RegionClients> {
        let mut regions = self.regions.lock().expect("region cache lock");
        if let Some(live) = regions.get(region).and_then(Weak::upgrade) {
            return live;
        }
        regions.retain(|_, clients| clients.strong_count() > 0);
        let conf = self.base.to_builder().region(Region::new(region.to_string())).build();
        let built = Arc::new(RegionClients::new(conf, self.max_concurrent_calls, self.overall.clone()));
        regions.insert(region.to_string(), Arc::downgrade(&built));
        built
    }

    /// Keeps the clients of `regions` while the guard lives, so that an action's phases
    /// (list, act, verify) share one set instead of building one each.
    pub fn hold(&self, regions: &[String]) -> Held {
        Held { _clients: regions.iter().map(|r| self.region(r)).collect() }
    }

    /// Whether the two share their clients (one config generation reused by the next).
    pub fn same_clients(&self, other: &Aws) -> bool {
        Arc::ptr_eq(&self.regions, &other.regions)
    }

    /// Every service in `region` for one action, counting its calls in `calls`.
    pub fn api(&self, region: &str, calls: &Arc<CallCounter>) -> Api {
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

/// Regions enabled in every account, which cannot be disabled: those AWS opened before
/// 20 March 2019 (every later one is opt-in), in the commercial partition only, so that
/// a China or GovCloud region named for a commercial account is still an error found by
/// DescribeRegions (as is any region outside this list).
const ALWAYS_ENABLED: &[&str] = &[
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// Whether every one of `regions` is enabled in every account.
pub fn always_enabled(regions: &[String]) -> bool {
    regions.iter().all(|r| ALWAYS_ENABLED.contains(&r.as_str()))
}

/// Regions' clients kept alive by an action ([`Aws::hold`]).
#[derive(Debug)]
pub struct Held {
    _clients: Vec<Arc<RegionClients>>,
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

/// How long an idle connection is kept for reuse: across the phases of a fire (seconds
/// apart) and the 5-second reads of shared state, not for the hours between fires (a
/// fire over hundreds of accounts leaves as many connections; hyper's default keeps
/// them 90 s).
const POOL_IDLE: Duration = Duration::from_secs(20);

/// The HTTP client every SDK client of every account shares: one connection pool, one
/// TLS configuration (per distinct pair of timeouts), as the SDK's default client would
/// build for each SDK client on its own (rustls with aws-lc, proxies from the
/// environment).
fn shared_http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig, tls};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.set_pool_idle_timeout(Some(Some(POOL_IDLE)));
        connector.build()
    })
}

/// An EC2 client (DescribeRegions) on a region's configuration.
fn ec2_client(conf: &SdkConfig) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::from_conf(aws_sdk_ec2::config::Builder::from(conf).interceptor(observe::Observe).build())
}

/// The regions enabled for the account.
async fn enabled_regions(client: &aws_sdk_ec2::Client, region: &str) -> Result<Vec<String>, AwsError> {
    let out = client.describe_regions().send().await.map_err(|e| AwsError::from_sdk("DescribeRegions", region, e))?;
    let mut names: Vec<String> = out.regions().iter().filter_map(|r| r.region_name().map(str::to_string)).collect();
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_region_s_clients_live_while_an_action_uses_them() {
        // No call is made: clients are built, not used.
        let aws = Aws::connect(&AwsSettings::default()).await;
        let calls = Arc::new(CallCounter::default());
        let (first, second) = (aws.api("eu-west-1", &calls), aws.api("eu-west-1", &calls));
        assert!(Arc::ptr_eq(&first.clients, &second.clients), "actions at once share the clients and their bounds");
        let other = aws.api("eu-central-1", &calls);
        assert!(!Arc::ptr_eq(&first.clients, &other.clients), "each region its own");
        let held = Arc::downgrade(&first.clients);
        drop((first, second));
        assert!(held.upgrade().is_none(), "dropped when the last action using them ends");
        let again = aws.api("eu-west-1", &calls);
        let live: Vec<String> = aws.regions.lock().unwrap().iter().filter(|(_, c)| c.strong_count() > 0).map(|(r, _)| r.clone()).collect();
        assert_eq!(live, ["eu-central-1", "eu-west-1"]);
        drop((again, other));
        let _next = aws.api("us-east-1", &calls);
        assert_eq!(aws.regions.lock().unwrap().len(), 1, "the dropped ones are forgotten");
    }

    #[tokio::test]
    async fn an_action_s_phases_share_the_clients_it_holds() {
        let aws = Aws::connect(&AwsSettings::default()).await;
        let calls = Arc::new(CallCounter::default());
        let held = aws.hold(&["eu-north-1".to_string()]);
        let listing = Arc::downgrade(&aws.api("eu-north-1", &calls).clients);
        let acting = aws.api("eu-north-1", &calls);
        assert!(listing.upgrade().is_some_and(|l| Arc::ptr_eq(&l, &acting.clients)), "the listing's clients act");
        drop((held, acting));
        assert!(listing.upgrade().is_none(), "dropped with the action");
    }

    #[test]
    fn regions_opened_before_opt_in_need_no_check() {
        let list = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let cases = [
            (list(&["eu-west-1", "eu-central-1"]), true, "both enabled in every account"),
            (list(&["us-east-1", "ap-northeast-3", "sa-east-1"]), true, "opened before 2019"),
            (list(&["eu-west-1", "cn-north-1"]), false, "another partition's region is checked"),
            (list(&["us-gov-west-1"]), false, "GovCloud is checked"),
            (list(&["eu-west-1", "eu-south-1"]), false, "Milan is opt-in"),
            (list(&["af-south-1"]), false, "Cape Town is opt-in"),
            (list(&["eu-west-9"]), false, "a typo is checked"),
            (list(&[]), true, "nothing to check"),
        ];
        for (regions, want, case) in cases {
            assert_eq!(always_enabled(&regions), want, "{case}");
        }
    }
}
