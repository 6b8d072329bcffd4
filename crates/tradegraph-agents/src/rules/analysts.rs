//! The four analysts in rule mode.

use super::text::{num, quote};
use super::{clamp_unit, RuleConfig};
use crate::reports::{
    FundamentalReport, KeyLevels, MacroReport, Regime, SentimentReport, Signal, TechnicalReport,
};
use crate::TradingState;
use rust_decimal::prelude::ToPrimitive;
use tradegraph_core::{Candle, Segment, Timeframe};
use tradegraph_market::indicators::IndicatorValues;

/// Trend, momentum and mean reversion from the decision timeframe's indicators.
///
/// Components, each in `[-1, 1]`: trend (close against the EMA in ATRs, weighted up when ADX
/// says the market trends), MACD histogram in tenths of an ATR, RSI beyond 35/65, Bollinger %B
/// outside the bands, and the stochastic crossing in its extremes.
pub fn technical(state: &TradingState, config: &RuleConfig) -> TechnicalReport {
    let tf = config.timeframe;
    let Some(raw) = state.market.indicators(tf) else {
        return not_enough_history(tf);
    };
    // A non-finite indicator is as good as a missing one.
    let finite = |v: Option<f64>| v.filter(|x| x.is_finite());
    let ind = IndicatorValues {
        ts: raw.ts,
        sma: finite(raw.sma),
        ema: finite(raw.ema),
        rsi: finite(raw.rsi),
        macd: finite(raw.macd),
        macd_signal: finite(raw.macd_signal),
        macd_hist: finite(raw.macd_hist),
        bb_upper: finite(raw.bb_upper),
        bb_middle: finite(raw.bb_middle),
        bb_lower: finite(raw.bb_lower),
        atr: finite(raw.atr),
        stoch_k: finite(raw.stoch_k),
        stoch_d: finite(raw.stoch_d),
        adx: finite(raw.adx),
        obv: finite(raw.obv),
        vwap: finite(raw.vwap),
    };
    let close = state.market.price_f64();
    // MACD needs 34 candles; the rest of the view works from 20.
    let (Some(ema), Some(atr), Some(rsi)) = (ind.ema, ind.atr, ind.rsi) else {
        return not_enough_history(tf);
    };
    let hist = ind.macd_hist;
    if !(atr > 0.0 && close.is_finite()) {
        return not_enough_history(tf);
    }
    let trending = ind.adx.is_some_and(|adx| adx >= 25.0);
    let trend = clamp_unit((close - ema) / atr);
    let momentum = hist.map_or(0.0, |h| clamp_unit(h / (0.1 * atr)));
    let reversion = if !(35.0..=65.0).contains(&rsi) {
        clamp_unit((50.0 - rsi) / 20.0)
    } else {
        0.0
    };
    let bands = match (ind.bb_lower, ind.bb_upper) {
        (Some(lo), _) if close < lo => 1.0,
        (Some(lo), Some(hi)) if close > hi && hi > lo => -1.0,
        _ => 0.0,
    };
    let stoch = match (ind.stoch_k, ind.stoch_d) {
        (Some(k), Some(d)) if k < 20.0 && k > d => 1.0,
        (Some(k), Some(d)) if k > 80.0 && k < d => -1.0,
        _ => 0.0,
    };
    let trend_weight = if trending { 0.45 } else { 0.25 };
    let score = clamp_unit(
        trend_weight * trend + 0.25 * momentum + 0.2 * reversion + 0.1 * bands + 0.1 * stoch,
    );
    let signal = Signal::from_score(score, 0.2);
    let reasoning = format!(
        "{tf} close {close:.2} is {:.2} ATR {} the EMA ({}); MACD histogram {} ({}); RSI {}{}; ADX {} ({}); stochastic %K {} %D {}.",
        ((close - ema) / atr).abs(),
        if close >= ema { "above" } else { "below" },
        num(Some(ema), 2),
        num(hist, 2),
        match hist {
            Some(h) if h >= 0.0 => "momentum up",
            Some(_) => "momentum down",
            None => "not enough history",
        },
        num(Some(rsi), 1),
        if rsi < 30.0 { " (oversold)" } else if rsi > 70.0 { " (overbought)" } else { "" },
        num(ind.adx, 1),
        if trending { "trending" } else { "no clear trend" },
        num(ind.stoch_k, 1),
        num(ind.stoch_d, 1),
    );
    TechnicalReport {
        signal,
        confidence: confidence(score),
        reasoning,
        key_levels: key_levels(close, state.market.candles(tf), ind.bb_lower, ind.bb_upper),
    }
}

fn not_enough_history(tf: Timeframe) -> TechnicalReport {
    TechnicalReport {
        signal: Signal::Hold,
        confidence: 0.1,
        reasoning: format!("Not enough {tf} history for the indicators yet."),
        key_levels: KeyLevels::default(),
    }
}

/// `0.3` at a zero score up to `0.95`.
fn confidence(score: f64) -> f64 {
    (0.3 + 0.7 * score.abs()).min(0.95)
}

fn key_levels(close: f64, candles: &[Candle], lower: Option<f64>, upper: Option<f64>) -> KeyLevels {
    let recent = &candles[candles.len().saturating_sub(20)..];
    let low = recent
        .iter()
        .filter_map(|c| c.low.to_f64())
        .reduce(f64::min);
    let high = recent
        .iter()
        .filter_map(|c| c.high.to_f64())
        .reduce(f64::max);
    let mut support: Vec<f64> = [lower, low]
        .into_iter()
        .flatten()
        .filter(|&l| l.is_finite() && l < close)
        .collect();
    let mut resistance: Vec<f64> = [upper, high]
        .into_iter()
        .flatten()
        .filter(|&h| h.is_finite() && h > close)
        .collect();
    support.sort_by(|a, b| b.total_cmp(a));
    resistance.sort_by(f64::total_cmp);
    support.dedup();
    resistance.dedup();
    KeyLevels {
        support,
        resistance,
    }
}

