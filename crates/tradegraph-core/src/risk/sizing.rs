//! From "size as a percent of equity" to a quantity in whole lots that respects the position
//! limit and the cash at the worst expected fill price, fees included.

use super::verdict::{Effect, Finding};
use super::{RiskContext, RiskLimits, RiskReason};
use crate::money::{floor_to_step, pct, pct_of};
use crate::order::OrderSide;
use crate::{Decimal, Quantity};
use rust_decimal::prelude::ToPrimitive;

fn clamp(findings: &mut Vec<Finding>, reason: RiskReason) {
    findings.push(Finding {
        effect: Effect::Clamped,
        reason,
    });
}

/// The quantity to open or add, a positive multiple of the lot size, or why there is none.
///
/// `held` is the position already open on the same side (signed, or zero). Inputs were checked by
/// the gates: price, equity and lot size are positive.
///
/// Each unit is costed at [`RiskContext::unit_cost`] (the higher of the reference price and
/// the worst expected fill, plus the fee): `quantity × unit cost` stays within the room left
/// under the position limit and, for a buy, within the cash.
pub(super) fn quantity(
    limits: &RiskLimits,
    ctx: &RiskContext<'_>,
    side: OrderSide,
    held: Quantity,
    size_pct: f64,
    findings: &mut Vec<Finding>,
) -> Result<Quantity, RiskReason> {
    let invalid = RiskReason::InvalidSize { given: size_pct };
    if !(size_pct.is_finite() && size_pct > 0.0) {
        return Err(invalid);
    }
    let max_pct = limits.max_position_pct;
    let pct_wanted = if size_pct > max_pct.to_f64().unwrap_or(0.0) {
        clamp(
            findings,
            RiskReason::SizeClamped {
                requested_pct: size_pct,
                max_pct,
            },
        );
        max_pct
    } else {
        Decimal::try_from(size_pct)
            .map_err(|_| invalid)?
            .round_dp(8)
    };
    let (price, equity, lot) = (ctx.price, ctx.account.equity, ctx.instrument.lot_size);
    let overflow = || RiskReason::InvalidSize { given: size_pct };
    let wanted = pct_of(pct_wanted, equity).ok_or_else(overflow)?;
    let cap = pct_of(max_pct, equity).ok_or_else(overflow)?;
    let held_notional = held.abs().checked_mul(price).ok_or_else(overflow)?;
    let room = cap.checked_sub(held_notional).ok_or_else(overflow)?;
    if room <= Decimal::ZERO {
        return Err(RiskReason::PositionLimitReached {
            exposure_pct: pct(held_notional, equity).unwrap_or(Decimal::ZERO),
            max_pct,
        });
    }
    let mut notional = wanted;
    if notional > room {
        notional = room;
        clamp(
            findings,
            RiskReason::PositionCapped {
                allowed: room,
                max_pct,
            },
        );
    }
    if side == OrderSide::Buy {
        let cash = ctx.account.cash;
        if cash <= Decimal::ZERO {
            return Err(RiskReason::InsufficientCash {
                wanted: notional,
                cash,
            });
        }
        if notional > cash {
            clamp(
                findings,
                RiskReason::InsufficientCash {
                    wanted: notional,
                    cash,
                },
            );
            notional = cash;
        }
    }
    let unit = ctx.unit_cost(side).ok_or_else(overflow)?;
    let raw = notional.checked_div(unit).ok_or_else(overflow)?;
    let mut qty = floor_to_step(raw, lot);
    // The division may have rounded up in its last digit: never exceed the notional.
    if qty.checked_mul(unit).is_none_or(|n| n > notional) {
        qty = qty.checked_sub(lot).unwrap_or(Decimal::ZERO);
    }
    if qty <= Decimal::ZERO {
        return Err(RiskReason::BelowOneLot {
            allowed: notional,
            lot_notional: lot.checked_mul(unit).unwrap_or(Decimal::MAX),
        });
    }
    Ok(qty)
}
