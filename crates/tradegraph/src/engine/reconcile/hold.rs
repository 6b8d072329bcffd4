//! [`Reconciliation`]: the last reconciliation's result and the `reducing` hold it put the bot
//! in, saved as the bot's `reconciliation` state part.

use super::Discrepancy;
use serde::{Deserialize, Serialize};
use tradegraph_core::Timestamp;

/// What started a reconciliation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconcileTrigger {
    /// The bot started.
    Start,
    /// The venue broker re-established its order-update link.
    Reconnect,
}

/// One reconciliation of the broker's word with the bot's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileReport {
    /// When (wall clock).
    pub at: Timestamp,
    /// Why it ran.
    pub trigger: ReconcileTrigger,
    /// What disagreed (empty: the views agree).
    pub discrepancies: Vec<Discrepancy>,
}

/// The bot's reconciliation state: the last result, and whether the bot is held in `reducing`
/// (entries refused; exits, stops and closes go on) until a person confirms
/// (`POST /api/v1/reconciliation/confirm` with the last report's `at`,
/// `tradegraph bot confirm-reconciliation --at ...`). Saved as it changes and restored at
/// start: a restart does not release the hold.
///
/// Confirmed discrepancies are remembered (the newest [`Reconciliation::accepted`]) so that
/// the same one found again does not hold the bot again: an unknown order or fill by its ids;
/// a position mismatch by its offset (the broker's position minus the ledger's, within one
/// quantity step: holdings that are not the bot's stay accepted while the bot trades); a
/// cash shortfall by its kind. An accepted position offset or cash shortfall lapses at the
/// first reconciliation that does not find it: when it comes back, it holds the bot again.
///
/// ```
/// use tradegraph::engine::Reconciliation;
/// let state = Reconciliation::default();
/// assert!(!state.is_held());
/// assert!(state.last().is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    /// Held in `reducing` until a person confirms.
    pub(crate) held: bool,
    /// The last reconciliation.
    #[serde(default)]
    pub(crate) last: Option<ReconcileReport>,
    /// The discrepancies that put the bot on hold (kept until it is confirmed, even when a
    /// later reconciliation finds the views agree again).
    #[serde(default)]
    pub(crate) holding_for: Vec<Discrepancy>,
    /// When a person last confirmed.
    #[serde(default)]
    pub(crate) confirmed_at: Option<Timestamp>,
    /// Who confirmed last (the request's address).
    #[serde(default)]
    pub(crate) confirmed_by: Option<String>,
    /// The last broker fill a reconciliation looked at: the next looks at those after it.
    #[serde(default)]
    pub(crate) fills_seen: u64,
    /// Discrepancies a person confirmed (the newest [`ACCEPTED_KEPT`]).
    #[serde(default)]
    pub(crate) accepted: Vec<Discrepancy>,
}

/// How many confirmed discrepancies are remembered.
pub(crate) const ACCEPTED_KEPT: usize = 100;

/// A confirmation that came too late: the reconciliation the person saw is not the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stale {
    /// The last report's time (what to confirm now, after reading it).
    pub(crate) last: Option<Timestamp>,
}

impl Reconciliation {
    /// Whether the bot is held in `reducing` until a person confirms.
    pub fn is_held(&self) -> bool {
        self.held
    }

    /// The last reconciliation.
    pub fn last(&self) -> Option<&ReconcileReport> {
        self.last.as_ref()
    }

    /// The discrepancies that hold the bot (empty when it is not held).
    pub fn holding_for(&self) -> &[Discrepancy] {
        &self.holding_for
    }

    /// Discrepancies a person confirmed that do not hold the bot when found again.
    pub fn accepted(&self) -> &[Discrepancy] {
        &self.accepted
    }

    /// When a person last confirmed.
    pub fn confirmed_at(&self) -> Option<Timestamp> {
        self.confirmed_at
    }

    /// Who confirmed last (the request's address).
    pub fn confirmed_by(&self) -> Option<&str> {
        self.confirmed_by.as_deref()
    }

