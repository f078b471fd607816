//! A schedule's exceptions (`[[schedules.NAME.exceptions]]`): windows of local time in
//! which it keeps its resources on (no stop; a start at the window's start) or off (no
//! start). A date covers its whole day; windows of one schedule may not overlap.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use toml::Spanned;

use super::Checker;
use crate::config::raw::{DateValue, RawException};
use crate::config::{Exception, Keep};
use crate::schedule::{Window, first_instant_at_or_after};

/// The schedule's exceptions, in the order of the file; every problem reported at its
/// place (`schedules.NAME.exceptions[i].FIELD`).
pub fn exceptions(c: &mut Checker, raw: &[Spanned<RawException>], tz: Tz, field: &str, has_start: bool) -> Vec<Exception> {
    let mut out: Vec<(usize, Exception)> = Vec::new();
    for (i, e) in raw.iter().enumerate() {
        let at = |f: &str| format!("{field}[{i}].{f}");
        let body = e.get_ref();
        let from = local(&body.from, tz, false).or_else(|| bad(c, &body.from, at("from")));
        let to = local(&body.to, tz, true).or_else(|| bad(c, &body.to, at("to")));
        let keep = match body.keep.get_ref().as_str() {
            "on" => Some(Keep::On),
            "off" => Some(Keep::Off),
            other => {
                c.error(body.keep.span(), at("keep"), format!("`{other}` is not `on` or `off`"));
                None
            }
        };
        if keep == Some(Keep::Off) && !has_start {
            c.error(body.keep.span(), at("keep"), "holds starts off, but the schedule has no `start`");
        }
        let (Some(from), Some(to), Some(keep)) = (from, to, keep) else { continue };
        if to <= from {
            c.error(body.to.span(), at("to"), "ends before the exception starts");
            continue;
        }
        let window = Window { from, to };
        if let Some((j, _)) = out.iter().find(|(_, o)| o.window.from < window.to && window.from < o.window.to) {
            c.error(e.span(), format!("{field}[{i}]"), format!("overlaps {field}[{j}]"));
            continue;
        }
        out.push((i, Exception { window, keep, reason: body.reason.clone(), held_by: None }));
    }
    out.into_iter().map(|(_, e)| e).collect()
}

fn bad<T>(c: &mut Checker, value: &Spanned<DateValue>, field: String) -> Option<T> {
    let text = super::date_text(value.get_ref());
    c.error(value.span(), field, format!("`{text}` is not a local date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM)"));
    None
}

/// The instant a local date or time stands for in `tz`; a date as the end of a window
/// stands for the start of the next day (it covers its whole day).
fn local(value: &Spanned<DateValue>, tz: Tz, end: bool) -> Option<chrono::DateTime<chrono::Utc>> {
    let local = match value.get_ref() {
        DateValue::Toml(dt) => match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => day(NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))?, end)?,
            (Some(d), Some(t), None) => NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))?.and_hms_opt(
                u32::from(t.hour),
                u32::from(t.minute),
                u32::from(t.second.unwrap_or(0)),
            )?,
            _ => return None,
        },
        DateValue::Text(s) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => day(d, end)?,
            Err(_) => NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
                .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
                .ok()?,
        },
    };
    Some(first_instant_at_or_after(&tz, local))
}

/// A day's first moment, or (as an end) the next day's.
fn day(d: NaiveDate, end: bool) -> Option<NaiveDateTime> {
    let d = if end { d.succ_opt()? } else { d };
    Some(d.and_time(NaiveTime::MIN))
}
