//! An SDK interceptor on every client: each AWS call, once it returned (retries
//! included), is one event on the stream with its service, operation, outcome and
//! latency, which the metrics count. Nothing about the request is kept: no secret can
//! leak through it.

use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use crate::events::{self, Event};

#[derive(Debug, Clone)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

/// The interceptor itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Observe;

impl Intercept for Observe {
    fn name(&self) -> &'static str {
        "offhours-observe"
    }

    fn read_before_execution(&self, _context: &BeforeSerializationInterceptorContextRef<'_>, cfg: &mut ConfigBag) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let duration = cfg.load::<Started>().map(|s| s.0.elapsed()).unwrap_or_default();
        let ok = matches!(context.output_or_error(), Some(Ok(_)));
        if let Some(meta) = cfg.load::<Metadata>() {
            events::emit(Event::AwsCall { service: meta.service(), operation: meta.name(), ok, duration });
        }
        Ok(())
    }
}
