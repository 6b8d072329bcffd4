//! The random numbers behind the generator: ChaCha8, with uniform, exponential and normal draws.
//!
//! ChaCha8's output for a seed and stream is fixed by its specification (unlike `StdRng`, whose
//! algorithm may change between `rand` versions), so a seed names one sequence of numbers for
//! good. The stream is a hash of the instrument's symbol: one seed gives different instruments
//! independent markets.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 2^-53: turns the top 53 bits of a `u64` into a fraction.
const UNIT: f64 = 1.0 / (1u64 << 53) as f64;

/// A seeded source of the draws the model needs.
#[derive(Debug, Clone)]
pub(super) struct Sampler {
    rng: ChaCha8Rng,
    /// The second normal of the last polar pair, not handed out yet.
    spare: Option<f64>,
}

impl Sampler {
    /// The sequence for `seed`, in the stream named by `label` (the symbol).
    pub(super) fn new(seed: u64, label: &str) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(fnv1a(label.as_bytes()));
        Self { rng, spare: None }
    }

    /// Uniform in the open interval (0, 1): never 0, so its logarithm is finite.
    #[inline]
    pub(super) fn uniform(&mut self) -> f64 {
        ((self.rng.next_u64() >> 11) as f64 + 0.5) * UNIT
    }

    /// Exponential with mean `mean` (the waiting time of a Poisson process).
    #[inline]
    pub(super) fn exponential(&mut self, mean: f64) -> f64 {
        -self.uniform().ln() * mean
    }

    /// Standard normal, by Marsaglia's polar method (two per accepted pair).
    #[inline]
    pub(super) fn normal(&mut self) -> f64 {
        if let Some(spare) = self.spare.take() {
            return spare;
        }
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s < 1.0 && s > 0.0 {
                let factor = (-2.0 * s.ln() / s).sqrt();
                self.spare = Some(v * factor);
                return u * factor;
            }
        }
    }
}

/// FNV-1a, 64 bits: a hash that never changes (unlike the standard library's).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_one_sequence() {
        let draw = |seed, label| {
            let mut s = Sampler::new(seed, label);
            (0..64).map(|_| s.normal()).collect::<Vec<f64>>()
        };
        assert_eq!(draw(7, "NIFTY50"), draw(7, "NIFTY50"));
        assert_ne!(draw(7, "NIFTY50"), draw(8, "NIFTY50"));
        assert_ne!(draw(7, "NIFTY50"), draw(7, "BANKNIFTY"));
        // The hash is FNV-1a's published one.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn draws_have_their_moments() {
        let mut s = Sampler::new(1, "");
        let n = 200_000;
        let (mut sum, mut sum_sq, mut exp_sum) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let u = s.uniform();
            assert!(u > 0.0 && u < 1.0);
            let z = s.normal();
            sum += z;
            sum_sq += z * z;
            exp_sum += s.exponential(3.0);
        }
        let n = f64::from(n);
        assert!((sum / n).abs() < 0.01, "mean {}", sum / n);
        assert!((sum_sq / n - 1.0).abs() < 0.02, "variance {}", sum_sq / n);
        assert!(
            (exp_sum / n - 3.0).abs() < 0.05,
            "exponential mean {}",
            exp_sum / n
        );
    }
}
