//! The kill switch at the broker, with the paper broker (the same engine as live): with closes
//! off it cancels only the entries and keeps the exits protecting the position; with closes on
//! it cancels the exits only right before a close that can go now (a bot with no price yet
//! keeps them until one comes), and it keeps at it each second until no order works and no
//! position is left; pulled during a decision cycle, it answers what it did, not what it will.

use super::support::*;
use futures::channel::mpsc::{unbounded, UnboundedSender};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tradegraph::engine::{paper_broker, BotHandle, Command, Engine, Mode, ReplyKind};
use tradegraph_broker::{Broker, PaperBroker};
use tradegraph_core::order::{ClientOrderId, Exits, Order, OrderRequest, OrderSide};
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::{Decimal, Instrument, Side, Tick, Timestamp};
use tradegraph_market::{MarketEvent, SimulatedClock};
use tradegraph_store::Stores;

/// A position of 1 with its stop-loss and take-profit, and a working entry, placed on the
/// paper broker directly (at 100).
async fn positioned(config: &tradegraph::engine::BotConfig) -> PaperBroker {
    let symbol = config.instrument.symbol.clone();
    let broker = paper_broker(config).unwrap();
    broker
        .on_tick(
            &symbol,
            &Tick::new(Timestamp::EPOCH, Decimal::from(100), Decimal::ONE),
        )
        .unwrap();
    let exits = Exits {
        stop_loss: Some(Decimal::from(90)),
        take_profit: Some(Decimal::from(130)),
        trailing_distance: None,
    };
    let entry = OrderRequest::market(
        ClientOrderId::new("ks-entry").unwrap(),
        symbol.clone(),
        OrderSide::Buy,
        Decimal::ONE,
    )
    .with_exits(exits);
    broker.submit(entry).await.unwrap();
    let working = OrderRequest::limit(
        ClientOrderId::new("ks-working-entry").unwrap(),
        symbol,
        OrderSide::Buy,
        Decimal::ONE,
        Decimal::from(50),
    );
    broker.submit(working).await.unwrap();
    broker
}

fn tick(symbol: &tradegraph_core::Symbol, minute: i64, price: i64) -> MarketEvent {
    MarketEvent::Tick {
        symbol: symbol.clone(),
        tick: Tick::new(
            "2024-03-04T00:00:00Z"
                .parse::<Timestamp>()
                .unwrap()
                .add_millis(minute * 60_000 + 1_000),
            Decimal::from(price),
            Decimal::ONE,
        ),
    }
}

async fn working(bot: &BotHandle) -> Vec<Order> {
    bot.broker().open_orders().await.unwrap()
}

async fn position(bot: &BotHandle) -> Decimal {
    let positions = bot.broker().positions().await.unwrap();
    positions.iter().map(|p| p.quantity).sum()
}

