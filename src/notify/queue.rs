//! Delivery: a subscriber of the event stream that turns events into notices and
//! queues them per sink. Each sink has its own bounded queue and task, so a receiver
//! that hangs or fails delays nothing but its own later notices, and never an action.
//! A send is tried a few times with growing pauses, then dropped with an error event;
//! a full queue drops the new notice the same way.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::Utc;
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use super::{Context, Notice, notice};
use crate::events::{Event, Subscriber};
use crate::model::Filter;

/// Something that delivers a notice (an SNS topic, a webhook).
pub trait Sink: Send + Sync + 'static {
    /// The sink's name in logs: never its URL.
    fn name(&self) -> &str;
    /// `slack`, `teams`, `json` or `sns`.
    fn kind(&self) -> &'static str;
    /// One attempt; the error text must not contain a secret.
    fn send<'a>(&'a self, notice: &'a Notice) -> BoxFuture<'a, Result<(), String>>;
}

/// How hard delivery tries.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Notices waiting per sink, at most.
    pub capacity: usize,
    /// Tries per notice, the first included.
    pub attempts: u32,
    /// The pause before the second try; doubled before each later one.
    pub backoff: Duration,
    /// Bound on one try.
    pub timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { capacity: 100, attempts: 4, backoff: Duration::from_secs(2), timeout: Duration::from_secs(10) }
    }
}

struct Route {
    name: String,
    kind: &'static str,
    filter: Filter,
    queue: mpsc::Sender<Arc<Notice>>,
}

/// The notification subscriber. Sinks are replaced at each applied reload.
pub struct Dispatcher {
    routes: RwLock<(Vec<Route>, Context)>,
    policy: Policy,
}

impl Dispatcher {
    pub fn new(policy: Policy) -> Self {
        Dispatcher { routes: RwLock::new((Vec::new(), Context::default())), policy }
    }

    /// Replaces the sinks. The old ones deliver what they hold, then end. Call it from
    /// within the runtime (each sink gets a task).
    pub fn set(&self, sinks: Vec<(Arc<dyn Sink>, Filter)>, context: Context) {
        let routes = sinks
            .into_iter()
            .map(|(sink, filter)| {
                let (tx, rx) = mpsc::channel(self.policy.capacity);
                let route = Route { name: sink.name().to_string(), kind: sink.kind(), filter, queue: tx };
                tokio::spawn(deliver(sink, rx, self.policy));
                route
            })
            .collect();
        *self.routes.write().expect("routes lock") = (routes, context);
    }

    /// How many sinks are set.
    pub fn sinks(&self) -> usize {
        self.routes.read().expect("routes lock").0.len()
    }
}

impl Subscriber for Dispatcher {
    fn on(&self, event: &Event<'_>) {
        let dropped = {
            let routes = self.routes.read().expect("routes lock");
            let (routes, context) = &*routes;
            let Some(n) = (!routes.is_empty()).then(|| notice(event, context, Utc::now())).flatten() else {
                return;
            };
            route(routes, Arc::new(n))
        };
        // Outside the lock: the stream comes back here.
        for sink_kind in dropped {
            crate::events::emit(Event::Notification { sink_kind, outcome: "dropped" });
        }
    }
}

/// Queues the notice for every route that wants it; the kinds of the sinks that could
/// not take it.
fn route(routes: &[Route], n: Arc<Notice>) -> Vec<&'static str> {
    let mut dropped = Vec::new();
    {
        for route in routes.iter().filter(|r| r.filter.accepts(n.kind, n.severity)) {
            if let Err(e) = route.queue.try_send(n.clone()) {
                let why = match e {
                    mpsc::error::TrySendError::Full(_) => "the queue is full",
                    mpsc::error::TrySendError::Closed(_) => "the sink has stopped",
                };
                tracing::error!(
                    sink = %route.name,
                    sink_kind = route.kind,
                    event = %n.kind,
                    severity = %n.severity,
                    reason = why,
                    "Notification dropped."
                );
                dropped.push(route.kind);
            }
        }
    }
    dropped
}

