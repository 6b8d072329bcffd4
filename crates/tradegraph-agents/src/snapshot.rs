//! What the agents see of the market at one time.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tradegraph_core::{Book, Candle, OrderFlow, Timeframe, Timestamp};
use tradegraph_market::indicators::IndicatorValues;
use tradegraph_market::news::{MacroSnapshot, NewsItem};

/// The market as of one time: recent candles and indicators per timeframe, the book and the
/// order flow. Built from data known at `as_of`, never later.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MarketSnapshot {
    /// When.
    pub as_of: Timestamp,
    /// The last price.
    pub price: Decimal,
    /// Recent closed candles per timeframe, oldest first.
    pub candles: BTreeMap<Timeframe, Vec<Candle>>,
    /// Indicator values after the last closed candle, per timeframe.
    pub indicators: BTreeMap<Timeframe, IndicatorValues>,
    /// The latest top-5 book.
    pub book: Option<Book>,
    /// Order flow of the session so far.
    pub flow: Option<OrderFlow>,
}

impl MarketSnapshot {
    /// The last price as a float, for analytics.
    pub fn price_f64(&self) -> f64 {
        self.price.try_into().unwrap_or(f64::NAN)
    }

    /// Recent candles of a timeframe (empty when there are none).
    pub fn candles(&self, timeframe: Timeframe) -> &[Candle] {
        self.candles.get(&timeframe).map_or(&[], Vec::as_slice)
    }

    /// Indicator values of a timeframe.
    pub fn indicators(&self, timeframe: Timeframe) -> Option<&IndicatorValues> {
        self.indicators.get(&timeframe)
    }
}

/// News and macro inputs known at the decision time. Third-party text: data, never instructions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExternalInputs {
    /// Recent news, newest first.
    pub news: Vec<NewsItem>,
    /// The latest macro figures.
    pub macro_snapshot: Option<MacroSnapshot>,
}
