//! The desk's shared, stateful equipment: the risk guard, the broker, the learner, and the
//! market as it is now.

use crate::book::Book;
use crate::learning::Learner;
use crate::TradingState;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tradegraph_broker::Broker;
use tradegraph_core::order::Order;
use tradegraph_core::risk::RiskGuard;
use tradegraph_core::{Price, Timeframe, Timestamp};
use tradegraph_market::{Clock, SystemClock};

/// What the risk guard, execution and learning nodes share across decision cycles. Clones
/// share the guard, the broker, the learner and the market view.
///
/// ```
/// use std::sync::Arc;
/// use tradegraph_agents::node::Desk;
/// use tradegraph_broker::paper::{PaperBroker, PaperConfig};
/// use tradegraph_core::risk::RiskGuard;
/// use tradegraph_core::{Decimal, Instrument};
///
/// let broker = PaperBroker::new(PaperConfig::new(Instrument::btc_usdt(), Decimal::from(10_000)))?;
/// let desk = Desk::new(Arc::new(broker)).with_guard(RiskGuard::default());
/// assert_eq!(desk.broker().name(), "paper");
/// assert!(desk.learner().lock().unwrap().lessons().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Desk {
    guard: Arc<Mutex<RiskGuard>>,
    broker: Arc<dyn Broker>,
    learner: Arc<Mutex<Learner>>,
    market: MarketNow,
}

impl Desk {
    /// A desk with the default guard, an empty learner and the wall clock.
    pub fn new(broker: Arc<dyn Broker>) -> Self {
        Self {
            guard: Arc::new(Mutex::new(RiskGuard::default())),
            broker,
            learner: Arc::new(Mutex::new(Learner::default())),
            market: MarketNow::new(Arc::new(SystemClock)),
        }
    }

    /// The book the agents see this cycle: the instrument's working orders among `orders`, the
    /// guard's limits and what it allows now (its time rules at the market's time; volatility
    /// on `timeframe`, as the guard node measures it). Changes nothing in the guard. `None`
    /// without the account in `state`, or when the guard's lock is poisoned (the guard node
    /// then fails the cycle).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tradegraph_agents::{fixture, node::Desk};
    /// use tradegraph_broker::paper::{PaperBroker, PaperConfig};
    /// use tradegraph_core::{Decimal, Instrument, Timeframe};
    ///
    /// let btc = Instrument::btc_usdt();
    /// let desk = Desk::new(Arc::new(PaperBroker::new(PaperConfig::new(btc.clone(), Decimal::from(10_000)))?));
    /// let state = fixture::state(&btc)?;
    /// let book = desk.book(&state, Vec::new(), Timeframe::M15).unwrap();
    /// assert!(!book.entries_blocked() && book.working.is_empty());
    /// assert_eq!(book.headroom.position_left_pct, Decimal::from(5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn book(
        &self,
        state: &TradingState,
        orders: Vec<Order>,
        timeframe: Timeframe,
    ) -> Option<Book> {
        let now = self.market.now().max(state.as_of);
        let guard = self.guard.lock().ok()?;
        Book::new(state, orders, &guard, timeframe, now)
    }

    /// Uses `guard` (restored, or with the bot's limits and kill switch).
    #[must_use]
    pub fn with_guard(mut self, guard: RiskGuard) -> Self {
        self.guard = Arc::new(Mutex::new(guard));
        self
    }

    /// Uses `learner` (restored from the bot's state).
    #[must_use]
    pub fn with_learner(mut self, learner: Learner) -> Self {
        self.learner = Arc::new(Mutex::new(learner));
        self
    }

    /// Reads the time and the price from `market` when an order is about to go out.
    #[must_use]
    pub fn with_market(mut self, market: MarketNow) -> Self {
        self.market = market;
        self
    }

    /// The market as it is now.
    pub fn market(&self) -> &MarketNow {
        &self.market
    }

    /// The risk guard (it remembers cooldowns and the daily halt), shared by the guard and
    /// execution nodes and the runtime's controls.
    pub fn guard(&self) -> &Arc<Mutex<RiskGuard>> {
        &self.guard
    }

    /// Where orders go (the paper broker unless live trading was opted into).
    pub fn broker(&self) -> &Arc<dyn Broker> {
        &self.broker
    }

    /// Hit rates, weights and lessons.
    pub fn learner(&self) -> &Arc<Mutex<Learner>> {
        &self.learner
    }
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("broker", &self.broker.name())
            .field("market", &self.market)
            .finish_non_exhaustive()
    }
}

/// The time and the last price when an order is about to go out, and how old a verdict may be
/// then. The engine that drives the bot updates the price on every market event; the clock is
/// the engine's (simulated in a backtest, the wall clock live). Clones share the price.
///
/// ```
/// use std::sync::Arc;
/// use tradegraph_agents::node::MarketNow;
/// use tradegraph_core::{Decimal, Timestamp};
/// use tradegraph_market::SimulatedClock;
///
/// let clock = SimulatedClock::new(Timestamp::from_millis(1_000));
/// let market = MarketNow::new(Arc::new(clock.clone()));
/// market.set_price(Decimal::from(40_000));
/// assert_eq!(market.price(), Some(Decimal::from(40_000)));
/// assert_eq!(market.now(), Timestamp::from_millis(1_000));
/// ```
#[derive(Clone)]
pub struct MarketNow {
    clock: Arc<dyn Clock>,
    price: Arc<Mutex<Option<Price>>>,
    max_verdict_age: Duration,
}

impl MarketNow {
    /// The default oldest verdict that may still be executed.
    pub const DEFAULT_MAX_VERDICT_AGE: Duration = Duration::from_secs(60);

    /// Time from `clock`, no price yet, verdicts up to a minute old.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            price: Arc::new(Mutex::new(None)),
            max_verdict_age: Self::DEFAULT_MAX_VERDICT_AGE,
        }
    }

    /// Refuses verdicts older than `age` when their order is about to go out.
    #[must_use]
    pub fn max_verdict_age(mut self, age: Duration) -> Self {
        self.max_verdict_age = age;
        self
    }

    /// The oldest verdict that may still be executed.
    pub fn verdict_age_limit(&self) -> Duration {
        self.max_verdict_age
    }

    /// The time now.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The last price seen, if any.
    pub fn price(&self) -> Option<Price> {
        *self.price.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the last price.
    pub fn set_price(&self, price: Price) {
        *self.price.lock().unwrap_or_else(PoisonError::into_inner) = Some(price);
    }
}

impl std::fmt::Debug for MarketNow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MarketNow")
            .field("now", &self.now())
            .field("price", &self.price())
            .field("max_verdict_age", &self.max_verdict_age)
            .finish()
    }
}
