//! A failed AWS call, classified into what callers branch on.

use std::fmt;

use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::operation::RequestId;

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
    /// The service answered with a fault of its own (HTTP 5xx) after the SDK's retries.
    Unavailable,
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

    /// Credentials that could not be had (a role refused, no provider).
    pub fn credentials(operation: &'static str, region: &str, message: String) -> Self {
        AwsError {
            operation,
            region: region.to_string(),
            kind: ErrorKind::Credentials,
            code: None,
            message: one_line(&message),
            request_id: None,
        }
    }

    /// Classifies an SDK error without flattening it before the caller decides.
    pub fn from_sdk<E, R>(operation: &'static str, region: &str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
        SdkError<E, R>: RequestId,
    {
        // The whole chain (the SDK's Debug, with the raw answer) for whoever asks for it.
        tracing::debug!(operation, region, error = ?err, "AWS error in full.");
        let status = http_status(&err);
        let request_id = match &err {
            SdkError::ServiceError(s) => s.err().meta().extra("aws_request_id").map(str::to_string),
            _ => None,
        }
        .or_else(|| err.request_id().map(str::to_string));
        // A role's AssumeRole failed under this operation: said as the role's failure.
        if matches!(err, SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_))
            && let Some(assume) = provider_error(&err)
        {
            return assume.as_role_failure();
        }
        let (kind, code, message) = match &err {
            SdkError::TimeoutError(_) => (ErrorKind::Timeout, None, "operation or attempt timeout".to_string()),
            SdkError::DispatchFailure(d) => {
                let text = one_line(&DisplayErrorContext(&err).to_string());
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
                let text = one_line(&DisplayErrorContext(&err).to_string());
                let kind = if text.contains("credential") { ErrorKind::Credentials } else { ErrorKind::Other };
                (kind, None, text)
            }
            _ => {
                let code = err.code().map(str::to_string);
                let message = match (err.message(), status, &code) {
                    (Some(m), _, _) => one_line(m),
                    (None, Some(s), Some(_)) => format!("HTTP {s}"),
                    (None, Some(s), None) => format!("HTTP {s} without an AWS error code or message"),
                    (None, None, _) => one_line(&DisplayErrorContext(&err).to_string()),
                };
                let kind = match classify_code(code.as_deref()) {
                    ErrorKind::Other if status.is_some_and(|s| s >= 500) => ErrorKind::Unavailable,
                    kind => kind,
                };
                (kind, code, message)
            }
        };
        AwsError { operation, region: region.to_string(), kind, code, message, request_id }
    }
}

/// The [`AwsError`] one of offhours' own credentials providers (an assumed role) gave,
/// found in the chain of an operation's error.
fn provider_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a AwsError> {
    let mut next = err.source();
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<AwsError>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

impl AwsError {
    /// A failed AssumeRole as the account's operations see it. No verdict on the role
    /// (no answer, throttled, a fault of STS's own) stays what it was, so the account
    /// is tried again at the next action; anything else is a role that cannot be
    /// assumed ([`ErrorKind::Credentials`]), left out until the next refresh.
    pub fn as_role_failure(&self) -> AwsError {
        if matches!(self.kind, ErrorKind::Timeout | ErrorKind::Unreachable | ErrorKind::Throttled | ErrorKind::Unavailable) {
            return self.clone();
        }
        let message = match &self.code {
            Some(code) if !self.message.starts_with(&format!("{code}:")) => format!("{code}: {}", self.message),
            _ => self.message.clone(),
        };
        AwsError { kind: ErrorKind::Credentials, message, ..self.clone() }
    }
}

/// The HTTP status of the answer, when there was one.
fn http_status<E, R: 'static>(err: &SdkError<E, R>) -> Option<u16> {
    let raw: &dyn std::any::Any = err.raw_response()?;
    raw.downcast_ref::<aws_smithy_runtime_api::client::orchestrator::HttpResponse>().map(|r| r.status().as_u16())
}

/// Text for one line of a log or a notice: whitespace collapsed, at most 300 characters
/// (the full chain is logged at debug level).
fn one_line(text: &str) -> String {
    const MAX: usize = 300;
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    }
}

/// The codes every service answers alike; a kind's own codes (its "not found", its
/// "wrong state") are its adapter's to say ([`AwsError::classified`]).
fn classify_code(code: Option<&str>) -> ErrorKind {
    match code.unwrap_or_default() {
        "NoSuchEntity" => ErrorKind::NotFound,
        "RequestLimitExceeded" | "Throttling" | "ThrottlingException" => ErrorKind::Throttled,
        "UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException" | "AuthFailure" => ErrorKind::Unauthorized,
        "DryRunOperation" => ErrorKind::DryRunOk,
        "ExpiredToken" | "InvalidClientTokenId" | "UnrecognizedClientException" => ErrorKind::Credentials,
        _ => ErrorKind::Other,
    }
}

