//! Work that may wait until the response is sent (`waitUntil`), so the hot path gains no round trip:
//! the revocation outbox's bookkeeping (deleting rows KV took, counting failed writes), and the
//! retries of an isolate that saw a KV write fail.

use futures_util::future::LocalBoxFuture;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Where a D1 write that may wait goes: run at once, or queued for after the response.
#[derive(Clone)]
pub enum Later {
    /// Run it now (the scheduled handler, and a flush that reads the outbox again next round).
    Now,
    /// Queue it; the request's owner runs the queue after the response (`Platform::after_response`).
    Queue(Rc<RefCell<Vec<LocalBoxFuture<'static, ()>>>>),
}

impl Later {
    pub fn queue() -> Self {
        Later::Queue(Rc::default())
    }

    /// Runs `work` now, or queues it.
    pub async fn run(&self, work: LocalBoxFuture<'static, ()>) {
        match self {
            Later::Now => work.await,
            Later::Queue(queue) => queue.borrow_mut().push(work),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Later::Now => true,
            Later::Queue(queue) => queue.borrow().is_empty(),
        }
    }

    /// Runs everything queued (and whatever that queues), concurrently.
    pub async fn drain(&self) {
        let Later::Queue(queue) = self else { return };
        loop {
            let work: Vec<_> = queue.borrow_mut().drain(..).collect();
            if work.is_empty() {
                return;
            }
            futures_util::future::join_all(work).await;
        }
    }
}

/// After a flush whose KV writes failed, this isolate waits this long before its requests try again
/// (the scheduled handler retries every minute anyway): a KV outage must not cost every request a D1
/// read and a D1 write.
const RETRY_PAUSE_SECONDS: i64 = 10;

thread_local! {
    // One isolate, one thread: what this isolate knows about the outbox.
    /// A KV revocation write failed here and no flush has emptied the outbox since.
    static BACKLOG: Cell<bool> = const { Cell::new(false) };
    /// A flush is running (one at a time per isolate).
    static FLUSHING: Cell<bool> = const { Cell::new(false) };
    /// No request-triggered flush before this time (unix seconds).
    static PAUSED_UNTIL: Cell<i64> = const { Cell::new(0) };
}

/// A KV revocation write failed: the outbox has rows to retry.
pub fn note_backlog() {
    BACKLOG.with(|b| b.set(true));
}

/// Starts a request-triggered flush if one is due: returns false when none is (no backlog known here,
/// one running, or paused after a failure).
pub fn begin_flush(now: i64) -> bool {
    let due = BACKLOG.with(Cell::get) && !FLUSHING.with(Cell::get) && now >= PAUSED_UNTIL.with(Cell::get);
    if due {
        FLUSHING.with(|f| f.set(true));
    }
    due
}

/// Ends a flush: `empty` when the outbox was emptied, `failed` when KV refused a write again.
pub fn end_flush(now: i64, empty: bool, failed: bool) {
    FLUSHING.with(|f| f.set(false));
    if empty {
        BACKLOG.with(|b| b.set(false));
    }
    if failed {
        PAUSED_UNTIL.with(|p| p.set(now + RETRY_PAUSE_SECONDS));
    }
}
