//! AWS Systems Manager Change Calendar: whether a calendar is OPEN or CLOSED now
//! (GetCalendarState), for a schedule's `change_calendar`.

use super::{Api, AwsError, observe};

/// The IAM prefix of the call, and the name of its bound on calls in flight.
pub const SERVICE: &str = "ssm";

pub fn client(api: &Api) -> aws_sdk_ssm::Client {
    api.client(|conf| aws_sdk_ssm::Client::from_conf(aws_sdk_ssm::config::Builder::from(conf).interceptor(observe::Observe).build()))
}

/// Whether `calendar` (a name or an ARN) is OPEN now.
pub async fn is_open(api: &Api, calendar: &str) -> Result<bool, AwsError> {
    let _slot = api.permit(SERVICE, "GetCalendarState").await;
    open_in(&client(api), &api.region, calendar).await
}

/// The same with a client of its own (tests pass one from the SDK's mocks).
pub async fn open_in(client: &aws_sdk_ssm::Client, region: &str, calendar: &str) -> Result<bool, AwsError> {
    let out =
        client.get_calendar_state().calendar_names(calendar).send().await.map_err(|e| AwsError::from_sdk("GetCalendarState", region, e))?;
    match out.state() {
        Some(aws_sdk_ssm::types::CalendarState::Open) => Ok(true),
        Some(aws_sdk_ssm::types::CalendarState::Closed) => Ok(false),
        other => Err(AwsError::not_found("GetCalendarState", region, format!("calendar {calendar} answered no state ({other:?})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ssm::config::retry::RetryConfig;
    use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
    use aws_sdk_ssm::operation::get_calendar_state::GetCalendarStateOutput;
    use aws_sdk_ssm::types::CalendarState;
    use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock};
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    /// An SSM client answered by `rules` in order, without retries.
    fn mocked(rules: &[&Rule]) -> aws_sdk_ssm::Client {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        let conf = aws_sdk_ssm::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::from_static("eu-west-1"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .retry_config(RetryConfig::disabled())
            .http_client(create_mock_http_client())
            .interceptor(interceptor)
            .build();
        aws_sdk_ssm::Client::from_conf(conf)
    }

    #[tokio::test]
    async fn open_closed_and_an_error_are_told_apart() {
        let open = mock!(aws_sdk_ssm::Client::get_calendar_state)
            .match_requests(|r| r.calendar_names() == ["freeze"])
            .then_output(|| GetCalendarStateOutput::builder().state(CalendarState::Open).build());
        let closed = mock!(aws_sdk_ssm::Client::get_calendar_state)
            .then_output(|| GetCalendarStateOutput::builder().state(CalendarState::Closed).build());
        let client = mocked(&[&open, &closed]);
        assert_eq!(open_in(&client, "eu-west-1", "freeze").await.ok(), Some(true));
        assert_eq!(open_in(&client, "eu-west-1", "freeze").await.ok(), Some(false));

        let missing = mock!(aws_sdk_ssm::Client::get_calendar_state).then_http_response(|| {
            let body = r#"{"__type":"InvalidDocument","Message":"calendar freeze does not exist"}"#;
            let mut response = HttpResponse::new(StatusCode::try_from(400).unwrap(), SdkBody::from(body));
            response.headers_mut().insert("content-type", "application/x-amz-json-1.1");
            response
        });
        let err = open_in(&mocked(&[&missing]), "eu-west-1", "freeze").await.unwrap_err().to_string();
        assert!(
            err.contains("GetCalendarState") && err.contains("InvalidDocument") && err.contains("calendar freeze does not exist"),
            "{err}"
        );
        let no_state = mock!(aws_sdk_ssm::Client::get_calendar_state).then_output(|| GetCalendarStateOutput::builder().build());
        let err = open_in(&mocked(&[&no_state]), "eu-west-1", "freeze").await.unwrap_err().to_string();
        assert!(err.contains("calendar freeze answered no state"), "{err}");
    }
}
