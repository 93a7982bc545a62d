//! Knowing when the adapter has finished reacting to a command.
//!
//! Everything the driver does runs on one current-thread tokio runtime, except the HTTP round
//! trip to the mock homeserver (wiremock serves on a thread and runtime of its own). Two facts
//! together make the adapter idle:
//!
//! 1. **No task can run.** The runtime calls its `on_thread_park` hook only when its run queue
//!    is empty, no deferred wake-up is pending and the `block_on` future was not woken: every
//!    task that could make progress has done so.
//! 2. **No HTTP request is in flight.** Every request the SDK makes goes through
//!    `matrix_sdk::http_client::HttpClient::send`, which is `#[instrument]`ed: its span lives
//!    exactly as long as the request's future (created on its first poll, closed when it is
//!    dropped after the response or an error). A tracing layer counts the open spans.
//!
//! When the hook runs while no request is in flight, nothing can wake any task again except a
//! new command: no task waits on the network, and the driver arms no timers (the widget
//! machine's request timeouts are checked lazily, when a message arrives). The hook then counts
//! an *idle park* and wakes the command loop, which waits for the first idle park after it
//! handed a command over. A park while a request is in flight is not counted: the runtime then
//! really sleeps until the socket is ready, so waiting costs no CPU.

use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Poll, Waker};

use tracing::span::{Attributes, Id};
use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The target and name of the span around every HTTP request of the SDK.
const HTTP_TARGET: &str = "matrix_sdk::http_client";
const HTTP_SPAN: &str = "send";

/// The shared state of the runtime hook, the tracing layer and the command loop.
#[derive(Debug, Default)]
pub struct Quiescence {
    /// HTTP requests whose span is open.
    in_flight: AtomicUsize,
    /// HTTP requests started since the process began (for `CAPNEG_ADAPTER_DEBUG`).
    started: AtomicU64,
    /// Parks of the runtime with no request in flight.
    idle_parks: AtomicU64,
    /// The command loop, while it waits for an idle park.
    waiter: Mutex<Option<Waker>>,
}

impl Quiescence {
    /// A new, shared state.
    pub fn new() -> Arc<Quiescence> {
        Arc::new(Quiescence::default())
    }

    /// The runtime's `on_thread_park` hook: the run queue is empty.
    pub fn on_park(&self) {
        if self.in_flight.load(Ordering::SeqCst) != 0 {
            return;
        }
        self.idle_parks.fetch_add(1, Ordering::SeqCst);
        let waiter = self
            .waiter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(waker) = waiter {
            waker.wake();
        }
    }

    /// Resolves at the first idle park after it is first polled.
    pub async fn settle(&self) {
        let seen = self.idle_parks.load(Ordering::SeqCst);
        poll_fn(|cx| {
            if self.idle_parks.load(Ordering::SeqCst) != seen {
                return Poll::Ready(());
            }
            *self.waiter.lock().unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
    }

    /// HTTP requests in flight now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// HTTP requests started so far.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::SeqCst)
    }

    /// A tracing layer that counts the SDK's HTTP requests in flight into this state. It enables
    /// nothing else: every other span and event of the SDK is disabled at its call site.
    pub fn layer(self: &Arc<Self>) -> InFlight {
        InFlight(Arc::clone(self))
    }
}

/// See [`Quiescence::layer`].
#[derive(Debug)]
pub struct InFlight(Arc<Quiescence>);

fn is_http_request(metadata: &Metadata<'_>) -> bool {
    metadata.is_span() && metadata.name() == HTTP_SPAN && metadata.target() == HTTP_TARGET
}

impl<S> Layer<S> for InFlight
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if is_http_request(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        is_http_request(metadata)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        if is_http_request(attrs.metadata()) {
            self.0.in_flight.fetch_add(1, Ordering::SeqCst);
            self.0.started.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if ctx.metadata(&id).is_some_and(is_http_request) {
            self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }
}
