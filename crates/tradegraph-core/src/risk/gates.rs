//! The rules that decide whether anything may be opened at all, and when open positions must
//! be closed: kill switch, daily loss, session, circuit breaker, open positions, shorts, inputs.

use super::reason::{BadInput, VolatilityTrigger};
use super::{GuardState, Proposal, RiskContext, RiskLimits, RiskReason};
use crate::order::OrderSide;
use crate::{Decimal, Instrument, Quantity, Segment, Timestamp, TradingSession};

const MINUTE: i64 = 60_000;

/// Where the decision's time sits in the instrument's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Trading, entries allowed.
    Open,
    /// The exchange is closed: no orders at all.
    Closed,
    /// Near the close: no entries.
    EntryCutoff { close: Timestamp },
    /// Nearer the close: no entries, positions closed.
    SquareOff { close: Timestamp },
}

pub(super) fn phase(instrument: &Instrument, now: Timestamp, limits: &RiskLimits) -> Phase {
    let TradingSession::Exchange(session) = &instrument.session else {
        return Phase::Open;
    };
    let Some((_, close)) = session.session_at(now) else {
        return Phase::Closed;
    };
    let left = close.millis().saturating_sub(now.millis());
    if left <= i64::from(limits.square_off_minutes) * MINUTE {
        Phase::SquareOff { close }
    } else if left <= i64::from(limits.entry_cutoff_minutes) * MINUTE {
        Phase::EntryCutoff { close }
    } else {
        Phase::Open
    }
}

impl GuardState {
    /// Trips the circuit breaker when a volatility figure is above its threshold (extending the
    /// cooldown), and reports it while it cools down.
    pub(super) fn breaker(
        &mut self,
        limits: &RiskLimits,
        ctx: &RiskContext<'_>,
    ) -> Option<RiskReason> {
        let reason = self.breaker_now(limits, ctx);
        if let Some(RiskReason::CircuitBreaker { until, .. }) = &reason {
            self.breaker_until = Some(*until);
        }
        reason
    }

    /// What [`breaker`](Self::breaker) would report, without remembering a trip.
    pub(super) fn breaker_now(
        &self,
        limits: &RiskLimits,
        ctx: &RiskContext<'_>,
    ) -> Option<RiskReason> {
        let v = ctx.volatility;
        let trips = [
            (
                VolatilityTrigger::RealizedVolatility,
                v.realized_pct,
                limits.max_realized_volatility_pct,
            ),
            (
                VolatilityTrigger::BarRange,
                v.bar_range_pct,
                limits.max_bar_range_pct,
            ),
        ];
        let cooldown = i64::from(limits.breaker_cooldown_minutes) * MINUTE;
        for (trigger, value, limit) in trips {
            // NaN compares false: bad figures are refused as bad input, not as a trip.
            if let Some(value) = value.filter(|x| *x > limit) {
                let until = ctx.now.add_millis(cooldown);
                let until = self.breaker_until.map_or(until, |u| u.max(until));
                return Some(RiskReason::CircuitBreaker {
                    trigger,
                    value,
                    limit,
                    until,
                });
            }
        }
        self.breaker_until
            .filter(|until| ctx.now < *until)
            .map(|until| RiskReason::CircuitBreakerCooldown { until })
    }

    /// Latches the daily halt once the day's loss reaches the limit; it holds until the account
    /// starts a new trading day.
    pub(super) fn daily_halt(
        &mut self,
        limits: &RiskLimits,
        ctx: &RiskContext<'_>,
    ) -> Option<RiskReason> {
        let day = ctx.account.day_started_at.unwrap_or(Timestamp::EPOCH);
        if let Some(RiskReason::DailyLossLimit { loss_pct, .. }) = self.daily_halt_now(limits, ctx)
        {
            self.halted_day = Some(day);
            self.halted_loss_pct = loss_pct;
        }
        (self.halted_day == Some(day)).then_some(RiskReason::DailyLossLimit {
            loss_pct: self.halted_loss_pct,
            limit_pct: limits.max_daily_loss_pct,
        })
    }

