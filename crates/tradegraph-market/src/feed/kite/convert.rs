//! Packets into market events: a tick per packet (with the day's figures), a book per full
//! packet, and time gaps across disconnections. Only subscribed tokens have state.

use super::day::day_stats;
use super::{Depth, KitePacket, PacketKind, UnknownTokens};
use crate::feed::sanity::check_tick;
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
///
/// Only the tokens it is given have state. A packet of any other token is skipped: the first
/// [`UnknownTokens::NAMED`] such tokens are named once each in a
/// [`FeedNotice::Malformed`], later ones are counted in summaries; memory stays bounded
/// whatever arrives (see [`unknown`](Self::unknown)).
///
/// ```
/// use tradegraph_core::Timestamp;
/// use tradegraph_market::feed::kite::{Converter, KitePacket};
/// use tradegraph_market::MarketEvent;
///
/// let mut converter = Converter::new("kite", &[(408065, "INFY".into())]);
/// let mut events = Vec::new();
/// let packet = KitePacket::decode(&[0x00, 0x06, 0x3a, 0x01, 0x00, 0x02, 0x48, 0x33]).unwrap();
/// converter.convert(&packet, Timestamp::from_secs(9), &mut events);
/// let MarketEvent::Tick { symbol, tick } = &events[0] else { unreachable!() };
/// assert_eq!((symbol.as_str(), tick.price.to_string()), ("INFY", "1495.55".to_owned()));
/// ```
#[derive(Debug)]
pub struct Converter {
    feed: String,
    tokens: HashMap<u32, TokenState>,
    unknown: UnknownTokens,
}

impl Converter {
    /// A converter for these tokens; packets of other tokens are skipped and reported.
    pub fn new(feed: impl Into<String>, tokens: &[(u32, Symbol)]) -> Self {
        let tokens = tokens
            .iter()
            .map(|(token, symbol)| (*token, TokenState::new(symbol.clone())))
            .collect();
        Self {
            feed: feed.into(),
            tokens,
            unknown: UnknownTokens::default(),
        }
    }

    /// How many instrument tokens the converter keeps state for: the subscribed ones.
    pub fn tokens_tracked(&self) -> usize {
        self.tokens.len()
    }

    /// What became of packets of tokens the converter was not given.
    pub fn unknown(&self) -> &UnknownTokens {
        &self.unknown
    }

    /// Marks a disconnection: the first data of each token afterwards is preceded by a
    /// [`GapKind::Time`] notice from its last data before, and its day volume is a new base
    /// (what traded meanwhile belongs to the minutes missed, not to one tick).
    pub fn disconnected(&mut self) {
        for state in self.tokens.values_mut() {
            if state.gap_from.is_none() {
                state.gap_from = state.last_data;
            }
            state.day_volume = None;
        }
    }

    /// The events of one packet received at `received`: maybe a gap notice, a tick, and for
    /// full packets a book.
    ///
    /// The tick is stamped with the exchange timestamp when the packet has a non-zero one,
    /// otherwise with `received`. Its volume is the increase of the cumulative day volume since
    /// the token's previous packet (0 for the first packet, the first after a disconnection or
    /// a reset, and for packets without volume). Quote and full packets also give the day's figures
    /// ([`Tick::day`]: open, high, low, previous close, change, average price, last trade,
    /// open-interest range, exchange time). A packet whose last price fails
    /// [`check_prices`](crate::feed::check_prices) (Kite sends 0 before the first trade)
    /// gives a [`FeedNotice::Malformed`] naming the token instead of a tick. A packet of a
    /// token not subscribed gives nothing but, within bounds, such a notice.
    pub fn convert(
        &mut self,
        packet: &KitePacket,
        received: Timestamp,
        out: &mut impl Extend<MarketEvent>,
    ) {
        let Some(state) = self.tokens.get_mut(&packet.token) else {
            if let Some(notice) = self.unknown.skip(packet.token) {
                out.extend([MarketEvent::Notice {
                    feed: self.feed.clone(),
                    ts: received,
                    notice,
                }]);
            }
            return;
        };
        let ts = packet
            .exchange_timestamp
            .filter(|t| *t != Timestamp::EPOCH)
            .unwrap_or(received);
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
        let derivative = is_derivative(packet.segment());
        let mut tick = Tick::new(ts, packet.last_price, Decimal::ZERO);
        tick.day = day_stats(packet, derivative);
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
        if let Err(reason) = check_tick(&tick) {
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
        if derivative {
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
