//! A fixed-capacity ring buffer of `f64`, allocated once.

/// A FIFO of at most `capacity` values; pushing onto a full ring is refused.
#[derive(Debug, Clone)]
pub(crate) struct Ring {
    buf: Box<[f64]>,
    /// Index of the oldest value.
    head: usize,
    len: usize,
}

impl Ring {
    /// An empty ring holding up to `capacity` values (at least one).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            buf: vec![0.0; capacity.max(1)].into_boxed_slice(),
            head: 0,
            len: 0,
        }
    }

    /// How many values it holds.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends `value` as the newest; returns `false` (and drops it) when full.
    #[inline]
    pub(crate) fn push(&mut self, value: f64) -> bool {
        let capacity = self.buf.len();
        if self.len == capacity {
            return false;
        }
        let mut slot = self.head + self.len;
        if slot >= capacity {
            slot -= capacity;
        }
        if let Some(cell) = self.buf.get_mut(slot) {
            *cell = value;
        }
        self.len += 1;
        true
    }

    /// The oldest value, left in place.
    #[inline]
    pub(crate) fn oldest(&self) -> Option<f64> {
        if self.len == 0 {
            return None;
        }
        self.buf.get(self.head).copied()
    }

    /// The values, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        let capacity = self.buf.len();
        let first = (capacity - self.head).min(self.len);
        let (tail, front) = self.buf.split_at(self.head);
        front
            .iter()
            .take(first)
            .chain(tail.iter().take(self.len - first))
            .copied()
    }

    /// Removes and returns the oldest value.
    #[inline]
    pub(crate) fn pop_oldest(&mut self) -> Option<f64> {
        if self.len == 0 {
            return None;
        }
        let value = self.buf.get(self.head).copied();
        self.head += 1;
        if self.head == self.buf.len() {
            self.head = 0;
        }
        self.len -= 1;
        value
    }

    /// Empties it.
    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_first_in_first_out_and_bounded() {
        let mut ring = Ring::new(3);
        assert!(ring.push(1.0) && ring.push(2.0) && ring.push(3.0));
        assert!(!ring.push(4.0));
        assert_eq!(ring.pop_oldest(), Some(1.0));
        assert!(ring.push(4.0));
        assert_eq!(ring.iter().collect::<Vec<_>>(), [2.0, 3.0, 4.0]);
        assert_eq!(ring.oldest(), Some(2.0));
        let drained: Vec<_> = std::iter::from_fn(|| ring.pop_oldest()).collect();
        assert_eq!(drained, [2.0, 3.0, 4.0]);
        assert_eq!(ring.len(), 0);
        ring.push(5.0);
        ring.clear();
        assert_eq!(ring.pop_oldest(), None);
    }
}
