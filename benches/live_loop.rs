//! The live loop: candle close to order accepted by the paper broker.
//!
//! The engine runs in service mode (its state saved to the store as it changes, order intents
//! journaled), then in backtest mode (nothing saved), on a local feed of trades, one-minute
//! decisions, the trading graph with every analyst, the debate and the risk manager in rule
//! mode. The portfolio manager answers in process through the model path (its prompt rendered,
//! its answer checked against the schema), alternating BUY and CLOSE, so that every cycle sends
//! an order: the target is stated for rule mode, so this measures the heavier path. Measured: from the
//! moment the trade that closes the minute leaves the feed to the moment the cycle has its order
//! accepted (the cycle's end, an upper bound).
//!
//! Then decision to order on the wire: the rule-mode service loop with the live Binance broker
//! on the local Binance venue server, from the moment the trade that closes the minute leaves
//! the feed to the moment the venue has the order's `POST /api/v3/order` (see [`live`]).
//!
//! Run: `cargo bench -p tradegraph --bench live_loop`. Targets: p99 < 1 ms to the paper
//! broker, p99 < 5 ms on the wire to the local venue (the specification allows 5 s for an
//! order). The figures are printed, not asserted.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tradegraph::engine::{paper_broker, BotConfig, Engine, Execution, Mode};
use tradegraph_agents::model::{ModelAnswer, ModelFailure, ReportModel};
use tradegraph_agents::node::Brain;
use tradegraph_agents::prompt::RenderedPrompt;
use tradegraph_agents::AgentName;
use tradegraph_broker::{Broker, BrokerError, PaperBroker, PriceEvent};
use tradegraph_core::order::OrderStatus;
use tradegraph_core::order::{ClientOrderId, Fill, Order, OrderRequest};
use tradegraph_core::position::{Account, Position};
use tradegraph_core::Symbol;
use tradegraph_core::{Decimal, Instrument, Side, Timeframe, Timestamp, Trade};
use tradegraph_market::{MarketEvent, SimulatedClock};

const TARGET_P99: Duration = Duration::from_millis(1);
const MINUTES: i64 = 3_000;
const TRADES_PER_MINUTE: i64 = 6;

/// BUY, CLOSE, BUY, CLOSE, ...
#[derive(Debug, Default)]
struct Alternate(AtomicUsize);

#[async_trait]
impl ReportModel for Alternate {
    async fn answer(
        &self,
        prompt: &RenderedPrompt,
        _: &serde_json::Value,
    ) -> Result<ModelAnswer, ModelFailure> {
        if prompt.agent != AgentName::PortfolioManager {
            return Err(ModelFailure("rule mode".into()));
        }
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        let value = if n.is_multiple_of(2) {
            serde_json::json!({"action": "BUY", "size_pct": 2.0, "stop_loss": null, "take_profit": null,
                "trailing_pct": null, "confidence": 0.8, "rationale": "bench"})
        } else {
            serde_json::json!({"action": "CLOSE", "size_pct": 0.0, "stop_loss": null, "take_profit": null,
                "trailing_pct": null, "confidence": 0.8, "rationale": "bench"})
        };
        Ok(ModelAnswer::new(value, "bench", "alternate"))
    }
}

/// The paper broker, noting when it accepted each order.
struct Timed {
    inner: PaperBroker,
    accepted: Arc<Mutex<Option<Instant>>>,
}

#[async_trait]
impl Broker for Timed {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn submit(&self, request: OrderRequest) -> Result<Order, BrokerError> {
        let order = self.inner.submit(request).await;
        *self.accepted.lock().unwrap() = Some(Instant::now());
        order
    }
    async fn cancel(&self, id: &ClientOrderId) -> Result<Order, BrokerError> {
        self.inner.cancel(id).await
    }
    async fn order(&self, id: &ClientOrderId) -> Result<Option<Order>, BrokerError> {
        self.inner.order(id).await
    }
    async fn open_orders(&self) -> Result<Vec<Order>, BrokerError> {
        self.inner.open_orders().await
    }
    async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        self.inner.positions().await
    }
    async fn account(&self) -> Result<Account, BrokerError> {
        self.inner.account().await
    }
    async fn fills_since(&self, after: u64) -> Result<Vec<Fill>, BrokerError> {
        self.inner.fills_since(after).await
    }
    fn on_market(&self, symbol: &Symbol, event: PriceEvent<'_>) -> Result<Vec<Fill>, BrokerError> {
        self.inner.on_market(symbol, event)
    }
}

