//! The act of every kind: ids sent in batches, all at once, and a batch refused because
//! of some of its resources halved until each refused one stands alone.

use std::future::Future;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::{AwsError, ErrorKind};
use crate::model::Resource;

/// Whether a failed batch may be split to find the instances at fault: errors that
/// belong to the call as a whole (throttling, a fault of the service's own, timeouts,
/// credentials) are not.
fn splittable(kind: &ErrorKind) -> bool {
    !matches!(kind, ErrorKind::Throttled | ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::Unreachable | ErrorKind::Credentials)
}

/// The outcome of one batch after splitting: which ids it covered and how it went.
pub type BatchResult = (Vec<String>, Result<Vec<String>, AwsError>);

/// Sends `ids` through `call` in batches of `batch_size`, all at once (the region's
/// bound on calls in flight, inside `call`, paces them). A batch refused because of
/// some of its instances is halved, recursively, until each refused instance stands
/// alone, so the rest still act: k bad instances among n cost O(k log n) calls.
pub async fn in_batches<F, Fut>(ids: &[String], batch_size: usize, call: F) -> Vec<BatchResult>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<String>, AwsError>>,
{
    let send = |batch: Vec<String>| {
        let reply = call(batch.clone());
        async move { (batch, reply.await) }
    };
    let mut running: FuturesUnordered<_> = ids.chunks(batch_size.max(1)).map(|b| send(b.to_vec())).collect();
    let mut results = Vec::new();
    while let Some((batch, outcome)) = running.next().await {
        match outcome {
            Err(e) if batch.len() > 1 && splittable(&e.kind) => {
                let (left, right) = batch.split_at(batch.len() / 2);
                running.push(send(left.to_vec()));
                running.push(send(right.to_vec()));
            }
            outcome => results.push((batch, outcome)),
        }
    }
    results
}

/// Acts on each resource of a batch in turn, for services that take one resource a
/// call: `act` makes the calls and says whether it acted (a resource with nothing to
/// do is left out of the answer). A dry run calls nothing: these services have no
/// dry-run flag. The ids acted on; the first failure ends the batch.
pub async fn one_by_one<'a, F, Fut>(batch: &'a [Resource], dry_run: bool, act: F) -> Result<Vec<String>, AwsError>
where
    F: Fn(&'a Resource) -> Fut,
    Fut: Future<Output = Result<bool, AwsError>>,
{
    let mut done = Vec::with_capacity(batch.len());
    for r in batch {
        if !dry_run && act(r).await? {
            done.push(r.id.clone());
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("i-{i:04}")).collect()
    }

    fn refused(id: &str) -> AwsError {
        AwsError {
            operation: "StopInstances",
            region: "eu-west-1".into(),
            kind: ErrorKind::IncorrectState,
            code: Some("IncorrectInstanceState".into()),
            message: format!("The instance '{id}' is not in a state from which it can be stopped."),
            request_id: None,
        }
    }

    /// Runs `in_batches` over `n` ids where `bad` are refused; returns (calls made,
    /// ids that acted, ids that failed).
    async fn run(n: usize, bad: &[usize], kind: ErrorKind) -> (usize, usize, Vec<String>) {
        let all = ids(n);
        let bad: Vec<String> = bad.iter().map(|i| all[*i].clone()).collect();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let results = in_batches(&all, 50, |batch| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let bad = bad.clone();
            let kind = kind.clone();
            async move {
                match batch.iter().find(|id| bad.contains(id)) {
                    Some(id) => Err(AwsError { kind, ..refused(id) }),
                    None => Ok(batch.clone()),
                }
            }
        })
        .await;
        let acted = results.iter().filter(|(_, r)| r.is_ok()).map(|(b, _)| b.len()).sum();
        let mut failed: Vec<String> = results.iter().filter(|(_, r)| r.is_err()).flat_map(|(b, _)| b.clone()).collect();
        failed.sort();
        (calls.into_inner(), acted, failed)
    }

    #[tokio::test]
    async fn clean_batches_cost_one_call_each() {
        assert_eq!(run(120, &[], ErrorKind::Other).await, (3, 120, vec![]));
    }

    #[tokio::test]
    async fn one_bad_instance_is_isolated() {
        let (calls, acted, failed) = run(50, &[17], ErrorKind::IncorrectState).await;
        assert_eq!((acted, failed), (49, vec!["i-0017".to_string()]));
        // 1 + 2 per level of halving: 50 -> 25 -> 13 -> 7 -> 4 -> 2 -> 1.
        assert_eq!(calls, 13);
    }

    #[tokio::test]
    async fn several_bad_instances_cost_k_log_n() {
        let (calls, acted, failed) = run(100, &[3, 60, 99], ErrorKind::NotFound).await;
        assert_eq!(acted, 97);
        assert_eq!(failed, vec!["i-0003", "i-0060", "i-0099"]);
        assert!(calls <= 3 * 2 * 7 + 2, "{calls} calls");
    }

    #[tokio::test]
    async fn call_wide_errors_are_not_split() {
        for kind in [ErrorKind::Throttled, ErrorKind::Unavailable, ErrorKind::Timeout, ErrorKind::Credentials] {
            let (calls, acted, failed) = run(50, &[0], kind.clone()).await;
            assert_eq!((calls, acted, failed.len()), (1, 0, 50), "{kind:?}");
        }
    }
}
