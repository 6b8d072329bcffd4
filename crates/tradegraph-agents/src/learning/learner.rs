//! The learning agent's memory: open entries, closed trades, weights and lessons.

use super::{AgentWeights, Lesson, Situation};
use crate::reports::Signal;
use crate::{AgentName, TradingState};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tradegraph_core::order::OrderStatus;
use tradegraph_core::position::Account;
use tradegraph_core::{Side, Timestamp};

/// What was known when a position was opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// When.
    pub ts: Timestamp,
    /// Long (`Buy`) or short (`Sell`).
    pub side: Side,
    /// The price then.
    pub price: f64,
    /// Each analyst's signal.
    pub signals: BTreeMap<AgentName, Signal>,
    /// The market situation.
    pub situation: Situation,
    /// The account's realized P&L minus fees then, to measure the trade by.
    pub net_pnl_before: Decimal,
}

/// A closed position, judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosedTrade {
    /// The entry.
    pub entry: Entry,
    /// When the close was seen.
    pub closed_at: Timestamp,
    /// Net P&L (after fees).
    pub pnl: Decimal,
    /// The analysts that called it right.
    pub hits: Vec<AgentName>,
    /// The analysts that called it wrong.
    pub misses: Vec<AgentName>,
}

/// Learns from closed positions: which analysts were right (their weights follow), and a lesson
/// kept with the situation it came from, retrieved for similar situations later.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Learner {
    weights: AgentWeights,
    lessons: Vec<Lesson>,
    open: Option<Entry>,
    closed: Vec<ClosedTrade>,
}

impl Learner {
    /// Lessons kept (the oldest go first).
    pub const MAX_LESSONS: usize = 500;

    /// The analyst weights.
    pub fn weights(&self) -> &AgentWeights {
        &self.weights
    }

    /// Every closed trade so far.
    pub fn closed(&self) -> &[ClosedTrade] {
        &self.closed
    }

    /// All lessons, oldest first.
    pub fn lessons(&self) -> &[Lesson] {
        &self.lessons
    }

