//! What every venue broker shares: the HTTP client ([`VenueHttp`]: timeouts, a body cap, no
//! redirects, `Retry-After`, every request and response logged with secrets masked), rate
//! limits ([`RateLimiter`]), the book that tracks the venue's orders and numbers their fills
//! ([`VenueBook`]), and the order-update stream with its reconnect loop and polling fallback
//! ([`Link`], [`keep_streaming`], [`poll_while_down`]).
//!
//! A venue broker (`live::binance`, `live::kite`) is built from these: it turns our orders
//! into the venue's requests, the venue's answers and order updates into [`VenueUpdate`]s for
//! its [`VenueBook`], and the venue's errors into [`VenueReason`](super::VenueReason)s.
//!
//! ## How a venue broker uses them
//!
//! - **Requests.** `http.send(|| build_signed_call())` — the closure builds (and signs, with a
//!   fresh timestamp) each attempt, so a request retried after a `429`'s `Retry-After` is
//!   signed again. `send` returns every HTTP answer but 3xx, 429 and 418 as a [`Reply`]: the
//!   venue's module reads its own error format from 4xx/5xx bodies.
//! - **Limits.** `limiter.acquire(cost).await` before a request; [`Window`]s are sliding (never
//!   more than `limit` in any `per`).
//! - **Orders and fills.** [`VenueBook::track`] what `submit`/`order` learned from the venue;
//!   [`VenueBook::apply`] each update (stream or poll: the same code path); a trade id seen
//!   before is not booked again, so the stream and polling may both report a trade.
//!   `fills_since` answers from the book; `order` must still ask the venue (see the order
//!   journal in the runtime).
//! - **Updates.** [`keep_streaming`] runs the WebSocket session again and again with the
//!   feeds' [`Backoff`](tradegraph_core::backoff::Backoff); the session calls [`Link::up`] once
//!   subscribed; [`Link::reconnections`] counts the links after the first (the runtime
//!   reconciles when it moves). [`poll_while_down`] polls while the link is down, and once after
//!   each reconnection for what happened in between.
//! - **State across restarts.** [`VenueBroker::book`] gives the runtime the book to keep
//!   ([`VenueBook::snapshot`], [`VenueBook::restore`], [`VenueBook::revision`]): fill numbers
//!   continue after a restart, and a trade booked before is not booked again.

mod book;
mod http;
mod limiter;
mod mask;
mod stream;

pub use book::{TrackedOrder, VenueBook, VenueBookSnapshot, VenueTrade, VenueUpdate};
pub use http::{Call, HttpSettings, Reply, VenueHttp};
pub use limiter::{RateLimiter, Window};
pub use mask::Masker;
pub use stream::{connect_websocket, keep_streaming, poll_while_down, Link, WebSocket};

use crate::Broker;

/// A venue's broker: a [`Broker`] whose orders and fills are tracked in a [`VenueBook`] that
/// the runtime keeps across restarts.
pub trait VenueBroker: Broker {
    /// The book of the venue's orders and fills.
    fn book(&self) -> &VenueBook;
}
