//! Live trading: real money, only with an explicit opt-in.
//!
//! Paper is the default everywhere. A live broker can only be used through [`Live`], which
//! cannot be built without a [`LiveTradingEnabled`] token, and the token has one constructor
//! whose name says what it does. Only the runtime creates it, and only when the user asked
//! for live trading (`TRADEGRAPH_LIVE=1`, see DESIGN.md); nothing below the runtime reads the
//! environment.
//!
//! ```
//! use tradegraph_broker::live::{Live, LiveTradingEnabled};
//! use tradegraph_broker::{Broker, PaperBroker, PaperConfig};
//! use tradegraph_core::{Decimal, Instrument};
//!
//! # fn venue() -> PaperBroker { PaperBroker::new(PaperConfig::new(Instrument::btc_usdt(), Decimal::ONE)).unwrap() }
//! // The runtime, after the user set TRADEGRAPH_LIVE=1:
//! let token = LiveTradingEnabled::i_understand_this_trades_real_money();
//! let broker = Live::new(venue(), token);
//! assert!(broker.is_live());
//! ```
//!
//! # The venues
//!
//! Each venue's broker is behind its cargo feature, implementing [`Broker`] on the shared
//! [`venue`] layer (signed HTTP with masked logs, a body cap and no redirects, rate limits,
//! the order book that numbers fills, the order-update stream with polling while it is down).
//! Its only constructor (`connect`) takes the [`LiveTradingEnabled`] token and returns the
//! broker inside [`Live`], so that no venue broker exists without the opt-in:
//!
//! | module | feature | venue |
//! |---|---|---|
//! | `live::binance` | `binance` | Binance spot REST and user data stream (`newClientOrderId` = our client order id) |
//! | `live::kite` | `kite` | Zerodha Kite Connect orders, GTT and order updates (`tag` = our client order id) |
//!
//! What a configuration names without trading (Kite's product, the day's stored access token
//! and the trading day in India; the venues' endpoints) is in these modules without the
//! features too, so that settings read the same in every build.
//!
//! Refusals and failures are typed: [`VenueReason`].
pub mod binance;
pub mod kite;
mod reason;
#[cfg(feature = "venue")]
pub mod venue;

pub use reason::VenueReason;

use crate::broker::forward_broker;
use crate::{Amendment, Broker, BrokerError, PriceEvent};
use async_trait::async_trait;
use std::ops::Deref;
use tradegraph_core::order::{ClientOrderId, Fill, Order, OrderRequest};
use tradegraph_core::position::{Account, Position};
use tradegraph_core::Symbol;

/// Proof that live trading was explicitly enabled. Not `Default`, not `Deserialize`, not
/// `Clone`: it is made on purpose, once.
#[derive(Debug)]
pub struct LiveTradingEnabled {
    _private: (),
}

impl LiveTradingEnabled {
    /// The explicit opt-in to trading real money.
    pub fn i_understand_this_trades_real_money() -> Self {
        tracing::warn!("live trading enabled: orders will use real money");
        Self { _private: () }
    }
}

/// A live broker, usable only with the opt-in token. It forwards everything to `B` and reports
/// [`is_live`](Broker::is_live).
#[derive(Debug)]
pub struct Live<B> {
    inner: B,
    _enabled: LiveTradingEnabled,
}

impl<B: Broker> Live<B> {
    /// Wraps `inner`.
    pub fn new(inner: B, enabled: LiveTradingEnabled) -> Self {
        Self {
            inner,
            _enabled: enabled,
        }
    }

    /// The venue.
    pub fn inner(&self) -> &B {
        &self.inner
    }
}

impl<B> Deref for Live<B> {
    type Target = B;
    fn deref(&self) -> &B {
        &self.inner
    }
}

forward_broker!(@impl [B: Broker] Live<B>, true);