impl Execution for Timed {
    fn revision(&self) -> u64 {
        Execution::revision(&self.inner)
    }
    fn kept_state(&self) -> Result<Option<serde_json::Value>, BrokerError> {
        self.inner.kept_state()
    }
}

fn percentiles(mut all: Vec<Duration>) -> (Duration, Duration, Duration) {
    all.sort();
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    (at(0.50), at(0.99), all[all.len() - 1])
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    // The target: every agent in rule mode on a market that swings, so the rule-mode portfolio
    // manager buys and closes now and then.
    measure(Mode::Service, false);
    // Every cycle an order: the portfolio manager answers in process, through the model path.
    // In service mode the bot's state is saved as it changes; in backtest mode nothing is.
    measure(Mode::Service, true);
    measure(Mode::Backtest, true);
    // The same loop as the first, with the live Binance broker on the local venue server.
    live::measure();
}

/// The trades of `minutes` minutes from `start`, each moving `clock` to its time as a live
/// feed's exchange time would, calling `each` with its price, and stamping when it left the
/// feed (the instant is in the returned cell).
fn trades(
    minutes: i64,
    start: Timestamp,
    clock: &SimulatedClock,
    symbol: &Symbol,
    each: impl Fn(Decimal) + Send + 'static,
) -> (BoxStream<'static, MarketEvent>, Arc<Mutex<Instant>>) {
    let left = Arc::new(Mutex::new(Instant::now()));
    let stamp = left.clone();
    let feed_clock = clock.clone();
    let symbol = symbol.clone();
    let feed = futures::stream::iter(0..minutes * TRADES_PER_MINUTE)
        .map(move |i| {
            let ts = start.add_millis(i * 60_000 / TRADES_PER_MINUTE);
            // swings of 3% over an hour, and a little noise
            let swing =
                (i as f64 / (60.0 * TRADES_PER_MINUTE as f64) * std::f64::consts::TAU).sin();
            let price = 42_000.0 * (1.0 + 0.03 * swing) + ((i % 7) - 3) as f64 * 0.1;
            let price = Decimal::from_f64_retain(price).unwrap().round_dp(2);
            let trade = Trade {
                ts,
                price,
                quantity: Decimal::new(1, 2),
                aggressor: if i % 2 == 0 { Side::Buy } else { Side::Sell },
                trade_id: u64::try_from(i + 1).unwrap(),
                first_trade_id: None,
                last_trade_id: None,
            };
            each(price);
            feed_clock.advance_to(ts);
            *stamp.lock().unwrap() = Instant::now();
            MarketEvent::Trade {
                symbol: symbol.clone(),
                trade,
            }
        })
        .boxed();
    (feed, left)
}

