//! Feeds: streams of [`MarketEvent`]s.
//!
//! A feed is any `Stream<Item = MarketEvent>`; [`Feed`] is the boxed form. Network feeds take
//! their URL as configuration, reconnect with [`Backoff`], resubscribe, and report gaps and
//! reconnects as [`FeedNotice`](crate::FeedNotice)s.

#[cfg(feature = "binance")]
pub mod binance;
#[cfg(feature = "kite")]
pub mod kite;
#[cfg(any(feature = "binance", feature = "kite"))]
mod reconnect;
pub mod record;
pub mod replay;
mod sanity;
pub mod synthetic;
#[cfg(feature = "tls")]
pub mod tls;

pub use sanity::check_prices;
/// Reconnection delays: the shared exponential schedule with full jitter.
pub use tradegraph_core::backoff::Backoff;

use crate::MarketEvent;
use futures::stream::BoxStream;

/// A boxed feed.
pub type Feed = BoxStream<'static, MarketEvent>;
