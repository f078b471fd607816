//! The adapters that send: a webhook (Slack, Teams, JSON) over HTTPS, and an SNS topic
//! through the SDK. Thin: the body comes from [`super::format`].

use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::queue::Sink;
use super::{Notice, format};
use crate::config::{NotifySettings, Secret, Webhook, WebhookFormat};
use crate::model::Filter;

pub struct WebhookSink {
    name: String,
    format: WebhookFormat,
    url: Secret,
    client: reqwest::Client,
}

impl WebhookSink {
    pub fn new(webhook: &Webhook, client: reqwest::Client) -> Self {
        WebhookSink { name: webhook.name.clone(), format: webhook.format, url: webhook.url.clone(), client }
    }
}

impl Sink for WebhookSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> &'static str {
        self.format.as_str()
    }

    fn send<'a>(&'a self, n: &'a Notice) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let body = match self.format {
                WebhookFormat::Slack => format::slack(n),
                WebhookFormat::Teams => format::teams(n),
                WebhookFormat::Json => format::json(n),
            };
            let response = self
                .client
                .post(self.url.expose())
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                // The URL is the credential: reqwest's errors name it unless told not to.
                .map_err(|e| e.without_url().to_string())?;
            let status = response.status();
            if status.is_success() { Ok(()) } else { Err(format!("the receiver answered {status}")) }
        })
    }
}

pub struct SnsSink {
    topic_arn: String,
    client: aws_sdk_sns::Client,
}

impl SnsSink {
    pub fn new(topic_arn: &str, client: aws_sdk_sns::Client) -> Self {
        SnsSink { topic_arn: topic_arn.to_string(), client }
    }
}

impl Sink for SnsSink {
    fn name(&self) -> &str {
        &self.topic_arn
    }

    fn kind(&self) -> &'static str {
        "sns"
    }

    fn send<'a>(&'a self, n: &'a Notice) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let (subject, message) = format::sns(n);
            crate::aws::sns::publish(&self.client, &self.topic_arn, &subject, &message, true).await.map_err(|e| e.to_string())
        })
    }
}

/// The sinks a `[notify]` section asks for. `sns` builds a client for the topic's region.
pub fn build(settings: &NotifySettings, sns: impl Fn(&str) -> aws_sdk_sns::Client) -> Vec<(Arc<dyn Sink>, Filter)> {
    let mut sinks: Vec<(Arc<dyn Sink>, Filter)> = Vec::new();
    if let Some(target) = &settings.sns {
        let region = target.topic_arn.split(':').nth(3).unwrap_or_default();
        sinks.push((Arc::new(SnsSink::new(&target.topic_arn, sns(region))), target.filter.clone()));
    }
    if !settings.webhooks.is_empty() {
        let client = reqwest::Client::builder()
            .user_agent(concat!("offhours/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()
            .expect("the HTTP client's TLS set-up is static");
        for w in &settings.webhooks {
            sinks.push((Arc::new(WebhookSink::new(w, client.clone())), w.filter.clone()));
        }
    }
    sinks
}
