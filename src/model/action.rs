//! What a schedule does at a fire: start or stop.

use std::fmt;

/// What a schedule does to its instances at a fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Start,
    Stop,
}

impl Action {
    pub const ALL: [Action; 2] = [Action::Start, Action::Stop];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "start" => Ok(Action::Start),
            "stop" => Ok(Action::Stop),
            other => Err(format!("unknown action `{other}` (expected start or stop)")),
        }
    }
}

/// How a kind carries out an action on one resource, as the kind chose it: the plain
/// start or stop ([`Mode::PLAIN`]), or a way of its own (EC2's hibernate), named for
/// `plan` and with the outcome a successful stop of that way has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mode {
    /// Empty for the plain action.
    pub name: &'static str,
    /// What a stop in this mode leaves the resource as.
    pub stopped: crate::model::Outcome,
}

impl Mode {
    pub const PLAIN: Mode = Mode { name: "", stopped: crate::model::Outcome::Stopped };

    /// What a successful `action` in this mode is.
    pub fn success(self, action: Action) -> crate::model::Outcome {
        match action {
            Action::Start => crate::model::Outcome::Started,
            Action::Stop => self.stopped,
        }
    }
}

/// What a schedule asks of the kinds beyond start and stop; each kind reads what it
/// understands and ignores the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Asks {
    /// Hibernate instead of stop, where the kind and the resource can (`hibernate`).
    pub hibernate: bool,
}
