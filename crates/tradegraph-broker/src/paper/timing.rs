//! When a market order fills, and the description of the whole execution model.

use super::{CostModel, SlippageModel};
use serde::{Deserialize, Serialize};
use std::fmt;

/// When the paper broker fills a market order (and a limit order marketable when placed).
///
/// A backtest decides on a bar's close, after seeing it: filling at that close would trade at a
/// price nobody could still get. [`NextOpen`](Self::NextOpen), what backtests (and `tradegraph
/// run` on replayed bars) use, fills at the next price event's first price instead: the next
/// bar's open (the next tick's price on a tick feed). [`Immediate`](Self::Immediate) fills at
/// once against the last price event: what [`PaperConfig::new`](super::PaperConfig::new) sets,
/// right for a paper bot on a tick or trade feed, whose last price event is the one that closed
/// the candle, so the fill is on the price event after the decision's bar.
///
/// It has no `Default` on purpose: the right choice depends on the feed, so callers pick one.
///
/// ```
/// use tradegraph_broker::paper::FillTiming;
/// assert_eq!("immediate".parse::<FillTiming>(), Ok(FillTiming::Immediate));
/// assert_eq!("next_open".parse::<FillTiming>(), Ok(FillTiming::NextOpen));
/// ```
///
/// ```compile_fail
/// use tradegraph_broker::paper::FillTiming;
/// let _ = FillTiming::default(); // no default: pick NextOpen or Immediate
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillTiming {
    /// At the next price event's first price (the next bar's open).
    NextOpen,
    /// At once, against the last price event (a backtest's decision bar's close).
    Immediate,
}

impl FillTiming {
    /// `next_open` or `immediate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NextOpen => "next_open",
            Self::Immediate => "immediate",
        }
    }
}

impl fmt::Display for FillTiming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FillTiming {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "next_open" => Ok(Self::NextOpen),
            "immediate" => Ok(Self::Immediate),
            other => Err(format!(
                "fill timing `{other}` is not one of next_open, immediate"
            )),
        }
    }
}

/// How the paper broker executes, stated for reports (`summary.json`, the printed summary):
/// the cost table with every rate, the slippage model and when market orders fill. From
/// [`PaperConfig::describe`](super::PaperConfig::describe).
///
/// ```
/// use tradegraph_broker::PaperConfig;
/// use tradegraph_broker::paper::FillTiming;
/// use tradegraph_core::{Decimal, Instrument};
/// let config = PaperConfig::new(Instrument::bank_nifty(), Decimal::from(5_000_000))
///     .fill_timing(FillTiming::NextOpen);
/// let model = config.describe();
/// assert_eq!(
///     model.to_string(),
///     "fees zerodha_futures (rates as of 2026-04-01), slippage 2 bp, market orders fill at the next bar's open"
/// );
/// let json = serde_json::to_value(&model)?;
/// assert_eq!(json["fill_timing"], "next_open");
/// assert_eq!(json["fees"]["model"], "zerodha_futures");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionModel {
    /// The cost table, with its rates.
    pub fees: CostModel,
    /// The slippage model, with its settings.
    pub slippage: SlippageModel,
    /// When market orders fill.
    pub fill_timing: FillTiming,
}

impl fmt::Display for ExecutionModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fees {}", self.fees.name())?;
        match &self.fees {
            CostModel::ZerodhaFutures(z) if z.rates_as_of == super::costs::CONFIGURED => {
                f.write_str(" (configured rates)")?
            }
            CostModel::ZerodhaFutures(z) => write!(f, " (rates as of {})", z.rates_as_of)?,
            CostModel::BinanceSpot(b) => {
                write!(f, " (maker {}, taker {}", b.maker, b.taker)?;
                if b.pay_in_bnb {
                    write!(f, ", {}% off in BNB", b.bnb_discount_pct)?;
                }
                f.write_str(")")?;
            }
            CostModel::Bps(m) => write!(
                f,
                " (maker {}, taker {}, {} per fill)",
                m.maker, m.taker, m.flat_per_fill
            )?,
        }
        match &self.slippage {
            SlippageModel::Bps { bps } => write!(f, ", slippage {bps}")?,
            SlippageModel::Ticks { ticks } => write!(f, ", slippage {ticks} ticks")?,
            SlippageModel::Spread {
                share,
                fallback_spread,
            } => write!(
                f,
                ", slippage {share} of the spread ({fallback_spread} without a quote)"
            )?,
            SlippageModel::Volume { impact, cap } => write!(
                f,
                ", slippage {impact} × √(quantity / bar volume), at most {cap}"
            )?,
        }
        match self.fill_timing {
            FillTiming::NextOpen => f.write_str(", market orders fill at the next bar's open"),
            FillTiming::Immediate => {
                f.write_str(", market orders fill at once at the last price (the decision bar's close in a backtest)")
            }
        }
    }
}
