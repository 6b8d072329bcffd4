//! What every hot cache does, checked on memory and Redis alike.

use std::time::Duration;
use tradegraph_core::{Candle, Decimal, Symbol, Tick, Timeframe, Timestamp};
use tradegraph_store::{HotCache, LatestPrice};

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// 2024-01-01T10:00:00Z plus `ms`.
pub fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(1_704_103_200_000 + ms)
}

pub fn candle(tf: Timeframe, minute: i64, close: &str) -> Candle {
    let mut c = Candle::opening(at(minute * 60_000), tf, d("100"), d("1"));
    c.update(d(close), d("0.5"));
    c
}

pub async fn run_all(cache: &dyn HotCache, instrument: &Symbol) {
    latest_price_and_ticks(cache, instrument).await;
    candles_replace_and_come_newest_last(cache, instrument).await;
    unknown_instruments_are_empty(cache).await;
    latest_alone_adds_no_tick(cache, &Symbol::new(super::unique("LATEST"))).await;
    latest_never_moves_back_in_time(cache, &Symbol::new(super::unique("ORDER"))).await;
    klines_keep_their_figures(cache, &Symbol::new(super::unique("KLINE"))).await;
}

/// An exchange's kline comes back with its quote and taker volumes.
pub async fn klines_keep_their_figures(cache: &dyn HotCache, sym: &Symbol) {
    let mut kline = candle(Timeframe::M1, 0, "101");
    kline.quote_volume = Some(d("151.5"));
    kline.taker_buy_volume = Some(d("0.75"));
    kline.taker_buy_quote_volume = Some(d("75.75"));
    cache.put_candle(sym, &kline).await.unwrap();
    assert_eq!(
        cache.recent_candles(sym, Timeframe::M1, 1).await.unwrap(),
        [kline]
    );
}

pub fn latest(price: &str, ms: i64) -> LatestPrice {
    LatestPrice {
        price: d(price),
        ts: at(ms),
    }
}

/// `put_latest` sets the latest price and time, and writes no tick.
pub async fn latest_alone_adds_no_tick(cache: &dyn HotCache, sym: &Symbol) {
    cache.put_latest(sym, latest("97.5", 60_000)).await.unwrap();
    assert_eq!(
        cache.latest_price(sym).await.unwrap(),
        Some(latest("97.5", 60_000))
    );
    assert!(cache.recent_ticks(sym, 10).await.unwrap().is_empty());
    cache
        .put_tick(sym, &Tick::new(at(61_000), d("98"), d("0.1")))
        .await
        .unwrap();
    let ticks = cache.recent_ticks(sym, 10).await.unwrap();
    cache
        .put_latest(sym, latest("98.5", 120_000))
        .await
        .unwrap();
    assert_eq!(
        cache.latest_price(sym).await.unwrap(),
        Some(latest("98.5", 120_000))
    );
    assert_eq!(cache.recent_ticks(sym, 10).await.unwrap(), ticks);
    assert_eq!(ticks.len(), 1);
}

/// An older tick or price leaves the latest price as it is (the tick is still kept); one of the
/// same time replaces it.
pub async fn latest_never_moves_back_in_time(cache: &dyn HotCache, sym: &Symbol) {
    cache
        .put_tick(sym, &Tick::new(at(60_000), d("100"), d("1")))
        .await
        .unwrap();
    cache.put_latest(sym, latest("99", 30_000)).await.unwrap();
    assert_eq!(
        cache.latest_price(sym).await.unwrap(),
        Some(latest("100", 60_000)),
        "an older price after a tick"
    );
    cache.put_latest(sym, latest("101", 120_000)).await.unwrap();
    cache
        .put_tick(sym, &Tick::new(at(90_000), d("98"), d("1")))
        .await
        .unwrap();
    assert_eq!(
        cache.latest_price(sym).await.unwrap(),
        Some(latest("101", 120_000)),
        "an older tick after a price"
    );
    let prices: Vec<Decimal> = cache
        .recent_ticks(sym, 10)
        .await
        .unwrap()
        .iter()
        .map(|t| t.price)
        .collect();
    assert_eq!(
        prices,
        [d("100"), d("98")],
        "the older tick is kept as a tick"
    );
    cache
        .put_latest(sym, latest("101.5", 120_000))
        .await
        .unwrap();
    assert_eq!(
        cache.latest_price(sym).await.unwrap(),
        Some(latest("101.5", 120_000)),
        "the same time replaces"
    );
    cache
        .put_tick(sym, &Tick::new(at(180_000), d("102"), d("1")))
        .await
        .unwrap();
    assert_eq!(
        cache.latest_price(sym).await.unwrap(),
        Some(latest("102", 180_000))
    );
}

