//! A notice in each receiver's shape. Pure; the sizes stay inside each service's limits
//! (Slack: 50 blocks, 3000 characters a section; SNS: a 100-character ASCII subject).

use serde_json::{Value, json};

use super::{Notice, NoticeResource};
use crate::model::Severity;

/// Resources listed by name in a message; the rest are counted.
const MAX_LISTED: usize = 25;

/// Slack mrkdwn: `&`, `<` and `>` as Slack asks, so that no value from AWS or from
/// people (a Name tag `<!channel>`, `<https://evil|click>`) becomes a mention or a link.
pub fn slack_text(value: &str) -> String {
    value.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Teams (Adaptive Card markdown, CommonMark): each markup character behind a
/// backslash, so that `[text](url)` or `**` in a value stays text.
pub fn teams_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '<' | '>' | '!' | '~' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One line per resource (each value through `esc`, the sink's escaping), then "...
/// and N more".
fn resource_lines(resources: &[NoticeResource], esc: impl Fn(&str) -> String, code: impl Fn(&str) -> String) -> Vec<String> {
    let mut lines: Vec<String> = resources
        .iter()
        .take(MAX_LISTED)
        .map(|r| {
            let name = r.name.as_deref().map(|n| format!(" \"{}\"", esc(n))).unwrap_or_default();
            let detail = r.detail.as_deref().map(|d| format!(": {}", if d.starts_with("offhours ") { code(d) } else { esc(d) }));
            let place = match &r.account {
                Some(a) => format!("{}, account {}", esc(&r.region), esc(a)),
                None => esc(&r.region),
            };
            format!("{} {}{name} ({place}){}", r.kind, esc(&r.id), detail.unwrap_or_default())
        })
        .collect();
    if resources.len() > MAX_LISTED {
        lines.push(more(resources.len() - MAX_LISTED));
    }
    lines
}

/// The line for resources a message does not list, and where to see them all.
fn more(n: usize) -> String {
    format!("... and {n} more: `offhours plan` and the status page list them all")
}

/// As many whole lines (`• line`) as fit in `budget` characters with the line saying
/// how many are left out: never cut inside a line (or a code span in it).
fn fit(lines: &[String], total: usize, budget: usize) -> String {
    let listed: Vec<&String> = lines.iter().filter(|l| !l.starts_with("... and ")).collect();
    let mut out = String::new();
    for (i, line) in listed.iter().enumerate() {
        let left = total - i - 1;
        let next = format!("{}• {line}", if out.is_empty() { "" } else { "\n" });
        let trailer = if left > 0 { more(left).chars().count() + 3 } else { 0 };
        if out.chars().count() + next.chars().count() + trailer > budget {
            let not_shown = total - i;
            return format!("{out}{}• {}", if out.is_empty() { "" } else { "\n" }, more(not_shown));
        }
        out.push_str(&next);
    }
    if total > listed.len() {
        out.push_str(&format!("\n• {}", more(total - listed.len())));
    }
    out
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Plain text: the title, the text, the facts, the resources.
pub fn plain(n: &Notice) -> String {
    let mut out = format!("{}\n\n{}\n", n.title, n.text);
    if !n.facts.is_empty() {
        out.push('\n');
        for (k, v) in &n.facts {
            out.push_str(&format!("{k}: {v}\n"));
        }
    }
    let lines = resource_lines(&n.resources, str::to_string, str::to_string);
    if !lines.is_empty() {
        out.push('\n');
        for l in lines {
            out.push_str(&format!("- {l}\n"));
        }
    }
    out
}

/// The generic JSON body: the notice as it is, with a `source` to route on.
pub fn json(n: &Notice) -> Value {
    let mut v = serde_json::to_value(n).expect("a notice serializes");
    v["source"] = json!("offhours");
    v["facts"] = Value::Object(n.facts.iter().map(|(k, v)| (k.clone(), json!(v))).collect());
    v
}

/// A Slack incoming-webhook message: `text` for notifications and old clients, blocks
/// for the channel.
pub fn slack(n: &Notice) -> Value {
    let icon = match n.severity {
        Severity::Error => ":red_circle:",
        Severity::Warning => ":warning:",
        Severity::Info => ":information_source:",
    };
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&n.title, 150), "emoji": true}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&format!("{icon} {}", slack_text(&n.text)), 3000)}}),
    ];
    if !n.facts.is_empty() {
        let fields: Vec<Value> = n
            .facts
            .iter()
            .take(10)
            .map(|(k, v)| json!({"type": "mrkdwn", "text": truncate(&format!("*{}*\n{}", slack_text(k), slack_text(v)), 2000)}))
            .collect();
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    let lines = resource_lines(&n.resources, slack_text, |c| format!("`{}`", slack_text(&c.replace('`', "'"))));
    if !lines.is_empty() {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": fit(&lines, n.resources.len(), 3000)}}));
    }
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("offhours · {} · {}", n.kind, n.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))}]}));
    json!({"text": slack_text(&n.title), "blocks": blocks})
}

