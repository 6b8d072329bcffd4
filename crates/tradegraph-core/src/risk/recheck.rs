//! The guard's second look: a verdict re-checked against the market as it is when its order
//! goes out, which may be much later than the verdict (a person approving it, an interrupt).

use super::gates::{self, Phase};
use super::reason::BadInput;
use super::verdict::{Effect, Finding};
use super::{RiskContext, RiskGuard, RiskReason, Verdict};
use crate::order::{IntentPurpose, OrderIntent, OrderSide};
use crate::{Decimal, Price, Quantity};

impl RiskGuard {
    /// Re-checks `verdict` against `ctx`, the market as it is now, just before its order is sent.
    /// `Ok` means send it; `Err` is the refusal, a [`Finding`] with effect
    /// [`Rejected`](Effect::Rejected) and its reason. Reads the guard's state and kill switch,
    /// changes nothing; never panics, whatever the numbers.
    ///
    /// Refused, in this order:
    /// - a verdict for another instrument than `ctx`'s ([`RiskReason::WrongInstrument`]);
    /// - a verdict older than `max_age_ms` at `ctx.now`, or dated more than that after it
    ///   ([`RiskReason::VerdictStale`]);
    /// - a current price that is not positive ([`RiskReason::BadInput`]);
    /// - an entry, when now: the kill switch is engaged, the daily halt is in force, the
    ///   session forbids entries (closed, entry cutoff, square-off), the circuit breaker is
    ///   tripped or cooling down; when it has no stop-loss; when the price is at or beyond
    ///   the stop ([`RiskReason::PriceThroughStop`]) or has moved from the price the entry was
    ///   sized at by more than the stop distance ([`RiskReason::PriceMoved`]);
    /// - a close, when the market is closed, or when no position is left on the side it
    ///   closes ([`RiskReason::NothingToClose`]).
    ///
    /// A verdict without an order passes: there is nothing to send.
    ///
    /// ```
    /// use tradegraph_core::order::DecisionId;
    /// use tradegraph_core::position::Account;
    /// use tradegraph_core::risk::{Action, Proposal, RiskContext, RiskGuard, RiskReason};
    /// use tradegraph_core::{Currency, Decimal, Instrument, Timestamp};
    ///
    /// let btc = Instrument::btc_usdt();
    /// let at: Timestamp = "2024-01-01T10:15:00Z".parse()?;
    /// let account = Account::flat(Currency::Usdt, Decimal::from(100_000), at);
    /// let mut guard = RiskGuard::default();
    /// let buy = Proposal::new(DecisionId::new("d1"), Action::Buy, 3.0).with_stop_loss(39_000.0);
    /// let verdict = guard.evaluate(&buy, &RiskContext::new(&btc, &account, Decimal::from(40_000), at));
    ///
    /// // Approved by a person 20 s later; the price is a little lower: it goes out.
    /// let later = at.add_millis(20_000);
    /// let now = RiskContext::new(&btc, &account, Decimal::from(39_900), later);
    /// assert!(guard.recheck(&verdict, &now, 60_000).is_ok());
    /// // The market fell through the stop meanwhile: refused.
    /// let now = RiskContext::new(&btc, &account, Decimal::from(38_950), later);
    /// let refusal = guard.recheck(&verdict, &now, 60_000).unwrap_err();
    /// assert!(matches!(refusal.reason, RiskReason::PriceThroughStop { .. }));
    /// // Approved after lunch: too old.
    /// let now = RiskContext::new(&btc, &account, Decimal::from(40_000), at.add_millis(3_600_000));
    /// let refusal = guard.recheck(&verdict, &now, 60_000).unwrap_err();
    /// assert_eq!(refusal.reason, RiskReason::VerdictStale { age_ms: 3_600_000, max_ms: 60_000 });
    /// # Ok::<(), tradegraph_core::CoreError>(())
    /// ```
    pub fn recheck(
        &self,
        verdict: &Verdict,
        ctx: &RiskContext<'_>,
        max_age_ms: i64,
    ) -> Result<(), Finding> {
        let Some(intent) = verdict.intent.as_ref() else {
            return Ok(());
        };
        self.recheck_reason(verdict, intent, ctx, max_age_ms)
            .map_or(Ok(()), |reason| {
                Err(Finding {
                    effect: Effect::Rejected,
                    reason,
                })
            })
    }

