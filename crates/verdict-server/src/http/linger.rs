//! Reading on after a refusal. A request refused before its body was read
//! (wrong credentials, an unknown workspace, a body over its limit by
//! `Content-Length`) used to have its body dropped, so hyper closed the
//! connection while the client was still sending: a client that writes its
//! whole body before it reads the answer (Java's `HttpURLConnection`,
//! Python's `http.client`) got "broken pipe" instead of the 401 or 404 that
//! says what was wrong. A body dropped before its end now goes on being
//! read, and thrown away, by a task of its own — at most [`LINGER_BYTES`]
//! within [`LINGER_TIME`] — so the client finishes sending and reads the
//! answer. A body read to its end, or without one (a GET), costs nothing.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Bytes, HttpBody};

/// Bytes a refused request's body is read on for, at most.
pub const LINGER_BYTES: u64 = 256 << 20;

/// How long a refused request's body is read on for, at most.
pub const LINGER_TIME: Duration = Duration::from_secs(30);

/// A request body that is drained when dropped before its end.
pub struct Lingering<B: HttpBody<Data = Bytes> + Send + 'static> {
    inner: Option<Pin<Box<B>>>,
    /// The body said it has no more frames.
    ended: bool,
}

impl<B: HttpBody<Data = Bytes> + Send + 'static> Lingering<B> {
    pub fn new(inner: B) -> Self {
        Self {
            inner: Some(Box::pin(inner)),
            ended: false,
        }
    }
}

impl<B: HttpBody<Data = Bytes> + Send + 'static> HttpBody for Lingering<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let polled = match self.inner.as_mut() {
            Some(inner) => inner.as_mut().poll_frame(cx),
            None => Poll::Ready(None),
        };
        if matches!(polled, Poll::Ready(None)) {
            self.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| http_body::SizeHint::with_exact(0), |b| b.size_hint())
    }
}

impl<B: HttpBody<Data = Bytes> + Send + 'static> Drop for Lingering<B> {
    fn drop(&mut self) {
        let Some(body) = self.inner.take() else {
            return;
        };
        if self.ended || body.is_end_stream() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain(body));
        }
    }
}

/// Reads `body` to its end, or up to the limits, throwing it away.
async fn drain<B: HttpBody<Data = Bytes> + Send + 'static>(mut body: Pin<Box<B>>) {
    let mut read: u64 = 0;
    let reading = async {
        while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
            let Ok(frame) = frame else {
                return;
            };
            if let Some(data) = frame.data_ref() {
                read = read.saturating_add(data.len() as u64);
                if read > LINGER_BYTES {
                    return;
                }
            }
        }
    };
    if tokio::time::timeout(LINGER_TIME, reading).await.is_err() {
        tracing::debug!(
            read,
            "stopped reading a refused request's body after the linger time"
        );
    }
}
