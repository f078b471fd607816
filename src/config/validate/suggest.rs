//! `[suggest]`: thresholds of an idle hour and how the weeks are read.

use super::Checker;
use crate::config::Suggest;
use crate::config::raw::RawSuggest;

pub(super) fn suggest(c: &mut Checker, raw: &RawSuggest) -> Suggest {
    let d = Suggest::default();
    let positive = |c: &mut Checker, v: &Option<toml::Spanned<crate::config::raw::Number>>, field: &str, default: f64| match v {
        None => default,
        Some(v) => {
            let n = v.get_ref().as_f64();
            if n.is_finite() && n > 0.0 {
                n
            } else {
                c.error(v.span(), field, format!("must be above 0, found {n}"));
                default
            }
        }
    };
    let cpu_percent = positive(c, &raw.cpu_percent, "suggest.cpu_percent", d.cpu_percent);
    if let Some(v) = &raw.cpu_percent
        && v.get_ref().as_f64() > 100.0
    {
        c.error(v.span(), "suggest.cpu_percent", "is a percentage: at most 100");
    }
    let network_mb = positive(c, &raw.network_mb, "suggest.network_mb", d.network_mb);
    let connections = raw.connections.as_ref().and_then(|v| c.count(v, "suggest.connections", 0, 100_000)).unwrap_or(d.connections);
    let min_weeks = raw.min_weeks.as_ref().and_then(|v| c.count(v, "suggest.min_weeks", 1, 9)).unwrap_or(d.min_weeks);
    let days = raw.days.as_ref().and_then(|v| c.count(v, "suggest.days", 7, 63)).unwrap_or(d.days);
    let margin_hours = match &raw.margin {
        None => d.margin_hours,
        Some(v) => match c.duration_or_zero(v, "suggest.margin") {
            Some(m) if m.as_secs() % 3600 == 0 && m.as_secs() <= 6 * 3600 => (m.as_secs() / 3600) as u32,
            Some(_) => {
                c.error(v.span(), "suggest.margin", "must be whole hours, 0h to 6h (a schedule's crons fire on the hour)");
                d.margin_hours
            }
            None => d.margin_hours,
        },
    };
    if min_weeks * 7 > days {
        let span = raw.min_weeks.as_ref().or(raw.days.as_ref()).map(|v| v.span()).unwrap_or(0..0);
        c.error(span, "suggest.min_weeks", format!("{min_weeks} weeks do not fit in suggest.days = {days}"));
    }
    Suggest { cpu_percent, network_mb, connections, margin_hours, min_weeks, days }
}