impl AwsError {
    /// The error with a service's own codes classified by `kind_of` (a kind's adapter
    /// says which of its codes mean not found, wrong state, unsupported, no capacity),
    /// also on a 5xx answer (EC2 answers some capacity errors so).
    pub fn classified(mut self, kind_of: impl Fn(&str) -> Option<ErrorKind>) -> Self {
        if matches!(self.kind, ErrorKind::Other | ErrorKind::Unavailable)
            && let Some(kind) = self.code.as_deref().and_then(kind_of)
        {
            self.kind = kind;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::error::CredentialsError;
    use aws_sdk_ec2::operation::describe_regions::DescribeRegionsError;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn assume_role(kind: ErrorKind, code: Option<&str>) -> AwsError {
        let message = "User is not authorized to perform: sts:AssumeRole".to_string();
        AwsError {
            operation: "AssumeRole",
            region: "us-east-1".to_string(),
            kind,
            code: code.map(str::to_string),
            message,
            request_id: None,
        }
    }

    /// An operation whose credentials (an assumed role) could not be had, as the SDK
    /// gives it back.
    fn under_operation(assume: AwsError) -> SdkError<DescribeRegionsError, HttpResponse> {
        SdkError::dispatch_failure(ConnectorError::other(Box::new(CredentialsError::provider_error(assume)), None))
    }

    fn answered(status: u16, code: &str) -> SdkError<DescribeRegionsError, HttpResponse> {
        let err = DescribeRegionsError::generic(ErrorMetadata::builder().code(code).message("it failed").build());
        SdkError::service_error(err, HttpResponse::new(status.try_into().expect("a status"), SdkBody::empty()))
    }

    #[test]
    fn a_role_that_cannot_be_assumed_is_told_from_one_that_got_no_verdict() {
        // (AssumeRole's failure, what the operation it was for is classified as)
        let cases = [
            (assume_role(ErrorKind::Unauthorized, Some("AccessDenied")), ErrorKind::Credentials),
            (assume_role(ErrorKind::Credentials, Some("ExpiredToken")), ErrorKind::Credentials),
            (assume_role(ErrorKind::Other, Some("RegionDisabledException")), ErrorKind::Credentials),
            (assume_role(ErrorKind::Timeout, None), ErrorKind::Timeout),
            (assume_role(ErrorKind::Unreachable, None), ErrorKind::Unreachable),
            (assume_role(ErrorKind::Throttled, Some("Throttling")), ErrorKind::Throttled),
            (assume_role(ErrorKind::Unavailable, Some("InternalFailure")), ErrorKind::Unavailable),
        ];
        for (assume, want) in cases {
            let got = AwsError::from_sdk("DescribeRegions", "eu-west-1", under_operation(assume.clone()));
            assert_eq!(got.kind, want, "{assume}");
            assert_eq!((got.operation, got.region.as_str()), ("AssumeRole", "us-east-1"), "{got}");
            assert!(got.to_string().contains("sts:AssumeRole"), "{got}");
        }
    }

    #[test]
    fn answers_are_classified_by_code_then_by_status() {
        // (HTTP status, code, kind)
        let cases = [
            (400, "AccessDenied", ErrorKind::Unauthorized),
            (400, "Throttling", ErrorKind::Throttled),
            (400, "InvalidInstanceID.Malformed", ErrorKind::Other),
            (500, "InternalError", ErrorKind::Unavailable),
            (503, "Unavailable", ErrorKind::Unavailable),
            (503, "RequestLimitExceeded", ErrorKind::Throttled),
        ];
        for (status, code, want) in cases {
            let got = AwsError::from_sdk("DescribeRegions", "eu-west-1", answered(status, code));
            assert_eq!(got.kind, want, "{status} {code}");
            assert_eq!(got.code.as_deref(), Some(code));
        }
        // A kind's own code wins over the status.
        let capacity = |code: &str| (code == "InsufficientInstanceCapacity").then_some(ErrorKind::InsufficientCapacity);
        for status in [400, 500] {
            let got =
                AwsError::from_sdk("StartInstances", "eu-west-1", answered(status, "InsufficientInstanceCapacity")).classified(capacity);
            assert_eq!(got.kind, ErrorKind::InsufficientCapacity, "{status}");
        }
    }

    #[test]
    fn a_message_is_one_line_of_at_most_300_characters() {
        // (text, line)
        let long = "x".repeat(400);
        let cases = [
            ("connection refused", "connection refused".to_string()),
            ("dispatch failure:\n  io error:\n\tconnection   reset", "dispatch failure: io error: connection reset".to_string()),
            (long.as_str(), format!("{}...", "x".repeat(300))),
        ];
        for (text, want) in cases {
            assert_eq!(one_line(text), want);
        }
    }
}
