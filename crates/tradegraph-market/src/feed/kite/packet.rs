//! One Kite binary packet, decoded without allocating.
//!
//! Layout (big-endian, every 4-byte field an unsigned `u32`, as Zerodha's `kiteconnect` reads
//! it): the packet's length alone picks the layout, 8 (LTP), 28/32 (index quote/full) or
//! 44/184 (quote/full with 5+5 depth); the token's low byte is the segment, which picks the
//! price divisor. See `tests/fixtures/kite/LAYOUT.md`.

use super::{price_scale, PacketKind, SEGMENT_INDICES};
use rust_decimal::Decimal;
use tradegraph_core::Timestamp;

/// Open, high, low and close of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ohlc {
    /// Open.
    pub open: Decimal,
    /// High.
    pub high: Decimal,
    /// Low.
    pub low: Decimal,
    /// Close (the previous session's close).
    pub close: Decimal,
}

/// One depth level. Kite sends empty levels as zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Depth {
    /// Quantity resting at the price.
    pub quantity: u32,
    /// Price.
    pub price: Decimal,
    /// Number of orders.
    pub orders: u16,
}

/// A decoded packet. Fields the layout does not carry are zero (or `None` for times); see
/// [`kind`](Self::kind). Prices are exact: the wire integer over the segment's divisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KitePacket {
    /// Instrument token; its low byte is the segment.
    pub token: u32,
    /// The layout it came in.
    pub kind: PacketKind,
    /// Last traded price.
    pub last_price: Decimal,
    /// Last traded quantity (quote, full).
    pub last_quantity: u32,
    /// Average traded price of the day (quote, full).
    pub average_price: Decimal,
    /// Volume traded today, cumulative (quote, full).
    pub volume: u32,
    /// Total quantity on the bid side (quote, full).
    pub total_buy_quantity: u32,
    /// Total quantity on the ask side (quote, full).
    pub total_sell_quantity: u32,
    /// The day's OHLC (all but LTP).
    pub ohlc: Ohlc,
    /// Time of the last trade (full).
    pub last_trade_time: Option<Timestamp>,
    /// Open interest (full).
    pub oi: u32,
    /// Highest open interest of the day (full).
    pub oi_day_high: u32,
    /// Lowest open interest of the day (full).
    pub oi_day_low: u32,
    /// Exchange time of the packet (index full, full). A wire 0 is the epoch, as kiteconnect
    /// reads it.
    pub exchange_timestamp: Option<Timestamp>,
    /// Bids, best first (full).
    pub bids: [Depth; 5],
    /// Asks, best first (full).
    pub asks: [Depth; 5],
}

