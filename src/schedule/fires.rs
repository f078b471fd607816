//! A schedule's start and stop together: its last fire, its next one, and its fires
//! in a window in order (the walk the week's off hours and the status page's timeline
//! are both made of). When a start and a stop fire at the same instant, the stop wins.

use chrono::{DateTime, Utc};

use super::Trigger;
use crate::model::Action;

/// A schedule's triggers, by action.
#[derive(Debug, Clone, Copy)]
pub struct Triggers<'a> {
    pub start: Option<&'a Trigger>,
    pub stop: Option<&'a Trigger>,
}

/// One fire: an action at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fire {
    pub action: Action,
    pub at: DateTime<Utc>,
}

impl<'a> Triggers<'a> {
    fn each(self) -> impl Iterator<Item = (Action, &'a Trigger)> {
        [(Action::Start, self.start), (Action::Stop, self.stop)].into_iter().filter_map(|(a, t)| Some((a, t?)))
    }

    /// The most recent fire at or before `at`; a stop wins a tie.
    pub fn last_fire(self, at: DateTime<Utc>) -> Option<Fire> {
        self.each()
            .filter_map(|(action, t)| Some(Fire { action, at: t.last_at_or_before(at)? }))
            .max_by_key(|f| (f.at, f.action == Action::Stop))
    }

    /// The first fire after `at`; a stop wins a tie.
    pub fn next_fire(self, at: DateTime<Utc>) -> Option<Fire> {
        self.each().filter_map(|(action, t)| Some(Fire { action, at: t.next_after(at)? })).min_by_key(|f| (f.at, f.action != Action::Stop))
    }

    /// The fires after `after` and before `before`, in order (of a start and a stop at
    /// one instant, only the stop).
    pub fn fires(self, after: DateTime<Utc>, before: DateTime<Utc>) -> impl Iterator<Item = Fire> + 'a {
        let mut cursor = after;
        std::iter::from_fn(move || {
            let fire = self.next_fire(cursor).filter(|f| f.at < before)?;
            cursor = fire.at;
            Some(fire)
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono_tz::Europe::Berlin;

    use super::*;
    use crate::schedule::CronExpr;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn trigger(cron: &str) -> Trigger {
        Trigger::new(CronExpr::parse(cron).unwrap(), Berlin)
    }

    #[test]
    fn fires_in_a_window_in_order_and_a_stop_wins_a_tie() {
        let (start, stop) = (trigger("0 8 * * MON-FRI"), trigger("0 19 * * MON-FRI"));
        let both = Triggers { start: Some(&start), stop: Some(&stop) };
        let got: Vec<(Action, DateTime<Utc>)> =
            both.fires(at("2026-11-02T00:00:00Z"), at("2026-11-04T00:00:00Z")).map(|f| (f.action, f.at)).collect();
        assert_eq!(
            got,
            [
                (Action::Start, at("2026-11-02T07:00:00Z")),
                (Action::Stop, at("2026-11-02T18:00:00Z")),
                (Action::Start, at("2026-11-03T07:00:00Z")),
                (Action::Stop, at("2026-11-03T18:00:00Z")),
            ]
        );
        let same = trigger("0 8 * * *");
        let tie = Triggers { start: Some(&same), stop: Some(&same) };
        let fires: Vec<Fire> = tie.fires(at("2026-11-02T00:00:00Z"), at("2026-11-03T00:00:00Z")).collect();
        assert_eq!(fires, [Fire { action: Action::Stop, at: at("2026-11-02T07:00:00Z") }]);
        assert_eq!(tie.last_fire(at("2026-11-02T12:00:00Z")).map(|f| f.action), Some(Action::Stop));
        assert_eq!(Triggers { start: None, stop: None }.next_fire(at("2026-11-02T00:00:00Z")), None);
    }
}
