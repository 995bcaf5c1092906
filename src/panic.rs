//! What a panic leaves behind. The Worker is built with `panic = "abort"`: a panic traps the wasm
//! instance, the request fails, and worker-build's shim gives the next request a fresh instance
//! (`__wbg_reset_state`); js/entry.mjs answers the failed request with the usual 500 problem.
//!
//! Before the trap, the hook writes one JSON line (`"event":"panic"`) with the panic's message and
//! location and the id of the request being served, so `wrangler tail` joins it to the request; then
//! `console_error_panic_hook` writes the message again with the JavaScript stack, and the hook that
//! was installed before ours runs (the `worker` crate's: it marks the instance for replacement).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

thread_local! {
    /// The id of the request whose future is being polled right now (a Worker isolate runs one
    /// thread; requests interleave only at `.await` points, so this is exact).
    static CURRENT_REQUEST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the hook; called once per instance from `#[event(start)]`.
pub fn install_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let request_id = CURRENT_REQUEST.with(|r| r.borrow().clone());
        let message = match info.payload().downcast_ref::<&str>() {
            Some(s) => (*s).to_string(),
            None => info.payload().downcast_ref::<String>().cloned().unwrap_or_else(|| "panic".into()),
        };
        let location = info.location().map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        // Panic messages are written by our code and carry no secrets (none is ever formatted into one).
        crate::log::panic(request_id.as_deref(), &message, location.as_deref());
        console_error_panic_hook::hook(info);
        previous(info);
    }));
}

/// Polls `future` with `request_id` as the current request.
pub fn with_request_id<F: Future>(request_id: String, future: F) -> WithRequestId<F> {
    WithRequestId { request_id: Some(request_id), future: Box::pin(future) }
}

pub struct WithRequestId<F> {
    request_id: Option<String>,
    future: Pin<Box<F>>,
}

impl<F: Future> Future for WithRequestId<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let id = self.request_id.take();
        let previous = CURRENT_REQUEST.with(|r| r.replace(id));
        let result = self.future.as_mut().poll(cx);
        let id = CURRENT_REQUEST.with(|r| r.replace(previous));
        self.request_id = id;
        result
    }
}
