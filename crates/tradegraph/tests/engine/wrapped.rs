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
    /// The next reduce-only `submit` calls (closes) that fail as a venue that does not answer.
    pub(crate) close_failures: AtomicUsize,
    /// Says it has no reduce-only orders, as Kite (`closes_around_exits` is `false`).
    pub(crate) no_reduce_only: std::sync::atomic::AtomicBool,
    /// The exits working when each reduce-only order came.
    pub(crate) exits_at_close: std::sync::Mutex<Vec<usize>>,
}

/// A venue that does not answer `what`.
fn unavailable(what: &str) -> BrokerError {
    BrokerError::Venue {
        venue: "test".into(),
        reason: tradegraph_broker::live::VenueReason::Unavailable(format!(
            "{what}: 503 Service Unavailable"
        )),
    }
}

/// Takes one of `count`'s failures, if any are left.
fn fails(count: &AtomicUsize) -> bool {
    count
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// The paper broker, counted and steerable (see [`Dials`]).
pub(crate) struct Wrapped {
    pub(crate) paper: PaperBroker,
    pub(crate) dials: Arc<Dials>,
}

impl Wrapped {
    /// `paper` steered by `dials` (set before the engine starts).
    pub(crate) fn with(paper: PaperBroker, dials: Arc<Dials>) -> Self {
        Self { paper, dials }
    }

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
        if request.reduce_only {
            let working = self.paper.open_orders().await?;
            let exits = working.iter().filter(|o| o.parent.is_some()).count();
            self.dials.exits_at_close.lock().unwrap().push(exits);
        }
        if request.reduce_only && fails(&self.dials.close_failures) {
            return Err(unavailable("POST /order"));
        }
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

    fn closes_around_exits(&self) -> bool {
        !self.dials.no_reduce_only.load(Ordering::SeqCst) && self.paper.closes_around_exits()
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
        if fails(&self.dials.account_failures) {
            return Err(unavailable("GET /account"));
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

/// An entry waiting for approval is superseded by the next decision, not by a cycle skipped
/// because the venue's account could not be read: it still waits.
#[tokio::test]
async fn a_cycle_skipped_for_the_account_supersedes_no_approval() {
    use super::support::*;
    use futures::channel::mpsc;
    use std::time::Duration;
    use tradegraph::engine::{paper_broker, Approval, Engine, Mode};
    use tradegraph_core::risk::RiskLimits;
    use tradegraph_market::{MarketEvent, SimulatedClock};
    let symbol = unique("AS");
    let mut config = config(
        btc_as(&symbol),
        // a live cycle decides at the time of the trade that closed its candle
        ScriptedPm::at(&[(
            "2024-03-04T00:15:10Z",
            buy(5.0, 98.0, Some(120.0), None).unwrap(),
        )]),
        RiskLimits::default(),
        tradegraph_store::Stores::memory(),
        Mode::Service,
    );
    config.approval = Approval::Required {
        timeout: Duration::from_secs(3_600),
    };
    let (broker, dials) = Wrapped::new(paper_broker(&config).unwrap());
    let (feed, rx) = mpsc::unbounded();
    let engine = Box::pin(Engine::start(config, SimulatedClock::default(), rx, broker))
        .await
        .unwrap();
    let handle = engine.handle();
    tokio::spawn(async move {
        let _ = Box::pin(engine.run(std::future::pending(), |_| {})).await;
    });
    let start: tradegraph_core::Timestamp = "2024-03-04T00:00:10Z".parse().unwrap();
    let trade = |minute: i64| MarketEvent::Trade {
        symbol: symbol.as_str().into(),
        trade: tradegraph_core::Trade::new(
            start.add_millis(minute * 60_000),
            tradegraph_core::Decimal::from(100),
            tradegraph_core::Decimal::ONE,
            tradegraph_core::Side::Buy,
            u64::try_from(minute + 1).unwrap(),
        ),
    };
    let waiting = || handle.status().pending_approvals.len();
    for minute in 0..=15 {
        feed.unbounded_send(trade(minute)).unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while waiting() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the 00:15 entry never waited: {:?}",
            handle.status()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // From now on the venue's account does not answer: the 00:30 cycle is skipped.
    dials.account_failures.store(1_000, Ordering::SeqCst);
    for minute in 16..=31 {
        feed.unbounded_send(trade(minute)).unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while dials.account_failures.load(Ordering::SeqCst) > 1_000 - 17 {
        assert!(
            std::time::Instant::now() < deadline,
            "the minutes were not read"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(waiting(), 1, "the entry still waits for its answer");
}
