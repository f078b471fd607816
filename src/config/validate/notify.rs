//! `[notify]`: its SNS topic, its webhooks (format, name, the URL from exactly one
//! place, never shown) and their filters.

use std::collections::BTreeSet;

use toml::Spanned;

use crate::config::raw::{RawNotify, RawWebhook};
use crate::config::{NotifySettings, Secret, SnsTarget, Webhook, WebhookFormat, closest};
use crate::model::{Filter, NoticeKind, Severity};

use super::*;

/// The region of an SNS topic ARN (`arn:aws…:sns:REGION:ACCOUNT:NAME`), if it is one
/// (the region is not checked here).
pub(super) fn sns_topic_region(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sns"
        && parts[4].len() == 12
        && parts[4].chars().all(|ch| ch.is_ascii_digit())
        && !parts[5].is_empty();
    ok.then_some(parts[3])
}

/// An SNS topic ARN in any region.
pub(super) fn sns_topic_arn(c: &mut Checker, v: &Spanned<String>, field: &str) -> Option<String> {
    let arn = v.get_ref();
    if sns_topic_region(arn).is_some_and(is_region_name) {
        Some(arn.clone())
    } else {
        c.error(v.span(), field, format!("`{arn}` is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"));
        None
    }
}

/// `events` and `min_severity` of `[notify]` or of one webhook; `inherit` is what is
/// not said.
fn filter(
    c: &mut Checker,
    events: Option<&Spanned<Vec<Spanned<String>>>>,
    min_severity: Option<&Spanned<String>>,
    prefix: &str,
    inherit: &Filter,
) -> Filter {
    let mut out = inherit.clone();
    if let Some(list) = events {
        let field = format!("{prefix}events");
        let mut chosen = BTreeSet::new();
        if list.get_ref().is_empty() {
            c.error(list.span(), &field, "must name at least one event (or be left out for all)");
        }
        for name in list.get_ref() {
            match NoticeKind::parse(name.get_ref()) {
                Some(k) if !chosen.insert(k) => c.error(name.span(), &field, format!("`{k}` is listed twice")),
                Some(_) => {}
                None => {
                    let valid: Vec<&str> = NoticeKind::ALL.iter().map(|k| k.as_str()).collect();
                    let hint = closest(name.get_ref(), valid.iter().copied()).map(|n| format!("did you mean `{n}`? ")).unwrap_or_default();
                    c.error(name.span(), &field, format!("unknown event `{}` ({hint}valid: {})", name.get_ref(), valid.join(", ")));
                }
            }
        }
        out.events = Some(chosen);
    }
    if let Some(v) = min_severity {
        match Severity::parse(v.get_ref()) {
            Some(s) => out.min_severity = s,
            None => c.error(
                v.span(),
                format!("{prefix}min_severity"),
                format!("unknown severity `{}` (valid: info, warning, error)", v.get_ref()),
            ),
        }
    }
    out
}

/// A webhook's `format`: slack, teams or json.
fn webhook_format(c: &mut Checker, w: &Spanned<RawWebhook>, prefix: &str) -> Option<WebhookFormat> {
    match &w.get_ref().format {
        None => {
            c.error(w.span(), format!("{prefix}format"), "is required: slack, teams or json");
            None
        }
        Some(v) => match v.get_ref().as_str() {
            "slack" => Some(WebhookFormat::Slack),
            "teams" => Some(WebhookFormat::Teams),
            "json" => Some(WebhookFormat::Json),
            other => {
                c.error(v.span(), format!("{prefix}format"), format!("unknown format `{other}` (valid: slack, teams, json)"));
                None
            }
        },
    }
}

