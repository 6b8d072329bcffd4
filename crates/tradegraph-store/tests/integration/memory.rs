//! The in-memory stores: the default, with no server.

use crate::support::hot_suite::{self, at, candle, d};
use std::time::Duration;
use tradegraph_core::{Side, Symbol, Timeframe};
use tradegraph_store::{
    AgentDecision, CandleHistory, DecisionLog, DecisionRecord, HotCache, HotLimits, Lesson,
    LessonLog, MemoryHistory, MemoryHotCache, MemoryJournal, Query, TradeLog, TradeRecord,
    TradeStatus,
};

#[tokio::test]
async fn memory_journal_keeps_each_runs_records_and_each_prompt_once() {
    crate::support::run_suite::run_all(&MemoryJournal::new(), &Symbol::new("BTCUSDT")).await;
}

#[tokio::test]
async fn memory_alert_log_passes_the_suite() {
    crate::support::alert_suite::run_all(&MemoryJournal::new(), &Symbol::new("BTCUSDT")).await;
}

#[tokio::test]
async fn memory_hot_cache_passes_the_suite() {
    hot_suite::run_all(&MemoryHotCache::new(), &Symbol::new("BTCUSDT")).await;
}

#[tokio::test(start_paused = true)]
async fn memory_latest_price_expires_after_five_minutes() {
    let cache = MemoryHotCache::new();
    let btc = Symbol::new("BTCUSDT");
    cache
        .put_tick(&btc, &tradegraph_core::Tick::new(at(0), d("1"), d("1")))
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(299)).await;
    assert!(cache.latest_price(&btc).await.unwrap().is_some());
    tokio::time::advance(Duration::from_secs(2)).await;
    assert!(cache.latest_price(&btc).await.unwrap().is_none());
}

#[tokio::test]
async fn memory_latest_price_alone_expires_like_a_ticks() {
    let ttl = Duration::from_secs(1);
    let cache = MemoryHotCache::with_limits(HotLimits {
        latest_ttl: ttl,
        ..HotLimits::default()
    });
    hot_suite::latest_alone_expires_like_a_ticks(&cache, ttl).await;
}

#[tokio::test]
async fn memory_hot_cache_keeps_a_window_of_data_time() {
    let cache = MemoryHotCache::with_limits(HotLimits {
        window: Duration::from_secs(3 * 60),
        max_entries: 1_000,
        ..HotLimits::default()
    });
    let btc = Symbol::new("BTCUSDT");
    for minute in 0..10 {
        cache
            .put_candle(&btc, &candle(Timeframe::M1, minute, "101"))
            .await
            .unwrap();
    }
    // Minutes 6..=9 are within 3 minutes of the newest open time.
    assert_eq!(
        cache
            .recent_candles(&btc, Timeframe::M1, 100)
            .await
            .unwrap()
            .len(),
        4
    );
}

#[tokio::test]
async fn memory_history_upserts_and_ranges() {
    let history = MemoryHistory::new();
    let btc = Symbol::new("BTCUSDT");
    let candles: Vec<_> = (0..10).map(|m| candle(Timeframe::M1, m, "101")).collect();
    history.upsert_candles(&btc, &candles).await.unwrap();
    history.upsert_candles(&btc, &candles).await.unwrap();
    let all = history
        .candles(&Query::new("BTCUSDT"), Timeframe::M1)
        .await
        .unwrap();
    assert_eq!(all, candles);
    let q = Query::new("BTCUSDT")
        .between(at(120_000), at(300_000))
        .limit(2);
    let got = history.candles(&q, Timeframe::M1).await.unwrap();
    assert_eq!(got, candles[3..5], "the newest two of minutes 2..5");
    assert!(history
        .candles(&Query::new("ETH"), Timeframe::M1)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn memory_journal_keys_records_and_orders_them() {
    let log = MemoryJournal::new();
    for minute in [2, 0, 1] {
        let decision = DecisionRecord::new("BTCUSDT".into(), at(minute * 60_000))
            .agent("technical", AgentDecision::new("BUY", 0.7, "cross"));
        log.record_decision(&decision).await.unwrap();
        log.record_decision(&decision).await.unwrap();
    }
    let got = log.decisions(&Query::new("BTCUSDT")).await.unwrap();
    let times: Vec<_> = got.iter().map(|d| d.timestamp).collect();
    assert_eq!(times, [at(0), at(60_000), at(120_000)]);

    let mut trade = TradeRecord::new(
        "t1",
        "BTCUSDT".into(),
        Side::Buy,
        at(0),
        d("45000"),
        d("0.1"),
    );
    log.record_trade(&trade).await.unwrap();
    trade.status = TradeStatus::Closed;
    trade.exit_price = Some(d("45100"));
    log.record_trade(&trade).await.unwrap();
    assert_eq!(
        log.trades(&Query::new("BTCUSDT")).await.unwrap(),
        vec![trade.clone()]
    );
    assert_eq!(log.trade("t1").await.unwrap(), Some(trade));

    for (minute, agent) in [(0, "technical"), (1, "risk"), (2, "technical")] {
        let lesson = Lesson::new("BTCUSDT".into(), at(minute * 60_000), agent, "lesson");
        log.record_lesson(&lesson).await.unwrap();
    }
    let btc = Symbol::new("BTCUSDT");
    let technical = log
        .recent_lessons(&btc, Some("technical"), 10)
        .await
        .unwrap();
    assert_eq!(technical.len(), 2);
    assert_eq!(technical[0].timestamp, at(120_000), "newest first");
    assert_eq!(log.recent_lessons(&btc, None, 1).await.unwrap().len(), 1);
}
