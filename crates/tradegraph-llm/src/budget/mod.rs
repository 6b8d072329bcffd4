//! Budget and accounting: tokens and cost per call, per provider and per run, from a price
//! table in configuration; a run budget that stops calls with
//! [`LlmError::BudgetExceeded`].
//!
//! The budget is checked before every call and every failover attempt. A call in flight is
//! never cut: its tokens are counted, and the next call is refused. Tokens spent on failed
//! attempts and repair turns count too.

mod price;

pub use price::{Price, PriceTable};

use crate::{LlmError, Usage};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most a run may spend. Unset limits do not limit.
///
/// ```
/// use rust_decimal::Decimal;
/// use tradegraph_llm::budget::RunBudget;
///
/// let budget = RunBudget::default().max_cost(Decimal::new(500, 2)).max_tokens(2_000_000);
/// assert_eq!(budget.max_cost, Some(Decimal::new(5, 0)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunBudget {
    /// Tokens (input plus output).
    pub max_tokens: Option<u64>,
    /// Cost, in the price table's currency.
    pub max_cost: Option<Decimal>,
    /// Calls to providers (cache hits are free and not counted).
    pub max_calls: Option<u64>,
}

impl RunBudget {
    /// Sets the token limit.
    #[must_use]
    pub fn max_tokens(mut self, n: u64) -> Self {
        self.max_tokens = Some(n);
        self
    }
    /// Sets the cost limit.
    #[must_use]
    pub fn max_cost(mut self, cost: Decimal) -> Self {
        self.max_cost = Some(cost);
        self
    }
    /// Sets the call limit.
    #[must_use]
    pub fn max_calls(mut self, n: u64) -> Self {
        self.max_calls = Some(n);
        self
    }
}

/// What was spent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Calls to providers (each attempt, each repair turn's call counted once per attempt).
    pub calls: u64,
    /// Answers served from the cache.
    pub cached: u64,
    /// Tokens.
    pub usage: Usage,
    /// Cost of the priced calls.
    pub cost: Decimal,
    /// Calls whose model has no price (their cost is unknown, not zero).
    pub unpriced_calls: u64,
}

impl Account {
    fn add(&mut self, usage: Usage, cost: Option<Decimal>) {
        self.calls += 1;
        self.usage += usage;
        match cost {
            Some(c) => self.cost = self.cost.saturating_add(c),
            None => self.unpriced_calls += 1,
        }
    }
}

/// A snapshot of the accounting.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Accounting {
    /// This run.
    pub run: Account,
    /// This run, per provider.
    pub providers: BTreeMap<String, Account>,
    /// The run's budget.
    pub budget: RunBudget,
}

/// The running books.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    pub(crate) prices: PriceTable,
    pub(crate) budget: RunBudget,
    run: Account,
    providers: BTreeMap<String, Account>,
}

impl Ledger {
    pub(crate) fn new(prices: PriceTable, budget: RunBudget) -> Self {
        Self {
            prices,
            budget,
            ..Self::default()
        }
    }

    /// Records a provider call; returns its cost if the model is priced.
    pub(crate) fn record(&mut self, provider: &str, model: &str, usage: Usage) -> Option<Decimal> {
        let cost = self.prices.lookup(provider, model).map(|p| p.cost(usage));
        self.run.add(usage, cost);
        self.providers
            .entry(provider.to_owned())
            .or_default()
            .add(usage, cost);
        cost
    }

    pub(crate) fn record_cached(&mut self, provider: &str) {
        self.run.cached += 1;
        self.providers
            .entry(provider.to_owned())
            .or_default()
            .cached += 1;
    }

    /// `Err` once the run has spent its budget.
    pub(crate) fn check(&self) -> Result<(), LlmError> {
        let b = &self.budget;
        let spent = &self.run;
        let what = if let Some(max) = b.max_calls.filter(|m| spent.calls >= *m) {
            format!("{} calls of {max}", spent.calls)
        } else if let Some(max) = b.max_tokens.filter(|m| spent.usage.total() >= *m) {
            format!("{} tokens of {max}", spent.usage.total())
        } else if let Some(max) = b.max_cost.filter(|m| spent.cost >= *m) {
            format!("cost {} of {max}", spent.cost)
        } else {
            return Ok(());
        };
        Err(LlmError::BudgetExceeded { what })
    }

    pub(crate) fn snapshot(&self) -> Accounting {
        Accounting {
            run: self.run,
            providers: self.providers.clone(),
            budget: self.budget,
        }
    }

    pub(crate) fn new_run(&mut self) {
        self.run = Account::default();
        self.providers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_add_up_exactly_and_the_budget_stops_the_run() {
        let mut prices = PriceTable::new();
        prices.insert(
            "anthropic/claude-haiku-4-5",
            Price::new(Decimal::new(1, 0), Decimal::new(5, 0)),
        );
        let mut ledger = Ledger::new(prices, RunBudget::default().max_cost(Decimal::new(1, 2)));
        assert!(ledger.check().is_ok());
        let cost = ledger.record(
            "anthropic",
            "claude-haiku-4-5-20251001",
            Usage::new(1000, 1000),
        );
        assert_eq!(cost, Some(Decimal::new(6, 3))); // 0.001 + 0.005
        assert!(ledger.check().is_ok());
        ledger.record("anthropic", "claude-haiku-4-5", Usage::new(1000, 1000));
        let err = ledger.check().unwrap_err();
        assert_eq!(
            err.to_string(),
            "run budget exceeded: cost 0.012 of 0.01; raise the budget or start a new run"
        );
        assert_eq!(ledger.record("ollama", "llama3.2", Usage::new(5, 5)), None);
        let snap = ledger.snapshot();
        assert_eq!(
            (
                snap.run.calls,
                snap.run.unpriced_calls,
                snap.providers["anthropic"].calls
            ),
            (3, 1, 2)
        );
        ledger.new_run();
        assert!(ledger.check().is_ok());
    }

    #[test]
    fn token_and_call_limits() {
        let mut ledger = Ledger::new(
            PriceTable::new(),
            RunBudget::default().max_tokens(100).max_calls(5),
        );
        ledger.record("p", "m", Usage::new(60, 40));
        assert!(ledger
            .check()
            .unwrap_err()
            .to_string()
            .contains("100 tokens of 100"));
        let mut ledger = Ledger::new(PriceTable::new(), RunBudget::default().max_calls(1));
        ledger.record_cached("p");
        assert!(ledger.check().is_ok(), "cache hits are free");
        ledger.record("p", "m", Usage::default());
        assert!(ledger.check().is_err());
    }
}