/// One run of the loop in `mode`, the portfolio manager in rule mode or `scripted`.
fn measure(mode: Mode, scripted: bool) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let instrument = Instrument::btc_usdt();
    let start: Timestamp = "2024-03-04T00:00:00Z".parse().unwrap();
    let clock = SimulatedClock::new(start);
    let (feed, left) = trades(MINUTES, start, &clock, &instrument.symbol, |_| {});
    let cash = tradegraph::config::default_cash(instrument.currency);
    let brain = Brain::rules_only().unwrap();
    let brain = if scripted {
        brain.with_model(Arc::new(Alternate::default()))
    } else {
        brain
    };
    let mut config = BotConfig::new(instrument, brain, cash, mode);
    config.decision_every = Timeframe::M1;
    let accepted = Arc::new(Mutex::new(None));
    let broker = Timed {
        inner: paper_broker(&config).unwrap(),
        accepted: accepted.clone(),
    };
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let sink = latencies.clone();
    let accepted_at = accepted.clone();
    let summary = runtime.block_on(async move {
        let engine = Engine::start(config, clock, feed, broker).await.unwrap();
        Box::pin(engine.run(std::future::pending(), move |state| {
            let accepted = state
                .orders
                .iter()
                .any(|o| !matches!(o.status, OrderStatus::Rejected | OrderStatus::Cancelled));
            let at = accepted_at.lock().unwrap().take();
            if let (true, Some(at)) = (accepted, at) {
                let left = *left.lock().unwrap();
                sink.lock().unwrap().push((at - left, left.elapsed()));
            }
        }))
        .await
        .unwrap()
    });
    let all = latencies.lock().unwrap().clone();
    assert!(
        all.len() >= 20,
        "orders in {} of {} cycles",
        all.len(),
        summary.cycles
    );
    let pm = if scripted {
        "PM scripted through the model path"
    } else {
        "rule mode"
    };
    let (a50, a99, amax) = percentiles(all.iter().map(|(a, _)| *a).collect());
    let (c50, c99, cmax) = percentiles(all.iter().map(|(_, c)| *c).collect());
    let verdict = match (scripted, a99 < TARGET_P99) {
        (true, _) => "the target is for rule mode",
        (false, true) => "target p99 < 1 ms: met",
        (false, false) => "target p99 < 1 ms: MISSED",
    };
    println!(
        "live loop ({mode:?}, {pm}), candle close -> paper order accepted, {} orders over {} cycles: p50 {:.0} us, p99 {:.0} us, max {:.0} us ({verdict})",
        all.len(),
        summary.cycles,
        us(a50),
        us(a99),
        us(amax),
    );
    println!(
        "live loop ({mode:?}, {pm}), candle close -> cycle done (with the state saved in service mode): p50 {:.0} us, p99 {:.0} us, max {:.0} us",
        us(c50),
        us(c99),
        us(cmax),
    );
}

/// Decision to order on the wire: the rule-mode loop of the first measurement (service mode,
/// its state saved) with the live Binance broker on the local Binance venue server, which runs
/// on a thread of its own as a remote venue would. Measured: from the moment the trade that
/// closes the decision minute leaves the feed to the moment the venue server has received the
/// order's `POST /api/v3/order` (its arrival instant in the venue's request log, matched by
/// client order id). The venue's price follows the feed (its working exits match), and the
/// request weight, per minute of the wall clock at the venue and in the broker, is not limited:
/// the bench plays days of minutes in seconds.
mod live {
    use super::{percentiles, trades, us};
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    use tradegraph::engine::{BotConfig, Engine, Mode};
    use tradegraph_agents::node::Brain;
    use tradegraph_broker::live::binance::{BinanceBroker, BinanceConfig};
    use tradegraph_broker::live::LiveTradingEnabled;
    use tradegraph_core::redact::Secret;
    use tradegraph_core::{Decimal, Instrument, Timeframe, Timestamp};
    use tradegraph_market::SimulatedClock;
    use tradegraph_testkit::venue::binance::BinanceVenue;

    const TARGET_P99: Duration = Duration::from_millis(5);
    /// Rule mode sends an order in about one cycle of ten: enough minutes for over 1 000.
    const MINUTES: i64 = 12_000;
    const KEY: &str = "bench-key-0123456789";
    const SECRET: &str = "bench-secret-0123456789abcdef";