    fn recheck_reason(
        &self,
        verdict: &Verdict,
        intent: &OrderIntent,
        ctx: &RiskContext<'_>,
        max_age_ms: i64,
    ) -> Option<RiskReason> {
        let market = &ctx.instrument.symbol;
        for traded in [&verdict.symbol, &intent.symbol] {
            if traded != market {
                return Some(RiskReason::WrongInstrument {
                    verdict: traded.clone(),
                    market: market.clone(),
                });
            }
        }
        // A close only lowers the risk: it goes out however old its verdict (a forced close
        // late is still a close), as long as there is something to close.
        if intent.purpose == IntentPurpose::Close {
            if ctx.price <= Decimal::ZERO {
                return Some(bad_price(ctx.price.to_string()));
            }
            let phase = gates::phase(ctx.instrument, ctx.now, self.limits());
            return close_reason(intent, ctx, phase);
        }
        // Exact (no saturation) whatever the timestamps. Dated after now by as much is refused
        // too (a clock or a context gone wrong); less than that is clock skew between the
        // exchange's time and ours.
        let age = i128::from(ctx.now.millis()) - i128::from(verdict.at.millis());
        let max = i128::from(max_age_ms);
        if age > max || age < -max {
            let age_ms = i64::try_from(age).unwrap_or(if age > 0 { i64::MAX } else { i64::MIN });
            return Some(RiskReason::VerdictStale {
                age_ms,
                max_ms: max_age_ms,
            });
        }
        if ctx.price <= Decimal::ZERO {
            return Some(bad_price(ctx.price.to_string()));
        }
        let phase = gates::phase(ctx.instrument, ctx.now, self.limits());
        match intent.purpose {
            IntentPurpose::Close => close_reason(intent, ctx, phase),
            IntentPurpose::Open => self
                .entry_gate(ctx, phase)
                .or_else(|| price_reason(intent, ctx.price)),
        }
    }

    /// The first rule that forbids any entry now: kill switch, daily halt, session, breaker.
    fn entry_gate(&self, ctx: &RiskContext<'_>, phase: Phase) -> Option<RiskReason> {
        let limits = self.limits();
        if self.kill_switch().is_engaged() {
            return Some(RiskReason::KillSwitch);
        }
        if let Some(daily) = self.state().daily_halt_now(limits, ctx) {
            return Some(daily);
        }
        match phase {
            Phase::Open => {}
            Phase::Closed => return Some(RiskReason::MarketClosed { at: ctx.now }),
            Phase::EntryCutoff { close } => {
                return Some(RiskReason::EntryCutoff {
                    close,
                    minutes: limits.entry_cutoff_minutes,
                })
            }
            Phase::SquareOff { close } => {
                return Some(RiskReason::SquareOff {
                    close,
                    minutes: limits.square_off_minutes,
                })
            }
        }
        self.state().breaker_now(limits, ctx)
    }
}

/// A close goes out while the market is open and the position it closes is still there.
fn close_reason(intent: &OrderIntent, ctx: &RiskContext<'_>, phase: Phase) -> Option<RiskReason> {
    if phase == Phase::Closed {
        return Some(RiskReason::MarketClosed { at: ctx.now });
    }
    let held = ctx
        .account
        .position(&ctx.instrument.symbol)
        .map_or(Quantity::ZERO, |p| p.quantity);
    let closes = OrderSide::of_quantity(held).map(OrderSide::opposite);
    (closes != Some(intent.side)).then_some(RiskReason::NothingToClose)
}

/// An entry goes out while the price is on the safe side of its stop and within the stop
/// distance of the price it was sized at.
fn price_reason(intent: &OrderIntent, price: Price) -> Option<RiskReason> {
    let Some(stop) = intent.exits.stop_loss else {
        return Some(RiskReason::MissingStopLoss);
    };
    let reference = intent.reference_price;
    if reference <= Decimal::ZERO || stop <= Decimal::ZERO {
        return Some(bad_price(format!(
            "the verdict's reference {reference} and stop {stop}"
        )));
    }
    let through = match intent.side {
        OrderSide::Buy => price <= stop,
        OrderSide::Sell => price >= stop,
    };
    if through {
        return Some(RiskReason::PriceThroughStop { price, stop });
    }
    // Both are positive, so neither difference can overflow.
    let max_move = reference.checked_sub(stop).map(|d| d.abs());
    let moved = price.checked_sub(reference).map(|d| d.abs());
    match (moved, max_move) {
        (Some(moved), Some(max_move)) if moved <= max_move => None,
        (_, max_move) => Some(RiskReason::PriceMoved {
            reference,
            price,
            max_move: max_move.unwrap_or(Decimal::ZERO),
        }),
    }
}

fn bad_price(value: String) -> RiskReason {
    RiskReason::BadInput {
        input: BadInput::Price,
        value,
    }
}
