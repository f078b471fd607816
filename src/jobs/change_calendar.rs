//! A schedule's `change_calendar`, read right before each of its fires and enforce
//! ticks (never cached: a calendar can close at any minute). `offhours apply` does not
//! ask it: an action by hand is its own decision.

use std::sync::Arc;

use super::apply::Cause;
use crate::aws::{Aws, CallCounter, ssm};
use crate::config::Schedule;
use crate::model::Action;
use crate::plan::change_calendar::skip;

/// Why `action` of `schedule` is held back by its change calendar now, if it is; one
/// event says what the calendar said either way.
pub async fn holds_back(aws: &Aws, schedule: &Schedule, action: Action, cause: Cause) -> Option<String> {
    let calendar = schedule.change_calendar.as_ref()?;
    let calls = Arc::new(CallCounter::default());
    let api = aws.api(&calendar.region, &calls);
    let state = ssm::is_open(&api, &calendar.name).await.map_err(|e| e.to_string());
    let held = skip(&calendar.name, action, &state, calendar.closed);
    let said = match &state {
        Ok(true) => "open",
        Ok(false) => "closed",
        Err(_) => "unreadable",
    };
    macro_rules! event {
        ($level:ident, $msg:literal) => {
            tracing::$level!(
                job = cause.as_str(),
                schedule = %schedule.name,
                action = %action,
                calendar = %calendar.name,
                region = %calendar.region,
                state = said,
                error = state.as_ref().err().map(String::as_str),
                held_back = held.is_some(),
                $msg
            )
        };
    }
    match (&state, &held) {
        (Err(_), _) => event!(error, "Change calendar cannot be read."),
        (_, Some(_)) => event!(info, "Change calendar closed: the action is held back."),
        (_, None) => event!(info, "Change calendar read."),
    }
    held
}
