//! Feeds: streams of [`MarketEvent`]s.
//!
//! A feed is any `Stream<Item = MarketEvent>`; [`Feed`] is the boxed form. Network feeds take
//! their URL as configuration, reconnect with [`Backoff`], resubscribe, and report gaps and
//! reconnects as [`FeedNotice`](crate::FeedNotice)s.

mod backoff;
#[cfg(feature = "binance")]
pub mod binance;
#[cfg(feature = "kite")]
pub mod kite;
pub mod record;
pub mod replay;
mod sanity;
pub mod synthetic;
#[cfg(any(feature = "binance", feature = "kite", feature = "news"))]
pub mod tls;

pub use backoff::Backoff;
pub use sanity::check_prices;

use crate::MarketEvent;
use futures::stream::BoxStream;

/// A boxed feed.
pub type Feed = BoxStream<'static, MarketEvent>;