/// A Microsoft Teams message for a Workflows webhook ("Post to a channel when a webhook
/// request is received"): one Adaptive Card attachment.
pub fn teams(n: &Notice) -> Value {
    let color = match n.severity {
        Severity::Error => "Attention",
        Severity::Warning => "Warning",
        Severity::Info => "Default",
    };
    let mut body = vec![
        json!({"type": "TextBlock", "text": teams_text(&n.title), "weight": "Bolder", "size": "Medium", "wrap": true, "color": color}),
        json!({"type": "TextBlock", "text": teams_text(&n.text), "wrap": true}),
    ];
    if !n.facts.is_empty() {
        let facts: Vec<Value> = n.facts.iter().map(|(k, v)| json!({"title": teams_text(k), "value": teams_text(v)})).collect();
        body.push(json!({"type": "FactSet", "facts": facts}));
    }
    for line in resource_lines(&n.resources, teams_text, |c| format!("`{}`", c.replace('`', "'"))) {
        body.push(json!({"type": "TextBlock", "text": format!("- {line}"), "wrap": true, "spacing": "None"}));
    }
    body.push(json!({"type": "TextBlock", "text": format!("offhours · {} · {}", n.kind, n.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)), "isSubtle": true, "size": "Small", "wrap": true}));
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "msteams": {"width": "Full"},
                "body": body,
            }
        }]
    })
}

/// An SNS message: a subject (ASCII, one line, under 100 characters) and a
/// per-protocol body (`MessageStructure = json`): plain text for e-mail and SMS, the
/// JSON notice for queues, functions and HTTP endpoints.
pub fn sns(n: &Notice) -> (String, String) {
    let subject: String = n.title.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '?' }).take(99).collect();
    // The machine copy repeats per protocol: it lists the first resources (fewer until
    // the message fits SNS's 256 KiB) and counts the rest, never dropping the notice.
    let mut listed = n.resources.len().min(SNS_LISTED);
    loop {
        let body = sns_body(n, listed);
        if body.len() <= SNS_MAX_BYTES || listed == 0 {
            return (subject, body);
        }
        listed /= 2;
    }
}

/// Resources the SNS machine copy lists at most.
const SNS_LISTED: usize = 100;

/// SNS's message limit (256 KiB), with room for the request around it.
const SNS_MAX_BYTES: usize = 250_000;

fn sns_body(n: &Notice, listed: usize) -> String {
    let text = plain(n);
    let short = Notice { resources: n.resources.iter().take(listed).cloned().collect(), ..n.clone() };
    let mut machine = json(&short);
    machine["resources_total"] = json!(n.resources.len());
    machine["resources_not_listed"] = json!(n.resources.len() - listed);
    let machine = machine.to_string();
    json!({
        "default": text,
        "email": text,
        "sqs": machine,
        "lambda": machine,
        "http": machine,
        "https": machine,
        "firehose": machine,
    })
    .to_string()
}
