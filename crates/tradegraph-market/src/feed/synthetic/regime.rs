//! Volatility regimes: calm, normal and turbulent, and the Markov chain that moves between them.

use super::random::Sampler;
use crate::MarketError;

/// A volatility regime of the synthetic market.
///
/// ```
/// use tradegraph_market::feed::synthetic::Regime;
/// assert_eq!(Regime::ALL.map(Regime::index), [0, 1, 2]);
/// assert_eq!(Regime::Turbulent.to_string(), "turbulent");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Regime {
    /// Quiet: low volatility, fewer trades.
    Calm,
    /// Ordinary trading.
    Normal,
    /// Stress: high volatility, more trades.
    Turbulent,
}

impl Regime {
    /// The three regimes, calmest first.
    pub const ALL: [Regime; 3] = [Self::Calm, Self::Normal, Self::Turbulent];

    /// Position in [`Regime::ALL`] (and row/column in [`RegimeConfig::switch`]).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The lowercase name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Calm => "calm",
            Self::Normal => "normal",
            Self::Turbulent => "turbulent",
        }
    }
}

impl std::fmt::Display for Regime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How the market behaves in one regime.
///
/// ```
/// use tradegraph_market::feed::synthetic::RegimeParams;
/// // 15 % annualised volatility, no drift, trading twice as often as the base rate.
/// let stressed = RegimeParams { drift: 0.0, volatility: 0.15, activity: 2.0 };
/// assert_eq!(stressed.volatility, 0.15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegimeParams {
    /// Annualised expected return `mu` (`0.05` for 5 % a year); the log price drifts by
    /// `mu - volatility^2 / 2`.
    pub drift: f64,
    /// Annualised volatility of the log price (`0.15` for 15 %).
    pub volatility: f64,
    /// Trade-rate multiplier: trades arrive `activity` times as often as
    /// [`SyntheticConfig::mean_interval_ms`](super::SyntheticConfig::mean_interval_ms) says.
    pub activity: f64,
}

/// The three regimes and the Markov chain over them.
///
/// The chain stays in a regime for an exponentially distributed stretch of trading time (mean
/// [`mean_duration_ms`](Self::mean_duration_ms); closed hours do not count), then moves to one
/// of the other two with the weights of its row in [`switch`](Self::switch).
///
/// ```
/// use tradegraph_market::feed::synthetic::{Regime, RegimeConfig, RegimeParams};
/// let regimes = RegimeConfig::new(
///     RegimeParams { drift: 0.0, volatility: 0.10, activity: 0.7 },
///     RegimeParams { drift: 0.05, volatility: 0.16, activity: 1.0 },
///     RegimeParams { drift: -0.2, volatility: 0.35, activity: 2.0 },
///     90.0 * 60_000.0, // 90 minutes of trading on average
/// );
/// assert_eq!(regimes.params(Regime::Turbulent).volatility, 0.35);
/// assert!(regimes.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RegimeConfig {
    /// Calm.
    pub calm: RegimeParams,
    /// Normal.
    pub normal: RegimeParams,
    /// Turbulent.
    pub turbulent: RegimeParams,
    /// Mean time in a regime, in milliseconds of trading time. `f64::INFINITY` never switches.
    pub mean_duration_ms: f64,
    /// `switch[from][to]`: relative weights of the next regime when the chain leaves `from`
    /// (indexed by [`Regime::index`]); the diagonal is ignored.
    pub switch: [[f64; 3]; 3],
    /// The regime at the start.
    pub initial: Regime,
}

impl RegimeConfig {
    /// The default switching weights: calm mostly turns normal, turbulent mostly calms down to
    /// normal, normal goes either way.
    pub const DEFAULT_SWITCH: [[f64; 3]; 3] = [[0.0, 0.8, 0.2], [0.5, 0.0, 0.5], [0.2, 0.8, 0.0]];

    /// Three regimes with [`DEFAULT_SWITCH`](Self::DEFAULT_SWITCH), starting in
    /// [`Regime::Normal`].
    pub fn new(
        calm: RegimeParams,
        normal: RegimeParams,
        turbulent: RegimeParams,
        mean_duration_ms: f64,
    ) -> Self {
        Self {
            calm,
            normal,
            turbulent,
            mean_duration_ms,
            switch: Self::DEFAULT_SWITCH,
            initial: Regime::Normal,
        }
    }

    /// One regime forever: the same parameters everywhere and no switching.
    pub fn constant(params: RegimeParams) -> Self {
        Self::new(params, params, params, f64::INFINITY)
    }

    /// The parameters of `regime`.
    pub fn params(&self, regime: Regime) -> &RegimeParams {
        match regime {
            Regime::Calm => &self.calm,
            Regime::Normal => &self.normal,
            Regime::Turbulent => &self.turbulent,
        }
    }

