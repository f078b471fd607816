//! The HTTP face: `/metrics` (Prometheus text), `/healthz` (the scheduler loop is alive,
//! the rule of `offhours health`), `/readyz` (a config is loaded and prepared) and `/`.
//! Handlers read what the daemon and the event stream publish; they never call AWS and
//! never wait for the loop.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::metrics::Metrics;

pub mod board;
mod html;
pub mod page;
pub mod timeline;

use board::Board;

/// What the endpoint shows, shared with the daemon.
pub struct Face {
    pub metrics: Arc<Metrics>,
    /// The loop's health as `offhours health` judges it: `Ok(text)` or `Err(why)`.
    pub health: Box<dyn Fn() -> Result<String, String> + Send + Sync>,
    /// Set once a config is loaded and prepared.
    pub ready: Arc<AtomicBool>,
    /// `leader`, or `standby: why` (shared state); a standby is ready too: it is what
    /// takes over.
    pub role: Box<dyn Fn() -> Option<String> + Send + Sync>,
    /// The running config (replaced at each applied reload).
    pub config: Arc<RwLock<Option<Arc<Config>>>>,
    /// Last outcomes, from the event stream.
    pub board: Arc<Board>,
}

fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("cache-control", "no-store")
        .body(Full::new(body.into()))
        .expect("static headers are valid")
}

fn handle(face: &Face, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "read-only: GET only\n");
    }
    match req.uri().path() {
        "/metrics" => {
            let config = face.config.read().expect("config lock").clone();
            reply(StatusCode::OK, "application/openmetrics-text; version=1.0.0; charset=utf-8", face.metrics.render_with(config.as_deref()))
        }
        "/healthz" => match (face.health)() {
            Ok(text) => reply(StatusCode::OK, "text/plain; charset=utf-8", format!("{text}\n")),
            Err(why) => reply(StatusCode::SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", format!("{why}\n")),
        },
        "/readyz" => {
            if face.ready.load(Ordering::SeqCst) {
                let role = (face.role)().map(|r| format!(": {r}")).unwrap_or_default();
                reply(StatusCode::OK, "text/plain; charset=utf-8", format!("ready{role}\n"))
            } else {
                reply(StatusCode::SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", "not ready: no config prepared yet\n")
            }
        }
        "/" => {
            let config = face.config.read().expect("config lock").clone();
            reply(StatusCode::OK, "text/html; charset=utf-8", page::render(config.as_deref(), &face.board, chrono::Utc::now()))
        }
        _ => reply(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", "not found\n"),
    }
}

/// Binds the address now, so that a port in use is an error at start-up.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves connections until the task is dropped.
pub async fn serve(listener: TcpListener, face: Arc<Face>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "HTTP accept failed.");
                continue;
            }
        };
        let face = face.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let face = face.clone();
                async move { Ok::<_, Infallible>(handle(&face, &req)) }
            });
            if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(peer = %peer, error = %e, "HTTP connection ended with an error.");
            }
        });
    }
}
