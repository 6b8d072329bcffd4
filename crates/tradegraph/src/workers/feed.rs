//! The worker's engine's feed: the jobs' events, one job at a time, each reported done when
//! the engine asks for more after its last event.

use futures::Stream;
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;
use tradegraph_market::{MarketEvent, SimulatedClock};
use tradegraph_store::queue::JobId;

/// A job's events, handed to the engine.
pub(crate) struct Delivery {
    pub(crate) id: JobId,
    pub(crate) events: Vec<MarketEvent>,
}

/// The engine's side: yields each delivery's events in order, moving the engine's clock to
/// each event's time. When the engine polls again after a delivery's last event, it has done
/// everything that event led to (the candle, the decision cycle, and with `strict_saves` the
/// cycle's state saved, or it would have stopped): the delivery's id goes to the `done`
/// channel, and the worker acknowledges the job.
pub(crate) struct JobFeed {
    deliveries: mpsc::Receiver<Delivery>,
    events: VecDeque<MarketEvent>,
    working: Option<JobId>,
    done: mpsc::UnboundedSender<JobId>,
    clock: SimulatedClock,
}

/// The worker's side of a [`JobFeed`].
pub(crate) struct FeedControl {
    pub(crate) deliver: mpsc::Sender<Delivery>,
    pub(crate) done: mpsc::UnboundedReceiver<JobId>,
}

impl JobFeed {
    /// A feed on `clock`, and its control.
    pub(crate) fn new(clock: SimulatedClock) -> (Self, FeedControl) {
        let (deliver, deliveries) = mpsc::channel(1);
        let (done_tx, done) = mpsc::unbounded_channel();
        (
            Self {
                deliveries,
                events: VecDeque::new(),
                working: None,
                done: done_tx,
                clock,
            },
            FeedControl { deliver, done },
        )
    }
}

impl Stream for JobFeed {
    type Item = MarketEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<MarketEvent>> {
        let this = &mut *self;
        loop {
            if let Some(event) = this.events.pop_front() {
                this.clock.advance_to(event.known_at());
                return Poll::Ready(Some(event));
            }
            if let Some(id) = this.working.take() {
                // the worker may have stopped listening: it acknowledges nothing more then
                let _ = this.done.send(id);
            }
            match this.deliveries.poll_recv(cx) {
                Poll::Ready(Some(delivery)) => {
                    this.working = Some(delivery.id);
                    this.events = delivery.events.into();
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use rust_decimal::Decimal;
    use tradegraph_core::{Candle, Symbol, Timeframe, Timestamp};
    use tradegraph_market::Clock;

    fn candle(minute: i64) -> MarketEvent {
        MarketEvent::Candle {
            symbol: Symbol::new("BTCUSDT"),
            candle: Candle::opening(
                Timestamp::from_millis(minute * 60_000),
                Timeframe::M1,
                Decimal::ONE,
                Decimal::ONE,
            ),
            closed: true,
        }
    }

    #[tokio::test]
    async fn a_job_is_done_only_when_the_engine_asks_past_its_last_event() {
        let clock = SimulatedClock::new(Timestamp::from_millis(0));
        let (mut feed, mut control) = JobFeed::new(clock.clone());
        control
            .deliver
            .send(Delivery {
                id: JobId::new("1-0"),
                events: vec![candle(1), candle(2)],
            })
            .await
            .unwrap();
        assert_eq!(feed.next().await, Some(candle(1)));
        assert_eq!(clock.now(), Timestamp::from_millis(2 * 60_000));
        assert_eq!(feed.next().await, Some(candle(2)));
        // The engine is working on the last event: the job is not done.
        assert!(control.done.try_recv().is_err());
        control
            .deliver
            .send(Delivery {
                id: JobId::new("2-0"),
                events: vec![candle(3)],
            })
            .await
            .unwrap();
        assert_eq!(feed.next().await, Some(candle(3)));
        assert_eq!(control.done.try_recv().unwrap(), JobId::new("1-0"));
        assert!(control.done.try_recv().is_err());
        // An empty job is done at the next poll; the end of deliveries ends the feed.
        control
            .deliver
            .send(Delivery {
                id: JobId::new("3-0"),
                events: vec![],
            })
            .await
            .unwrap();
        drop(control.deliver);
        assert_eq!(feed.next().await, None);
        assert_eq!(control.done.recv().await.unwrap(), JobId::new("2-0"));
        assert_eq!(control.done.recv().await.unwrap(), JobId::new("3-0"));
    }
}
