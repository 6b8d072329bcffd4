//! Packet layouts and price scales: which bytes mean what, and how many decimals a price has.

use super::KiteMode;

/// Which layout a packet has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// 8 bytes: token and last price.
    Ltp,
    /// 28 bytes: an index's price and OHLC.
    IndexQuote,
    /// 32 bytes: an index quote plus the exchange timestamp.
    IndexFull,
    /// 44 bytes: price, quantities, average price, day volume, OHLC.
    Quote,
    /// 184 bytes: a quote plus trade time, open interest, exchange timestamp and depth.
    Full,
}

impl PacketKind {
    /// The layout for a packet length, if it is one of Kite's.
    pub const fn from_len(len: usize) -> Option<Self> {
        match len {
            8 => Some(Self::Ltp),
            28 => Some(Self::IndexQuote),
            32 => Some(Self::IndexFull),
            44 => Some(Self::Quote),
            184 => Some(Self::Full),
            _ => None,
        }
    }

    /// The subscription mode that produces it.
    pub const fn mode(self) -> KiteMode {
        match self {
            Self::Ltp => KiteMode::Ltp,
            Self::IndexQuote | Self::Quote => KiteMode::Quote,
            Self::IndexFull | Self::Full => KiteMode::Full,
        }
    }
}

/// Kite's segment number for indices.
pub const SEGMENT_INDICES: u32 = 9;

/// Decimal places of prices for a token: CDS (3) 7, BCD (6) and NCO (12) 4, others 2 (the
/// divisors 1e7, 1e4 and 100 of kiteconnect 5.2.2).
pub const fn price_scale(token: u32) -> u32 {
    match token & 0xff {
        3 => 7,
        6 | 12 => 4,
        _ => 2,
    }
}
