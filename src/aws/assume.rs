//! A role in another account: its credentials from AssumeRole through one STS client
//! that every account shares (the SDK's own provider builds a client per account,
//! which an organization of hundreds of accounts pays for in memory).

use aws_config::{Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, future};

use super::{GLOBAL_REGION, observe};

/// The STS client roles are assumed with: the base credentials, in the default
/// region, else us-east-1.
pub(super) fn sts_client(base: &SdkConfig) -> aws_sdk_sts::Client {
    let region = base.region().cloned().unwrap_or(Region::from_static(GLOBAL_REGION));
    let conf = aws_sdk_sts::config::Builder::from(base).interceptor(observe::Observe).region(region).build();
    aws_sdk_sts::Client::from_conf(conf)
}

/// Credentials of one role, assumed when the account's identity cache asks (first use,
/// then before expiry).
#[derive(Debug)]
pub(super) struct AssumedRole {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    external_id: Option<String>,
    session_name: String,
}

impl AssumedRole {
    pub(super) fn new(sts: aws_sdk_sts::Client, role_arn: &str, external_id: Option<&str>, session_name: &str) -> Self {
        AssumedRole {
            sts,
            role_arn: role_arn.to_string(),
            external_id: external_id.map(str::to_string),
            session_name: session_name.to_string(),
        }
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
            .map_err(CredentialsError::provider_error)?;
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
        future::ProvideCredentials::new(self.assume())
    }
}
