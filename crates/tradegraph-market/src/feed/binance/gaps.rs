//! Trade-id continuity: Binance numbers the trades (and the aggregate trades) of a symbol
//! consecutively, so a jump means trades were lost, and a repeat means a trade seen already.

/// What one trade id says about continuity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Continuity {
    /// The first id, or the one after the last.
    Next,
    /// Ids `first_missing..=last_missing` never arrived.
    Gap {
        first_missing: u64,
        last_missing: u64,
    },
    /// At or before the last id (a repeat, e.g. while two connections overlap): drop it.
    Seen,
}

/// The last trade id handed out. Kept across reconnections, so a gap that spans a
/// disconnection is reported too.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct TradeIds {
    last: Option<u64>,
}

impl TradeIds {
    /// The last id handed out.
    pub(super) fn last(&self) -> Option<u64> {
        self.last
    }

    /// Records `id` unless it was [`Continuity::Seen`].
    pub(super) fn observe(&mut self, id: u64) -> Continuity {
        let Some(last) = self.last else {
            self.last = Some(id);
            return Continuity::Next;
        };
        if id <= last {
            return Continuity::Seen;
        }
        self.last = Some(id);
        if id == last + 1 {
            Continuity::Next
        } else {
            Continuity::Gap {
                first_missing: last + 1,
                last_missing: id - 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_jumping_and_repeated_ids() {
        let mut ids = TradeIds::default();
        assert_eq!(ids.observe(10), Continuity::Next);
        assert_eq!(ids.observe(11), Continuity::Next);
        assert_eq!(
            ids.observe(15),
            Continuity::Gap {
                first_missing: 12,
                last_missing: 14
            }
        );
        assert_eq!(ids.observe(15), Continuity::Seen);
        assert_eq!(ids.observe(3), Continuity::Seen);
        assert_eq!(ids.last(), Some(15));
        assert_eq!(ids.observe(16), Continuity::Next);
    }

    #[test]
    fn the_largest_id_does_not_overflow() {
        let mut ids = TradeIds::default();
        assert_eq!(ids.observe(u64::MAX), Continuity::Next);
        assert_eq!(ids.observe(u64::MAX), Continuity::Seen);
        let mut ids = TradeIds::default();
        ids.observe(0);
        assert_eq!(
            ids.observe(u64::MAX),
            Continuity::Gap {
                first_missing: 1,
                last_missing: u64::MAX - 1
            }
        );
    }
}
