//! Several keys for one provider, rotated when the vendor refuses one or says it is out of
//! quota.
// Only the HTTP providers rotate keys; without them the configuration only checks a key list.
#![cfg_attr(not(feature = "http"), allow(dead_code))]

use crate::{LlmError, Secret};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The keys of one provider, from one [`Secret`] holding them separated by commas
/// (`OPENAI_API_KEY=sk-a,sk-b`; no vendor's keys contain a comma), and the one in use.
///
/// Clones share the position, so every clone of a provider moves on together.
#[derive(Debug, Clone)]
pub(crate) struct KeyRing {
    keys: Arc<[Secret]>,
    active: Arc<AtomicUsize>,
}

impl KeyRing {
    /// The keys in `secret`, in order, each trimmed; `None` when it holds none (empty, or
    /// nothing but commas and spaces).
    pub(crate) fn new(secret: &Secret) -> Option<Self> {
        let keys: Arc<[Secret]> = parts(secret).map(Secret::new).collect();
        (!keys.is_empty()).then(|| Self {
            keys,
            active: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Whether `secret` holds at least one key.
    pub(crate) fn holds_a_key(secret: &Secret) -> bool {
        parts(secret).next().is_some()
    }

    /// How many keys there are.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Every key (to redact them all from text).
    pub(crate) fn all(&self) -> &[Secret] {
        &self.keys
    }

    /// The position of the key in use and the key.
    pub(crate) fn current(&self) -> (usize, &Secret) {
        let at = self.active.load(Ordering::Acquire) % self.keys.len();
        (at, &self.keys[at])
    }

    /// Moves past the key at `at` if it is still the one in use (calls in parallel that met
    /// the same refusal move on once, not once each); the position now in use.
    pub(crate) fn rotate_from(&self, at: usize) -> usize {
        let next = (at + 1) % self.keys.len();
        match self
            .active
            .compare_exchange(at, next, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => next,
            Err(now) => now % self.keys.len(),
        }
    }

    /// Makes the key at `at` the one in use (the key that answered, or the one that frees
    /// first), so the next call starts there.
    pub(crate) fn settle_on(&self, at: usize) {
        self.active.store(at % self.keys.len(), Ordering::Release);
    }

    /// Whether an error says the key itself was the problem, so another key may do: refused
    /// (401/403, Gemini's `API_KEY_INVALID`) or out of quota (429). An overloaded vendor
    /// (529, Anthropic's `overloaded_error`) is the same for every key.
    pub(crate) fn is_about_the_key(err: &LlmError) -> bool {
        matches!(
            err,
            LlmError::Unauthorized { .. } | LlmError::RateLimited { .. }
        )
    }
}

/// The keys a secret holds: its comma-separated parts, trimmed, the empty ones dropped.
fn parts(secret: &Secret) -> impl Iterator<Item = &str> {
    secret
        .expose()
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_split_on_commas_and_trimmed_and_empty_ones_dropped() {
        let ring = KeyRing::new(&Secret::new(" a ,\n b,, c ,")).unwrap();
        let keys: Vec<&str> = ring.all().iter().map(Secret::expose).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert!(KeyRing::new(&Secret::new(" , ,")).is_none());
        assert!(KeyRing::new(&Secret::new("")).is_none());
        assert!(!KeyRing::holds_a_key(&Secret::new(" , ")));
        assert!(KeyRing::holds_a_key(&Secret::new(", k")));
    }

    #[test]
    fn rotation_moves_once_per_position_and_wraps() {
        let ring = KeyRing::new(&Secret::new("a,b,c")).unwrap();
        assert_eq!(ring.current().0, 0);
        assert_eq!(ring.rotate_from(0), 1);
        // A second caller that also met key 0 does not skip key 1.
        assert_eq!(ring.rotate_from(0), 1);
        assert_eq!(ring.rotate_from(1), 2);
        assert_eq!(ring.rotate_from(2), 0);
        assert_eq!(ring.current().1.expose(), "a");
        // One key: it stays.
        let one = KeyRing::new(&Secret::new("only")).unwrap();
        assert_eq!(one.rotate_from(0), 0);
    }
}
