//! The order in which a call tries the providers.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

/// What a [`SelectionPolicy`] knows of a provider.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The provider's name.
    pub name: &'a str,
    /// Its place in the configured chain (0 is the primary).
    pub position: usize,
    /// Its configured weight (1.0 unless set).
    pub weight: f64,
    /// Recent success rate, from 0 to 1 (an exponential moving average; 1.0 before any call).
    pub success_rate: f64,
    /// Recent latency (an exponential moving average), once known.
    pub latency: Option<Duration>,
}

/// Orders the providers for one call: the first is tried first, the others are the failover
/// order. Providers left out are not tried.
///
/// ```
/// use tradegraph_llm::fallback::{Candidate, SelectionPolicy};
///
/// /// The fastest first.
/// #[derive(Debug)]
/// struct Fastest;
///
/// impl SelectionPolicy for Fastest {
///     fn order(&self, candidates: &[Candidate<'_>]) -> Vec<usize> {
///         let mut order: Vec<usize> = (0..candidates.len()).collect();
///         order.sort_by_key(|&i| candidates[i].latency.unwrap_or_default());
///         order
///     }
/// }
/// ```
pub trait SelectionPolicy: Send + Sync + fmt::Debug {
    /// Indices into `candidates`, in the order to try them.
    fn order(&self, candidates: &[Candidate<'_>]) -> Vec<usize>;
}

/// Strict priority: the configured order, primary first. The default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Priority;

impl SelectionPolicy for Priority {
    fn order(&self, candidates: &[Candidate<'_>]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        order.sort_by_key(|&i| candidates[i].position);
        order
    }
}

/// Weighted by performance: each provider's score is its weight × success rate² ÷ (1 +
/// latency ÷ reference latency); the order is a weighted random draw without replacement, so
/// load spreads across healthy providers and shifts away from failing or slow ones.
///
/// ```
/// use std::time::Duration;
/// use tradegraph_llm::fallback::{Candidate, SelectionPolicy, Weighted};
///
/// let c = |name, success_rate, ms| Candidate { name, position: 0, weight: 1.0, success_rate, latency: Some(Duration::from_millis(ms)) };
/// let policy = Weighted::seeded(7);
/// let firsts = (0..1000).filter(|_| policy.order(&[c("sick", 0.2, 900), c("well", 1.0, 300)])[0] == 1).count();
/// assert!(firsts > 900, "{firsts}");
/// ```
#[derive(Debug)]
pub struct Weighted {
    reference: Duration,
    rng: Mutex<StdRng>,
}

impl Weighted {
    /// Latency is weighed against 2 seconds.
    pub fn new() -> Self {
        Self::with_rng(StdRng::from_os_rng())
    }

    /// A reproducible draw (tests, backtests).
    pub fn seeded(seed: u64) -> Self {
        Self::with_rng(StdRng::seed_from_u64(seed))
    }

    /// Sets the reference latency.
    #[must_use]
    pub fn reference_latency(mut self, reference: Duration) -> Self {
        self.reference = reference.max(Duration::from_millis(1));
        self
    }

    fn with_rng(rng: StdRng) -> Self {
        Self {
            reference: Duration::from_secs(2),
            rng: Mutex::new(rng),
        }
    }

    /// A provider's score.
    pub fn score(&self, c: &Candidate<'_>) -> f64 {
        let latency = c
            .latency
            .map_or(0.0, |l| l.as_secs_f64() / self.reference.as_secs_f64());
        let success = c.success_rate.clamp(0.0, 1.0);
        (c.weight.max(0.0) * success * success / (1.0 + latency)).max(1e-6)
    }
}

impl Default for Weighted {
    fn default() -> Self {
        Self::new()
    }
}

impl SelectionPolicy for Weighted {
    fn order(&self, candidates: &[Candidate<'_>]) -> Vec<usize> {
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Efraimidis–Spirakis: sort by u^(1/w) descending.
        let mut keyed: Vec<(f64, usize)> = candidates
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let u: f64 = rng.random_range(f64::EPSILON..1.0);
                (u.powf(1.0 / self.score(c)), i)
            })
            .collect();
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        keyed.into_iter().map(|(_, i)| i).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(position: usize, success_rate: f64) -> Candidate<'static> {
        Candidate {
            name: "x",
            position,
            weight: 1.0,
            success_rate,
            latency: None,
        }
    }

    #[test]
    fn priority_keeps_the_configured_order() {
        assert_eq!(
            Priority.order(&[c(2, 1.0), c(0, 0.0), c(1, 1.0)]),
            vec![1, 2, 0]
        );
    }

    #[test]
    fn weighted_spreads_load_between_equals_and_is_reproducible() {
        let p = Weighted::seeded(1);
        let firsts = (0..2000)
            .filter(|_| p.order(&[c(0, 1.0), c(1, 1.0)])[0] == 0)
            .count();
        assert!((800..1200).contains(&firsts), "{firsts}");
        let a: Vec<_> = (0..20)
            .map(|_| Weighted::seeded(5).order(&[c(0, 0.5), c(1, 0.9), c(2, 0.7)]))
            .collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
    }
}
