//! [`Dedup`]: the same alert key once per cool-down, a recovery once per raise.

use std::collections::HashMap;
use std::time::{Duration, Instant};
use tradegraph_core::Timestamp;

/// Where the time comes from: the wall clock (for the alerts' `at`) and a monotonic one (for
/// the cool-downs, which a wall clock set back must not stretch) in a bot, hand-set ones in
/// tests.
pub trait AlertClock: Send + Sync + 'static {
    /// Now, by the wall clock: the time alerts carry.
    fn now(&self) -> Timestamp;
    /// Now, by a monotonic clock: what cool-downs are measured with.
    fn instant(&self) -> Instant;
}

/// The wall clock, and [`Instant::now`].
#[derive(Debug, Clone, Copy, Default)]
pub struct WallClock;

impl AlertClock for WallClock {
    fn now(&self) -> Timestamp {
        crate::engine::wall_now()
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }
}

/// What [`Dedup::admit`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The alert goes out now (the cool-down starts again).
    Send,
    /// The key is raised and not recovered: this is the same condition again; drop it.
    Repeat,
    /// The key recovered but its cool-down is not over: the alert is held, and goes out when
    /// [`Dedup::due`] says so (unless the key recovers first).
    Hold,
}

/// Which alert keys were raised, and when (by a monotonic clock): a key is let through at
/// most once per cool-down, counted from the last time it went out. A recovery is let through
/// once per raise that went out, and does not restart the cool-down: a condition that flaps
/// (beyond its limit, back within, beyond again) sends one alert and one recovery per
/// cool-down, not one per sample. A raise held back after a recovery is not lost: it goes out
/// once the cool-down is over, unless the key recovered meanwhile (the health checks say a
/// failure once, when it starts).
///
/// ```
/// use std::time::{Duration, Instant};
/// use tradegraph::alerts::{Admission, Dedup};
/// let mut dedup = Dedup::new(Duration::from_secs(900));
/// let t0 = Instant::now();
/// let t = |s: u64| t0 + Duration::from_secs(s);
/// assert_eq!(dedup.admit("store_down:redis", t(0)), Admission::Send);
/// assert_eq!(dedup.admit("store_down:redis", t(60)), Admission::Repeat, "still down");
/// assert_eq!(dedup.admit("feed_stale", t(60)), Admission::Send, "another key");
/// assert!(dedup.resolve("store_down:redis"), "was raised: a recovery is due");
/// assert!(!dedup.resolve("store_down:redis"), "one recovery per raise");
/// assert_eq!(dedup.admit("store_down:redis", t(61)), Admission::Hold, "within the cool-down");
/// assert!(dedup.due(t(899)).is_empty());
/// assert_eq!(dedup.due(t(900)), ["store_down:redis"], "the cool-down is over");
/// assert!(dedup.due(t(901)).is_empty(), "once");
/// ```
#[derive(Debug, Clone)]
pub struct Dedup {
    cooldown: Duration,
    /// Per key: when it last went out, and whether it is still open (no recovery sent).
    raised: HashMap<String, (Instant, bool)>,
    /// Keys raised again after their recovery, within their cool-down.
    held: Vec<String>,
}

impl Dedup {
    /// Nothing raised yet; keys held for `cooldown`.
    pub fn new(cooldown: Duration) -> Self {
        Self {
            cooldown,
            raised: HashMap::new(),
            held: Vec::new(),
        }
    }

    /// Whether an alert of `key` raised at `now` goes out (the cool-down then starts again),
    /// repeats an open one, or is held until its cool-down is over.
    pub fn admit(&mut self, key: &str, now: Instant) -> Admission {
        if let Some((last, open)) = self.raised.get(key) {
            if *open {
                if now.saturating_duration_since(*last) < self.cooldown {
                    return Admission::Repeat;
                }
            } else if now.saturating_duration_since(*last) < self.cooldown {
                if !self.held.iter().any(|k| k == key) {
                    self.held.push(key.to_owned());
                }
                return Admission::Hold;
            }
        }
        self.held.retain(|k| k != key);
        self.raised.insert(key.to_owned(), (now, true));
        Admission::Send
    }

    /// The condition of `key` is over: a held raise of it is dropped; whether a raise of it
    /// went out with no recovery since (a recovery is then due). The time it was last raised
    /// is kept: the key goes out again only once the cool-down since then has passed.
    pub fn resolve(&mut self, key: &str) -> bool {
        self.held.retain(|k| k != key);
        match self.raised.get_mut(key) {
            Some((_, open)) if *open => {
                *open = false;
                true
            }
            _ => false,
        }
    }

    /// The held keys whose cool-down is over at `now`: they go out now (and count as raised).
    pub fn due(&mut self, now: Instant) -> Vec<String> {
        let (due, held): (Vec<String>, Vec<String>) =
            std::mem::take(&mut self.held).into_iter().partition(|key| {
                self.raised
                    .get(key)
                    .is_none_or(|(last, _)| now.saturating_duration_since(*last) >= self.cooldown)
            });
        self.held = held;
        for key in &due {
            self.raised.insert(key.clone(), (now, true));
        }
        due
    }
}
