//! One region for one action: its clients (built on first use, shared by the actions
//! running at once, dropped when the last of them ends), its bounds on calls in flight (one per service: each service throttles
//! on its own), the action's call counter, and the page loop every listing uses.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::operation::RequestId;
use aws_smithy_async::future::pagination_stream::PaginationStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::AwsError;

/// Counts API operations by name (retries of one operation count once).
#[derive(Debug, Default)]
pub struct CallCounter(Mutex<BTreeMap<&'static str, u64>>);

impl CallCounter {
    pub fn add(&self, operation: &'static str) {
        *self.0.lock().expect("counter lock").entry(operation).or_default() += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        self.0.lock().expect("counter lock").clone()
    }
}

/// A region's clients, each built on first use (a file of instances only never builds
/// the others), and its bounds on calls in flight, one per service, under the bound
/// over every account and region.
pub(super) struct RegionClients {
    /// The account's SDK configuration in this region.
    conf: SdkConfig,
    max_concurrent_calls: usize,
    clients: Mutex<BTreeMap<TypeId, Box<dyn Any + Send + Sync>>>,
    permits: Mutex<BTreeMap<&'static str, Arc<Semaphore>>>,
    overall: Arc<Semaphore>,
}

/// The right to send one call: a slot of its region and service, and one of the slots
/// over every account. Dropped when the call returns.
#[must_use = "a call holds its slot until it returns"]
pub struct CallSlot {
    _service: OwnedSemaphorePermit,
    _overall: OwnedSemaphorePermit,
}

impl fmt::Debug for RegionClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegionClients").field("region", &self.conf.region()).finish_non_exhaustive()
    }
}

impl RegionClients {
    pub(super) fn new(conf: SdkConfig, max_concurrent_calls: usize, overall: Arc<Semaphore>) -> Self {
        RegionClients { conf, max_concurrent_calls, clients: Mutex::default(), permits: Mutex::default(), overall }
    }

    pub(super) fn client<C: Clone + Send + Sync + 'static>(&self, build: fn(&SdkConfig) -> C) -> C {
        let mut clients = self.clients.lock().expect("client cache lock");
        let client = clients.entry(TypeId::of::<C>()).or_insert_with(|| Box::new(build(&self.conf)));
        client.downcast_ref::<C>().expect("one client type per TypeId").clone()
    }

    fn permits(&self, service: &'static str) -> Arc<Semaphore> {
        let mut permits = self.permits.lock().expect("permits lock");
        permits.entry(service).or_insert_with(|| Arc::new(Semaphore::new(self.max_concurrent_calls))).clone()
    }
}

/// One region for one action: its clients, its bounds on calls in flight, and the
/// action's call counter. Adapters take a permit for every call they make.
#[derive(Clone, Debug)]
pub struct Api {
    pub region: String,
    pub(super) clients: Arc<RegionClients>,
    pub calls: Arc<CallCounter>,
}

impl Api {
    /// The region's client of one service, built by `build` from the account's SDK
    /// configuration in this region on first use.
    pub fn client<C: Clone + Send + Sync + 'static>(&self, build: fn(&SdkConfig) -> C) -> C {
        self.clients.client(build)
    }

    /// Waits for one of the region's call slots for `service` (an IAM prefix: `ec2`,
    /// `rds`...) and counts `operation`; the call holds the permit until it returns.
    pub async fn permit(&self, service: &'static str, operation: &'static str) -> CallSlot {
        let permit = self.slot(service).await;
        self.calls.add(operation);
        permit
    }

    /// A call slot for `service`, not counted (the caller counts what it sends). The
    /// region's own slot first, so that a call waiting on its region never holds one of
    /// the slots every account shares.
    pub async fn slot(&self, service: &'static str) -> CallSlot {
        let service = self.clients.permits(service).acquire_owned().await.expect("the semaphore is never closed");
        let overall = self.clients.overall.clone().acquire_owned().await.expect("the semaphore is never closed");
        CallSlot { _service: service, _overall: overall }
    }

    /// Turns a failed call of `operation` in this region into an [`AwsError`], the
    /// service's own codes classified by `kind_of`: `.map_err(api.err("StopInstances", error_kind))`.
    pub fn err<E, R>(
        &self,
        operation: &'static str,
        kind_of: fn(&str) -> Option<super::ErrorKind>,
    ) -> impl FnOnce(SdkError<E, R>) -> AwsError + '_
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
        SdkError<E, R>: RequestId,
    {
        move |e| AwsError::from_sdk(operation, &self.region, e).classified(kind_of)
    }

    /// Reads every page of a paginated call, each under one of the region's permits for
    /// `service`, counting each page sent as `operation`; `each` takes each page. The
    /// first failed page ends it, its error classified by `kind_of` (the service's own
    /// codes).
    pub async fn pages<T, E, R>(
        &self,
        service: &'static str,
        operation: &'static str,
        mut pages: PaginationStream<Result<T, SdkError<E, R>>>,
        kind_of: fn(&str) -> Option<super::ErrorKind>,
        mut each: impl FnMut(T),
    ) -> Result<(), AwsError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
        SdkError<E, R>: RequestId,
    {
        loop {
            let page = {
                let _permit = self.slot(service).await;
                pages.next().await
            };
            let Some(page) = page else { return Ok(()) };
            self.calls.add(operation);
            each(page.map_err(self.err(operation, kind_of))?);
        }
    }
}
