//! Bars a venue serves from its history endpoints (Binance klines, Kite historical candles).

use rust_decimal::Decimal;

/// One bar of a venue's history: open time and prices, as the test sets them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueBar {
    /// Open time, ms since the epoch.
    pub open_time_ms: i64,
    /// First price.
    pub open: Decimal,
    /// Highest price.
    pub high: Decimal,
    /// Lowest price.
    pub low: Decimal,
    /// Last price.
    pub close: Decimal,
    /// Quantity traded.
    pub volume: Decimal,
}

/// `count` consistent bars `step_ms` apart from `start_ms`: a deterministic walk around
/// `price` (prices with two decimals, volumes with five), different for each `seed`.
///
/// ```
/// use tradegraph_testkit::venue::walk;
/// let bars = walk(0, 60_000, 3, 100.into(), 7);
/// assert_eq!(bars.len(), 3);
/// assert_eq!(bars[2].open_time_ms, 120_000);
/// assert!(bars.iter().all(|b| b.low <= b.open.min(b.close) && b.open.max(b.close) <= b.high));
/// assert_eq!(bars[1].open, bars[0].close);
/// ```
pub fn walk(start_ms: i64, step_ms: i64, count: usize, price: Decimal, seed: u64) -> Vec<VenueBar> {
    let mut state = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        i64::try_from(state >> 40).unwrap_or(0)
    };
    let cents = Decimal::new(1, 2);
    let mut close = price.round_dp(2);
    let mut bars = Vec::with_capacity(count);
    let mut t = start_ms;
    for _ in 0..count {
        let open = close;
        let moved = open + Decimal::from(next() % 201 - 100) * cents;
        close = if moved > Decimal::ONE { moved } else { open };
        let high = open.max(close) + Decimal::from(next() % 50) * cents;
        let low = (open.min(close) - Decimal::from(next() % 50) * cents).max(cents);
        let volume = Decimal::new(next() % 10_000_000, 5);
        bars.push(VenueBar {
            open_time_ms: t,
            open,
            high,
            low,
            close,
            volume,
        });
        t += step_ms;
    }
    bars
}
