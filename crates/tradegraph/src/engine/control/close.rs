//! Which attempt a close-all is: its client order id comes from the position and an attempt
//! number, so a close that was rejected, cancelled or only partly filled can be tried again,
//! while the same attempt is never sent twice (the order journal answers a known id). And
//! whether any close of the position still works at the broker ([`working_close`]): every
//! close — an operator's close-all, the kill switch's, the guard's forced close — waits for it,
//! so two full-size closes never work at once (a venue without reduce-only would over-sell).

use crate::engine::journal::{Execution, Journal};
use tradegraph_broker::{Broker, BrokerError};
use tradegraph_core::order::{ClientOrderId, DecisionId, Leg};
use tradegraph_core::Symbol;

/// Attempts looked at before a close-all gives up (each finished attempt is one order).
const MAX_ATTEMPTS: u32 = 1_000;

/// What the earlier close-alls of a position leave for the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CloseAttempt {
    /// Send the close under this decision (its client order id is new).
    Next(DecisionId),
    /// An earlier close of this position still works at the broker: it is not doubled.
    Working(ClientOrderId),
    /// Too many attempts already.
    Exhausted,
}

/// The decision of attempt `attempt` at closing the position known as `key` (its trade id,
/// or `position-{opened_at}`).
pub(crate) fn close_decision(key: &str, attempt: u32) -> DecisionId {
    DecisionId::new(format!("close-all:{key}:{attempt}"))
}

/// A close still working at the broker for `symbol`: a reduce-only order that is not an exit
/// attached to an entry (whoever sent it: close-all, the kill switch, the guard's forced close).
///
/// # Errors
/// The broker's error when it cannot list its working orders.
pub(crate) async fn working_close(
    broker: &dyn Broker,
    symbol: &Symbol,
) -> Result<Option<ClientOrderId>, BrokerError> {
    let working = broker.open_orders().await?;
    Ok(working
        .into_iter()
        .find(|o| {
            o.request.symbol == *symbol
                && o.parent.is_none()
                && o.request.reduce_only
                && !o.status.is_terminal()
        })
        .map(|o| o.request.client_id))
}

/// The attempts at closing one position already seen finished: those below `from`. A finished
/// attempt stays finished, so the next search starts after them (each look is a request to a
/// venue).
#[derive(Debug, Default)]
pub(crate) struct Finished {
    key: String,
    from: u32,
}

