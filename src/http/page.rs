//! The status page for people: pure rendering of the config, the board and `now` into
//! one HTML document (inline CSS and SVG, no script, nothing fetched).
//!
//! Only fields picked here by name reach the page: never `[aws]` (profile, role,
//! external id) and never a notification setting, whatever the config grows. Every
//! string from the config or from AWS is escaped.

use std::fmt::Write;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::board::{Board, LastAction, Snapshot};
use super::html::escape;
use super::timeline;
use crate::config::{Config, Schedule};
use crate::model::Action;
use crate::savings::{Money, Prices};

/// The whole page.
pub fn render(config: Option<&Config>, board: &Board, now: DateTime<Utc>) -> String {
    render_snapshot(config, &board.snapshot(), now)
}

/// The page from a copy of the board.
pub fn render_snapshot(config: Option<&Config>, board: &Snapshot, now: DateTime<Utc>) -> String {
    let mut h = String::with_capacity(32 * 1024);
    let title = match config {
        Some(c) => format!("offhours: {} schedule{}", c.schedules.len(), plural(c.schedules.len())),
        None => "offhours: no configuration".into(),
    };
    let _ = write!(
        h,
        concat!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "<title>{title}</title><style>{css}</style></head><body>\n"
        ),
        title = escape(&title),
        css = CSS
    );
    header(&mut h, config, now);
    let Some(config) = config else {
        h.push_str(
            "<main><p class=\"alert\" id=\"no-config\">No configuration loaded yet: the daemon is starting, or its file did \
             not validate (the log has every error).</p></main></body></html>\n",
        );
        return h;
    };
    let mut schedules: Vec<&Schedule> = config.schedules.iter().collect();
    schedules.sort_by(|a, b| a.name.cmp(&b.name));
    h.push_str("<main>\n");
    if schedules.is_empty() {
        h.push_str("<p>No schedules in the file.</p>\n");
    } else {
        h.push_str("<nav><h2>Schedules</h2><ul>");
        for s in &schedules {
            let _ = write!(h, "<li><a href=\"#{}\">{}</a></li>", anchor(&s.name), escape(&s.name));
        }
        h.push_str("</ul></nav>\n");
    }
    for (i, s) in schedules.iter().enumerate() {
        schedule(&mut h, s, i, board, now);
    }
    savings(&mut h, config, board);
    audit(&mut h, config, board, now);
    billing(&mut h, config, board, now);
    h.push_str("</main></body></html>\n");
    h
}

