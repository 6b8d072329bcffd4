//! A packet's day figures into the tick's [`DayStats`]: every field `kiteconnect`'s
//! `KiteTicker` exposes beyond the price, quantities and depth.

use super::{KitePacket, PacketKind};
use rust_decimal::Decimal;
use tradegraph_core::{DayStats, Timestamp};

/// The day's figures of `packet`, as `kiteconnect` names them:
///
/// | layout | fields |
/// |---|---|
/// | LTP | none (`None`) |
/// | index quote / full (28 / 32) | `ohlc`, `change`; full: `exchange_timestamp` |
/// | quote / full (44 / 184) | `ohlc`, `change`, `average_traded_price`, `last_traded_quantity`; full: `last_trade_time`, `exchange_timestamp`, and for derivatives `oi_day_high`, `oi_day_low` |
///
/// Kite's zeros for what it does not know yet (prices before the first trade, times) are
/// `None`; so is the change when the close is not known. `derivative` says whether the
/// open-interest fields mean anything (they are zeros for equities).
pub(super) fn day_stats(packet: &KitePacket, derivative: bool) -> Option<Box<DayStats>> {
    if packet.kind == PacketKind::Ltp {
        return None;
    }
    let ohlc = &packet.ohlc;
    let mut day = DayStats {
        open: known(ohlc.open),
        high: known(ohlc.high),
        low: known(ohlc.low),
        previous_close: known(ohlc.close),
        change_pct: DayStats::change_from(packet.last_price, ohlc.close),
        exchange_time: time(packet.exchange_timestamp),
        ..DayStats::default()
    };
    if packet.is_tradable_layout() {
        day.average_price = known(packet.average_price);
        day.last_quantity = Some(Decimal::from(packet.last_quantity));
        day.last_trade_time = time(packet.last_trade_time);
        if packet.kind == PacketKind::Full && derivative {
            day.oi_day_high = Some(Decimal::from(packet.oi_day_high));
            day.oi_day_low = Some(Decimal::from(packet.oi_day_low));
        }
    }
    Some(Box::new(day))
}

/// A price Kite knows: not its 0.
fn known(price: Decimal) -> Option<Decimal> {
    (!price.is_zero()).then_some(price)
}

/// A time Kite sent: not its 0.
fn time(t: Option<Timestamp>) -> Option<Timestamp> {
    t.filter(|t| *t != Timestamp::EPOCH)
}