/// A webhook's URL, from exactly one of `url`, `url_env` and `url_file`. The URL is
/// the webhook's credential: messages say where it came from, never what it is.
fn webhook_url(
    c: &mut Checker,
    w: &Spanned<RawWebhook>,
    prefix: &str,
    secrets: fn(&SecretRef<'_>) -> Result<String, String>,
) -> Option<Secret> {
    let raw_w = w.get_ref();
    secret_url(c, w.span(), [&raw_w.url, &raw_w.url_env, &raw_w.url_file], prefix, secrets).map(|(secret, _)| secret)
}

/// A URL that may carry a credential (a webhook's, a private calendar's), from exactly
/// one of `url`, `url_env` and `url_file` (`given`, in that order): the secret and its
/// parsed form. Messages say where it came from, never what it is.
pub(super) fn secret_url(
    c: &mut Checker,
    table: std::ops::Range<usize>,
    given: [&Option<Spanned<String>>; 3],
    prefix: &str,
    secrets: fn(&SecretRef<'_>) -> Result<String, String>,
) -> Option<(Secret, reqwest::Url)> {
    let [raw_url, raw_env, raw_file] = given;
    let set: Vec<&Spanned<String>> = given.into_iter().flatten().collect();
    let url = match (set.len(), raw_url, raw_env, raw_file) {
        (1, Some(v), _, _) => Some((v.span(), "url".to_string(), v.get_ref().trim().to_string())),
        (1, _, Some(v), _) => match secrets(&SecretRef::Env(v.get_ref())) {
            Ok(value) if !value.trim().is_empty() => {
                Some((v.span(), format!("environment variable {}", v.get_ref()), value.trim().to_string()))
            }
            Ok(_) => {
                c.error(v.span(), format!("{prefix}url_env"), format!("environment variable {} is empty", v.get_ref()));
                None
            }
            Err(e) => {
                c.error(v.span(), format!("{prefix}url_env"), e);
                None
            }
        },
        (1, _, _, Some(v)) => match secrets(&SecretRef::File(v.get_ref())) {
            Ok(value) if !value.trim().is_empty() => Some((v.span(), format!("file {}", v.get_ref()), value.trim().to_string())),
            Ok(_) => {
                c.error(v.span(), format!("{prefix}url_file"), format!("{} is empty", v.get_ref()));
                None
            }
            Err(e) => {
                c.error(v.span(), format!("{prefix}url_file"), e);
                None
            }
        },
        (0, ..) => {
            c.error(table, format!("{prefix}url"), "is required: set one of url, url_env (an environment variable) or url_file");
            None
        }
        _ => {
            c.error(set[1].span(), format!("{prefix}url"), "set only one of url, url_env and url_file");
            None
        }
    };
    url.and_then(|(span, from, value)| match reqwest::Url::parse(&value) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Some((Secret::new(value), u)),
        _ => {
            c.error(
                span,
                format!("{prefix}url"),
                format!("the URL from {from} is not an http(s) URL (its value is not shown: it is a secret)"),
            );
            None
        }
    })
}

pub(super) fn notify(c: &mut Checker, raw: &Spanned<RawNotify>, secrets: fn(&SecretRef<'_>) -> Result<String, String>) -> NotifySettings {
    let body = raw.get_ref();
    let defaults = filter(c, body.events.as_ref(), body.min_severity.as_ref(), "notify.", &Filter::default());
    let sns = body
        .sns_topic_arn
        .as_ref()
        .and_then(|v| sns_topic_arn(c, v, "notify.sns_topic_arn"))
        .map(|topic_arn| SnsTarget { topic_arn, filter: defaults.clone() });
    let mut webhooks: Vec<Webhook> = Vec::new();
    for (i, w) in body.webhooks.iter().enumerate() {
        let prefix = format!("notify.webhooks[{i}].");
        let raw_w = w.get_ref();
        let format = webhook_format(c, w, &prefix);
        let name = match &raw_w.name {
            Some(v) => c.non_empty(v, &format!("{prefix}name")),
            None => Some(format!("{}-{}", format.map_or("webhook", WebhookFormat::as_str), i + 1)),
        };
        if let Some(n) = &name
            && webhooks.iter().any(|o| &o.name == n)
        {
            c.error(w.span(), format!("{prefix}name"), format!("`{n}` names another webhook already"));
        }
        let url = webhook_url(c, w, &prefix, secrets);
        let filter = filter(c, raw_w.events.as_ref(), raw_w.min_severity.as_ref(), &prefix, &defaults);
        if let (Some(name), Some(format), Some(url)) = (name, format, url) {
            webhooks.push(Webhook { name, format, url, filter });
        }
    }
    if sns.is_none() && body.sns_topic_arn.is_none() && body.webhooks.is_empty() {
        c.error(raw.span(), "notify", "has no destination: set sns_topic_arn or add a [[notify.webhooks]] table");
    }
    NotifySettings { sns, webhooks }
}
