//! Properties over arbitrary finite bars: no panic, finite outputs, oscillators in range.

#![allow(clippy::unwrap_used)]

use super::{Bar, IndicatorConfig, IndicatorSet};
use proptest::prelude::*;
use tradegraph_core::Timestamp;

/// A price: anything from fractions of a cent to millions, or one of a few repeated levels (to
/// get flat stretches, ties and zero ranges).
fn price() -> impl Strategy<Value = f64> {
    prop_oneof![
        1e-4..1e6f64,
        prop::sample::select(vec![1.0, 1.0 + 1e-9, 1.5, 100.0]),
    ]
}

/// A consistent bar (`low <= open, close <= high`), minutes to days after the previous one.
fn bar() -> impl Strategy<Value = (i64, f64, f64, f64, f64, f64)> {
    (
        prop::sample::select(vec![60_000i64, 3_600_000, 86_400_000]),
        price(),
        price(),
        prop_oneof![Just(0.0), 0.0..1e3f64],
        prop_oneof![Just(0.0), 0.0..1e3f64],
        prop_oneof![Just(0.0), 0.0..1e9f64],
    )
}

fn small_config() -> impl Strategy<Value = IndicatorConfig> {
    (2usize..30, 2usize..30, 1usize..10, 1usize..5).prop_map(|(a, b, c, d)| IndicatorConfig {
        sma: a,
        ema: b,
        rsi: a,
        macd_fast: a.min(b),
        macd_slow: a.max(b),
        macd_signal: c,
        bollinger: b,
        atr: c,
        stoch_k: c,
        stoch_slow_k: d,
        stoch_d: d,
        adx: a,
        ..IndicatorConfig::default()
    })
}

proptest! {
    #[test]
    fn updates_stay_finite_and_oscillators_in_range(
        config in prop_oneof![Just(IndicatorConfig::default()), small_config()],
        bars in prop::collection::vec(bar(), 0..200),
    ) {
        let mut set = IndicatorSet::new(config).unwrap();
        let mut t = 0i64;
        for (gap, open, close, up, down, volume) in bars {
            t += gap;
            let high = open.max(close) + up;
            let low = open.min(close) - down;
            let v = set.update(&Bar::new(Timestamp::from_millis(t), open, high, low, close, volume));
            let all = [
                v.sma, v.ema, v.rsi, v.macd, v.macd_signal, v.macd_hist, v.bb_upper, v.bb_middle,
                v.bb_lower, v.atr, v.stoch_k, v.stoch_d, v.adx, v.obv, v.vwap,
            ];
            for value in all.into_iter().flatten() {
                prop_assert!(value.is_finite(), "{v:?}");
            }
            for value in [v.rsi, v.stoch_k, v.stoch_d, v.adx].into_iter().flatten() {
                prop_assert!((0.0..=100.0).contains(&value), "{v:?}");
            }
            if let (Some(lower), Some(upper)) = (v.bb_lower, v.bb_upper) {
                prop_assert!(lower <= upper);
            }
        }
    }
}
