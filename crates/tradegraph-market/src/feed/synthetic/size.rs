//! Trade and book sizes: a log-normal number of lot steps.

use super::grid::Grid;
use super::random::Sampler;
use crate::MarketError;
use tradegraph_core::Quantity;

/// How big trades (or book levels) are: a whole number of `step`s, log-normally distributed
/// around `median_steps`, at least one step and at most `max_steps`.
///
/// ```
/// use rust_decimal::Decimal;
/// use tradegraph_market::feed::synthetic::SizeModel;
/// // Bank Nifty futures: lots of 30, usually 1 to 5 lots, never more than 40.
/// let size = SizeModel { step: Decimal::from(30), median_steps: 2.0, dispersion: 0.8, max_steps: 40 };
/// assert!(size.validate("synthetic.size").is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeModel {
    /// The quantity step (the instrument's lot size: `0.00001` BTC, 30 Bank Nifty units).
    pub step: Quantity,
    /// The median size, in steps.
    pub median_steps: f64,
    /// Standard deviation of the logarithm of the size (`0` for always the median).
    pub dispersion: f64,
    /// The largest size, in steps.
    pub max_steps: u64,
}

impl SizeModel {
    /// Checks that the model can work; `field` names it in errors (`synthetic.size`).
    ///
    /// # Errors
    ///
    /// [`MarketError::Config`] naming the field and what to give instead.
    pub fn validate(&self, field: &str) -> Result<(), MarketError> {
        let grid = Grid::new(self.step).ok_or_else(|| {
            MarketError::Config(format!(
                "{field}.step {} cannot work: give a positive quantity step, e.g. the lot size",
                self.step
            ))
        })?;
        if !(self.median_steps.is_finite() && self.median_steps >= 1.0) {
            return Err(MarketError::Config(format!(
                "{field}.median_steps {} cannot work: give a number of steps >= 1",
                self.median_steps
            )));
        }
        if !(self.dispersion.is_finite() && (0.0..=5.0).contains(&self.dispersion)) {
            return Err(MarketError::Config(format!(
                "{field}.dispersion {} cannot work: give a value between 0 and 5, e.g. 1",
                self.dispersion
            )));
        }
        let max = i64::try_from(self.max_steps).unwrap_or(i64::MAX);
        if max < 1 || max > grid.max_count() {
            return Err(MarketError::Config(format!(
                "{field}.max_steps {} cannot work: give between 1 and {}",
                self.max_steps,
                grid.max_count()
            )));
        }
        Ok(())
    }
}

/// A validated [`SizeModel`], ready to draw.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sizes {
    grid: Grid,
    ln_median: f64,
    dispersion: f64,
    max_steps: i64,
}

impl Sizes {
    /// The sampler of `model`, or the configuration error.
    pub(super) fn new(model: &SizeModel, field: &str) -> Result<Self, MarketError> {
        model.validate(field)?;
        let grid = Grid::new(model.step).ok_or_else(|| MarketError::Config(field.to_owned()))?;
        Ok(Self {
            grid,
            ln_median: model.median_steps.ln(),
            dispersion: model.dispersion,
            max_steps: i64::try_from(model.max_steps).unwrap_or(i64::MAX),
        })
    }

    /// One size.
    #[inline]
    pub(super) fn draw(&self, sampler: &mut Sampler) -> Quantity {
        let steps = if self.dispersion > 0.0 {
            (self.ln_median + self.dispersion * sampler.normal()).exp()
        } else {
            self.ln_median.exp()
        };
        // Positive: truncating `x + 0.5` rounds; the cast saturates; validate() bounded
        // `max_steps` by the grid.
        self.grid
            .value(((steps + 0.5) as i64).min(self.max_steps).max(1))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rust_decimal::Decimal;

    fn model() -> SizeModel {
        SizeModel {
            step: Decimal::new(1, 5),
            median_steps: 500.0,
            dispersion: 1.5,
            max_steps: 200_000,
        }
    }

    #[test]
    fn sizes_are_whole_steps_within_bounds() {
        let sizes = Sizes::new(&model(), "synthetic.size").unwrap();
        let mut sampler = Sampler::new(11, "");
        let step = Decimal::new(1, 5);
        let mut below_median = 0;
        for _ in 0..10_000 {
            let q = sizes.draw(&mut sampler);
            assert!(q >= step && q <= Decimal::from(2), "{q}");
            assert!((q % step).is_zero(), "{q}");
            if q < Decimal::new(5, 3) {
                below_median += 1;
            }
        }
        assert!((4_500..5_500).contains(&below_median), "{below_median}");
    }

    #[test]
    fn bad_models_are_named() {
        let zero_step = SizeModel {
            step: Decimal::ZERO,
            ..model()
        };
        let message = zero_step
            .validate("synthetic.size")
            .err()
            .map(|e| e.to_string());
        assert!(message.is_some_and(|m| m.contains("synthetic.size.step 0")));
        let no_max = SizeModel {
            max_steps: 0,
            ..model()
        };
        assert!(no_max.validate("synthetic.book.size").is_err());
        let tiny = SizeModel {
            median_steps: 0.5,
            ..model()
        };
        assert!(tiny.validate("synthetic.size").is_err());
    }
}
