//! Packets of tokens nobody subscribed to: skipped, reported in bounded memory.

use crate::FeedNotice;

/// What a [`Converter`](super::Converter) did with packets of instrument tokens it was not
/// given: the first [`NAMED`](Self::NAMED) distinct tokens are named once each in a notice,
/// later ones are only counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnknownTokens {
    /// The tokens named so far, in the order seen (at most [`NAMED`](Self::NAMED)).
    named: Vec<u32>,
    /// Packets of unknown tokens skipped, named or not.
    skipped: u64,
    /// Packets of tokens past the named ones.
    unnamed: u64,
}

impl UnknownTokens {
    /// How many distinct unknown tokens are named, each in one notice; the memory kept for
    /// unknown tokens is this many tokens and two counters, however many arrive.
    pub const NAMED: usize = 16;

    /// The tokens named in a notice so far, in the order seen.
    pub fn named(&self) -> &[u32] {
        &self.named
    }

    /// Packets of unknown tokens skipped.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Skips one packet of `token`: a notice the first time a token is among the first
    /// [`NAMED`](Self::NAMED); past those, a summary each time their count of packets
    /// doubles (1, 2, 4, ...), so a flood gives a few dozen notices at most.
    pub(super) fn skip(&mut self, token: u32) -> Option<FeedNotice> {
        self.skipped = self.skipped.saturating_add(1);
        if self.named.contains(&token) {
            return None;
        }
        if self.named.len() < Self::NAMED {
            self.named.push(token);
            return Some(FeedNotice::Malformed {
                origin: format!("kite token {token}"),
                reason: "not subscribed: its packets are skipped (said once per token)".to_owned(),
            });
        }
        self.unnamed = self.unnamed.saturating_add(1);
        if !self.unnamed.is_power_of_two() {
            return None;
        }
        let packets = match self.unnamed {
            1 => "1 packet".to_owned(),
            n => format!("{n} packets"),
        };
        Some(FeedNotice::Malformed {
            origin: "kite tokens".to_owned(),
            reason: format!(
                "{packets} of unsubscribed tokens skipped beyond the {} named; \
                 check the subscription (next summary at twice this count)",
                Self::NAMED
            ),
        })
    }
}
