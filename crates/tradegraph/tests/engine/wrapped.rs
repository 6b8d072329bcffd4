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
