//! The status page for people: pure rendering of the config, the board and `now` into
//! one HTML document (inline CSS and SVG, no script, nothing fetched).

use chrono::{DateTime, Utc};

use super::board::Board;
use crate::config::Config;

/// The whole page.
pub fn render(config: Option<&Config>, _board: &Board, _now: DateTime<Utc>) -> String {
    let schedules = config.map_or(0, |c| c.schedules.len());
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>offhours</title></head><body>\
         <h1>offhours</h1><p>{schedules} schedules</p><ul><li><a href=\"/metrics\">/metrics</a></li><li><a href=\"/healthz\">/healthz</a></li>\
         <li><a href=\"/readyz\">/readyz</a></li></ul></body></html>\n"
    )
}
