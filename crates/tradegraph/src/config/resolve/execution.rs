//! `[paper]`: the paper broker's cost table, slippage model and fill timing.

use super::Resolver;
use crate::backtest::execution::ExecutionSettings;
use crate::config::ConfigError;
use tradegraph_broker::paper::costs::CONFIGURED;
use tradegraph_broker::paper::{CostModel, FillTiming, SlippageModel, ZerodhaCharges};

/// When market orders fill: `next_open` or `immediate` (`[paper] fill_timing`).
pub const FILL_TIMING_VAR: &str = "TRADEGRAPH_FILL_TIMING";

impl Resolver<'_> {
    /// `[paper] fill_timing` (or `TRADEGRAPH_FILL_TIMING`), `[paper.fees]` and
    /// `[paper.slippage]`, each checked: a negative rate or an unusable model is an error at its
    /// line of the file. `replayed_bars`: the feed replays a file (next-open fills unless set).
    pub(super) fn execution(
        &mut self,
        replayed_bars: bool,
    ) -> Result<ExecutionSettings, ConfigError> {
        let section = self.doc().map(|d| &d.paper);
        let timing = section.and_then(|p| p.fill_timing);
        let fees = section.and_then(|p| p.fees.clone());
        let slippage = section.and_then(|p| p.slippage.clone());
        let fill_timing = self.pick_opt(
            "paper.fill_timing",
            None,
            Some(FILL_TIMING_VAR),
            |v| v.parse::<FillTiming>(),
            timing,
        )?;
        if let (Some(file), Some(fees)) = (self.file, &fees) {
            if let Some(problem) = fees.get_ref().problem() {
                return Err(file.error_at(fees.span().start, format!("paper.fees: {problem}")));
            }
            self.origins.set("paper.fees", crate::config::Origin::File);
        }
        if let (Some(file), Some(slippage)) = (self.file, &slippage) {
            if let Some(problem) = slippage.get_ref().problem() {
                return Err(
                    file.error_at(slippage.span().start, format!("paper.slippage: {problem}"))
                );
            }
            self.origins
                .set("paper.slippage", crate::config::Origin::File);
        }
        Ok(ExecutionSettings {
            fees: fees.map(|f| undated(f.into_inner())),
            slippage: slippage.map_or_else(SlippageModel::default, |s| s.into_inner()),
            fill_timing,
            replayed_bars,
        })
    }
}

/// A Zerodha sheet from the file whose rates differ from the published ones but whose
/// `rates_as_of` is still the published date: its rates are the user's, so it says
/// [`CONFIGURED`](tradegraph_broker::paper::costs::CONFIGURED) rather than a date they are not
/// from. A date set with the edits is kept.
fn undated(fees: CostModel) -> CostModel {
    match fees {
        CostModel::ZerodhaFutures(mut sheet) => {
            let published = ZerodhaCharges::nse_futures();
            let edited = ZerodhaCharges {
                rates_as_of: published.rates_as_of.clone(),
                ..sheet.clone()
            } != published;
            if edited && sheet.rates_as_of == published.rates_as_of {
                sheet.rates_as_of = CONFIGURED.to_owned();
            }
            CostModel::ZerodhaFutures(sheet)
        }
        other => other,
    }
}