/// The long-horizon trend as a stand-in for fundamentals, which rule mode has no data for:
/// the return over the last 20 daily candles (hourly when there are too few daily ones).
pub fn fundamental(state: &TradingState) -> FundamentalReport {
    let (tf, candles) = [Timeframe::D1, Timeframe::H1]
        .into_iter()
        .map(|tf| (tf, state.market.candles(tf)))
        .find(|(_, c)| c.len() >= 5)
        .unwrap_or((Timeframe::D1, &[]));
    let context = if state.instrument.segment == Segment::Spot {
        "Adoption and on-chain data are not available to rule mode"
    } else {
        "Constituent earnings data is not available to rule mode"
    };
    let window = &candles[candles.len().saturating_sub(20)..];
    let change = match (window.first(), window.last()) {
        (Some(first), Some(last)) => (last.close - first.open)
            .checked_div(first.open)
            .and_then(|r| r.to_f64())
            .map(|r| r * 100.0),
        _ => None,
    };
    let Some(change) = change.filter(|c| c.is_finite()) else {
        return FundamentalReport {
            thesis: format!("{context}, and there is not enough history for a long-horizon trend."),
            signal: Signal::Hold,
            confidence: 0.1,
        };
    };
    let score = clamp_unit(change / 10.0);
    FundamentalReport {
        thesis: format!(
            "{context}; the {}-candle {tf} trend stands in for them: {change:+.2}%.",
            window.len()
        ),
        signal: Signal::from_score(score, 0.3),
        confidence: (0.2 + 0.5 * score.abs()).min(0.7),
    }
}

/// The news: the providers' own sentiment scores when given, otherwise a small word list over
/// headline and summary; newer stories count more. Only stories published by the decision time
/// are read.
pub fn sentiment(state: &TradingState) -> SentimentReport {
    let as_of = state.as_of;
    let mut weighted = 0.0;
    let mut weights = 0.0;
    let mut drivers = Vec::new();
    for (i, item) in state
        .inputs
        .news
        .iter()
        .filter(|n| n.published <= as_of)
        .take(20)
        .enumerate()
    {
        let score = item
            .sentiment
            .filter(|s| s.is_finite())
            .map(|s| s.clamp(-1.0, 1.0))
            .unwrap_or_else(|| super::text_sentiment(&item.headline, &item.summary));
        let w = 1.0 / (1.0 + i as f64 * 0.25);
        weighted += w * score;
        weights += w;
        if drivers.len() < 3 && score.abs() >= 0.2 {
            drivers.push(quote(&item.headline, 100));
        }
    }
    if weights == 0.0 {
        return SentimentReport {
            score: 0.0,
            confidence: 0.1,
            drivers: vec!["no news".into()],
        };
    }
    let score = clamp_unit(weighted / weights);
    SentimentReport {
        score,
        confidence: (0.2 + 0.6 * score.abs()).min(0.8),
        drivers,
    }
}

/// The regime from rates and inflation: inflation against the region's target (the RBI's 4%
/// within 2–6% for India, 2% with a 3% top elsewhere), the real policy rate, and the dollar
/// when the snapshot has ICE's DXY.
pub fn macro_view(state: &TradingState) -> MacroReport {
    let Some(m) = &state.inputs.macro_snapshot else {
        return MacroReport {
            regime: Regime::Neutral,
            confidence: 0.1,
            factors: vec!["no macro data".into()],
        };
    };
    let mut score = 0.0;
    let mut factors = Vec::new();
    let cpi = m.cpi_inflation_yoy_pct;
    let real = m.policy_rate_pct - cpi;
    // The central bank's target and the top of its band: the RBI's 4% within 2-6%; elsewhere
    // (the Fed for a crypto bot) 2%, with 3% as the top.
    let (target, ceiling) = if m.region.eq_ignore_ascii_case("IN") {
        (4.0, 6.0)
    } else {
        (2.0, 3.0)
    };
    if cpi > ceiling {
        score -= 0.5;
        factors.push(format!(
            "inflation {cpi:.2}% above the {ceiling}% tolerance"
        ));
    } else if cpi < target {
        score += 0.3;
        factors.push(format!("inflation {cpi:.2}% below the {target}% target"));
    } else {
        factors.push(format!("inflation {cpi:.2}% within the band"));
    }
    if real > 2.0 {
        score -= 0.3;
        factors.push(format!("real policy rate {real:.2}% restrictive"));
    } else if real < 0.5 {
        score += 0.2;
        factors.push(format!("real policy rate {real:.2}% accommodative"));
    }
    if let Some(dxy) = m.dxy.filter(|d| d.is_finite()) {
        if dxy > 105.0 {
            score -= 0.2;
            factors.push(format!("strong dollar (DXY {dxy:.1})"));
        } else if dxy < 100.0 {
            score += 0.1;
            factors.push(format!("soft dollar (DXY {dxy:.1})"));
        }
    }
    let score = clamp_unit(score);
    let regime = if score > 0.25 {
        Regime::RiskOn
    } else if score < -0.25 {
        Regime::RiskOff
    } else {
        Regime::Neutral
    };
    MacroReport {
        regime,
        confidence: (0.3 + 0.5 * score.abs()).min(0.8),
        factors,
    }
}
