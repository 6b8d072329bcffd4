//! Point in time: a backtest's agents see every source as of the cycle's simulated time, never
//! later. The bundled samples (Bitcoin with the crypto news; NIFTY 50 with the Indian news and
//! macro figures, as `tradegraph backtest` loads them) run through the real engine on a
//! simulated clock, with
//!
//! - the feed wrapped: it notes every event the engine pulls, so a cycle that runs after the
//!   engine has read past its time is caught;
//! - a probe node running beside the four analysts, on the state they read: the candles of each
//!   timeframe (what the technical and fundamental analysts read), the indicators, the news
//!   (sentiment), the macro figures (macro), the book, the account, the learner's lessons, and
//!   the desk's clock and price (what execution reads) must all be as of the cycle's time, and
//!   as complete as that time allows (the newest news and macro figures public by then are
//!   there);
//! - at the end, each source was asked at least once: lessons exist only once trades closed,
//!   which happens in the Bitcoin run (asserted), not in the NIFTY one; a replay has no order
//!   book, so the book check is shown only on the made-up state below.
//!
//! The checks themselves are shown to fail on a state that looks ahead (every source of the
//! state, and the feed, the clocks and the desk's price). The news and macro
//! sources' own answers (Finnhub, EODHD, the bundled fixtures, the macro file) are bounded by
//! their clock in tradegraph-market's `tests/news.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use futures::StreamExt;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tradegraph::engine::{paper_broker, BotConfig, Engine, Mode};
use tradegraph_agents::node::{Brain, MarketNow, DEFAULT_GRAPH};
use tradegraph_agents::state::TradingStateUpdate;
use tradegraph_agents::TradingState;
use tradegraph_core::instrument::TradingSession;
use tradegraph_core::{Account, Book, Candle, Currency, Instrument, Timeframe, Timestamp};
use tradegraph_graph::yaml::NoConfig;
use tradegraph_graph::{node_fn, Command};
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::news::{FileMacro, FixtureNews, MacroSnapshot, NewsItem};
use tradegraph_market::{Clock, SimulatedClock};

/// When a candle's data is complete: its end, or its session's close when that comes first
/// (the last hour of an NSE day is 15 minutes long; an NSE day candle ends at 15:30 IST).
fn closes_at(candle: &Candle, session: &TradingSession) -> Timestamp {
    let end = candle.open_time.add_millis(candle.timeframe.millis());
    match session.day_at(candle.open_time) {
        Some((_, close)) => end.min(close),
        None => end,
    }
}

/// Everything in `state` that is not as of `state.as_of`, one line per finding, naming the
/// source; empty when the state is point in time.
fn look_ahead(state: &TradingState, session: &TradingSession) -> Vec<String> {
    let as_of = state.as_of;
    let mut found = Vec::new();
    if state.market.as_of > as_of {
        found.push(format!(
            "market snapshot as of {} after {as_of}",
            state.market.as_of
        ));
    }
    for (tf, candles) in &state.market.candles {
        for candle in candles {
            let closes = closes_at(candle, session);
            if closes > as_of {
                found.push(format!(
                    "candles {tf}: the candle opening {} closes {closes}, after {as_of}",
                    candle.open_time
                ));
            }
        }
    }
    for (tf, values) in &state.market.indicators {
        let end = values.ts.add_millis(tf.millis());
        let closes = session
            .day_at(values.ts)
            .map_or(end, |(_, close)| end.min(close));
        if closes > as_of {
            found.push(format!(
                "indicators {tf}: computed on the bar of {}, closing {closes}, after {as_of}",
                values.ts
            ));
        }
    }
    for item in &state.inputs.news {
        if item.published > as_of {
            found.push(format!(
                "news `{}` published {}, after {as_of}",
                item.id, item.published
            ));
        }
    }
    if let Some(snapshot) = &state.inputs.macro_snapshot {
        if snapshot.as_of > as_of {
            found.push(format!(
                "macro figures public {}, after {as_of}",
                snapshot.as_of
            ));
        }
    }
    if let Some(account) = state.account.as_ref().filter(|a| a.as_of > as_of) {
        found.push(format!("account as of {}, after {as_of}", account.as_of));
    }
    for lesson in &state.lessons {
        if lesson.timestamp > as_of {
            found.push(format!(
                "lesson `{}` learned {}, after {as_of}",
                lesson.lesson_id, lesson.timestamp
            ));
        }
    }
    if let Some(book) = &state.market.book {
        if book.ts > as_of {
            found.push(format!("book of {}, after {as_of}", book.ts));
        }
    }
    found
}

