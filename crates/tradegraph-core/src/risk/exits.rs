//! Stop-loss (mandatory, derived when missing, never wider than the maximum), take-profit sanity
//! and the trailing distance, all rounded to the tick on the safe side.

use super::reason::StopBasis;
use super::verdict::{Effect, Finding};
use super::{Proposal, RiskContext, RiskLimits, RiskReason};
use crate::money::{ceil_to_step, floor_to_step, pct_of};
use crate::order::{Exits, OrderSide};
use crate::{Decimal, Price};

fn clamp(findings: &mut Vec<Finding>, reason: RiskReason) {
    findings.push(Finding {
        effect: Effect::Clamped,
        reason,
    });
}

/// A raw model number as a positive price, if it is one.
fn positive(x: f64) -> Option<Decimal> {
    if !(x.is_finite() && x > 0.0) {
        return None;
    }
    Decimal::try_from(x).ok().filter(|d| *d > Decimal::ZERO)
}

struct Frame {
    price: Price,
    tick: Price,
    long: bool,
    max_stop: Price,
}

impl Frame {
    /// The stop `distance` from the price, rounded to the tick toward the price (tighter), at
    /// least one tick away when the price is on the grid, never wider than the maximum.
    fn stop_at(&self, distance: Price) -> Option<Price> {
        let (p, tick) = (self.price, self.tick);
        let stop = if self.long {
            let s = ceil_to_step(p.checked_sub(distance)?, tick)?;
            if s >= p {
                ceil_to_step(p, tick)?.checked_sub(tick)?
            } else {
                s
            }
        } else {
            let s = floor_to_step(p.checked_add(distance)?, tick);
            if s <= p {
                floor_to_step(p, tick).checked_add(tick)?
            } else {
                s
            }
        };
        let gap = (p - stop).abs();
        let ok = stop > Decimal::ZERO
            && gap <= self.max_stop
            && (if self.long { stop < p } else { stop > p });
        ok.then_some(stop)
    }

    fn wrong_side(&self, level: Decimal, for_stop: bool) -> bool {
        // A long's stop is below the price and its target above; a short's the other way.
        let below = level < self.price;
        let above = level > self.price;
        if self.long == for_stop {
            !below
        } else {
            !above
        }
    }
}

/// The exits of an entry: a stop-loss always, a take-profit and a trailing distance when sane.
pub(super) fn exits(
    limits: &RiskLimits,
    ctx: &RiskContext<'_>,
    side: OrderSide,
    proposal: &Proposal,
    findings: &mut Vec<Finding>,
) -> Result<Exits, RiskReason> {
    let price = ctx.price;
    let tick = ctx.instrument.tick_size;
    let max_stop = pct_of(limits.max_stop_pct, price).unwrap_or(Decimal::ZERO);
    let frame = Frame {
        price,
        tick,
        long: side == OrderSide::Buy,
        max_stop,
    };
    let no_stop = || RiskReason::NoValidStop {
        max_distance: max_stop,
        tick,
    };

    // The stop a model did not (usably) give: ATR × multiple, or a percent, within the maximum.
    let derived = || -> Option<(Price, StopBasis)> {
        let atr = ctx
            .volatility
            .atr
            .and_then(positive)
            .and_then(|a| a.checked_mul(limits.stop_atr_multiple));
        let (distance, basis) = match atr {
            Some(d) => (d, StopBasis::Atr),
            None => (pct_of(limits.default_stop_pct, price)?, StopBasis::Percent),
        };
        Some((frame.stop_at(distance.min(max_stop))?, basis))
    };

    let stop = match proposal.stop_loss {
        None => {
            let (stop, basis) = derived().ok_or_else(no_stop)?;
            clamp(findings, RiskReason::StopLossDerived { stop, basis });
            stop
        }
        Some(given) => match positive(given) {
            None => {
                let (stop, _) = derived().ok_or_else(no_stop)?;
                clamp(findings, RiskReason::StopLossInvalid { given, stop });
                stop
            }
            Some(level) if frame.wrong_side(level, true) => {
                let (stop, _) = derived().ok_or_else(no_stop)?;
                clamp(findings, RiskReason::StopLossWrongSide { given, stop });
                stop
            }
            Some(level) => {
                let distance = (price - level).abs();
                if distance > max_stop {
                    let stop = frame.stop_at(max_stop).ok_or_else(no_stop)?;
                    clamp(
                        findings,
                        RiskReason::StopLossTooWide {
                            given,
                            stop,
                            max_pct: limits.max_stop_pct,
                        },
                    );
                    stop
                } else {
                    frame.stop_at(distance).ok_or_else(no_stop)?
                }
            }
        },
    };

    let take_profit = proposal
        .take_profit
        .and_then(|given| take_profit(limits, &frame, given, findings));
    let trailing_distance = proposal
        .trailing_distance
        .and_then(|given| trailing(&frame, given, findings));

    Ok(Exits {
        stop_loss: Some(stop),
        take_profit,
        trailing_distance,
    })
}

fn take_profit(
    limits: &RiskLimits,
    frame: &Frame,
    given: f64,
    findings: &mut Vec<Finding>,
) -> Option<Price> {
    let dropped = RiskReason::TakeProfitDropped { given };
    let Some(level) = positive(given).filter(|l| !frame.wrong_side(*l, false)) else {
        clamp(findings, dropped);
        return None;
    };
    let p = frame.price;
    let max = pct_of(limits.max_take_profit_pct, p).unwrap_or(Decimal::ZERO);
    let distance = (level - p).abs();
    let too_far = distance > max;
    let distance = distance.min(max);
    // Rounded toward the price: a nearer target, never a farther one.
    let target = if frame.long {
        p.checked_add(distance)
            .map(|t| floor_to_step(t, frame.tick))
    } else {
        p.checked_sub(distance)
            .and_then(|t| ceil_to_step(t, frame.tick))
    };
    let Some(target) = target.filter(|t| *t > Decimal::ZERO && !frame.wrong_side(*t, false)) else {
        clamp(findings, dropped);
        return None;
    };
    if too_far {
        clamp(
            findings,
            RiskReason::TakeProfitTooFar {
                given,
                take_profit: target,
                max_pct: limits.max_take_profit_pct,
            },
        );
    }
    Some(target)
}

fn trailing(frame: &Frame, given: f64, findings: &mut Vec<Finding>) -> Option<Price> {
    let Some(distance) = positive(given) else {
        clamp(findings, RiskReason::TrailingDropped { given });
        return None;
    };
    let too_wide = distance > frame.max_stop;
    let mut d = floor_to_step(distance.min(frame.max_stop), frame.tick);
    if d.is_zero() {
        d = frame.tick;
    }
    if d > frame.max_stop {
        clamp(findings, RiskReason::TrailingDropped { given });
        return None;
    }
    if too_wide {
        clamp(findings, RiskReason::TrailingTooWide { given, distance: d });
    }
    Some(d)
}