    /// Records `report`; discrepancies not confirmed before put the bot on hold (or add to
    /// the hold). Returns those that are new to the hold (empty: nothing new to say, though
    /// the bot may still be held for earlier ones). Accepted position offsets and cash
    /// shortfalls that the report does not find lapse.
    pub(crate) fn record(&mut self, report: ReconcileReport) -> Vec<Discrepancy> {
        self.accepted
            .retain(|a| !a.is_moving() || report.discrepancies.iter().any(|d| a.same_as(d)));
        let mut new = Vec::new();
        for d in &report.discrepancies {
            if self.accepted.iter().any(|a| a.same_as(d)) {
                continue;
            }
            self.held = true;
            match self.holding_for.iter_mut().find(|h| h.same_as(d)) {
                // The same one with its numbers of now.
                Some(held) => *held = d.clone(),
                None => {
                    self.holding_for.push(d.clone());
                    new.push(d.clone());
                }
            }
        }
        self.last = Some(report);
        new
    }

    /// A person who read the reconciliation of `seen` (its report's `at`) confirmed: the hold
    /// ends. Returns the discrepancies accepted (empty: nothing was held).
    ///
    /// # Errors
    /// [`Stale`] when the bot is held and its last reconciliation is not the one of `seen`
    /// (what the person saw may not be what holds the bot now): nothing changes.
    pub(crate) fn confirm(
        &mut self,
        seen: Timestamp,
        at: Timestamp,
        by: Option<String>,
    ) -> Result<Vec<Discrepancy>, Stale> {
        if !self.held {
            return Ok(Vec::new());
        }
        let last = self.last.as_ref().map(|r| r.at);
        if last != Some(seen) {
            return Err(Stale { last });
        }
        self.held = false;
        let confirmed = std::mem::take(&mut self.holding_for);
        self.accepted.extend(confirmed.iter().cloned());
        let over = self.accepted.len().saturating_sub(ACCEPTED_KEPT);
        self.accepted.drain(..over);
        self.confirmed_at = Some(at);
        self.confirmed_by = by;
        Ok(confirmed)
    }

