//! `join_all` for the handful of concurrent KV calls a request makes (2 reads; up to 50 revocation
//! writes). `futures_util::future::join_all` switches to a `FuturesOrdered` above 30 futures, which
//! links its task queue, binary heap and wakers into the wasm (~7 KB); polling every unfinished future
//! on each wake-up is all this needs.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

/// Runs the futures concurrently; their outputs, in order.
pub async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut all_done = true;
        for (future, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::join_all;
    use std::cell::Cell;
    use std::future::{poll_fn, Future};
    use std::rc::Rc;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    /// A future that is pending `n` times, then yields `value`; `log` records completion order.
    fn after(n: u32, value: u32, log: Rc<Cell<Vec<u32>>>) -> impl Future<Output = u32> {
        let mut left = n;
        poll_fn(move |_| {
            if left == 0 {
                let mut order = log.take();
                order.push(value);
                log.set(order);
                Poll::Ready(value)
            } else {
                left -= 1;
                Poll::Pending
            }
        })
    }

    #[test]
    fn outputs_keep_input_order_while_futures_finish_in_any_order() {
        let log = Rc::new(Cell::new(Vec::new()));
        let mut joined = Box::pin(join_all((0..40).map(|i| after(40 - i, i, log.clone()))));
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        let mut polls = 0;
        let out = loop {
            polls += 1;
            if let Poll::Ready(out) = joined.as_mut().poll(&mut cx) {
                break out;
            }
        };
        assert_eq!(out, (0..40).collect::<Vec<_>>());
        assert_eq!(log.take(), (0..40).rev().collect::<Vec<_>>(), "the last one finished first");
        assert_eq!(polls, 41, "all progress concurrently: as many polls as the slowest needs, not the sum");
    }

    #[test]
    fn no_futures_is_ready_at_once() {
        let mut joined = Box::pin(join_all(Vec::<std::future::Ready<u8>>::new()));
        let waker = Waker::from(Arc::new(Noop));
        assert_eq!(joined.as_mut().poll(&mut Context::from_waker(&waker)), Poll::Ready(vec![]));
    }
}