    /// What [`daily_halt`](Self::daily_halt) would report, without latching a new halt.
    pub(super) fn daily_halt_now(
        &self,
        limits: &RiskLimits,
        ctx: &RiskContext<'_>,
    ) -> Option<RiskReason> {
        let day = ctx.account.day_started_at.unwrap_or(Timestamp::EPOCH);
        let latched = (self.halted_day == Some(day)).then_some(self.halted_loss_pct);
        let loss = ctx
            .account
            .daily_loss_pct()
            .filter(|l| *l >= limits.max_daily_loss_pct);
        let worst = match (latched, loss) {
            (Some(a), Some(b)) => a.max(b),
            (a, b) => a.or(b)?,
        };
        Some(RiskReason::DailyLossLimit {
            loss_pct: worst,
            limit_pct: limits.max_daily_loss_pct,
        })
    }
}

/// What forbids any entry now, whatever is proposed, in rule order: the kill switch, the daily
/// halt, the session, the circuit breaker, the number of open positions.
pub(super) fn standing_gates(
    limits: &RiskLimits,
    ctx: &RiskContext<'_>,
    held: Quantity,
    kill: bool,
    phase: Phase,
    daily: Option<&RiskReason>,
    breaker: Option<&RiskReason>,
) -> Vec<RiskReason> {
    let mut gates = Vec::new();
    if kill {
        gates.push(RiskReason::KillSwitch);
    }
    if let Some(daily) = daily {
        gates.push(daily.clone());
    }
    match phase {
        Phase::Open => {}
        Phase::Closed => gates.push(RiskReason::MarketClosed { at: ctx.now }),
        Phase::EntryCutoff { close } => gates.push(RiskReason::EntryCutoff {
            close,
            minutes: limits.entry_cutoff_minutes,
        }),
        Phase::SquareOff { close } => gates.push(RiskReason::SquareOff {
            close,
            minutes: limits.square_off_minutes,
        }),
    }
    if let Some(breaker) = breaker {
        gates.push(breaker.clone());
    }
    let open = ctx.account.open_positions();
    if held.is_zero() && open >= limits.max_open_positions {
        gates.push(RiskReason::MaxOpenPositions {
            open,
            max: limits.max_open_positions,
        });
    }
    gates
}

/// Everything that forbids opening or adding to a position now, in rule order: the
/// [standing gates](standing_gates) given, then what depends on the proposal and the inputs.
pub(super) fn entry_gates(
    limits: &RiskLimits,
    ctx: &RiskContext<'_>,
    proposal: &Proposal,
    side: OrderSide,
    held: Quantity,
    standing: Vec<RiskReason>,
) -> Vec<RiskReason> {
    let mut gates = standing;
    let spot = ctx.instrument.segment == Segment::Spot;
    if side == OrderSide::Sell && held <= Quantity::ZERO && (spot || !limits.allow_short) {
        gates.push(RiskReason::ShortNotAllowed { spot });
    }
    bad_inputs(ctx, &mut gates);
    if ctx.account.currency != ctx.instrument.currency {
        gates.push(RiskReason::CurrencyMismatch {
            account: ctx.account.currency,
            instrument: ctx.instrument.currency,
        });
    }
    let c = proposal.confidence;
    if !(c.is_finite() && (0.0..=1.0).contains(&c)) {
        gates.push(RiskReason::InvalidConfidence { given: c });
    } else if c < limits.min_confidence {
        gates.push(RiskReason::LowConfidence {
            given: c,
            min: limits.min_confidence,
        });
    }
    gates
}

/// Inputs nothing can be sized on: price, volatility, instrument, equity.
pub(super) fn bad_inputs(ctx: &RiskContext<'_>, gates: &mut Vec<RiskReason>) {
    let bad = |input, value: String| RiskReason::BadInput { input, value };
    if ctx.price <= Decimal::ZERO || ctx.price > crate::MAX_PRICE {
        gates.push(bad(BadInput::Price, ctx.price.to_string()));
    }
    let v = ctx.volatility;
    for figure in [v.realized_pct, v.bar_range_pct, v.atr]
        .into_iter()
        .flatten()
    {
        if !(figure.is_finite() && figure >= 0.0) {
            gates.push(bad(BadInput::Volatility, figure.to_string()));
            break;
        }
    }
    let i = ctx.instrument;
    if i.lot_size <= Decimal::ZERO || i.tick_size <= Decimal::ZERO {
        gates.push(bad(
            BadInput::Instrument,
            format!("lot {}, tick {}", i.lot_size, i.tick_size),
        ));
    }
    let a = ctx.account;
    if a.equity <= Decimal::ZERO || a.day_start_equity <= Decimal::ZERO {
        gates.push(bad(
            BadInput::Equity,
            format!("equity {}, day start {}", a.equity, a.day_start_equity),
        ));
    }
}
