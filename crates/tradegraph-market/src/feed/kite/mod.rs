//! Zerodha Kite Connect market data over WebSocket (feature `kite`).
//!
//! Kite sends binary messages of big-endian packets whose length picks the layout:
//!
//! | packet | bytes | becomes |
//! |---|---|---|
//! | LTP | 8 | [`MarketEvent::Tick`](crate::MarketEvent::Tick) with the price, stamped with the clock |
//! | index quote / full | 28 / 32 | a tick with the day's open, high, low, previous close and change ([`Tick::day`](tradegraph_core::Tick::day)); full packets carry the exchange time |
//! | quote | 44 | a tick with day volume, volume since the previous packet, total buy/sell quantity, and the day's open, high, low, previous close, change, average price and last traded quantity |
//! | full | 184 | the same plus best bid/ask, open interest and its day range (derivatives), last trade time and the exchange time, and a [`MarketEvent::Book`](crate::MarketEvent::Book) of the 5+5 depth |
//!
//! Every field Zerodha's own client (`kiteconnect`'s `KiteTicker`) hands its callback reaches
//! the events; Kite's zeros for what it does not know yet become `None`. Packets of tokens
//! that were not subscribed are skipped, and reported in bounded memory ([`UnknownTokens`]).
//!
//! Prices are exact decimals: the wire integer over the segment's divisor (CDS 10^7, BCD and
//! NCO 10^4, others 100, as Zerodha's `kiteconnect` 5.2.2). A 1-byte message is a heartbeat;
//! text messages (order updates, errors, notices) become
//! [`FeedNotice::Message`](crate::FeedNotice::Message)s.
//!
//! The pieces work on their own too: [`split`] and [`KitePacket::decode`] parse captured
//! messages without allocating, [`Converter`] makes events of packets, and [`subscribe`] /
//! [`mode`] build the control messages. [`KiteFeed`] puts them on a connection.

mod config;
mod connect;
mod control;
mod convert;
mod day;
mod feed;
mod frame;
mod instruments;
mod kind;
mod packet;
#[cfg(test)]
mod tests;
mod text;
mod unknown;

pub use config::{KiteConfig, KiteMode, Secret};
pub use control::{mode, subscribe, unsubscribe};
pub use convert::Converter;
pub use feed::KiteFeed;
pub use frame::{split, FrameError, Message, Packets};
pub use instruments::{
    nearest_future, parse_instruments, read_instruments, BadInstrumentRow, InstrumentsDump,
    KiteInstrument, INSTRUMENT_COLUMNS,
};
pub use kind::{price_scale, PacketKind, SEGMENT_INDICES};
pub use packet::{Depth, KitePacket, Ohlc};
pub use text::{parse_text, TextMessage};
pub use unknown::UnknownTokens;
