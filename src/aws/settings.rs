//! What the file says about reaching AWS: credentials, timeouts, retries and the bound on
//! calls in flight. Plain values; the config builds them.

use std::time::Duration;

/// Calls in flight per region: ten calls of 100 instances act on a fleet of 1000 in one
/// round trip, while staying far inside EC2's per-account, per-region request buckets
/// (a few hundred tokens, refilled at a few per second for mutating calls), which every
/// other tool of the account shares.
pub const DEFAULT_MAX_CONCURRENT_CALLS: u32 = 10;

/// Calls in flight over every account, region and service together: an organization of
/// hundreds of accounts acts in a few round trips without opening thousands of
/// connections at once.
pub const DEFAULT_MAX_CALLS_IN_FLIGHT: u32 = 256;

#[derive(Debug, Clone, PartialEq)]
pub struct AwsSettings {
    /// Named profile from `~/.aws/config`; else the SDK's default chain.
    pub profile: Option<String>,
    /// Role to assume (STS AssumeRole) with the base credentials.
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub session_name: String,
    /// Bound on one SDK operation, retries included.
    pub operation_timeout: Duration,
    /// Bound on one attempt of an operation.
    pub attempt_timeout: Duration,
    /// Attempts per operation (first try included) for throttling and 5xx.
    pub max_attempts: u32,
    /// Calls in flight per region and service at most, over every action at once.
    pub max_concurrent_calls: u32,
    /// Calls in flight at most over every account, region and service together.
    pub max_calls_in_flight: u32,
}

impl Default for AwsSettings {
    fn default() -> Self {
        AwsSettings {
            profile: None,
            role_arn: None,
            external_id: None,
            session_name: "offhours".into(),
            operation_timeout: Duration::from_secs(60),
            attempt_timeout: Duration::from_secs(20),
            max_attempts: 5,
            max_concurrent_calls: DEFAULT_MAX_CONCURRENT_CALLS,
            max_calls_in_flight: DEFAULT_MAX_CALLS_IN_FLIGHT,
        }
    }
}