    /// Checks that every figure can work.
    ///
    /// # Errors
    ///
    /// [`MarketError::Config`] naming the field (`synthetic.regimes.turbulent.volatility`).
    pub fn validate(&self) -> Result<(), MarketError> {
        for regime in Regime::ALL {
            let p = self.params(regime);
            let field = |name: &str| format!("synthetic.regimes.{regime}.{name}");
            if !p.drift.is_finite() {
                return Err(bad(
                    field("drift"),
                    p.drift,
                    "give a finite number, e.g. 0.05",
                ));
            }
            if !(p.volatility.is_finite() && p.volatility >= 0.0 && p.volatility <= 20.0) {
                return Err(bad(
                    field("volatility"),
                    p.volatility,
                    "give an annualised volatility between 0 and 20, e.g. 0.15",
                ));
            }
            if !(p.activity.is_finite() && p.activity > 0.0) {
                return Err(bad(
                    field("activity"),
                    p.activity,
                    "give a positive multiplier",
                ));
            }
        }
        if self.mean_duration_ms.is_nan() || self.mean_duration_ms < 1.0 {
            return Err(bad(
                "synthetic.regimes.mean_duration_ms".into(),
                self.mean_duration_ms,
                "give at least 1 ms (f64::INFINITY never switches)",
            ));
        }
        for from in Regime::ALL {
            let row = self.switch[from.index()];
            let others = Regime::ALL.into_iter().filter(|to| *to != from);
            let mut total = 0.0;
            for to in others {
                let w = row[to.index()];
                if !(w.is_finite() && w >= 0.0) {
                    return Err(bad(
                        format!("synthetic.regimes.switch[{from}][{to}]"),
                        w,
                        "give a weight >= 0",
                    ));
                }
                total += w;
            }
            if total <= 0.0 && self.mean_duration_ms.is_finite() {
                return Err(MarketError::Config(format!(
                    "synthetic.regimes.switch[{from}]: the chain must be able to leave {from}; \
                     give a positive weight to another regime"
                )));
            }
        }
        Ok(())
    }
}

fn bad(field: String, value: f64, hint: &str) -> MarketError {
    MarketError::Config(format!("{field} {value} cannot work: {hint}"))
}

/// Where the chain is: the current regime and when (in trading milliseconds) it ends.
#[derive(Debug, Clone)]
pub(super) struct Chain {
    current: Regime,
    ends_at: f64,
}

impl Chain {
    /// The chain in its initial regime at trading time 0.
    pub(super) fn start(config: &RegimeConfig, sampler: &mut Sampler) -> Self {
        Self {
            current: config.initial,
            ends_at: sampler.exponential(config.mean_duration_ms),
        }
    }

    /// The current regime.
    #[inline]
    pub(super) fn current(&self) -> Regime {
        self.current
    }

    /// Moves the chain to trading time `now`. Returns whether the regime changed.
    #[inline]
    pub(super) fn advance(
        &mut self,
        now: f64,
        config: &RegimeConfig,
        sampler: &mut Sampler,
    ) -> bool {
        let before = self.current;
        while now >= self.ends_at {
            self.current = next_regime(self.current, config, sampler);
            self.ends_at += sampler.exponential(config.mean_duration_ms);
        }
        self.current != before
    }
}

/// Draws where the chain goes from `from`.
fn next_regime(from: Regime, config: &RegimeConfig, sampler: &mut Sampler) -> Regime {
    let row = config.switch[from.index()];
    let weight = |to: Regime| if to == from { 0.0 } else { row[to.index()] };
    let total: f64 = Regime::ALL.into_iter().map(weight).sum();
    let mut pick = sampler.uniform() * total;
    let mut last = from;
    for to in Regime::ALL {
        let w = weight(to);
        if w > 0.0 {
            last = to;
            if pick < w {
                return to;
            }
            pick -= w;
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(volatility: f64) -> RegimeParams {
        RegimeParams {
            drift: 0.0,
            volatility,
            activity: 1.0,
        }
    }

    fn config() -> RegimeConfig {
        RegimeConfig::new(params(0.1), params(0.2), params(0.4), 1_000.0)
    }

    #[test]
    fn the_chain_switches_to_other_regimes_at_the_mean_rate() {
        let config = config();
        let mut sampler = Sampler::new(3, "");
        let mut chain = Chain::start(&config, &mut sampler);
        let mut visits = [0u32; 3];
        let mut switches = 0;
        let mut previous = chain.current();
        for step in 1..=1_000_000 {
            if chain.advance(f64::from(step), &config, &mut sampler) {
                assert_ne!(
                    chain.current(),
                    previous,
                    "a switch moves to another regime"
                );
                switches += 1;
                previous = chain.current();
            }
            visits[chain.current().index()] += 1;
        }
        // 1e6 ms at a mean of 1e3 ms per regime: about 1000 switches.
        assert!((850..1150).contains(&switches), "{switches} switches");
        assert!(visits.iter().all(|v| *v > 100_000), "{visits:?}");
    }

    #[test]
    fn a_constant_regime_never_switches() {
        let config = RegimeConfig::constant(params(0.2));
        assert!(config.validate().is_ok());
        let mut sampler = Sampler::new(3, "");
        let mut chain = Chain::start(&config, &mut sampler);
        assert!(!chain.advance(1e15, &config, &mut sampler));
    }

    #[test]
    fn bad_figures_are_named() {
        let mut bad_vol = config();
        bad_vol.turbulent.volatility = f64::NAN;
        let message = bad_vol.validate().err().map(|e| e.to_string());
        assert!(message.is_some_and(|m| m.contains("synthetic.regimes.turbulent.volatility")));
        let mut stuck = config();
        stuck.switch[1] = [0.0, 1.0, 0.0];
        let message = stuck.validate().err().map(|e| e.to_string());
        assert!(message.is_some_and(|m| m.contains("switch[normal]")));
        let mut negative = config();
        negative.switch[0][2] = -1.0;
        assert!(negative.validate().is_err());
    }
}