const CSS: &str = "\
:root{color-scheme:light;--on:#2da44e;--off:#8c959f;--line:#d0d7de;--muted:#57606a;--bad:#cf222e}\
body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",sans-serif;color:#1f2328;background:#f6f8fa;margin:0}\
header{background:#1f2328;color:#f6f8fa;padding:12px 24px}header h1{margin:0;font-size:20px}\
header p{margin:4px 0 0;color:#d0d7de}header a{color:#9ecbff}\
main{max-width:1100px;margin:0 auto;padding:12px 24px 48px}\
nav ul{display:flex;flex-wrap:wrap;gap:4px 16px;padding:0;list-style:none}nav h2{font-size:15px;margin:12px 0 0}\
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:12px 16px;margin:16px 0}\
section h2{margin:0 0 4px;font-size:18px}h3{font-size:15px;margin:12px 0 4px}\
.desc{color:var(--muted);margin:0 0 8px}\
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:8px 0}dt{color:var(--muted)}dd{margin:0}\
svg.timeline{width:100%;max-width:828px;height:auto;display:block;margin:8px 0}\
.action{border-top:1px solid var(--line);margin-top:8px}\
.counts{font-weight:600}.counts.failed{color:var(--bad)}.muted{color:var(--muted)}\
.alert{background:#ffebe9;border:1px solid #ff8182;border-radius:6px;padding:8px 12px;color:#82071e}\
.alert strong{color:var(--bad)}.note{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 12px}\
.badge{display:inline-block;border:1px solid var(--line);border-radius:10px;padding:0 8px;font-size:12px;color:var(--muted)}\
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}\
th{background:#f6f8fa}td.reason{color:#82071e}td.id{white-space:nowrap}code{font-size:13px}\
";

fn header(h: &mut String, config: Option<&Config>, now: DateTime<Utc>) {
    let _ = write!(
        h,
        "<header><h1>offhours</h1><p>version {} &middot; page rendered <time datetime=\"{}\">{}</time>",
        escape(env!("CARGO_PKG_VERSION")),
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        now.format("%Y-%m-%d %H:%M:%S UTC")
    );
    if let Some(c) = config.filter(|c| c.timezone != chrono_tz::UTC) {
        let _ = write!(h, " ({} in {})", local(&c.timezone, now), escape(c.timezone.name()));
    }
    h.push_str(" &middot; <a href=\"/metrics\">/metrics</a> &middot; <a href=\"/healthz\">/healthz</a> &middot; <a href=\"/readyz\">/readyz</a></p>");
    if let Some(c) = config {
        let regions = if c.regions.is_empty() { "the default region".to_string() } else { c.regions.join(", ") };
        let brake = match c.max_instances_per_action {
            0 => "no brake".to_string(),
            n => format!("brake at {n} resource{} per action", plural(n as usize)),
        };
        let _ = write!(h, "<p>regions {} &middot; {} &middot; override tag <code>{}</code>", escape(&regions), brake, escape(&c.skip_tag));
        if c.dry_run {
            h.push_str(" &middot; <strong>dry run: nothing is changed</strong>");
        }
        h.push_str("</p>");
    }
    h.push_str("</header>\n");
}

fn schedule(h: &mut String, s: &Schedule, index: usize, board: &Snapshot, now: DateTime<Utc>) {
    let tz = s.timezone;
    let _ = write!(h, "<section class=\"schedule\" id=\"{}\"><h2>{}</h2>", anchor(&s.name), escape(&s.name));
    if let Some(d) = &s.description {
        let _ = write!(h, "<p class=\"desc\">{}</p>", escape(d));
    }
    h.push_str("<dl>");
    let _ = write!(h, "<dt>timezone</dt><dd class=\"tz\">{}</dd>", escape(tz.name()));
    let kinds: Vec<&str> = s.kinds.iter().map(|k| k.as_str()).collect();
    let _ = write!(h, "<dt>kinds</dt><dd>{}</dd>", escape(&kinds.join(", ")));
    if let Some(order) = crate::plan::order::view(s) {
        let _ = write!(h, "<dt>order</dt><dd class=\"order\">{}</dd>", escape(&order.line()));
    }
    for action in Action::ALL {
        let _ = write!(h, "<dt>next {action}</dt><dd class=\"next-{action}\">");
        match s.trigger(action) {
            None => {
                let _ = write!(h, "<span class=\"muted\">none (no {action} cron)</span>");
            }
            Some(t) => {
                match t.next_after(now) {
                    Some(at) => {
                        let _ = write!(h, "{} <span class=\"muted\">({})</span>", local(&tz, at), until(now, at));
                    }
                    None => h.push_str("never"),
                }
                let _ = write!(h, " <span class=\"muted\">cron <code>{}</code></span>", escape(t.cron.as_str()));
            }
        }
        h.push_str("</dd>");
    }
    let upcoming: Vec<String> = s.skip_dates.iter().filter(|d| **d >= now.with_timezone(&tz).date_naive()).map(|d| d.to_string()).collect();
    if !upcoming.is_empty() {
        let _ = write!(h, "<dt>skip dates</dt><dd>{}</dd>", escape(&upcoming.join(", ")));
    }
    exceptions(h, s, &tz, now);
    h.push_str("</dl>");

    let week = timeline::week(s, now);
    let title = format!("{}: on and off periods in the week of {} ({})", s.name, week.days[0].date.format("%a %-d %b %Y"), tz.name());
    h.push_str(&week.svg(&format!("tl{index}"), &title));

    if let Some(w) = board.warnings.get(&s.name)
        && w.stop_at > now
    {
        let _ = write!(
            h,
            "<p class=\"note\">Stop warning sent {}: {} resource{} stop at {}.</p>",
            ago(now, w.at),
            w.resources,
            plural(w.resources),
            local(&tz, w.stop_at)
        );
    }

    h.push_str("<div class=\"actions\">");
    for action in Action::ALL {
        let last = board.actions.get(&(s.name.clone(), action));
        if s.trigger(action).is_none() && last.is_none() {
            continue;
        }
        let _ = write!(h, "<div class=\"action last-{action}\"><h3>Last {action}</h3>");
        match last {
            None => h.push_str("<p class=\"muted\">Not run since the daemon started.</p>"),
            Some(last) => last_action(h, last, &tz, now),
        }
        h.push_str("</div>");
    }
    h.push_str("</div></section>\n");
}

/// The resources an action left failed, one row each, with why.
fn failures_table(h: &mut String, failures: &[super::board::Failure]) {
    if failures.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<table class=\"failures\"><caption class=\"muted\">{} failed</caption><thead><tr><th>kind</th><th>id</th><th>name</th><th>region</th><th>reason</th></tr></thead><tbody>",
        failures.len()
    );
    for x in failures {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"id\"><code>{}</code></td><td>{}</td><td>{}{}</td><td class=\"reason\">{}</td></tr>",
            x.kind,
            escape(&x.id),
            escape(x.name.as_deref().unwrap_or("")),
            escape(&x.region),
            if x.account.is_empty() { String::new() } else { format!("<br><span class=\"muted\">account {}</span>", escape(&x.account)) },
            escape(&x.reason)
        );
    }
    h.push_str("</tbody></table>");
}