/// One sink's task: sends each notice in turn, retrying with backoff.
async fn deliver(sink: Arc<dyn Sink>, mut queue: mpsc::Receiver<Arc<Notice>>, policy: Policy) {
    while let Some(n) = queue.recv().await {
        let mut pause = policy.backoff;
        for attempt in 1..=policy.attempts.max(1) {
            let outcome = match tokio::time::timeout(policy.timeout, sink.send(&n)).await {
                Ok(r) => r,
                Err(_) => Err(format!("no answer within {} s", policy.timeout.as_secs_f64())),
            };
            match outcome {
                Ok(()) => {
                    tracing::info!(sink = %sink.name(), sink_kind = sink.kind(), event = %n.kind, attempt, "Notification sent.");
                    crate::events::emit(Event::Notification { sink_kind: sink.kind(), outcome: "sent" });
                    break;
                }
                Err(error) if attempt < policy.attempts => {
                    tracing::warn!(
                        sink = %sink.name(),
                        sink_kind = sink.kind(),
                        event = %n.kind,
                        attempt,
                        retry_in_ms = pause.as_millis() as u64,
                        error = %error,
                        "Notification not delivered; trying again."
                    );
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                Err(error) => {
                    tracing::error!(
                        sink = %sink.name(),
                        sink_kind = sink.kind(),
                        event = %n.kind,
                        severity = %n.severity,
                        attempts = attempt,
                        error = %error,
                        reason = "not delivered after every try",
                        "Notification dropped."
                    );
                    crate::events::emit(Event::Notification { sink_kind: sink.kind(), outcome: "dropped" });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::model::{NoticeKind, Severity};

    /// Fails `failures` times, then records what it is sent.
    struct Flaky {
        failures: AtomicU32,
        got: Mutex<Vec<NoticeKind>>,
        hang: bool,
    }

    impl Sink for Flaky {
        fn name(&self) -> &str {
            "flaky"
        }
        fn kind(&self) -> &'static str {
            "json"
        }
        fn send<'a>(&'a self, n: &'a Notice) -> BoxFuture<'a, Result<(), String>> {
            Box::pin(async move {
                if self.hang {
                    std::future::pending::<()>().await;
                }
                if self.failures.load(Ordering::SeqCst) > 0 {
                    self.failures.fetch_sub(1, Ordering::SeqCst);
                    return Err("500 Internal Server Error".into());
                }
                self.got.lock().unwrap().push(n.kind);
                Ok(())
            })
        }
    }

    fn reload_rejected() -> Event<'static> {
        Event::Reload { applied: false, errors: &[] }
    }

    async fn settle() {
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_sink_is_retried_with_backoff_then_succeeds() {
        let sink = Arc::new(Flaky { failures: AtomicU32::new(2), got: Mutex::new(Vec::new()), hang: false });
        let d = Dispatcher::new(Policy::default());
        d.set(vec![(sink.clone(), Filter::default())], Context::default());
        d.on(&reload_rejected());
        settle().await;
        assert!(sink.got.lock().unwrap().is_empty(), "first try failed");
        // 2 s, then 4 s.
        tokio::time::sleep(Duration::from_secs(6) + Duration::from_millis(1)).await;
        settle().await;
        assert_eq!(*sink.got.lock().unwrap(), vec![NoticeKind::ReloadRejected]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_sink_never_blocks_the_caller_and_its_queue_is_bounded() {
        let sink = Arc::new(Flaky { failures: AtomicU32::new(0), got: Mutex::new(Vec::new()), hang: true });
        let healthy = Arc::new(Flaky { failures: AtomicU32::new(0), got: Mutex::new(Vec::new()), hang: false });
        let d = Dispatcher::new(Policy { capacity: 3, ..Policy::default() });
        d.set(vec![(sink.clone(), Filter::default()), (healthy.clone(), Filter::default())], Context::default());
        let before = tokio::time::Instant::now();
        for _ in 0..10 {
            d.on(&reload_rejected());
        }
        assert_eq!(tokio::time::Instant::now(), before, "emitting never waits");
        settle().await;
        assert_eq!(healthy.got.lock().unwrap().len(), 3, "the healthy sink's own queue bound applies, nothing else");
    }

    #[tokio::test(start_paused = true)]
    async fn filters_choose_the_sinks() {
        let errors_only = Arc::new(Flaky { failures: AtomicU32::new(0), got: Mutex::new(Vec::new()), hang: false });
        let warnings = Arc::new(Flaky { failures: AtomicU32::new(0), got: Mutex::new(Vec::new()), hang: false });
        let d = Dispatcher::new(Policy::default());
        d.set(
            vec![
                (errors_only.clone(), Filter { events: None, min_severity: Severity::Error }),
                (warnings.clone(), Filter { events: Some([NoticeKind::StopWarning].into()), min_severity: Severity::Info }),
            ],
            Context::default(),
        );
        d.on(&reload_rejected());
        d.on(&Event::AlarmChecked { outcome: "created", alarm_name: "a" });
        d.on(&Event::AlarmChecked { outcome: "unchanged", alarm_name: "a" });
        settle().await;
        assert_eq!(*errors_only.got.lock().unwrap(), vec![NoticeKind::ReloadRejected]);
        assert!(warnings.got.lock().unwrap().is_empty());
    }
}