/// Waits (10 s at most) until `done` holds.
async fn until(what: &str, bot: &BotHandle, done: impl Fn(Vec<Order>, Decimal) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (orders, held) = (working(bot).await, position(bot).await);
        if done(orders.clone(), held) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within 10 s; working {orders:#?}, position {held}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn exits(orders: &[Order]) -> usize {
    orders.iter().filter(|o| o.parent.is_some()).count()
}

/// The paper broker seen through [`Wrapped`](super::wrapped::Wrapped), steered by `dials`.
fn wrapped(
    dials: &Arc<super::wrapped::Dials>,
) -> impl FnOnce(PaperBroker) -> super::wrapped::Wrapped {
    let dials = dials.clone();
    move |paper| super::wrapped::Wrapped::with(paper, dials)
}

/// Runs a bot on `instrument` over a feed the test writes to, and `body` against it.
async fn with_bot<M>(
    instrument: Instrument,
    pm: M,
    closes: bool,
    body: impl FnOnce(BotHandle, UnboundedSender<MarketEvent>) -> BoxFuture<'static, ()>,
) -> Vec<tradegraph_core::order::Fill>
where
    M: tradegraph_agents::model::ReportModel + 'static,
{
    with_bot_on(
        instrument,
        pm,
        closes,
        Stores::memory(),
        |paper| paper,
        body,
    )
    .await
}

/// [`with_bot`] with the paper broker seen through `wrap`.
async fn with_bot_on<M, B>(
    instrument: Instrument,
    pm: M,
    closes: bool,
    stores: Stores,
    wrap: impl FnOnce(PaperBroker) -> B,
    body: impl FnOnce(BotHandle, UnboundedSender<MarketEvent>) -> BoxFuture<'static, ()>,
) -> Vec<tradegraph_core::order::Fill>
where
    M: tradegraph_agents::model::ReportModel + 'static,
    B: tradegraph::engine::Execution,
{
    let limits = RiskLimits {
        kill_switch_closes_positions: closes,
        ..RiskLimits::default()
    };
    let mut config = config(
        instrument,
        ScriptedPm::cycles(Vec::new()),
        limits,
        stores,
        Mode::Service,
    );
    config.brain = tradegraph_agents::node::Brain::rules_only()
        .unwrap()
        .with_model(Arc::new(pm));
    let broker = wrap(positioned(&config).await);
    let (feed, events) = unbounded();
    let engine = Box::pin(Engine::start(
        config,
        SimulatedClock::default(),
        events,
        broker,
    ))
    .await
    .unwrap();
    let bot = engine.handle();
    let inner = engine.broker().inner().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let test = async move {
        body(bot, feed).await;
        stop.send(()).unwrap();
    };
    let run = Box::pin(engine.run(
        async {
            stopped.await.ok();
        },
        |_| {},
    ));
    let (summary, ()) = tokio::join!(run, test);
    summary.unwrap();
    inner.fills_since(0).await.unwrap()
}

#[tokio::test]
async fn with_closes_off_the_kill_switch_cancels_the_entries_and_keeps_the_exits() {
    let instrument = btc_as(&unique("KO"));
    with_bot(instrument, ScriptedPm::default(), false, |bot, feed| {
        Box::pin(async move {
            // The feed stays open while the test runs (its end would stop the bot).
            let _feed = feed;
            assert_eq!(exits(&working(&bot).await), 2, "the stop and the target");
            let reply = bot
                .send(Command::KillSwitch { engaged: true }, None)
                .await
                .unwrap();
            assert_eq!(reply.kind, ReplyKind::Done, "{reply:?}");
            until("the working entry cancelled", &bot, |orders, _| {
                orders.iter().all(|o| o.parent.is_some())
            })
            .await;
            let left = working(&bot).await;
            assert_eq!(exits(&left), 2, "the exits protect the position: {left:#?}");
            assert_eq!(position(&bot).await, Decimal::ONE, "not closed");
            assert!(
                reply.message.contains("kept"),
                "the answer says the exits are kept: {reply:?}"
            );
        })
    })
    .await;
}

#[tokio::test]
async fn without_a_price_the_exits_stay_until_the_close_can_go_then_it_closes_once() {
    let instrument = btc_as(&unique("KP"));
    let symbol = instrument.symbol.clone();
    let fills = with_bot(instrument, ScriptedPm::default(), true, |bot, feed| {
        Box::pin(async move {
            let reply = bot
                .send(Command::KillSwitch { engaged: true }, None)
                .await
                .unwrap();
            assert_eq!(reply.kind, ReplyKind::Done, "{reply:?}");
            // No price yet: the close cannot go, so the exits are not cancelled.
            let left = working(&bot).await;
            assert_eq!(exits(&left), 2, "no stop removed before a close: {left:#?}");
            assert!(
                left.iter().all(|o| o.parent.is_some()),
                "the entry is cancelled at once: {left:#?}"
            );
            assert_eq!(position(&bot).await, Decimal::ONE);
            assert!(
                !reply.message.contains("closed"),
                "the answer does not claim a close: {reply:?}"
            );
            // A price: at the next try (each second) the exits go and the close right after.
            feed.unbounded_send(tick(&symbol, 0, 100)).unwrap();
            until("closed and nothing working", &bot, |orders, held| {
                orders.is_empty() && held.is_zero()
            })
            .await;
            // More seconds pass: nothing is sent again.
            feed.unbounded_send(tick(&symbol, 1, 100)).unwrap();
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            assert!(bot.status().kill_switch);
        })
    })
    .await;
    let sells = fills.iter().filter(|f| f.side == Side::Sell).count();
    assert_eq!(sells, 1, "closed once: {fills:#?}");
}

/// A portfolio manager that tells the test when it is asked, and answers only once the test
/// lets it.
#[derive(Debug, Default)]
struct Waiting {
    asked: Arc<Notify>,
    answer: Arc<Notify>,
    /// What it answers (`hold` unless set).
    says: Option<serde_json::Value>,
}

#[async_trait::async_trait]
impl tradegraph_agents::model::ReportModel for Waiting {
    async fn answer(
        &self,
        prompt: &tradegraph_agents::prompt::RenderedPrompt,
        _: &serde_json::Value,
    ) -> Result<tradegraph_agents::model::ModelAnswer, tradegraph_agents::model::ModelFailure> {
        if prompt.agent != tradegraph_agents::AgentName::PortfolioManager {
            return Err(tradegraph_agents::model::ModelFailure(
                "rules for this agent".into(),
            ));
        }
        self.asked.notify_one();
        self.answer.notified().await;
        Ok(tradegraph_agents::model::ModelAnswer::new(
            self.says.clone().unwrap_or_else(hold),
            "test",
            "waiting",
        ))
    }
}

#[tokio::test]
async fn pulled_during_a_cycle_it_answers_that_the_broker_work_follows_the_cycle() {
    let instrument = btc_as(&unique("KC"));
    let symbol = instrument.symbol.clone();
    let pm = Waiting::default();
    let (asked, answer) = (pm.asked.clone(), pm.answer.clone());
    with_bot(instrument, pm, true, |bot, feed| {
        Box::pin(async move {
            // Ticks through 00:15: the 15-minute candle closes and a cycle asks the model.
            for minute in 0..=15 {
                feed.unbounded_send(tick(&symbol, minute, 100)).unwrap();
            }
            tokio::time::timeout(Duration::from_secs(30), asked.notified())
                .await
                .expect("a cycle asks the portfolio manager");
            let reply = bot
                .send(Command::KillSwitch { engaged: true }, None)
                .await
                .unwrap();
            assert_eq!(reply.kind, ReplyKind::Done, "{reply:?}");
            assert!(
                reply.message.contains("cycle in flight"),
                "the answer says the broker work waits for the cycle: {reply:?}"
            );
            assert!(reply.detail.get("at_broker").is_none(), "{reply:?}");
            assert_eq!(position(&bot).await, Decimal::ONE, "nothing done yet");
            answer.notify_one();
            until("closed after the cycle", &bot, |orders, held| {
                orders.is_empty() && held.is_zero()
            })
            .await;
        })
    })
    .await;
}

/// A close is sized by the position when it goes out, not when its cycle began: part of the
/// position went while the model was asked (an exit's partial fill at a venue), and the close
/// asked for the whole of the old one (a venue, which has no reduce-only, would have sold
/// short).
#[tokio::test]
async fn a_close_is_sized_by_the_position_at_the_send() {
    let instrument = btc_as(&unique("KZ"));
    let symbol = instrument.symbol.clone();
    let pm = Waiting {
        says: close(),
        ..Waiting::default()
    };
    let (asked, answer) = (pm.asked.clone(), pm.answer.clone());
    let fills = with_bot(instrument, pm, false, |bot, feed| {
        Box::pin(async move {
            for minute in 0..=15 {
                feed.unbounded_send(tick(&symbol, minute, 100)).unwrap();
            }
            tokio::time::timeout(Duration::from_secs(30), asked.notified())
                .await
                .expect("a cycle asks the portfolio manager");
            // Half the position goes while the model thinks.
            let half = OrderRequest::market(
                ClientOrderId::new("kz-half").unwrap(),
                symbol.clone(),
                OrderSide::Sell,
                Decimal::new(5, 1),
            )
            .reduce_only();
            bot.broker().submit(half).await.unwrap();
            assert_eq!(position(&bot).await, Decimal::new(5, 1));
            answer.notify_one();
            until("closed by the cycle", &bot, |_, held| held.is_zero()).await;
            let fills = bot.broker().fills_since(0).await.unwrap();
            let close = fills
                .iter()
                .find(|f| f.side == Side::Sell && f.client_id.as_str() != "kz-half")
                .expect("the cycle's close filled");
            let order = bot.broker().order(&close.client_id).await.unwrap().unwrap();
            assert_eq!(
                order.request.quantity,
                Decimal::new(5, 1),
                "the close asked for more than was held: {order:#?}"
            );
        })
    })
    .await;
    let sold: Decimal = fills
        .iter()
        .filter(|f| f.side == Side::Sell)
        .map(|f| f.quantity)
        .sum();
    assert_eq!(sold, Decimal::ONE, "{fills:#?}");
}

/// A kill switch whose close the venue does not take keeps the position's exits: they were
/// cancelled before the close went, and a failed close left the position without its stop,
/// even after the switch was released. And each try asks the broker only about the earlier
/// attempts it has not yet seen finished: every try looked at all of them again, one venue
/// request each, so a close that kept failing made the request rate grow without end.
#[tokio::test]
async fn a_close_the_venue_does_not_take_leaves_the_exits_in_place() {
    let instrument = btc_as(&unique("KF"));
    let symbol = instrument.symbol.clone();
    let dials = Arc::new(super::wrapped::Dials::default());
    dials
        .close_failures
        .store(usize::MAX, std::sync::atomic::Ordering::SeqCst);
    let wrap = wrapped(&dials);
    let seen = dials.clone();
    with_bot_on(
        instrument,
        ScriptedPm::default(),
        true,
        Stores::memory(),
        wrap,
        |bot, feed| {
            Box::pin(async move {
                let dials = seen;
                feed.unbounded_send(tick(&symbol, 1, 100)).unwrap();
                assert_eq!(exits(&working(&bot).await), 2, "the stop and the target");
                let reply = bot
                    .send(Command::KillSwitch { engaged: true }, None)
                    .await
                    .unwrap();
                assert_eq!(reply.kind, ReplyKind::Done, "{reply:?}");
                until("the working entry cancelled", &bot, |orders, _| {
                    orders.iter().all(|o| o.parent.is_some())
                })
                .await;
                // A few tries, each refused by the venue.
                let asked = |d: &super::wrapped::Dials| {
                    use std::sync::atomic::Ordering::SeqCst;
                    (d.submits.load(SeqCst), d.order_calls.load(SeqCst))
                };
                let (submits, orders) = asked(&dials);
                tokio::time::sleep(Duration::from_millis(5_500)).await;
                let (tries, looks) = asked(&dials);
                let (tries, looks) = (tries - submits, looks - orders);
                assert!(tries >= 4, "{tries} tries in 5.5 s");
                assert!(
                    looks <= 2 * tries + 2,
                    "{looks} order reads for {tries} tries: each try reads every earlier attempt"
                );
                assert_eq!(
                    position(&bot).await,
                    Decimal::ONE,
                    "the venue took no close"
                );
                let left = working(&bot).await;
                assert_eq!(exits(&left), 2, "the position kept its exits: {left:#?}");
                let reply = bot
                    .send(Command::KillSwitch { engaged: false }, None)
                    .await
                    .unwrap();
                assert_eq!(reply.kind, ReplyKind::Done, "{reply:?}");
                let left = working(&bot).await;
                assert_eq!(exits(&left), 2, "released, still protected: {left:#?}");
            })
        },
    )
    .await;
    assert!(
        dials
            .close_failures
            .load(std::sync::atomic::Ordering::SeqCst)
            < usize::MAX,
        "no close was tried"
    );
}

/// A command that came during a decision cycle, whose caller stopped waiting before the cycle
/// ended (an HTTP request that timed out), is not carried out, and the operator log says so:
/// it was dropped with a log line only, while the service's timeout answer pointed the
/// operator at the operator log.
#[tokio::test]
async fn a_command_whose_caller_left_during_a_cycle_is_recorded_as_not_carried_out() {
    let instrument = btc_as(&unique("KL"));
    let symbol = instrument.symbol.clone();
    let pm = Waiting::default();
    let (asked, answer) = (pm.asked.clone(), pm.answer.clone());
    let stores = Stores::memory();
    let operators = stores.operators.clone();
    let read = symbol.clone();
    with_bot_on(
        instrument,
        pm,
        true,
        stores,
        |paper| paper,
        |bot, feed| {
            Box::pin(async move {
                for minute in 0..=15 {
                    feed.unbounded_send(tick(&symbol, minute, 100)).unwrap();
                }
                tokio::time::timeout(Duration::from_secs(30), asked.notified())
                    .await
                    .expect("a cycle asks the portfolio manager");
                let gave_up = tokio::time::timeout(
                    Duration::from_millis(200),
                    bot.send(Command::CloseAll, Some("http 127.0.0.1:9".into())),
                )
                .await;
                assert!(gave_up.is_err(), "answered during the cycle: {gave_up:?}");
                // The service waits a cycle's deadline and a minute more for the answer.
                assert!(bot.answer_within() > Duration::from_secs(60));
                answer.notify_one();
                let deadline = Instant::now() + Duration::from_secs(10);
                let action = loop {
                    let actions = operators
                        .actions(&tradegraph_store::Query::new(read.clone()))
                        .await
                        .unwrap();
                    if let Some(a) = actions
                        .into_iter()
                        .find(|a| a.action == "positions.close_all")
                    {
                        break a;
                    }
                    assert!(Instant::now() < deadline, "the operator log never said");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                };
                assert_eq!(
                    action.outcome,
                    tradegraph_store::ActionOutcome::Failed,
                    "{action:?}"
                );
                assert!(action.message.contains("not carried out"), "{action:?}");
                assert_eq!(action.source.as_deref(), Some("http 127.0.0.1:9"));
                assert_eq!(position(&bot).await, Decimal::ONE, "not closed");
            })
        },
    )
    .await;
}

/// On a broker without reduce-only orders (Kite), the kill switch's close goes only once the
/// exits are cancelled: an exit left working could sell the closed position a second time.
#[tokio::test]
async fn without_reduce_only_the_exits_go_before_the_close() {
    let instrument = btc_as(&unique("KN"));
    let symbol = instrument.symbol.clone();
    let dials = Arc::new(super::wrapped::Dials::default());
    dials
        .no_reduce_only
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let wrap = wrapped(&dials);
    with_bot_on(
        instrument,
        ScriptedPm::default(),
        true,
        Stores::memory(),
        wrap,
        |bot, feed| {
            Box::pin(async move {
                feed.unbounded_send(tick(&symbol, 1, 100)).unwrap();
                let reply = bot
                    .send(Command::KillSwitch { engaged: true }, None)
                    .await
                    .unwrap();
                assert_eq!(reply.kind, ReplyKind::Done, "{reply:?}");
                until("closed", &bot, |orders, held| {
                    orders.is_empty() && held.is_zero()
                })
                .await;
            })
        },
    )
    .await;
    let seen = dials.exits_at_close.lock().unwrap().clone();
    assert!(!seen.is_empty(), "no close");
    assert!(
        seen.iter().all(|&n| n == 0),
        "exits working at the close: {seen:?}"
    );
}