/// What the feed had handed out, the clocks and the desk's price, against the cycle's time:
/// nothing pulled and no clock past `as_of`, and the price execution would use is the
/// snapshot's. One line per finding; empty when all is as of `as_of`.
fn feed_and_desk(
    as_of: Timestamp,
    pulled_up_to: Option<Timestamp>,
    clocks: [(&str, Timestamp); 2],
    desk_price: Option<Decimal>,
    snapshot_price: Decimal,
) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(latest) = pulled_up_to.filter(|t| *t > as_of) {
        found.push(format!(
            "the feed was read up to {latest} before the cycle as of {as_of}"
        ));
    }
    for (what, now) in clocks {
        if now > as_of {
            found.push(format!("the {what} reads {now} in the cycle as of {as_of}"));
        }
    }
    if desk_price != Some(snapshot_price) {
        found.push(format!(
            "the desk's price {desk_price:?} is not the snapshot's {snapshot_price} at {as_of}"
        ));
    }
    found
}

/// What the probe saw across the run.
#[derive(Debug, Default)]
struct Seen {
    cycles: usize,
    findings: Vec<String>,
    candles: BTreeMap<Timeframe, usize>,
    indicators: BTreeSet<Timeframe>,
    news: usize,
    macro_figures: BTreeSet<Timestamp>,
    accounts: usize,
    desk_prices: usize,
    lessons: usize,
    books: usize,
}

/// The newest news item of `all` published by `as_of`.
fn newest_by(all: &[NewsItem], as_of: Timestamp) -> Option<&NewsItem> {
    all.iter()
        .filter(|n| n.published <= as_of)
        .max_by_key(|n| n.published)
}

/// The macro snapshot of `all` public at `as_of`.
fn public_by(all: &[MacroSnapshot], as_of: Timestamp) -> Option<Timestamp> {
    all.iter().map(|m| m.as_of).filter(|t| *t <= as_of).max()
}

/// Runs `data` through the engine in backtest mode with `news` and `macros`, the probe beside
/// the analysts, and returns what it saw, the events the feed handed out, and the cycles run.
async fn run(
    instrument: Instrument,
    data: &Path,
    news: Vec<NewsItem>,
    macros: Vec<MacroSnapshot>,
    cash: Decimal,
) -> (Seen, usize, u64) {
    let session = instrument.session.clone();
    let clock = SimulatedClock::default();
    // The feed, wrapped: the latest time of anything the engine has pulled so far.
    let pulled: Arc<Mutex<(Option<Timestamp>, usize)>> = Arc::default();
    let replay = Replay::new(ReplayConfig {
        clock: clock.clone(),
        ..ReplayConfig::new(data, instrument.symbol.clone())
    })
    .unwrap();
    let feed = replay.stream().inspect({
        let pulled = pulled.clone();
        move |event| {
            let mut pulled = pulled.lock().unwrap();
            pulled.0 = pulled.0.max(Some(event.known_at()));
            pulled.1 += 1;
        }
    });
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut config = BotConfig::new(
        instrument,
        Brain::rules_only().unwrap(),
        cash,
        Mode::Backtest,
    );
    config.news = Arc::new(FixtureNews::from_items(news.clone()));
    if !macros.is_empty() {
        config.macros = Some(Arc::new(FileMacro::from_snapshots(
            macros.clone(),
            "the bundled Indian figures",
        )));
    }
    let probe = {
        let (seen, pulled, clock, session) = (seen.clone(), pulled.clone(), clock.clone(), session);
        move |kinds: &mut tradegraph_graph::yaml::Registry<TradingState>,
              _: &Brain,
              desk: &tradegraph_agents::node::Desk| {
            let market: MarketNow = desk.market().clone();
            let (seen, pulled, clock, session) =
                (seen.clone(), pulled.clone(), clock.clone(), session.clone());
            let (news, macros) = (news.clone(), macros.clone());
            kinds.node("point_in_time_probe", move |_: NoConfig| {
                let (seen, pulled, clock, session, market) = (
                    seen.clone(),
                    pulled.clone(),
                    clock.clone(),
                    session.clone(),
                    market.clone(),
                );
                let (news, macros) = (news.clone(), macros.clone());
                Ok(node_fn(move |state: Arc<TradingState>, _ctx| {
                    let as_of = state.as_of;
                    let mut findings = look_ahead(&state, &session);
                    findings.extend(feed_and_desk(
                        as_of,
                        pulled.lock().unwrap().0,
                        [("clock", clock.now()), ("desk clock", market.now())],
                        market.price(),
                        state.market.price,
                    ));
                    // Complete as of then: the newest news and macro figures public by then.
                    let newest = state.inputs.news.iter().map(|n| n.published).max();
                    if newest != newest_by(&news, as_of).map(|n| n.published) {
                        findings.push(format!(
                            "news: the newest seen at {as_of} is {newest:?}, not the newest published by then"
                        ));
                    }
                    let figures = state.inputs.macro_snapshot.as_ref().map(|m| m.as_of);
                    if figures != public_by(&macros, as_of) {
                        findings.push(format!(
                            "macro: the figures seen at {as_of} are of {figures:?}, not the latest public by then"
                        ));
                    }
                    let mut seen = seen.lock().unwrap();
                    seen.cycles += 1;
                    for finding in findings {
                        seen.findings.push(format!("cycle as of {as_of}: {finding}"));
                    }
                    for (tf, candles) in &state.market.candles {
                        *seen.candles.entry(*tf).or_default() += usize::from(!candles.is_empty());
                    }
                    seen.indicators.extend(state.market.indicators.keys().copied());
                    seen.news += usize::from(!state.inputs.news.is_empty());
                    if let Some(figures) = figures {
                        seen.macro_figures.insert(figures);
                    }
                    seen.accounts += usize::from(state.account.is_some());
                    seen.desk_prices += usize::from(market.price().is_some());
                    seen.lessons += usize::from(!state.lessons.is_empty());
                    seen.books += usize::from(state.market.book.is_some());
                    drop(seen);
                    async move { Ok(Command::update(TradingStateUpdate::default())) }
                }))
            });
        }
    };
    config = config.with_kinds(probe);
    let graph = DEFAULT_GRAPH
        .replace(
            "to: [technical, fundamental, sentiment, macro] }",
            "to: [technical, fundamental, sentiment, macro, probe] }",
        )
        .replace(
            "join: [technical, fundamental, sentiment, macro], to: debate_round",
            "join: [technical, fundamental, sentiment, macro, probe], to: debate_round",
        )
        .replace(
            "  - { name: macro, kind: macro }\n",
            "  - { name: macro, kind: macro }\n  - { name: probe, kind: point_in_time_probe }\n",
        );
    assert_eq!(
        (
            graph.matches(", probe]").count(),
            graph.matches("kind: point_in_time_probe").count()
        ),
        (2, 1),
        "the probe is wired in:\n{graph}"
    );
    config.graph_yaml = graph;
    let broker = paper_broker(&config).unwrap();
    let engine = Engine::start(config, clock, feed, broker).await.unwrap();
    let mut finals = Vec::new();
    let summary = engine
        .run(std::future::pending(), |state| finals.push(state.clone()))
        .await
        .unwrap();
    // After each cycle too: what the analysts wrote came from a point-in-time state.
    for state in &finals {
        assert!(
            state.technical.is_some()
                && state.fundamental.is_some()
                && state.sentiment.is_some()
                && state.macro_view.is_some(),
            "every analyst reported at {}",
            state.as_of
        );
    }
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let events = pulled.lock().unwrap().1;
    (seen, events, summary.cycles)
}

