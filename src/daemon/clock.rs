//! Where the daemon reads wall-clock time. The system clock in production; in tests a
//! clock that follows tokio's (pausable) timer and can be stepped, to simulate clock
//! changes and suspend.

use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Wall time = a start instant + tokio time elapsed since + any steps taken. Under
/// `tokio::time::pause()` days pass in milliseconds; `step` moves the wall clock
/// without moving tokio's timer, as an NTP step or a suspend does to a real host.
#[derive(Debug)]
pub struct TestClock {
    start: DateTime<Utc>,
    started: tokio::time::Instant,
    stepped: Mutex<TimeDelta>,
}

impl TestClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        TestClock { start, started: tokio::time::Instant::now(), stepped: Mutex::new(TimeDelta::zero()) }
    }

    pub fn step(&self, delta: TimeDelta) {
        *self.stepped.lock().expect("clock lock") += delta;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = TimeDelta::from_std(self.started.elapsed()).expect("elapsed fits");
        self.start + elapsed + *self.stepped.lock().expect("clock lock")
    }
}
