//! The highest or lowest value of a sliding window in O(1) amortized: a monotonic deque over a
//! fixed-capacity ring.

/// Which extreme a [`WindowExtreme`] tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extreme {
    /// The highest value.
    Max,
    /// The lowest value.
    Min,
}

/// The extreme of the last `period` values. The deque holds candidates in arrival order whose
/// values are strictly monotonic, so the front is the extreme.
#[derive(Debug, Clone)]
pub(crate) struct WindowExtreme {
    kind: Extreme,
    period: u64,
    /// `(sequence number, value)` slots, used as a ring.
    slots: Box<[(u64, f64)]>,
    head: usize,
    len: usize,
    /// Sequence number of the next value.
    next: u64,
}

impl WindowExtreme {
    /// Tracks `kind` over the last `period` values (at least one).
    pub(crate) fn new(kind: Extreme, period: usize) -> Self {
        let period = period.max(1);
        Self {
            kind,
            period: period as u64,
            // The previous window plus the newcomer, before the oldest is expired.
            slots: vec![(0, 0.0); period + 1].into_boxed_slice(),
            head: 0,
            len: 0,
            next: 0,
        }
    }

    /// Folds in `value`; returns the extreme of the window ending with it.
    #[inline]
    pub(crate) fn update(&mut self, value: f64) -> f64 {
        let seq = self.next;
        self.next += 1;
        // Drop candidates the newcomer dominates.
        while let Some((_, back)) = self.back() {
            let dominated = match self.kind {
                Extreme::Max => back <= value,
                Extreme::Min => back >= value,
            };
            if !dominated {
                break;
            }
            self.len -= 1;
        }
        self.push_back(seq, value);
        // Expire the candidate that left the window.
        if let Some((oldest, _)) = self.front() {
            if oldest + self.period <= seq {
                self.pop_front();
            }
        }
        self.front().map_or(value, |(_, v)| v)
    }

    /// Forgets every value.
    pub(crate) fn reset(&mut self) {
        self.head = 0;
        self.len = 0;
        self.next = 0;
    }

    /// Ring index of the `offset`-th candidate (`offset` below the capacity).
    #[inline]
    fn slot(&self, offset: usize) -> usize {
        let index = self.head + offset;
        if index >= self.slots.len() {
            index - self.slots.len()
        } else {
            index
        }
    }

    fn front(&self) -> Option<(u64, f64)> {
        if self.len == 0 {
            return None;
        }
        self.slots.get(self.head).copied()
    }

    fn back(&self) -> Option<(u64, f64)> {
        if self.len == 0 {
            return None;
        }
        self.slots.get(self.slot(self.len - 1)).copied()
    }

    fn push_back(&mut self, seq: u64, value: f64) {
        if self.len == self.slots.len() {
            // Cannot happen (at most `period` candidates survive a step), but never overwrite.
            self.pop_front();
        }
        let slot = self.slot(self.len);
        if let Some(cell) = self.slots.get_mut(slot) {
            *cell = (seq, value);
        }
        self.len += 1;
    }

    fn pop_front(&mut self) {
        if self.len > 0 {
            self.head = self.slot(1);
            self.len -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(values: &[f64], period: usize, kind: Extreme) -> Vec<f64> {
        (0..values.len())
            .map(|i| {
                let window = &values[i.saturating_sub(period - 1)..=i];
                match kind {
                    Extreme::Max => window.iter().copied().fold(f64::MIN, f64::max),
                    Extreme::Min => window.iter().copied().fold(f64::MAX, f64::min),
                }
            })
            .collect()
    }

    #[test]
    fn matches_a_naive_scan() {
        let values = [
            5.0, 3.0, 8.0, 8.0, 1.0, 2.0, 9.0, 4.0, 4.0, 0.0, 7.0, 6.0, 6.0, 3.0,
        ];
        for period in 1..6 {
            for kind in [Extreme::Max, Extreme::Min] {
                let mut window = WindowExtreme::new(kind, period);
                let got: Vec<_> = values.iter().map(|&v| window.update(v)).collect();
                assert_eq!(got, naive(&values, period, kind), "{kind:?} over {period}");
            }
        }
    }

    #[test]
    fn reset_forgets() {
        let mut window = WindowExtreme::new(Extreme::Max, 3);
        window.update(10.0);
        window.reset();
        assert_eq!(window.update(1.0), 1.0);
    }
}