fn sample(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/data")
        .join(name)
}

/// Every source was asked, and nothing any agent saw was later than its cycle.
fn assert_point_in_time(seen: &Seen, events: usize, cycles: u64, timeframes: &[Timeframe]) {
    assert!(
        seen.findings.is_empty(),
        "{} look-ahead findings, the first:\n{}",
        seen.findings.len(),
        seen.findings
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(cycles > 50, "{cycles} cycles");
    assert_eq!(seen.cycles as u64, cycles, "the probe ran in every cycle");
    assert!(events > 1_000, "the feed handed out {events} events");
    for tf in timeframes {
        assert!(
            seen.candles.get(tf).copied().unwrap_or(0) > 0,
            "no cycle saw {tf} candles: {:?}",
            seen.candles
        );
        assert!(
            seen.indicators.contains(tf),
            "no {tf} indicators: {:?}",
            seen.indicators
        );
    }
    assert!(seen.news > 0, "no cycle saw news");
    assert!(seen.accounts > 0, "no cycle saw the account");
    assert!(seen.desk_prices > 0, "no cycle saw the desk's price");
    // A replay has no order book: the book check is shown only on a made-up state
    // (`the_checks_find_a_state_that_looks_ahead`); this says so if a replay ever gets one.
    assert_eq!(
        seen.books, 0,
        "a replay now has a book: check it in the runs too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bitcoin_sample_with_crypto_news_is_point_in_time() {
    let news = FixtureNews::bundled_crypto().items().to_vec();
    // Some news is published after the sample ends: never seen.
    let end: Timestamp = "2024-12-05T00:00:00Z".parse().unwrap();
    assert!(news.iter().any(|n| n.published > end));
    let (seen, events, cycles) = run(
        Instrument::btc_usdt(),
        &sample("btcusdt-1m.csv"),
        news,
        Vec::new(),
        Decimal::from(100_000),
    )
    .await;
    assert_point_in_time(
        &seen,
        events,
        cycles,
        &[
            Timeframe::M1,
            Timeframe::M5,
            Timeframe::M15,
            Timeframe::H1,
            Timeframe::D1,
        ],
    );
    assert!(seen.macro_figures.is_empty());
    // Trades close in this run: the learner's lessons reach the analysts and are checked.
    assert!(seen.lessons > 0, "no cycle saw a lesson");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nifty_sample_with_indian_news_and_macro_figures_is_point_in_time() {
    let news = FixtureNews::bundled_india().items().to_vec();
    let macros = FileMacro::bundled_india().unwrap().snapshots().to_vec();
    let (seen, events, cycles) = run(
        Instrument::nifty_50(),
        &sample("nifty50-1m.csv"),
        news,
        macros,
        Decimal::from(1_000_000),
    )
    .await;
    assert_point_in_time(
        &seen,
        events,
        cycles,
        &[
            Timeframe::M1,
            Timeframe::M5,
            Timeframe::M15,
            Timeframe::H1,
            Timeframe::D1,
        ],
    );
    // The RBI's decision of 2025-02-07 10:00 IST is seen from that cycle on, and not before;
    // the figures of 2025-02-12 (after the sample) never.
    let rbi: Timestamp = "2025-02-07T04:30:00Z".parse().unwrap();
    let before: Timestamp = "2025-01-13T10:30:00Z".parse().unwrap();
    assert_eq!(
        seen.macro_figures,
        BTreeSet::from([before, rbi]),
        "the macro figures the cycles saw"
    );
}

#[test]
fn the_checks_find_a_state_that_looks_ahead() {
    let instrument = Instrument::btc_usdt();
    let mut state = tradegraph_agents::fixture::state(&instrument).unwrap();
    assert_eq!(
        look_ahead(&state, &instrument.session),
        Vec::<String>::new()
    );
    let as_of = state.as_of;
    let later = as_of.add_millis(60_000);
    let mut news = state.inputs.news.first().cloned().expect("fixture news");
    news.id = "from-tomorrow".into();
    news.published = later;
    state.inputs.news.push(news);
    let mut figures = state
        .inputs
        .macro_snapshot
        .clone()
        .unwrap_or_else(|| MacroSnapshot {
            as_of,
            region: "US".into(),
            policy_rate_pct: 4.5,
            cpi_inflation_yoy_pct: 2.7,
            us_fed_funds_pct: None,
            dxy: None,
            extra: BTreeMap::new(),
            source: String::new(),
        });
    figures.as_of = later;
    state.inputs.macro_snapshot = Some(figures);
    let open = state
        .market
        .candles(Timeframe::M1)
        .last()
        .cloned()
        .expect("fixture candles");
    let mut forming = open.clone();
    forming.open_time = as_of;
    state
        .market
        .candles
        .get_mut(&Timeframe::M1)
        .unwrap()
        .push(forming);
    let lesson = state.lessons.first_mut().expect("a fixture lesson");
    lesson.timestamp = later;
    // Indicators computed on the bar still open, an account and a book from later.
    let mut values = state
        .market
        .indicators
        .get(&Timeframe::M1)
        .copied()
        .unwrap_or_default();
    values.ts = as_of;
    state.market.indicators.insert(Timeframe::M1, values);
    state.account = Some(Account::flat(Currency::Usdt, Decimal::from(1_000), later));
    state.market.book = Some(Book {
        ts: later,
        ..Book::default()
    });
    let found = look_ahead(&state, &instrument.session);
    assert_eq!(found.len(), 7, "{found:#?}");
    let starts = [
        "candles 1min: the candle opening",
        "indicators 1min: computed on the bar of",
        "news `from-tomorrow` published",
        "macro figures public",
        "account as of",
        "lesson `",
        "book of",
    ];
    for (finding, start) in found.iter().zip(starts) {
        assert!(finding.starts_with(start), "{start}: {found:#?}");
    }

    // The feed read past the cycle, both clocks ahead, and a desk price not the snapshot's.
    let price = state.market.price;
    assert_eq!(
        feed_and_desk(
            as_of,
            Some(as_of),
            [("clock", as_of), ("desk clock", as_of)],
            Some(price),
            price
        ),
        Vec::<String>::new()
    );
    let found = feed_and_desk(
        as_of,
        Some(later),
        [("clock", later), ("desk clock", later)],
        Some(price + Decimal::ONE),
        price,
    );
    assert_eq!(found.len(), 4, "{found:#?}");
    let starts = [
        "the feed was read up to",
        "the clock reads",
        "the desk clock reads",
        "the desk's price",
    ];
    for (finding, start) in found.iter().zip(starts) {
        assert!(finding.starts_with(start), "{start}: {found:#?}");
    }
    assert_eq!(
        feed_and_desk(
            as_of,
            None,
            [("clock", as_of), ("desk clock", as_of)],
            None,
            price
        )
        .len(),
        1
    );
}