impl KitePacket {
    /// Decodes one packet (without its 2-byte length prefix); `None` when the length is not
    /// one of Kite's (8, 28, 32, 44, 184).
    ///
    /// ```
    /// use tradegraph_market::feed::kite::{KitePacket, PacketKind};
    /// let p = KitePacket::decode(&[0x00, 0x06, 0x3a, 0x01, 0x00, 0x02, 0x48, 0x33]).unwrap();
    /// assert_eq!((p.token, p.kind), (408065, PacketKind::Ltp));
    /// assert_eq!(p.last_price.to_string(), "1495.55");
    /// ```
    #[inline]
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        match PacketKind::from_len(bytes.len())? {
            PacketKind::Ltp => Some(Self::fixed::<8>(bytes.try_into().ok()?, PacketKind::Ltp)),
            PacketKind::IndexQuote => Some(Self::fixed::<28>(
                bytes.try_into().ok()?,
                PacketKind::IndexQuote,
            )),
            PacketKind::IndexFull => Some(Self::fixed::<32>(
                bytes.try_into().ok()?,
                PacketKind::IndexFull,
            )),
            PacketKind::Quote => Some(Self::fixed::<44>(bytes.try_into().ok()?, PacketKind::Quote)),
            PacketKind::Full => Some(Self::fixed::<184>(bytes.try_into().ok()?, PacketKind::Full)),
        }
    }

    /// Decodes a packet of known length `N` (`kind` is the layout for `N`): every offset is a
    /// constant within `N`, so the reads compile without bounds checks.
    #[inline(always)]
    fn fixed<const N: usize>(bytes: &[u8; N], kind: PacketKind) -> Self {
        let token = be32(bytes, 0);
        let scale = price_scale(token);
        // `from_parts` is inlined (`Decimal::new` is a call per price); scale is 2, 4 or 7.
        let price = |at: usize| Decimal::from_parts(be32(bytes, at), 0, 0, false, scale);
        let time = |at: usize| Some(Timestamp::from_secs(i64::from(be32(bytes, at))));
        let mut p = Self::empty(token, kind, price(4));
        match kind {
            PacketKind::Ltp => {}
            PacketKind::IndexQuote | PacketKind::IndexFull => {
                p.ohlc = Ohlc {
                    high: price(8),
                    low: price(12),
                    open: price(16),
                    close: price(20),
                };
                if kind == PacketKind::IndexFull {
                    p.exchange_timestamp = time(28);
                }
            }
            PacketKind::Quote | PacketKind::Full => {
                p.last_quantity = be32(bytes, 8);
                p.average_price = price(12);
                p.volume = be32(bytes, 16);
                p.total_buy_quantity = be32(bytes, 20);
                p.total_sell_quantity = be32(bytes, 24);
                p.ohlc = Ohlc {
                    open: price(28),
                    high: price(32),
                    low: price(36),
                    close: price(40),
                };
                if kind == PacketKind::Full {
                    p.last_trade_time = time(44);
                    p.oi = be32(bytes, 48);
                    p.oi_day_high = be32(bytes, 52);
                    p.oi_day_low = be32(bytes, 56);
                    p.exchange_timestamp = time(60);
                    let level = |at: usize| Depth {
                        quantity: be32(bytes, at),
                        price: price(at + 4),
                        orders: be16(bytes, at + 8),
                    };
                    p.bids = [level(64), level(76), level(88), level(100), level(112)];
                    p.asks = [level(124), level(136), level(148), level(160), level(172)];
                }
            }
        }
        p
    }

    const fn empty(token: u32, kind: PacketKind, last_price: Decimal) -> Self {
        let zero = Depth {
            quantity: 0,
            price: Decimal::ZERO,
            orders: 0,
        };
        Self {
            token,
            kind,
            last_price,
            last_quantity: 0,
            average_price: Decimal::ZERO,
            volume: 0,
            total_buy_quantity: 0,
            total_sell_quantity: 0,
            ohlc: Ohlc {
                open: Decimal::ZERO,
                high: Decimal::ZERO,
                low: Decimal::ZERO,
                close: Decimal::ZERO,
            },
            last_trade_time: None,
            oi: 0,
            oi_day_high: 0,
            oi_day_low: 0,
            exchange_timestamp: None,
            bids: [zero; 5],
            asks: [zero; 5],
        }
    }

    /// The segment (`token & 0xff`: 1 NSE, 2 NFO, 3 CDS, 4 BSE, 5 BFO, 6 BCD, 7 MCX, 9 indices,
    /// 12 NCO).
    pub const fn segment(&self) -> u32 {
        self.token & 0xff
    }

    /// Whether the instrument trades (not an index), as kiteconnect's `tradable`.
    pub const fn is_tradable(&self) -> bool {
        self.segment() != SEGMENT_INDICES
    }

    /// Whether the packet carries depth, quantities and volume (44 and 184 bytes).
    pub const fn is_tradable_layout(&self) -> bool {
        matches!(self.kind, PacketKind::Quote | PacketKind::Full)
    }

    /// kiteconnect's `change`: percent change of the last price from the close, in `f64` and
    /// computed exactly as kiteconnect does; `Some(0.0)` when the close is 0, `None` for LTP.
    pub fn change(&self) -> Option<f64> {
        if self.kind == PacketKind::Ltp {
            return None;
        }
        let (last, close) = (to_f64(self.last_price), to_f64(self.ohlc.close));
        if close == 0.0 {
            return Some(0.0);
        }
        Some((last - close) * 100.0 / close)
    }
}

/// `mantissa / 10^scale` in `f64`: the same float as kiteconnect's `u32 / divisor`.
fn to_f64(d: Decimal) -> f64 {
    let divisor = match d.scale() {
        7 => 1e7,
        4 => 1e4,
        2 => 100.0,
        s => 10f64.powi(i32::try_from(s).unwrap_or(0)),
    };
    d.mantissa() as f64 / divisor
}

#[inline(always)]
fn be32<const N: usize>(bytes: &[u8; N], at: usize) -> u32 {
    match bytes.get(at..at + 4) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    }
}

#[inline(always)]
fn be16<const N: usize>(bytes: &[u8; N], at: usize) -> u16 {
    match bytes.get(at..at + 2) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    }
}