    /// The `k` lessons whose situations are closest to `situation`.
    pub fn similar(&self, situation: &Situation, k: usize) -> Vec<Lesson> {
        let mut ranked: Vec<(f64, &Lesson)> = self
            .lessons
            .iter()
            .map(|l| (l.situation.distance(situation), l))
            .collect();
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.ts.cmp(&a.1.ts)));
        ranked.into_iter().take(k).map(|(_, l)| l.clone()).collect()
    }

    /// Looks at the end of a cycle: a position that closed since the entry was recorded is
    /// judged (weights updated, a lesson written by `lesson`), and an entry made this cycle is
    /// recorded. Returns the trade judged, if any.
    pub fn observe(
        &mut self,
        state: &TradingState,
        lesson: impl FnOnce(&ClosedTrade) -> String,
    ) -> Option<ClosedTrade> {
        let account = state.account.as_ref()?;
        let symbol = &state.instrument.symbol;
        let holding = account
            .position(symbol)
            .is_some_and(|p| !p.quantity.is_zero());
        let mut judged = None;
        if let Some(entry) = self.open.take() {
            if holding {
                self.open = Some(entry);
            } else {
                let trade = self.judge(entry, account, state.as_of);
                let text = lesson(&trade);
                self.remember(state, &trade, text);
                self.closed.push(trade.clone());
                judged = Some(trade);
            }
        }
        if self.open.is_none() && !holding {
            if let Some(side) = opened_this_cycle(state) {
                self.open = Some(Entry {
                    ts: state.as_of,
                    side,
                    price: state.market.price_f64(),
                    signals: state.analyst_signals(),
                    situation: state.situation(),
                    net_pnl_before: account.realized_pnl - account.fees_paid,
                });
            }
        }
        judged
    }

    /// Replaces the text of the newest lesson (a model's better wording of the rule lesson).
    pub fn reword_last_lesson(&mut self, text: String) {
        if let Some(last) = self.lessons.last_mut() {
            last.text = text;
        }
    }

    fn judge(&mut self, entry: Entry, account: &Account, now: Timestamp) -> ClosedTrade {
        let pnl = (account.realized_pnl - account.fees_paid) - entry.net_pnl_before;
        // The market moved the way the trade bet when it made money.
        let moved = match (entry.side, pnl > Decimal::ZERO) {
            (Side::Buy, true) | (Side::Sell, false) => Signal::Buy,
            _ => Signal::Sell,
        };
        let (mut hits, mut misses) = (Vec::new(), Vec::new());
        for (agent, signal) in &entry.signals {
            if *signal == Signal::Hold {
                continue;
            }
            let hit = *signal == moved;
            self.weights.record(*agent, hit);
            if hit {
                hits.push(*agent);
            } else {
                misses.push(*agent);
            }
        }
        ClosedTrade {
            entry,
            closed_at: now,
            pnl,
            hits,
            misses,
        }
    }

    fn remember(&mut self, state: &TradingState, trade: &ClosedTrade, text: String) {
        let notional = trade.entry.price;
        let return_pct = match (trade.pnl.to_f64(), state.account.as_ref()) {
            (Some(pnl), Some(a)) if notional > 0.0 => {
                let equity = a.equity.to_f64().unwrap_or(0.0);
                if equity > 0.0 {
                    100.0 * pnl / equity
                } else {
                    0.0
                }
            }
            _ => 0.0,
        };
        self.lessons.push(Lesson {
            ts: trade.closed_at,
            instrument: state.instrument.symbol.as_str().to_owned(),
            situation: trade.entry.situation,
            text,
            return_pct,
        });
        if self.lessons.len() > Self::MAX_LESSONS {
            let excess = self.lessons.len() - Self::MAX_LESSONS;
            self.lessons.drain(..excess);
        }
    }
}

/// The side of a position the execution agent opened this cycle (an accepted opening order).
fn opened_this_cycle(state: &TradingState) -> Option<Side> {
    let verdict = state.verdict.as_ref()?;
    let intent = verdict.entry()?;
    let accepted = state.orders.iter().any(|o| {
        !matches!(
            o.status,
            OrderStatus::Rejected | OrderStatus::Cancelled | OrderStatus::Expired
        )
    });
    accepted.then_some(intent.side)
}

/// A lesson in rule mode: what was seen, what happened, what to do next time.
pub fn rule_lesson(trade: &ClosedTrade) -> String {
    let s = &trade.entry.situation;
    let won = trade.pnl > Decimal::ZERO;
    let side = match trade.entry.side {
        Side::Buy => "Long",
        Side::Sell => "Short",
    };
    let advice = match (trade.entry.side, won) {
        (Side::Buy, false) if s.rsi > 65.0 => {
            "avoid buying into overbought readings; wait for a pullback"
        }
        (Side::Sell, false) if s.rsi < 35.0 => {
            "avoid selling into oversold readings; wait for a bounce"
        }
        (_, false) if s.volatility_pct > 1.0 => "in this volatility, size down and widen the stop",
        (_, false) => "the signals did not carry; demand more agreement before entering",
        (_, true) => "the setup worked; the same agreement is worth acting on again",
    };
    let right: Vec<&str> = trade.hits.iter().map(|a| a.as_str()).collect();
    format!(
        "{side} at {:.2} with RSI {:.0}, trend {:+.2}%, volatility {:.2}%, sentiment {:+.2}: {} {}; right: {}. Next time: {advice}.",
        trade.entry.price,
        s.rsi,
        s.trend_pct,
        s.volatility_pct,
        s.sentiment,
        if won { "won" } else { "lost" },
        trade.pnl.round_dp(2),
        if right.is_empty() { "none".to_owned() } else { right.join(", ") },
    )
}
