//! Work that may wait until the response is sent (`waitUntil`), so the hot path gains no round trip:
//! the revocation outbox's bookkeeping (deleting rows KV took, counting failed writes), and the
//! retries of an isolate that saw a KV write fail. Also what this isolate saw of writes failing,
//! which `GET /health` reports without writing anything itself.

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

/// Whether this isolate knows of rows to retry.
pub fn backlog() -> bool {
    BACKLOG.with(Cell::get)
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

/// A store whose writes `GET /health` reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    D1,
    Kv,
}

/// A write failure older than this is not reported (the store may have recovered with no write since).
const WRITE_FAILURE_MEMORY_SECONDS: i64 = 300;

thread_local! {
    /// When the last D1 and KV write of this isolate failed, if no write succeeded since.
    static WRITE_FAILED_AT: Cell<[Option<i64>; 2]> = const { Cell::new([None, None]) };
}

fn slot(store: Store) -> usize {
    match store {
        Store::D1 => 0,
        Store::Kv => 1,
    }
}

/// Records how a write to `store` ended: a failure is remembered, a success forgets it.
pub fn note_write(store: Store, ok: bool) {
    let now = (worker::Date::now().as_millis() / 1000) as i64;
    WRITE_FAILED_AT.with(|w| {
        let mut at = w.get();
        at[slot(store)] = if ok { None } else { Some(now) };
        w.set(at);
    });
}

/// How many seconds ago the last write to `store` in this isolate failed, when none succeeded since
/// and it is recent.
pub fn write_failed_ago(store: Store, now: i64) -> Option<i64> {
    let at = WRITE_FAILED_AT.with(|w| w.get())[slot(store)]?;
    let ago = now.saturating_sub(at).max(0);
    (ago < WRITE_FAILURE_MEMORY_SECONDS).then_some(ago)
}