/// The first attempt at closing `key` whose client order id neither the broker nor the order
/// journal knows; an attempt still working at the broker stops the search. The attempts
/// `finished` holds for `key` are not looked at again, and it learns those found finished.
///
/// # Errors
/// The broker's error when it cannot say whether an earlier attempt works.
pub(crate) async fn next_attempt<B: Execution>(
    broker: &Journal<B>,
    symbol: &Symbol,
    key: &str,
    finished: &mut Finished,
) -> Result<CloseAttempt, BrokerError> {
    if finished.key != key {
        *finished = Finished {
            key: key.to_owned(),
            from: 0,
        };
    }
    for attempt in finished.from..MAX_ATTEMPTS {
        let decision = close_decision(key, attempt);
        let client_id = ClientOrderId::derive(symbol, &decision, Leg::Exit);
        match broker.order(&client_id).await? {
            Some(order) if !order.status.is_terminal() => {
                return Ok(CloseAttempt::Working(client_id))
            }
            // Finished (filled, rejected, cancelled): the next attempt may go.
            Some(_) => finished.from = attempt + 1,
            // Journaled but never at the broker (abandoned at a restart), or let go by it.
            None if broker.decision_of(client_id.as_str()).await.is_some() => {
                finished.from = attempt + 1;
            }
            None => return Ok(CloseAttempt::Next(decision)),
        }
    }
    Ok(CloseAttempt::Exhausted)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::engine::state::BotState;
    use std::sync::Arc;
    use tradegraph_broker::{Broker, PaperBroker, PaperConfig};
    use tradegraph_core::order::{OrderRequest, OrderSide, OrderStatus};
    use tradegraph_core::{Decimal, Instrument, Tick, Timestamp};
    use tradegraph_market::{Clock, SimulatedClock};
    use tradegraph_store::MemoryState;

    fn journal() -> Journal<PaperBroker> {
        let btc = Instrument::btc_usdt();
        let paper =
            PaperBroker::new(PaperConfig::new(btc.clone(), Decimal::from(100_000))).unwrap();
        paper
            .on_tick(
                &btc.symbol,
                &Tick::new(Timestamp::EPOCH, Decimal::from(40_000), Decimal::ONE),
            )
            .unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SimulatedClock::default());
        let state = Arc::new(BotState::new(
            Arc::new(MemoryState::new()),
            "BTCUSDT".into(),
            clock.clone(),
            false,
        ));
        Journal::new(
            Arc::new(paper),
            Arc::new(MemoryState::new()),
            state,
            clock,
            tradegraph_core::risk::KillSwitch::new(),
        )
    }

    fn id(key: &str, attempt: u32) -> ClientOrderId {
        ClientOrderId::derive(&"BTCUSDT".into(), &close_decision(key, attempt), Leg::Exit)
    }

    async fn next(journal: &Journal<PaperBroker>, key: &str) -> CloseAttempt {
        next_attempt(journal, &"BTCUSDT".into(), key, &mut Finished::default())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_rejected_close_can_be_tried_again_under_a_new_id() {
        let journal = journal();
        assert_eq!(
            next(&journal, "t1").await,
            CloseAttempt::Next(close_decision("t1", 0))
        );
        // Nothing to reduce: the broker rejects the first close.
        let first =
            OrderRequest::market(id("t1", 0), "BTCUSDT".into(), OrderSide::Sell, Decimal::ONE)
                .reduce_only();
        let order = journal.submit(first).await.unwrap();
        assert_eq!(order.status, OrderStatus::Rejected, "{order:?}");
        assert_eq!(
            next(&journal, "t1").await,
            CloseAttempt::Next(close_decision("t1", 1))
        );
        assert_ne!(id("t1", 0), id("t1", 1));
    }

    #[tokio::test]
    async fn a_working_close_is_not_doubled_and_once_cancelled_is_retried() {
        let journal = journal();
        let working = OrderRequest::limit(
            id("t1", 0),
            "BTCUSDT".into(),
            OrderSide::Buy,
            Decimal::new(1, 2),
            Decimal::from(1_000),
        );
        let order = journal.submit(working).await.unwrap();
        assert!(!order.status.is_terminal(), "{order:?}");
        assert_eq!(
            next(&journal, "t1").await,
            CloseAttempt::Working(id("t1", 0))
        );
        journal.cancel(&id("t1", 0)).await.unwrap();
        assert_eq!(
            next(&journal, "t1").await,
            CloseAttempt::Next(close_decision("t1", 1))
        );
    }

    #[tokio::test]
    async fn a_reduce_only_order_without_a_parent_is_a_working_close_an_exit_is_not() {
        let journal = journal();
        let symbol: Symbol = "BTCUSDT".into();
        assert_eq!(working_close(&journal, &symbol).await.unwrap(), None);
        let entry = OrderRequest::market(id("e", 0), symbol.clone(), OrderSide::Buy, Decimal::ONE)
            .with_exits(tradegraph_core::order::Exits::stop(Decimal::from(30_000)));
        journal.submit(entry).await.unwrap();
        assert_eq!(
            working_close(&journal, &symbol).await.unwrap(),
            None,
            "the stop-loss is an exit, not a close"
        );
        let close = OrderRequest::limit(
            id("t1", 0),
            symbol.clone(),
            OrderSide::Sell,
            Decimal::ONE,
            Decimal::from(90_000),
        )
        .reduce_only();
        journal.submit(close).await.unwrap();
        assert_eq!(
            working_close(&journal, &symbol).await.unwrap(),
            Some(id("t1", 0))
        );
    }

    #[tokio::test]
    async fn two_positions_never_share_a_close_id() {
        let journal = journal();
        assert_ne!(id("position-1000", 0), id("position-2000", 0));
        // Two positions the bot knows nothing of (the same key): the second close is new.
        let buy = OrderRequest::market(
            id("x", 9),
            "BTCUSDT".into(),
            OrderSide::Buy,
            Decimal::new(1, 2),
        );
        journal.submit(buy).await.unwrap();
        let close = OrderRequest::market(
            id("position-0", 0),
            "BTCUSDT".into(),
            OrderSide::Sell,
            Decimal::new(1, 2),
        )
        .reduce_only();
        assert_eq!(
            journal.submit(close).await.unwrap().status,
            OrderStatus::Filled
        );
        assert_eq!(
            next(&journal, "position-0").await,
            CloseAttempt::Next(close_decision("position-0", 1))
        );
    }
}