/// The exceptions and holds not over yet: what they keep, until when, why, and who
/// set a hold.
fn exceptions(h: &mut String, s: &Schedule, tz: &Tz, now: DateTime<Utc>) {
    for e in s.exceptions.iter().filter(|e| e.window.to > now) {
        let keep = if e.keep == crate::config::Keep::On { "kept on" } else { "kept off" };
        let (label, class) = match &e.held_by {
            Some(_) => ("hold", "hold"),
            None => ("exception", "exception"),
        };
        let when = if e.window.from <= now {
            format!("{keep} until {}", local(tz, e.window.to))
        } else {
            format!("{keep} from {} until {}", local(tz, e.window.from), local(tz, e.window.to))
        };
        let by = e.held_by.as_deref().map(|b| format!(", set by {b}")).unwrap_or_default();
        let why = e.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
        let _ = write!(h, "<dt>{label}</dt><dd class=\"{class}\">{}</dd>", escape(&format!("{when}{why}{by}")));
    }
}

fn last_action(h: &mut String, last: &LastAction, tz: &Tz, now: DateTime<Utc>) {
    // A brake trip or an abort at or after the last finish is how the action last
    // ended: an alert; an older one is a note at the end.
    let finished_at = last.finished.as_ref().map(|f| f.at);
    let newest = |t: DateTime<Utc>| finished_at.is_none_or(|f| t >= f);
    if let Some(b) = last.brake.as_ref().filter(|b| newest(b.at)) {
        let _ = write!(
            h,
            "<p class=\"alert brake\"><strong>Safety brake tripped</strong> {}: it would have touched {} resources, more than \
             max_instances_per_action = {}; nothing was touched.{}</p>",
            when(tz, now, b.at),
            b.would_touch,
            b.limit,
            if b.dry_run { " (dry run)" } else { "" }
        );
    }
    if let Some(a) = last.aborted.as_ref().filter(|a| newest(a.at)) {
        let _ = write!(
            h,
            "<p class=\"alert aborted\"><strong>Action could not be carried out</strong> {}: {}</p>",
            when(tz, now, a.at),
            escape(&a.error)
        );
    }
    if let Some(f) = &last.finished {
        let counts: Vec<String> = f.counts.iter().map(|(outcome, n)| format!("{outcome} {n}")).collect();
        let counts = if counts.is_empty() { "no resources matched".to_string() } else { counts.join(", ") };
        let class = if f.failures.is_empty() { "counts" } else { "counts failed" };
        let _ = write!(h, "<p><span class=\"{class}\">{counts}</span> <span class=\"muted\">{}", when(tz, now, f.at));
        let _ = write!(h, ", {} ms", f.duration.as_millis());
        if f.job != "schedule" {
            let _ = write!(h, ", {}", escape(&f.job));
        }
        h.push_str("</span>");
        if f.dry_run {
            h.push_str(" <span class=\"badge\">dry run</span>");
        }
        h.push_str("</p>");
        if f.list_failures > 0 {
            let _ = write!(
                h,
                "<p class=\"alert\">{} kind/region listing{} failed: those resources were left out (the log has the errors).</p>",
                f.list_failures,
                plural(f.list_failures)
            );
        }
        failures_table(h, &f.failures);
        for (account, why) in &f.failed_accounts {
            let _ = write!(h, "<p class=\"alert\">account {} was not acted in: {}</p>", escape(account), escape(why));
        }
    }
    if let Some(b) = last.brake.as_ref().filter(|b| !newest(b.at)) {
        let _ = write!(
            h,
            "<p class=\"muted\">Earlier: the safety brake tripped {} ({} over {}).</p>",
            when(tz, now, b.at),
            b.would_touch,
            b.limit
        );
    }
    if let Some(a) = last.aborted.as_ref().filter(|a| !newest(a.at)) {
        let _ = write!(h, "<p class=\"muted\">Earlier: could not be carried out {}: {}</p>", when(tz, now, a.at), escape(&a.error));
    }
}