    pub(super) fn measure() {
        let venue_runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let venue = Arc::new(
            venue_runtime
                .block_on(BinanceVenue::start(KEY, SECRET))
                .unwrap(),
        );
        let instrument = Instrument::btc_usdt();
        let cash = tradegraph::config::default_cash(instrument.currency);
        venue.set_balance("USDT", cash);
        venue.set_price(Decimal::from(42_000));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let start: Timestamp = "2024-03-04T00:00:00Z".parse().unwrap();
        let clock = SimulatedClock::new(start);
        let at_venue = venue.clone();
        let (feed, left) = trades(MINUTES, start, &clock, &instrument.symbol, move |price| {
            at_venue.set_price(price);
            at_venue.set_used_weight(0);
        });
        let mut config = BotConfig::new(
            instrument.clone(),
            Brain::rules_only().unwrap(),
            cash,
            Mode::Service,
        );
        config.decision_every = Timeframe::M1;
        let mut broker_config =
            BinanceConfig::new(Secret::new(KEY), Secret::new(SECRET), instrument)
                .with_urls(venue.url(), venue.ws_url());
        broker_config.weight_per_minute = 100_000_000;
        // client order id -> when the trade that closed its decision minute left the feed
        let sent = Arc::new(Mutex::new(HashMap::new()));
        let sink = sent.clone();
        let cycles_with_orders = Arc::new(Mutex::new(0_usize));
        let counted = cycles_with_orders.clone();
        let summary = runtime.block_on(async move {
            let broker = BinanceBroker::connect(
                broker_config,
                None,
                LiveTradingEnabled::i_understand_this_trades_real_money(),
            )
            .await
            .unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            while !broker.stream_is_up() {
                assert!(Instant::now() < deadline, "the user data stream is not up");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let engine = Engine::start(config, clock, feed, broker).await.unwrap();
            Box::pin(engine.run(std::future::pending(), move |state| {
                if state.orders.is_empty() {
                    return;
                }
                let left = *left.lock().unwrap();
                *counted.lock().unwrap() += 1;
                let mut sent = sink.lock().unwrap();
                for order in &state.orders {
                    sent.insert(order.request.client_id.as_str().to_owned(), left);
                }
            }))
            .await
            .unwrap()
        });
        let sent = sent.lock().unwrap().clone();
        let requests = venue.requests();
        let posted: Vec<_> = requests
            .iter()
            .filter(|r| r.method == "POST" && r.path == "/api/v3/order")
            .filter_map(|r| {
                let client = r
                    .query
                    .split('&')
                    .find_map(|p| p.strip_prefix("newClientOrderId="))?;
                let buy = r.query.contains("side=BUY");
                Some((
                    r.status,
                    buy,
                    r.at.saturating_duration_since(*sent.get(client)?),
                ))
            })
            .collect();
        let refused = posted
            .iter()
            .filter(|(status, _, _)| *status != 200)
            .count();
        let all: Vec<Duration> = posted.iter().map(|(_, _, d)| *d).collect();
        assert!(
            all.len() >= 20,
            "{} orders reached the venue over {} cycles",
            all.len(),
            summary.cycles
        );
        let (p50, p99, max) = percentiles(all.clone());
        let verdict = if p99 < TARGET_P99 { "met" } else { "MISSED" };
        println!(
            "live loop (Service, rule mode, live Binance broker on the local venue), candle close -> order at the venue (POST /api/v3/order received), {} orders ({} refused by the venue) from {} cycles with an order of {} cycles ({} requests in all): p50 {:.0} us, p99 {:.0} us, max {:.0} us (target p99 < {} ms: {verdict})",
            all.len(),
            refused,
            *cycles_with_orders.lock().unwrap(),
            summary.cycles,
            requests.len(),
            us(p50),
            us(p99),
            us(max),
            TARGET_P99.as_millis(),
        );
        for (side, buy) in [("entries (BUY)", true), ("exits (SELL)", false)] {
            let some: Vec<Duration> = posted
                .iter()
                .filter(|(_, b, _)| *b == buy)
                .map(|(_, _, d)| *d)
                .collect();
            if !some.is_empty() {
                let (p50, p99, max) = percentiles(some.clone());
                println!(
                    "live loop (Service, rule mode, live Binance broker on the local venue), of which {side}: {} orders, p50 {:.0} us, p99 {:.0} us, max {:.0} us",
                    some.len(),
                    us(p50),
                    us(p99),
                    us(max),
                );
            }
        }
        drop(runtime);
        drop(venue);
        drop(venue_runtime);
    }
}
