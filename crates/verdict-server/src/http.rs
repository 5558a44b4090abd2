//! The accept loop. `axum::serve` sets no timers, so a client that stalls in
//! its headers or body held a socket forever and about a thousand of them
//! locked everyone out. Here every connection has:
//! - a header-read timeout, which also closes idle keep-alive connections
//!   (hyper starts it whenever it waits for the next request head);
//! - a body-progress timeout: a request body that sends nothing for that
//!   long fails, while a long upload that keeps sending is never cut off;
//! - a cap on open connections: past it, new connections wait in the
//!   kernel's backlog until one closes;
//! - a body refused before it was read is read on for a while
//!   ([`linger`]), so the client gets the answer, not a reset.
//!
//! Limits and defaults: `docs/security.md`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::{Service, ServiceExt};

mod linger;

/// Timeouts and the connection cap of the HTTP listener.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Time to send a whole request head; also how long an idle keep-alive
    /// connection stays open.
    pub header_timeout: Duration,
    /// Longest pause between two pieces of a request body.
    pub body_idle_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
}

/// Serves `app` on `listener` until `stop` turns true, then lets open
/// requests finish.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    limits: ConnLimits,
    mut stop: watch::Receiver<bool>,
) where
    S: Service<Request, Response = axum::response::Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut stopping = std::pin::pin!(async move {
        let _ = stop.wait_for(|s| *s).await;
    });
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut stopping => break,
        };
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stopping => break,
        };
        let _ = socket.set_nodelay(true);
        let app = app.clone();
        let body_idle = limits.body_idle_timeout;
        let service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                // Lingering inside the timeout: it sees hyper's own body, which
                // knows when it has ended (the timeout wrapper does not say).
                let mut req = req.map(|b| {
                    Body::new(tower_http::timeout::TimeoutBody::new(
                        body_idle,
                        linger::Lingering::new(b),
                    ))
                });
                req.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(req)
            });
        let conn = builder.serve_connection(TokioIo::new(socket), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The client address of a request (set by [`serve`]); `None` in tests
/// that call the router directly.
#[must_use]
pub fn peer(req_extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    req_extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}
