//! A role in another account: its credentials from AssumeRole through one STS client
//! that every account shares (the SDK's own provider builds a client per account,
//! which an organization of hundreds of accounts pays for in memory). The credentials
//! are kept here as well, so that proving a role at preparation (a refused role known
//! before any action) and the account's first call share one AssumeRole.

use std::time::{Duration, SystemTime};

use aws_config::{Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, future};

use super::{AwsError, GLOBAL_REGION, observe};

/// The STS client roles are assumed with: the base credentials, in the default
/// region, else us-east-1.
pub(super) fn sts_client(base: &SdkConfig) -> aws_sdk_sts::Client {
    let region = base.region().cloned().unwrap_or(Region::from_static(GLOBAL_REGION));
    let conf = aws_sdk_sts::config::Builder::from(base).interceptor(observe::Observe).region(region).build();
    aws_sdk_sts::Client::from_conf(conf)
}

/// Credentials within this much of their expiry are assumed again (the SDK's own role
/// provider renews as early).
const RENEW_BEFORE: Duration = Duration::from_secs(5 * 60);

/// Whether credentials expiring at `expiry` may still be handed out at `now`.
pub(super) fn fresh(expiry: Option<SystemTime>, now: SystemTime) -> bool {
    expiry.is_none_or(|at| at.duration_since(now).is_ok_and(|left| left > RENEW_BEFORE))
}

/// Credentials of one role, assumed when first asked for (by the account's identity
/// cache or by a proof of the role), kept until shortly before they expire; callers
/// asking together wait for the same AssumeRole.
#[derive(Debug)]
pub(super) struct AssumedRole {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    external_id: Option<String>,
    session_name: String,
    kept: tokio::sync::Mutex<Option<Credentials>>,
}

impl AssumedRole {
    pub(super) fn new(sts: aws_sdk_sts::Client, role_arn: &str, external_id: Option<&str>, session_name: &str) -> Self {
        AssumedRole {
            sts,
            role_arn: role_arn.to_string(),
            external_id: external_id.map(str::to_string),
            session_name: session_name.to_string(),
            kept: tokio::sync::Mutex::new(None),
        }
    }

    fn region(&self) -> String {
        self.sts.config().region().map_or(GLOBAL_REGION.to_string(), ToString::to_string)
    }

    async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let mut kept = self.kept.lock().await;
        if let Some(c) = kept.as_ref().filter(|c| fresh(c.expiry(), SystemTime::now())) {
            return Ok(c.clone());
        }
        let c = self.assume().await?;
        *kept = Some(c.clone());
        Ok(c)
    }

    async fn assume(&self) -> Result<Credentials, CredentialsError> {
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(&self.session_name)
            .set_external_id(self.external_id.clone())
            .send()
            .await
            .map_err(|e| CredentialsError::provider_error(AwsError::from_sdk("AssumeRole", &self.region(), e)))?;
        let Some(c) = out.credentials() else {
            return Err(CredentialsError::provider_error(format!("AssumeRole of {} answered without credentials", self.role_arn)));
        };
        let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
        Ok(Credentials::new(c.access_key_id(), c.secret_access_key(), Some(c.session_token().to_string()), expiry, "offhours-assume-role"))
    }
}

impl ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.credentials())
    }
}

/// Why a role's credentials could not be had, as the region check reports it: no answer
/// (timeout, unreachable), throttling or a fault of STS's own stays that, so the account
/// is tried again at the next action; anything else (access denied, no provider) is a
/// refused role.
pub(super) fn refusal(err: &CredentialsError, region: &str) -> AwsError {
    match std::error::Error::source(err).and_then(|s| s.downcast_ref::<AwsError>()) {
        Some(e) => e.as_role_failure(),
        None => AwsError::credentials("AssumeRole", region, aws_smithy_types::error::display::DisplayErrorContext(err).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::ErrorKind;

    #[test]
    fn a_role_is_refused_unless_no_verdict_came() {
        let answer = |kind, code: Option<&str>| AwsError {
            operation: "AssumeRole",
            region: "eu-west-1".to_string(),
            kind,
            code: code.map(str::to_string),
            message: "User is not authorized to perform: sts:AssumeRole".to_string(),
            request_id: None,
        };
        let cases = [
            (
                CredentialsError::provider_error(answer(ErrorKind::Unauthorized, Some("AccessDenied"))),
                ErrorKind::Credentials,
                "AccessDenied: User is not authorized",
            ),
            (CredentialsError::provider_error(answer(ErrorKind::Timeout, None)), ErrorKind::Timeout, "no answer within the timeout"),
            (CredentialsError::provider_error(answer(ErrorKind::Unreachable, None)), ErrorKind::Unreachable, "cannot reach the endpoint"),
            (CredentialsError::provider_error(answer(ErrorKind::Throttled, Some("Throttling"))), ErrorKind::Throttled, "Throttling: User"),
            (
                CredentialsError::provider_error(answer(ErrorKind::Unavailable, Some("InternalFailure"))),
                ErrorKind::Unavailable,
                "InternalFailure: User",
            ),
            (CredentialsError::not_loaded("no source"), ErrorKind::Credentials, "no usable credentials"),
        ];
        for (err, kind, text) in cases {
            let got = refusal(&err, "us-east-1");
            assert_eq!(got.kind, kind, "{got}");
            assert!(got.to_string().contains(text), "{got}");
        }
    }

    #[test]
    fn credentials_are_kept_until_five_minutes_before_they_expire() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let cases = [
            (None, true, "no expiry"),
            (Some(now + Duration::from_secs(3600)), true, "an hour left"),
            (Some(now + Duration::from_secs(301)), true, "just over five minutes left"),
            (Some(now + Duration::from_secs(300)), false, "five minutes left"),
            (Some(now + Duration::from_secs(10)), false, "seconds left"),
            (Some(now - Duration::from_secs(1)), false, "expired"),
        ];
        for (expiry, want, case) in cases {
            assert_eq!(fresh(expiry, now), want, "{case}");
        }
    }
}
