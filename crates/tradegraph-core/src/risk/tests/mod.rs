//! Unit tests of the guard, one or more per rule. The property test with hostile proposals is in
//! `tests/risk_guard.rs`.
#![allow(clippy::unwrap_used)]

mod entries;
mod halts;
mod recheck;

use super::*;
use crate::money::Bps;
use crate::order::{DecisionId, IntentPurpose, OrderIntent, OrderSide};
use crate::position::{Account, Position};
use crate::{Currency, Decimal, Instrument, Price, Quantity, Symbol, Timestamp};

pub(super) fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub(super) fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// One decision's world: instrument, account, price, time, volatility.
pub(super) struct Fx {
    pub(super) instrument: Instrument,
    pub(super) account: Account,
    pub(super) price: Price,
    pub(super) now: Timestamp,
    pub(super) vol: Volatility,
    /// Fee and slippage: zero, so each rule's figures stay round; `entries.rs` tests the costs.
    pub(super) costs: (Bps, Bps),
}

impl Fx {
    /// BTC at 40 000, 100 000 USDT, a Monday morning.
    pub(super) fn btc() -> Self {
        let now = t("2024-01-01T10:15:00Z");
        Self {
            instrument: Instrument::btc_usdt(),
            account: Account::flat(Currency::Usdt, d("100000"), now),
            price: d("40000"),
            now,
            vol: Volatility::default(),
            costs: (Bps::ZERO, Bps::ZERO),
        }
    }

    /// Bank Nifty at 50 000, 50 M INR, Monday 6 January 2025 at 11:00 IST.
    pub(super) fn bank_nifty() -> Self {
        let now = t("2025-01-06T11:00:00+05:30");
        Self {
            instrument: Instrument::bank_nifty(),
            account: Account::flat(Currency::Inr, d("50000000"), now),
            price: d("50000"),
            now,
            vol: Volatility::default(),
            costs: (Bps::ZERO, Bps::ZERO),
        }
    }

    pub(super) fn at(mut self, now: &str) -> Self {
        self.now = t(now);
        self
    }

    /// Adds an open position (the account's equity and cash are left as they are).
    pub(super) fn holding(mut self, symbol: &str, quantity: &str, price: &str) -> Self {
        let mut p = Position::flat(Symbol::new(symbol));
        p.quantity = d(quantity);
        p.cost_basis = d(quantity) * d(price);
        p.mark_price = Some(d(price));
        self.account.positions.push(p);
        self
    }

    pub(super) fn ctx(&self) -> RiskContext<'_> {
        RiskContext::new(&self.instrument, &self.account, self.price, self.now)
            .with_volatility(self.vol)
            .with_costs(self.costs.0, self.costs.1)
    }

    pub(super) fn judge(&self, guard: &mut RiskGuard, proposal: &Proposal) -> Verdict {
        guard.evaluate(proposal, &self.ctx())
    }

    pub(super) fn judge_fresh(&self, proposal: &Proposal) -> Verdict {
        self.judge(&mut RiskGuard::default(), proposal)
    }
}

pub(super) fn proposal(action: Action, size: f64) -> Proposal {
    Proposal::new(DecisionId::new("test-decision"), action, size).with_confidence(0.8)
}

pub(super) fn buy(size: f64, stop: f64) -> Proposal {
    proposal(Action::Buy, size).with_stop_loss(stop)
}

pub(super) fn intent(v: &Verdict) -> &OrderIntent {
    v.intent
        .as_ref()
        .unwrap_or_else(|| panic!("no intent in {v}"))
}

pub(super) fn reasons(v: &Verdict, effect: Effect) -> Vec<RiskReason> {
    v.reasons(effect).cloned().collect()
}

pub(super) fn has(v: &Verdict, effect: Effect, pred: impl Fn(&RiskReason) -> bool) -> bool {
    v.reasons(effect).any(pred)
}

pub(super) fn assert_close_of(v: &Verdict, held: &str) {
    let i = intent(v);
    assert_eq!(i.purpose, IntentPurpose::Close, "{v}");
    assert_eq!(i.quantity, d(held).abs());
    let side = if d(held) > Quantity::ZERO {
        OrderSide::Sell
    } else {
        OrderSide::Buy
    };
    assert_eq!(i.side, side);
    assert!(i.to_request().reduce_only);
}
