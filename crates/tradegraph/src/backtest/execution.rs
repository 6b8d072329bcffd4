//! How the paper broker executes a bot's orders: the cost table, the slippage model and when
//! market orders fill, as the configuration sets them (`[paper]`, `[paper.fees]`,
//! `[paper.slippage]`).

use crate::engine::Mode;
use rust_decimal::Decimal;
use serde::Serialize;
use tradegraph_broker::paper::{CostModel, FillTiming, SlippageModel};
use tradegraph_broker::PaperConfig;
use tradegraph_core::Instrument;

/// The paper broker's execution settings.
///
/// - `fees`: the cost table; `None` takes the venue's own ([`CostModel::for_instrument`]):
///   Zerodha's NSE futures charge sheet for instruments on NSE/BSE or quoted in rupees (the
///   futures sheet whatever the segment: set `[paper.fees]` for cash equities or options),
///   Binance spot's VIP 0 maker/taker otherwise.
/// - `slippage`: the slippage model (2 bp unless set).
/// - `fill_timing`: when market orders fill; `None` follows the feed:
///   [`FillTiming::NextOpen`] in a backtest and whenever the feed replays bars
///   (`replayed_bars`, so `tradegraph run` on a file too: never at the close that triggered the
///   decision), [`FillTiming::Immediate`] for the paper bot on a tick or trade feed (live,
///   synthetic), whose last price event when it decides is the one after the decision's bar
///   already.
///
/// ```
/// use tradegraph::backtest::execution::ExecutionSettings;
/// use tradegraph::broker::paper::FillTiming;
/// use tradegraph::core::{Decimal, Instrument};
/// use tradegraph::engine::Mode;
/// let settings = ExecutionSettings::default();
/// let config = settings.paper_config(Instrument::btc_usdt(), Decimal::from(10_000), Mode::Backtest);
/// assert_eq!(config.fill_timing, FillTiming::NextOpen);
/// let paper = settings.paper_config(Instrument::btc_usdt(), Decimal::from(10_000), Mode::Service);
/// assert_eq!(paper.fill_timing, FillTiming::Immediate);
/// // The service on a file of bars (`tradegraph run` replaying data): next open as well.
/// let replay = ExecutionSettings { replayed_bars: true, ..ExecutionSettings::default() };
/// assert_eq!(replay.timing_for(Mode::Service), FillTiming::NextOpen);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExecutionSettings {
    /// The cost table (`None`: the venue's).
    pub fees: Option<CostModel>,
    /// The slippage model.
    pub slippage: SlippageModel,
    /// When market orders fill (`None`: next open in a backtest or on replayed bars, at once
    /// otherwise).
    pub fill_timing: Option<FillTiming>,
    /// Whether the feed replays a file of bars (`[bot] feed = "replay"`): then an unset
    /// `fill_timing` is next open in every mode, since the bar that decided is already closed.
    pub replayed_bars: bool,
}

impl ExecutionSettings {
    /// The cost table `instrument` is charged with: the one set, else its venue's
    /// ([`CostModel::for_instrument`]).
    pub fn fees_for(&self, instrument: &Instrument) -> CostModel {
        self.fees
            .clone()
            .unwrap_or_else(|| CostModel::for_instrument(instrument))
    }

    /// When market orders fill in `mode`: the timing set, else next open in a backtest or on
    /// replayed bars, at once for the paper bot on a tick or trade feed.
    pub fn timing_for(&self, mode: Mode) -> FillTiming {
        self.fill_timing
            .unwrap_or(match (mode, self.replayed_bars) {
                (Mode::Backtest, _) | (_, true) => FillTiming::NextOpen,
                (Mode::Service, false) => FillTiming::Immediate,
            })
    }

    /// The paper broker's configuration for `instrument` with `cash`, in `mode`.
    pub fn paper_config(&self, instrument: Instrument, cash: Decimal, mode: Mode) -> PaperConfig {
        let fees = self.fees_for(&instrument);
        PaperConfig::new(instrument, cash)
            .fees(fees)
            .slippage(self.slippage.clone())
            .fill_timing(self.timing_for(mode))
    }
}
