//! The Binance spot broker (feature `binance`): [`BinanceBroker`]. Without the feature, only
//! Binance's endpoints are here ([`BINANCE_API_URL`], [`TESTNET_API_URL`], ...), which the
//! settings name.
//!
//! - **Requests** are signed with HMAC-SHA256 over the exact query ([`Signer`], [`Query`]),
//!   with `X-MBX-APIKEY`, `recvWindow` and a `timestamp` from the local clock plus the
//!   server-time offset (measured at start, every `time_sync_every`, and again after a `-1021`,
//!   then the request is sent once more).
//! - **Filters** (`exchangeInfo`: `LOT_SIZE`, `MARKET_LOT_SIZE`, `PRICE_FILTER`, `NOTIONAL` /
//!   `MIN_NOTIONAL`, `PERCENT_PRICE_BY_SIDE`, `TRAILING_DELTA` for a trailing stop's BIPS,
//!   "above" or "below" by side and type) are checked before sending ([`filters`]); a
//!   refusal is an order with status `Rejected` whose reason names the filter and the numbers.
//! - **Orders**: market → `MARKET`, limit → `LIMIT`, stop → `STOP_LOSS` (`STOP_LOSS_LIMIT`
//!   where the symbol takes no stop-market), trailing stop → `STOP_LOSS` with `trailingDelta`
//!   in BIPS; `newClientOrderId` is our client order id. An entry's exits are placed once it
//!   fills (its filled part protected from the first partial fill, resized as it fills; a
//!   placement that fails is tried again until placed or flat, an error logged each time): stop and target as an OCO order list (`POST /api/v3/orderList/oco`, target
//!   `LIMIT_MAKER`), with client ids derived from the entry's; once per entry, across restarts
//!   too (kept in the book's `venue_state`; the venue asked for the legs first). A start from a
//!   kept book catches up on the fills of the orders it had working, and places again the exits
//!   cancelled meanwhile (a close cut short by a crash) while the position is held. A reduce-only order while
//!   exits are working (which lock the base asset) cancels them first and places them again
//!   for what is left; a position gone flat another way has its exits cancelled.
//! - **Idempotent submit**: an id the broker knows is answered from the venue
//!   (`GET /api/v3/order`); `-2010 Duplicate order sent.` and a lost answer (`-1007`, a
//!   timeout) are resolved by a query, never by a second order.
//! - **Updates**: the user data stream over the WebSocket API
//!   (`userDataStream.subscribe.signature`, the listen-key endpoints being retired), polling
//!   `openOrders` and `myTrades?fromId=` while it is down and once after each reconnect; a
//!   trade id is booked once. Fees in the quote asset are taken as they are, in the base asset
//!   valued at the fill price, in another asset (BNB) through
//!   [`BinanceConfig::fee_asset_prices`] (0 when it has no price: counted in [`BINANCE_UNVALUED_FEES_TOTAL`](crate::metrics::BINANCE_UNVALUED_FEES_TOTAL),
//!   the amount logged, an error the first time).
//! - **Limits**: request weight paced under `weight_headroom_pct` of the minute's limit,
//!   `X-MBX-USED-WEIGHT-1M` as the gauge [`BINANCE_USED_WEIGHT`](crate::metrics::BINANCE_USED_WEIGHT), 429 and 418 with `Retry-After`
//!   respected (418: nothing is sent until it passes). A reported weight at the headroom
//!   holds every request until the venue's next minute (by the server-time offset, plus a
//!   margin for its error).
//! - **Logs**: every request at debug (REST by the shared layer, the WebSocket subscription
//!   here), the keys masked and the signature shown as `***`.
//! - **Errors**: Binance's codes as typed [`VenueReason`](crate::live::VenueReason)s
//!   ([`classify`]).

#[cfg(feature = "binance")]
mod account;
#[cfg(feature = "binance")]
mod broker;
#[cfg(feature = "binance")]
mod close;
#[cfg(feature = "binance")]
mod codes;
#[cfg(feature = "binance")]
mod config;
#[cfg(feature = "binance")]
mod encode;
mod endpoints;
#[cfg(feature = "binance")]
mod exchange_info;
#[cfg(feature = "binance")]
mod exits;
#[cfg(feature = "binance")]
pub mod filters;
#[cfg(feature = "binance")]
mod oco;
#[cfg(feature = "binance")]
mod orders;
#[cfg(feature = "binance")]
mod owed;
#[cfg(feature = "binance")]
mod rest;
#[cfg(feature = "binance")]
mod saved;
#[cfg(feature = "binance")]
mod sign;
#[cfg(feature = "binance")]
mod stream;
#[cfg(feature = "binance")]
mod trait_impl;
#[cfg(feature = "binance")]
mod wire;

#[cfg(feature = "binance")]
pub use broker::BinanceBroker;
#[cfg(feature = "binance")]
pub use codes::{classify, classify_status, ApiError, Classified};
#[cfg(feature = "binance")]
pub use config::BinanceConfig;
#[cfg(feature = "binance")]
pub use encode::{encode_order, trailing_bips, Encoded};
pub use endpoints::{BINANCE_API_URL, BINANCE_WS_API_URL, TESTNET_API_URL, TESTNET_WS_API_URL};
#[cfg(feature = "binance")]
pub use exchange_info::parse_exchange_info;
#[cfg(feature = "binance")]
pub use filters::SymbolRules;
#[cfg(feature = "binance")]
pub use sign::{Query, Signer};
