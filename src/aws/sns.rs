//! SNS Publish, for notifications.

use super::AwsError;

/// Publishes one message with a subject; `structured`: the message is a JSON object
/// with one body per protocol (`MessageStructure = json`).
pub async fn publish(
    client: &aws_sdk_sns::Client,
    topic_arn: &str,
    subject: &str,
    message: &str,
    structured: bool,
) -> Result<(), AwsError> {
    let region = topic_arn.split(':').nth(3).unwrap_or_default();
    client
        .publish()
        .topic_arn(topic_arn)
        .subject(subject)
        .set_message_structure(structured.then(|| "json".to_string()))
        .message(message)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| AwsError::from_sdk("Publish", region, e))
}