    /// Why the bot is held, for the status's `trading_reason`.
    pub(crate) fn reason(&self) -> Option<String> {
        self.held.then(|| {
            let first = self
                .holding_for
                .first()
                .map_or_else(String::new, |d| format!(": {d}"));
            format!(
                "reconciliation with the broker found {} discrepancy(ies){first}; entries are \
                 refused until a person reads the report (`tradegraph bot status`, GET \
                 /api/v1/reconciliation) and confirms it (`tradegraph bot \
                 confirm-reconciliation --at <its at>`, POST /api/v1/reconciliation/confirm)",
                self.holding_for.len()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rust_decimal::Decimal;
    use tradegraph_core::order::OrderId;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    fn report_at(ms: i64, discrepancies: Vec<Discrepancy>) -> ReconcileReport {
        ReconcileReport {
            at: at(ms),
            trigger: ReconcileTrigger::Start,
            discrepancies,
        }
    }

    fn report(discrepancies: Vec<Discrepancy>) -> ReconcileReport {
        report_at(0, discrepancies)
    }

    fn unknown(id: &str) -> Discrepancy {
        Discrepancy::UnknownOrder {
            client_id: id.parse().unwrap(),
            order_id: OrderId::new("1"),
        }
    }

    fn position(broker: &str, ledger: &str) -> Discrepancy {
        Discrepancy::PositionMismatch {
            broker: broker.parse().unwrap(),
            ledger: ledger.parse().unwrap(),
            step: Decimal::new(1, 3),
        }
    }

    fn cash(cash: i64, needed: i64) -> Discrepancy {
        Discrepancy::CashShort {
            cash: Decimal::from(cash),
            needed: Decimal::from(needed),
        }
    }

    #[test]
    fn a_discrepancy_holds_until_confirmed_and_a_clean_run_does_not_release_it() {
        let mut state = Reconciliation::default();
        assert!(state.record(report(Vec::new())).is_empty());
        assert!(!state.is_held() && state.reason().is_none());
        assert_eq!(
            state.record(report(vec![unknown("m-1")])),
            vec![unknown("m-1")]
        );
        assert_eq!(
            state.record(report(vec![unknown("m-1"), unknown("m-2")])),
            vec![unknown("m-2")],
            "only the new one is news"
        );
        assert_eq!(
            state.holding_for().len(),
            2,
            "the same one is not counted twice"
        );
        assert!(state.record(report(Vec::new())).is_empty());
        assert!(state.is_held(), "only a person releases the hold");
        let reason = state.reason().unwrap();
        assert!(
            reason.contains("2 discrepancy") && reason.contains("m-1"),
            "{reason}"
        );
        let confirmed = state
            .confirm(at(0), at(5), Some("http 127.0.0.1:1".into()))
            .unwrap();
        assert_eq!(confirmed.len(), 2);
        assert!(!state.is_held() && state.holding_for().is_empty());
        assert_eq!(state.confirmed_at(), Some(at(5)));
        assert_eq!(state.confirmed_by(), Some("http 127.0.0.1:1"));
        assert!(
            state.confirm(at(0), at(6), None).unwrap().is_empty(),
            "nothing held"
        );
        // Confirmed once, found again (still working after a restart): no new hold; another is.
        assert!(state.record(report(vec![unknown("m-1")])).is_empty());
        assert!(!state.is_held());
        assert_eq!(
            state.record(report(vec![unknown("m-1"), unknown("m-3")])),
            vec![unknown("m-3")]
        );
        assert_eq!(state.holding_for(), [unknown("m-3")]);
        // It survives a restart as saved.
        let back: Reconciliation =
            serde_json::from_value(serde_json::to_value(&state).unwrap()).unwrap();
        assert_eq!(back, state);
    }

    #[test]
    fn a_confirmation_of_an_older_report_is_refused_and_changes_nothing() {
        let mut state = Reconciliation::default();
        state.record(report_at(1_000, vec![unknown("m-1")]));
        // A reconnect found another before the person's confirmation arrived.
        state.record(report_at(2_000, vec![unknown("m-1"), unknown("m-2")]));
        let before = state.clone();
        let stale = state.confirm(at(1_000), at(3_000), None).unwrap_err();
        assert_eq!(stale.last, Some(at(2_000)));
        assert_eq!(state, before, "nothing changed");
        assert_eq!(state.confirm(at(2_000), at(3_000), None).unwrap().len(), 2);
        assert!(!state.is_held());
    }

    #[test]
    fn an_accepted_position_offset_stays_accepted_while_the_numbers_move() {
        let mut state = Reconciliation::default();
        // 0.5 held at the venue that is not the bot's.
        state.record(report_at(1, vec![position("0.5", "0")]));
        state.confirm(at(1), at(2), None).unwrap();
        // The bot opens 0.01: the same offset.
        assert!(state
            .record(report(vec![position("0.51", "0.01")]))
            .is_empty());
        assert!(!state.is_held());
        // Within a step of it, too.
        assert!(state
            .record(report(vec![position("0.5105", "0.01")]))
            .is_empty());
        assert!(!state.is_held());
        // Another offset holds.
        assert_eq!(state.record(report(vec![position("0.7", "0.01")])).len(), 1);
        assert!(state.is_held());
    }

    #[test]
    fn an_accepted_cash_shortfall_stays_accepted_while_it_lasts_and_lapses_when_gone() {
        let mut state = Reconciliation::default();
        state.record(report_at(1, vec![cash(100, 150)]));
        state.confirm(at(1), at(2), None).unwrap();
        assert!(state.record(report(vec![cash(90, 170)])).is_empty());
        assert!(!state.is_held(), "a moving shortfall stays accepted");
        // The cash is enough again: the acceptance lapses...
        assert!(state.record(report(Vec::new())).is_empty());
        assert!(state.accepted().is_empty());
        // ...and a new shortfall holds the bot.
        assert_eq!(state.record(report(vec![cash(10, 20)])).len(), 1);
        assert!(state.is_held());
        // A held shortfall whose numbers move is the same one, with the numbers of now.
        assert!(state.record(report(vec![cash(5, 20)])).is_empty());
        assert_eq!(state.holding_for(), [cash(5, 20)]);
    }

    #[test]
    fn an_accepted_position_offset_lapses_when_the_positions_agree() {
        let mut state = Reconciliation::default();
        state.record(report_at(1, vec![position("0.5", "0")]));
        state.confirm(at(1), at(2), None).unwrap();
        assert!(state.record(report(Vec::new())).is_empty());
        assert_eq!(state.record(report(vec![position("0.5", "0")])).len(), 1);
        assert!(state.is_held());
    }
}