/// For a cache whose latest price lives `ttl` (short: this waits for it): a price put alone
/// expires like a tick's, and once expired no longer holds back an older one.
pub async fn latest_alone_expires_like_a_ticks(cache: &dyn HotCache, ttl: Duration) {
    let by_tick = Symbol::new(super::unique("TTLTICK"));
    let alone = Symbol::new(super::unique("TTLALONE"));
    cache
        .put_tick(&by_tick, &Tick::new(at(60_000), d("1"), d("1")))
        .await
        .unwrap();
    cache.put_latest(&alone, latest("2", 60_000)).await.unwrap();
    assert!(cache.latest_price(&by_tick).await.unwrap().is_some());
    assert!(cache.latest_price(&alone).await.unwrap().is_some());
    tokio::time::sleep(ttl + Duration::from_millis(600)).await;
    assert_eq!(cache.latest_price(&by_tick).await.unwrap(), None);
    assert_eq!(cache.latest_price(&alone).await.unwrap(), None);
    cache.put_latest(&alone, latest("3", 0)).await.unwrap();
    assert_eq!(
        cache.latest_price(&alone).await.unwrap(),
        Some(latest("3", 0))
    );
}

pub async fn latest_price_and_ticks(cache: &dyn HotCache, sym: &Symbol) {
    assert_eq!(cache.latest_price(sym).await.unwrap(), None);
    let ticks = [
        (0, "45000.50"),
        (400, "45001"),
        (1_000, "45002.25"),
        (2_500, "45003"),
    ];
    for (ms, price) in ticks {
        let mut t = Tick::new(at(ms), d(price), d("0.1"));
        t.bid = Some(d("44999"));
        cache.put_tick(sym, &t).await.unwrap();
    }
    let latest = cache.latest_price(sym).await.unwrap().unwrap();
    assert_eq!(latest.price.to_string(), "45003");
    assert_eq!(latest.ts, at(2_500));
    // One tick per second, the last of each; oldest first.
    let recent = cache.recent_ticks(sym, 10).await.unwrap();
    let prices: Vec<String> = recent.iter().map(|t| t.price.to_string()).collect();
    assert_eq!(prices, ["45001", "45002.25", "45003"]);
    assert_eq!(recent[0].bid, Some(d("44999")));
    assert_eq!(recent[0].ts, at(400), "the tick keeps its millisecond time");
    let two = cache.recent_ticks(sym, 2).await.unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(two[1].price, d("45003"));
    assert!(cache.recent_ticks(sym, 0).await.unwrap().is_empty());
}

pub async fn candles_replace_and_come_newest_last(cache: &dyn HotCache, sym: &Symbol) {
    for minute in 0..5 {
        cache
            .put_candle(sym, &candle(Timeframe::M1, minute, "101"))
            .await
            .unwrap();
    }
    // The forming candle is written again as it grows.
    let grown = candle(Timeframe::M1, 4, "105.5");
    cache.put_candle(sym, &grown).await.unwrap();
    cache
        .put_candle(sym, &candle(Timeframe::M5, 0, "99"))
        .await
        .unwrap();
    let last3 = cache.recent_candles(sym, Timeframe::M1, 3).await.unwrap();
    let opens: Vec<Timestamp> = last3.iter().map(|c| c.open_time).collect();
    assert_eq!(opens, [at(120_000), at(180_000), at(240_000)]);
    assert_eq!(last3[2], grown);
    assert_eq!(
        cache
            .recent_candles(sym, Timeframe::M1, 100)
            .await
            .unwrap()
            .len(),
        5
    );
    let five = cache.recent_candles(sym, Timeframe::M5, 10).await.unwrap();
    assert_eq!(five.len(), 1);
    assert_eq!(five[0].close, d("99"));
    assert!(cache
        .recent_candles(sym, Timeframe::H1, 10)
        .await
        .unwrap()
        .is_empty());
}

pub async fn unknown_instruments_are_empty(cache: &dyn HotCache) {
    let nobody = Symbol::new(super::unique("NOBODY"));
    assert_eq!(cache.latest_price(&nobody).await.unwrap(), None);
    assert!(cache.recent_ticks(&nobody, 5).await.unwrap().is_empty());
    assert!(cache
        .recent_candles(&nobody, Timeframe::M1, 5)
        .await
        .unwrap()
        .is_empty());
}
