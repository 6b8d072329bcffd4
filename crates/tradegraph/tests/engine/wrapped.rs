//! A paper broker seen through a wrapper, for tests that need to see or steer what the engine
//! asks of its broker: every `submit` that reaches it is counted, and its reconnection count
//! moves when the test says (as a venue broker's does when its order-update link comes back).

use async_trait::async_trait;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use tradegraph::engine::Execution;
use tradegraph_broker::{Amendment, Broker, BrokerError, PaperBroker, PriceEvent};
use tradegraph_core::order::{ClientOrderId, Fill, Order, OrderRequest};
use tradegraph_core::position::{Account, Position};
use tradegraph_core::Symbol;

/// What the test reads and steers (shared with the broker inside the engine).
#[derive(Debug, Default)]
pub(crate) struct Dials {
    /// `submit` calls that reached the paper broker.
    pub(crate) submits: AtomicUsize,
    /// What `reconnections()` answers.
    pub(crate) reconnections: AtomicU64,
    /// `order` calls (a request to the venue, for a venue broker).
    pub(crate) order_calls: AtomicUsize,
    /// The next `account` calls that fail as a venue that does not answer.
    pub(crate) account_failures: AtomicUsize,
}

/// The paper broker, counted and steerable (see [`Dials`]).
pub(crate) struct Wrapped {
    pub(crate) paper: PaperBroker,
    pub(crate) dials: Arc<Dials>,
}

impl Wrapped {
    pub(crate) fn new(paper: PaperBroker) -> (Self, Arc<Dials>) {
        let dials = Arc::new(Dials::default());
        (
            Self {
                paper,
                dials: dials.clone(),
            },
            dials,
        )
    }
}

#[async_trait]
impl Broker for Wrapped {
    fn name(&self) -> &str {
        self.paper.name()
    }

    async fn submit(&self, request: OrderRequest) -> Result<Order, BrokerError> {
        self.dials.submits.fetch_add(1, Ordering::SeqCst);
        self.paper.submit(request).await
    }

    async fn cancel(&self, client_id: &ClientOrderId) -> Result<Order, BrokerError> {
        self.paper.cancel(client_id).await
    }

    async fn amend(
        &self,
        client_id: &ClientOrderId,
        amendment: Amendment,
    ) -> Result<Order, BrokerError> {
        self.paper.amend(client_id, amendment).await
    }

    fn reconnections(&self) -> u64 {
        self.dials.reconnections.load(Ordering::SeqCst)
    }

    async fn order(&self, client_id: &ClientOrderId) -> Result<Option<Order>, BrokerError> {
        self.dials.order_calls.fetch_add(1, Ordering::SeqCst);
        self.paper.order(client_id).await
    }

    async fn open_orders(&self) -> Result<Vec<Order>, BrokerError> {
        self.paper.open_orders().await
    }

    async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        self.paper.positions().await
    }

    async fn account(&self) -> Result<Account, BrokerError> {
        let failing = self
            .dials
            .account_failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(BrokerError::Venue {
                venue: "test".into(),
                reason: tradegraph_broker::live::VenueReason::Unavailable(
                    "GET /account: 503 Service Unavailable".into(),
                ),
            });
        }
        self.paper.account().await
    }

    async fn fills_since(&self, after: u64) -> Result<Vec<Fill>, BrokerError> {
        self.paper.fills_since(after).await
    }

    fn on_market(&self, symbol: &Symbol, event: PriceEvent<'_>) -> Result<Vec<Fill>, BrokerError> {
        self.paper.on_market(symbol, event)
    }
}

impl Execution for Wrapped {
    fn revision(&self) -> u64 {
        Execution::revision(&self.paper)
    }

    fn kept_state(&self) -> Result<Option<serde_json::Value>, BrokerError> {
        self.paper.kept_state()
    }

    fn last_fill_seq(&self) -> Option<u64> {
        self.paper.last_fill_seq()
    }

    fn kept_orders(&self) -> Option<Vec<Order>> {
        self.paper.kept_orders()
    }

    fn is_retired(&self, client_id: &ClientOrderId) -> bool {
        self.paper.is_retired(client_id)
    }

    fn books_on_market(&self) -> bool {
        self.paper.books_on_market()
    }

    fn restored(self, state: serde_json::Value) -> Result<Self, BrokerError> {
        Ok(Self {
            paper: self.paper.restored(state)?,
            dials: self.dials,
        })
    }
}

/// A venue whose account does not answer for a while (minutes of one-minute closes and a
/// decision cycle) does not stop a service bot: those minutes have no equity point, that
/// cycle is skipped and counted, and the next cycle runs.
#[tokio::test]
async fn an_account_the_venue_does_not_answer_skips_a_cycle_and_the_bot_goes_on() {
    use super::support::*;
    use tradegraph::engine::{paper_broker, Mode};
    use tradegraph_core::risk::RiskLimits;
    let symbol = unique("AC");
    let file = bars_file(&symbol, "2024-03-04T00:00:00Z", &flat(100.0, 61));
    let stores = tradegraph_store::Stores::memory();
    let config = config(
        btc_as(&symbol),
        ScriptedPm::cycles(Vec::new()),
        RiskLimits::default(),
        stores,
        Mode::Service,
    );
    let (broker, dials) = Wrapped::new(paper_broker(&config).unwrap());
    let engine = start_on(config, &file, broker).await;
    let mut decided = Vec::new();
    let summary = Box::pin(engine.run(std::future::pending(), |s| {
        decided.push(s.as_of.to_string());
        if decided.len() == 1 {
            // from the first cycle on: the next minutes and the 00:30 cycle, not the 00:45 one
            dials.account_failures.store(20, Ordering::SeqCst);
        }
    }))
    .await
    .expect("the bot goes on");
    std::fs::remove_file(file).unwrap();
    assert_eq!(
        decided,
        [
            "2024-03-04T00:15:00Z",
            "2024-03-04T00:45:00Z",
            "2024-03-04T01:00:00Z"
        ]
    );
    assert_eq!(summary.cycle_errors, 1);
    assert!(summary.broker_errors >= 20, "{}", summary.broker_errors);
}