/// The ledger's last 30 days: hours kept off and their estimated worth, by schedule.
fn savings(h: &mut String, config: &Config, board: &Snapshot) {
    let tz = config.timezone;
    h.push_str("<section id=\"savings\"><h2>Savings (estimate)</h2>");
    let Some(figures) = &board.savings else {
        h.push_str("<p class=\"muted\">Not counted yet: the daemon counts its ledger at start and every minute.</p></section>\n");
        return;
    };
    let report = figures.tally.by_schedule(&Prices::of(&config.savings, &figures.cache));
    let t = &report.total;
    let money = |m: Option<Money>| m.map_or("no price known".to_string(), |m| format!("{m} {}", escape(&t.currency)));
    let _ = write!(
        h,
        "<p class=\"savings-total\">Last 30 days ({} to {}): <strong>{} resource-hours</strong> kept off; estimated savings <strong>{}</strong>.</p>",
        local(&tz, figures.tally.since),
        local(&tz, figures.tally.until),
        t.resource_hours_off,
        money(t.estimated_savings)
    );
    let unpriced = if t.unpriced_hours_off.seconds > 0 {
        format!(" {} hours have no price and are not in it.", t.unpriced_hours_off)
    } else {
        String::new()
    };
    let _ = write!(
        h,
        "<p class=\"muted\">An estimate at on-demand prices: <code>[savings.prices]</code> in the file first, else Price List prices cached by <code>offhours report</code> (price source: {}).{unpriced} <code>offhours report</code> has the details.</p>",
        t.price_source.as_str()
    );
    if !report.rows.is_empty() {
        h.push_str("<table class=\"savings\"><thead><tr><th>schedule</th><th>resource-hours off</th><th>estimated savings</th><th>prices</th></tr></thead><tbody>");
        for r in &report.rows {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&r.key),
                r.resource_hours_off,
                money(r.estimated_savings),
                r.price_source.as_str()
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>\n");
}

fn audit(h: &mut String, config: &Config, board: &Snapshot, now: DateTime<Utc>) {
    let tz = config.timezone;
    h.push_str("<section id=\"audit\"><h2>Access-key audit</h2>");
    let Some(cfg) = &config.iam_audit else {
        h.push_str("<p class=\"muted\">Not configured (no <code>[iam_audit]</code> section).</p></section>\n");
        return;
    };
    let _ = write!(
        h,
        "<p class=\"muted\">Keys older than {} days or unused for {} days{}.",
        cfg.max_key_age_days,
        cfg.max_unused_days,
        if cfg.deactivate { ", deactivated" } else { ", reported" }
    );
    if let Some(at) = cfg.trigger.as_ref().and_then(|t| t.next_after(now)) {
        let _ = write!(h, " Next run {} ({}).", local(&tz, at), until(now, at));
    }
    h.push_str("</p>");
    match &board.audit {
        None => h.push_str("<p class=\"last-audit\">Not run yet since the daemon started.</p>"),
        Some(a) => {
            let total: usize = a.findings.values().sum();
            let _ = write!(h, "<p class=\"last-audit\">Last run {}: ", when(&tz, now, a.at));
            if total == 0 {
                h.push_str("no findings.</p>");
            } else {
                let _ = write!(h, "<strong>{total} finding{}</strong>.</p>", plural(total));
                h.push_str("<table class=\"findings\"><thead><tr><th>rule</th><th>findings</th></tr></thead><tbody>");
                for (rule, n) in &a.findings {
                    let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", escape(rule));
                }
                h.push_str("</tbody></table>");
            }
        }
    }
    h.push_str("</section>\n");
}

fn billing(h: &mut String, config: &Config, board: &Snapshot, now: DateTime<Utc>) {
    let tz = config.timezone;
    h.push_str("<section id=\"billing\"><h2>Billing alarm</h2>");
    let Some(cfg) = &config.billing_alarm else {
        h.push_str("<p class=\"muted\">Not configured (no <code>[billing_alarm]</code> section).</p></section>\n");
        return;
    };
    let _ =
        write!(h, "<p class=\"muted\">Alarm <code>{}</code> at {} {}.</p>", escape(&cfg.alarm_name), cfg.threshold, escape(&cfg.currency));
    match &board.alarm {
        None => h.push_str("<p class=\"last-alarm\">Not checked yet since the daemon started.</p>"),
        Some(a) => {
            let bad = matches!(a.outcome.as_str(), "failed" | "foreign");
            let _ = write!(
                h,
                "<p class=\"last-alarm{}\">Last check {}: <strong>{}</strong> (alarm <code>{}</code>).</p>",
                if bad { " alert" } else { "" },
                when(&tz, now, a.at),
                escape(&a.outcome),
                escape(&a.alarm_name)
            );
        }
    }
    h.push_str("</section>\n");
}

/// An element id from a schedule name (names are TOML keys: any text).
fn anchor(name: &str) -> String {
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    format!("schedule-{safe}")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `Mon 23 Nov 08:00 CET`, seconds when there are some.
fn local(tz: &Tz, t: DateTime<Utc>) -> String {
    let l = t.with_timezone(tz);
    l.format(if l.timestamp() % 60 == 0 { "%a %-d %b %H:%M %Z" } else { "%a %-d %b %H:%M:%S %Z" }).to_string()
}

/// `at Mon 23 Nov 08:00 CET (2h 5m ago)`.
fn when(tz: &Tz, now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    format!("at {} ({})", local(tz, t), ago(now, t))
}

fn ago(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    if t > now { until(now, t) } else { format!("{} ago", span(now - t)) }
}

fn until(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    format!("in {}", span(t - now))
}

/// A duration in its two largest units: `3h 12m`, `2d 4h`, `45s`.
fn span(d: TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    let (days, hours, minutes, seconds) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds}s"),
        (0, 0, m) => format!("{m}m {seconds}s"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::config::{HostTimezone, from_str};
    use crate::http::board::{Aborted, AlarmOutcome, AuditOutcome, BrakeTrip, Failure, Finished};
    use crate::model::Outcome;

    const FILE: &str = r#"
timezone = "Europe/Berlin"
regions = ["eu-west-1", "eu-central-1"]
max_instances_per_action = 20
[aws]
profile = "secret-profile-p1"
role_arn = "arn:aws:iam::210987654321:role/secret-role-r1"
external_id = "secret-external-x1"
session_name = "secret-session-s1"
[schedules.office-hours]
description = "Dev <machines> & \"test\""
start = "0 8 * * MON-FRI"
stop = "0 18 * * MON-FRI"
[schedules."lab <b>"]
timezone = "America/New_York"
stop = "0 22 * * *"
kinds = ["ec2", "rds"]
order = [["rds"], ["ec2"]]
[iam_audit]
cron = "0 7 * * MON"
[billing_alarm]
threshold = 500
alarm_name = "budget"
"#;

    fn config(text: &str) -> Config {
        from_str(text, "t.toml", &HostTimezone::fixed(chrono_tz::UTC)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// Monday 23 Nov 2026, 05:48 in Berlin.
    const NOW: &str = "2026-11-23T04:48:00Z";

    fn failure(id: &str, reason: &str) -> Failure {
        Failure {
            account: String::new(),
            kind: crate::kinds::ec2::KIND,
            id: id.into(),
            region: "eu-west-1".into(),
            name: Some("web <1>".into()),
            reason: reason.into(),
        }
    }

    fn finished(at_: &str, counts: Vec<(Outcome, usize)>, failures: Vec<Failure>) -> Finished {
        Finished {
            at: at(at_),
            job: "schedule".into(),
            dry_run: false,
            counts,
            list_failures: 0,
            failures,
            failed_accounts: Vec::new(),
            duration: Duration::from_millis(812),
        }
    }

    fn board() -> Snapshot {
        let mut b = Snapshot::default();
        let stop = LastAction {
            finished: Some(finished(
                "2026-11-20T17:00:01Z",
                vec![(Outcome::Stopped, 12), (Outcome::Unchanged, 3), (Outcome::Failed, 1)],
                vec![failure("i-0bad", "UnsupportedOperation: <img src=x onerror=alert(1)>")],
            )),
            brake: Some(BrakeTrip { at: at("2026-11-19T17:00:00Z"), would_touch: 30, limit: 20, dry_run: false }),
            aborted: None,
        };
        b.actions.insert(("office-hours".into(), Action::Stop), stop);
        let start = LastAction {
            finished: Some(finished("2026-11-20T07:00:02Z", vec![(Outcome::Started, 15)], vec![])),
            brake: Some(BrakeTrip { at: at("2026-11-23T04:00:00Z"), would_touch: 40, limit: 20, dry_run: false }),
            aborted: None,
        };
        b.actions.insert(("office-hours".into(), Action::Start), start);
        let aborted = LastAction {
            aborted: Some(Aborted { at: at("2026-11-23T03:00:00Z"), error: "dispatch failure: connection refused".into() }),
            ..LastAction::default()
        };
        b.actions.insert(("lab <b>".into(), Action::Stop), aborted);
        b
    }

    #[test]
    fn each_schedule_shows_its_zone_next_fires_timeline_and_last_outcomes() {
        let page = render_snapshot(Some(&config(FILE)), &board(), at(NOW));
        // Sorted by name.
        let (lab, office) = (page.find("<h2>lab &lt;b&gt;</h2>").unwrap(), page.find("<h2>office-hours</h2>").unwrap());
        assert!(lab < office);
        for want in [
            r#"<dd class="tz">Europe/Berlin</dd>"#,
            r#"<dd class="tz">America/New_York</dd>"#,
            "<dd>ec2, rds</dd>",
            r#"<dd class="order">start rds -&gt; ec2; stop ec2 -&gt; rds; a failed group halts the later ones</dd>"#,
            // Monday 08:00 CET is 07:00 UTC: 2h 12m from now.
            r#"<dd class="next-start">Mon 23 Nov 08:00 CET <span class="muted">(in 2h 12m)</span>"#,
            r#"<dd class="next-stop">Mon 23 Nov 18:00 CET <span class="muted">(in 12h 12m)</span>"#,
            "none (no start cron)",
            r#"<span class="counts failed">stopped 12, unchanged 3, failed 1</span>"#,
            "at Fri 20 Nov 18:00:01 CET (2d 11h ago), 812 ms",
            "<td class=\"id\"><code>i-0bad</code></td><td>web &lt;1&gt;</td><td>eu-west-1</td>",
            r#"<td class="reason">UnsupportedOperation: &lt;img src=x onerror=alert(1)&gt;</td>"#,
            "<p class=\"desc\">Dev &lt;machines&gt; &amp; &quot;test&quot;</p>",
            r#"<p class="alert brake"><strong>Safety brake tripped</strong> at Mon 23 Nov 05:00 CET (48m 0s ago): it would have touched 40 resources, more than max_instances_per_action = 20"#,
            "started 15",
            // An older brake trip than the last finish is a note, not an alert.
            r#"<p class="muted">Earlier: the safety brake tripped at Thu 19 Nov 18:00 CET (3d 11h ago) (30 over 20).</p>"#,
            "<p class=\"alert aborted\"><strong>Action could not be carried out</strong> at Sun 22 Nov 22:00 EST (1h 48m ago): dispatch failure: connection refused</p>",
            "regions eu-west-1, eu-central-1 &middot; brake at 20 resources per action",
            "(Mon 23 Nov 05:48 CET in Europe/Berlin)",
        ] {
            assert!(page.contains(want), "missing {want:?}");
        }
        assert_eq!(page.matches(r#"class="alert brake""#).count(), 1);
        assert_eq!(page.matches(r#"<dd class="order">"#).count(), 1, "only the schedule with an order shows one");
        assert_eq!(page.matches("<svg ").count(), 2);
        assert!(page.contains(r#"aria-labelledby="tl0-t tl0-d""#) && page.contains(r#"aria-labelledby="tl1-t tl1-d""#));
        // In New York it is still Sunday 22 Nov: the week of Monday 16 Nov.
        assert!(page.contains("lab &lt;b&gt;: on and off periods in the week of Mon 16 Nov 2026 (America/New_York)"));
        assert!(page.contains("office-hours: on and off periods in the week of Mon 23 Nov 2026 (Europe/Berlin)"));
    }

    #[test]
    fn nothing_from_aws_settings_and_nothing_unescaped_reaches_the_page() {
        let page = render_snapshot(Some(&config(FILE)), &board(), at(NOW));
        assert!(!page.contains("secret-"), "an [aws] value leaked");
        assert!(!page.contains("210987654321"));
        assert!(!page.contains("<img") && !page.contains("<machines>") && !page.contains("<b>"));
        for fetch in ["<script", "<link", " src=\"", "@import", "<iframe", "url(http", "<img"] {
            assert!(!page.contains(fetch), "{fetch}");
        }
    }

    #[test]
    fn the_example_file_renders_without_any_address_to_fetch_or_leak() {
        // Whatever the file grows ([notify] webhook URLs), only picked fields appear: no
        // URL at all but the SVG namespace.
        let text = include_str!("../../config/offhours.toml");
        let page = render_snapshot(Some(&config(text)), &Snapshot::default(), at(NOW));
        let urls = page.matches("http://").count() + page.matches("https://").count();
        assert_eq!(urls, page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(), "{page}");
        assert!(page.contains("office-hours") && page.contains("Not run since the daemon started."));
    }

    #[test]
    fn the_audit_and_the_alarm_show_their_last_outcome_or_why_there_is_none() {
        let page = render_snapshot(Some(&config(FILE)), &Snapshot::default(), at(NOW));
        assert!(page.contains(r#"<p class="last-audit">Not run yet since the daemon started.</p>"#));
        assert!(page.contains("Next run Mon 23 Nov 07:00 CET (in 1h 12m)"));
        assert!(page.contains(r#"<p class="last-alarm">Not checked yet since the daemon started.</p>"#));
        assert!(page.contains("Alarm <code>budget</code> at 500 USD."));

        let mut b = Snapshot::default();
        let findings = BTreeMap::from([("key-too-old".to_string(), 2), ("key-unused".to_string(), 1)]);
        b.audit = Some(AuditOutcome { at: at("2026-11-23T04:00:00Z"), findings });
        b.alarm = Some(AlarmOutcome { at: at("2026-11-23T04:30:00Z"), outcome: "foreign".into(), alarm_name: "budget".into() });
        let page = render_snapshot(Some(&config(FILE)), &b, at(NOW));
        assert!(page.contains("Last run at Mon 23 Nov 05:00 CET (48m 0s ago): <strong>3 findings</strong>."), "{page}");
        assert!(page.contains("<tr><td>key-too-old</td><td>2</td></tr><tr><td>key-unused</td><td>1</td></tr>"));
        assert!(page.contains(
            r#"<p class="last-alarm alert">Last check at Mon 23 Nov 05:30 CET (18m 0s ago): <strong>foreign</strong> (alarm <code>budget</code>).</p>"#
        ));

        let bare = config("[schedules.a]\nstart = \"0 8 * * *\"\n");
        let page = render_snapshot(Some(&bare), &b, at(NOW));
        assert!(page.contains("Not configured (no <code>[iam_audit]</code> section)."));
        assert!(page.contains("Not configured (no <code>[billing_alarm]</code> section)."));
    }

    #[test]
    fn the_savings_show_hours_off_and_the_estimate_with_its_prices() {
        use crate::savings::{Part, Price, PriceCache, Tally};
        let mut text = FILE.to_string();
        text.push_str("[savings.prices]\n\"t3.micro\" = 0.0104\n");
        let config = config(&text);
        let page = render_snapshot(Some(&config), &board(), at(NOW));
        assert!(page.contains("<section id=\"savings\"><h2>Savings (estimate)</h2><p class=\"muted\">Not counted yet"), "{page}");
        let product = |size: &str| crate::kinds::ec2::price::product("eu-west-1", size);
        let group = |schedule: &str, size: &str| {
            (
                schedule.to_string(),
                crate::kinds::ec2::KIND,
                "eu-west-1".to_string(),
                Some(size.to_string()),
                Some(vec![Part::one(size, Some(product(size)))]),
            )
        };
        let mut cache = PriceCache::default();
        cache.put(&product("m5.large"), Some(&Price { per_hour: "0.107".parse().unwrap(), currency: "USD".into() }), at(NOW));
        let tally = Tally {
            since: at("2026-10-24T04:48:00Z"),
            until: at(NOW),
            groups: [
                (group("office-hours", "t3.micro"), 39 * 3600),
                (group("office-hours", "m5.large"), 10 * 3600),
                (group("lab <b>", "x9.odd"), 1800),
            ]
            .into(),
        };
        let b = Snapshot { savings: Some(std::sync::Arc::new(crate::store::ledger::Figures { tally, cache })), ..board() };
        let page = render_snapshot(Some(&config), &b, at(NOW));
        // 39 h x 0.0104 = 0.4056; 10 h x 0.107 = 1.07: 1.4756 -> 1.48.
        assert!(
            page.contains(
                "<p class=\"savings-total\">Last 30 days (Sat 24 Oct 06:48 CEST to Mon 23 Nov 05:48 CET): <strong>49.50 resource-hours</strong> kept off; estimated savings <strong>1.48 USD</strong>.</p>"
            ),
            "{page}"
        );
        assert!(
            page.contains("An estimate at on-demand prices") && page.contains("(price source: mixed). 0.50 hours have no price"),
            "{page}"
        );
        assert!(page.contains("<tr><td>lab &lt;b&gt;</td><td>0.50</td><td>no price known</td><td>none</td></tr>"), "{page}");
        assert!(page.contains("<tr><td>office-hours</td><td>49.00</td><td>1.48 USD</td><td>mixed</td></tr>"), "{page}");
    }

    #[test]
    fn holds_and_exceptions_not_over_yet_show_with_who_and_why() {
        let text = format!(
            "{FILE}[[schedules.office-hours.exceptions]]\nfrom = \"2026-12-24\"\nto = \"2026-12-26\"\nkeep = \"off\"\nreason = \"holidays\"\n[[schedules.office-hours.exceptions]]\nfrom = \"2026-11-01\"\nto = \"2026-11-02\"\nkeep = \"off\"\n"
        );
        let hold = crate::plan::hold::Hold {
            schedule: "office-hours".into(),
            keep: crate::config::Keep::On,
            from: at("2026-11-23T04:00:00Z"),
            until: at("2026-11-25T17:00:00Z"),
            reason: Some("demo <day>".into()),
            set_by: "ana@ops-1".into(),
            set_at: at("2026-11-23T04:00:00Z"),
        };
        let config = crate::plan::hold::apply(&config(&text), &[hold], at(NOW));
        let page = render_snapshot(Some(&config), &board(), at(NOW));
        assert!(
            page.contains(r#"<dt>hold</dt><dd class="hold">kept on until Wed 25 Nov 18:00 CET (demo &lt;day&gt;), set by ana@ops-1</dd>"#),
            "{page}"
        );
        assert!(
            page.contains(r#"<dd class="exception">kept off from Thu 24 Dec 00:00 CET until Sun 27 Dec 00:00 CET (holidays)</dd>"#),
            "{page}"
        );
        assert_eq!(page.matches(r#"class="exception""#).count(), 1, "an exception over already is not shown");
    }

    #[test]
    fn without_a_config_the_page_says_so() {
        let page = render(None, &Board::new(), at(NOW));
        assert!(page.starts_with("<!doctype html>"));
        assert!(page.contains("No configuration loaded yet"), "{page}");
        assert!(page.contains("<title>offhours: no configuration</title>"));
        assert!(page.ends_with("</html>\n"));
    }

    #[test]
    fn durations_read_in_their_two_largest_units() {
        let cases =
            [(0, "0s"), (45, "45s"), (192, "3m 12s"), (3600 * 3 + 12 * 60 + 5, "3h 12m"), (86_400 * 2 + 3600 * 4 + 7, "2d 4h"), (-5, "0s")];
        for (secs, want) in cases {
            assert_eq!(span(TimeDelta::seconds(secs)), want, "{secs}");
        }
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(anchor("lab <b>"), "schedule-lab__b_");
    }
}
