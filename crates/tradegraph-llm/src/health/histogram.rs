//! A fixed-bucket latency histogram, as data.

use serde::Serialize;
use std::time::Duration;

/// Upper bounds of the buckets, in milliseconds (the last bucket is everything above).
pub const BOUNDS_MS: [u64; 12] = [
    50, 100, 250, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000, 120_000,
];

/// Call latencies in fixed buckets (Prometheus style: `counts[i]` are the calls at or below
/// `bounds_ms[i]` and above the previous bound; the last count is above every bound).
///
/// ```
/// use std::time::Duration;
/// use tradegraph_llm::health::LatencyHistogram;
///
/// let mut h = LatencyHistogram::default();
/// for ms in [40, 300, 320, 900] {
///     h.record(Duration::from_millis(ms));
/// }
/// assert_eq!(h.count, 4);
/// assert_eq!(h.quantile(0.5), Some(Duration::from_millis(500)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LatencyHistogram {
    /// Bucket upper bounds, in milliseconds.
    pub bounds_ms: Vec<u64>,
    /// Calls per bucket (one more than the bounds).
    pub counts: Vec<u64>,
    /// Calls recorded.
    pub count: u64,
    /// Sum of the latencies, in milliseconds.
    pub sum_ms: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            bounds_ms: BOUNDS_MS.to_vec(),
            counts: vec![0; BOUNDS_MS.len() + 1],
            count: 0,
            sum_ms: 0,
        }
    }
}

impl LatencyHistogram {
    /// Records one latency.
    pub fn record(&mut self, latency: Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        let i = self
            .bounds_ms
            .iter()
            .position(|b| ms <= *b)
            .unwrap_or(self.bounds_ms.len());
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
        }
        self.count += 1;
        self.sum_ms = self.sum_ms.saturating_add(ms);
    }

    /// The upper bound of the bucket holding quantile `q` (0..=1); `None` with no data or when
    /// it falls above the last bound.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return self.bounds_ms.get(i).map(|ms| Duration::from_millis(*ms));
            }
        }
        None
    }

    /// The mean latency.
    pub fn mean(&self) -> Option<Duration> {
        (self.count > 0).then(|| Duration::from_millis(self.sum_ms / self.count))
    }
}
