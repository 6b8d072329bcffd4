//! Packets into market events: a tick per packet, a book per full packet, and time gaps
//! across disconnections.

use super::{Depth, KitePacket, PacketKind};
use crate::feed::check_prices;
use crate::{FeedNotice, GapKind, MarketEvent};
use rust_decimal::Decimal;
use std::collections::HashMap;
use tradegraph_core::{Book, BookLevel, Symbol, Tick, Timestamp};

/// What is remembered per instrument token.
#[derive(Debug)]
struct TokenState {
    symbol: Symbol,
    /// Cumulative day volume of the previous packet.
    day_volume: Option<u32>,
    /// Time of the latest data.
    last_data: Option<Timestamp>,
    /// Time of the last data before a disconnection, until data flows again.
    gap_from: Option<Timestamp>,
}

/// Turns packets into [`MarketEvent`]s, keeping per-token state across reconnections.
#[derive(Debug)]
pub struct Converter {
    feed: String,
    tokens: HashMap<u32, TokenState>,
}

impl Converter {
    /// A converter for these tokens; packets of other tokens carry the token as their symbol.
    pub fn new(feed: impl Into<String>, tokens: &[(u32, Symbol)]) -> Self {
        let tokens = tokens
            .iter()
            .map(|(token, symbol)| (*token, TokenState::new(symbol.clone())))
            .collect();
        Self {
            feed: feed.into(),
            tokens,
        }
    }

    /// Marks a disconnection: the first data of each token afterwards is preceded by a
    /// [`GapKind::Time`] notice from its last data before.
    pub fn disconnected(&mut self) {
        for state in self.tokens.values_mut() {
            if state.gap_from.is_none() {
                state.gap_from = state.last_data;
            }
        }
    }

    /// The events of one packet received at `received`: maybe a gap notice, a tick, and for
    /// full packets a book.
    ///
    /// The tick is stamped with the exchange timestamp when the packet has a non-zero one,
    /// otherwise with `received`. Its volume is the increase of the cumulative day volume since
    /// the token's previous packet (0 for the first packet, after a reset, and for packets
    /// without volume). A packet whose last price fails [`check_prices`] (Kite sends 0 before
    /// the first trade) gives a [`FeedNotice::Malformed`] naming the token instead of a tick.
    pub fn convert(
        &mut self,
        packet: &KitePacket,
        received: Timestamp,
        out: &mut impl Extend<MarketEvent>,
    ) {
        let ts = packet
            .exchange_timestamp
            .filter(|t| *t != Timestamp::EPOCH)
            .unwrap_or(received);
        let state = self
            .tokens
            .entry(packet.token)
            .or_insert_with(|| TokenState::new(Symbol::new(packet.token.to_string())));
        if let Some(from) = state.gap_from.take() {
            out.extend([MarketEvent::Notice {
                feed: self.feed.clone(),
                ts: received,
                notice: FeedNotice::Gap {
                    symbol: state.symbol.to_string(),
                    kind: GapKind::Time { from, to: ts },
                },
            }]);
        }
        state.last_data = Some(ts);
        let mut tick = Tick::new(ts, packet.last_price, Decimal::ZERO);
        if packet.is_tradable_layout() {
            let volume = packet.volume;
            let traded = match state.day_volume {
                Some(previous) if volume >= previous => volume - previous,
                _ => 0,
            };
            state.day_volume = Some(volume);
            tick.volume = Decimal::from(traded);
            tick.day_volume = Some(Decimal::from(volume));
            tick.total_buy_quantity = Some(Decimal::from(packet.total_buy_quantity));
            tick.total_sell_quantity = Some(Decimal::from(packet.total_sell_quantity));
        }
        let symbol = state.symbol.clone();
        if let Err(reason) = check_prices(&MarketEvent::Tick {
            symbol: symbol.clone(),
            tick: tick.clone(),
        }) {
            out.extend([MarketEvent::Notice {
                feed: self.feed.clone(),
                ts: received,
                notice: FeedNotice::Malformed {
                    origin: format!("kite token {} ({symbol})", packet.token),
                    reason,
                },
            }]);
            return;
        }
        if packet.kind != PacketKind::Full {
            out.extend([MarketEvent::Tick { symbol, tick }]);
            return;
        }
        tick.bid = packet.bids.iter().find(|l| is_level(l)).map(|l| l.price);
        tick.ask = packet.asks.iter().find(|l| is_level(l)).map(|l| l.price);
        if is_derivative(packet.segment()) {
            tick.open_interest = Some(Decimal::from(packet.oi));
        }
        let book = Book {
            ts,
            bids: levels(&packet.bids),
            asks: levels(&packet.asks),
            update_id: None,
        };
        out.extend([
            MarketEvent::Tick {
                symbol: symbol.clone(),
                tick,
            },
            MarketEvent::Book { symbol, book },
        ]);
    }
}

impl TokenState {
    fn new(symbol: Symbol) -> Self {
        Self {
            symbol,
            day_volume: None,
            last_data: None,
            gap_from: None,
        }
    }
}

/// Kite sends missing levels as zeros.
fn is_level(level: &Depth) -> bool {
    !level.price.is_zero()
}

fn levels(depth: &[Depth; 5]) -> Vec<BookLevel> {
    depth
        .iter()
        .filter(|l| is_level(l))
        .map(|l| BookLevel {
            price: l.price,
            quantity: Decimal::from(l.quantity),
            orders: Some(u32::from(l.orders)),
        })
        .collect()
}

/// Segments with open interest: NFO, CDS, BFO, BCD, MCX, NCO.
fn is_derivative(segment: u32) -> bool {
    matches!(segment, 2 | 3 | 5 | 6 | 7 | 12)
}
