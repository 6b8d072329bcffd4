//! Budget and accounting: tokens and cost per call, per provider and per run, from a price
//! table in configuration; a run budget that stops calls with
//! [`LlmError::BudgetExceeded`].
//!
//! Every call and every failover attempt reserves its place in the budget before it is made,
//! under the ledger's lock: a call slot, and its estimated tokens and worst-case cost (the
//! prompt estimate plus the answer limit, at the model's price; an unpriced model reserves only
//! the call). A call is refused with [`LlmError::BudgetExceeded`] when what was spent plus what
//! calls in flight have reserved already reaches a limit, so parallel callers stop exactly at
//! `max_calls`. When the call ends its reservation is replaced by what it really spent; a call
//! refused before it is sent gives its reservation back, and a call its caller gives up while
//! it is in flight (a cycle's deadline) is charged its reservation, the worst case, as the
//! vendor may bill it. The budget never cuts a call in flight: its tokens are counted, and the
//! next call is refused. Tokens spent on failed attempts and repair turns count too.
//!
//! Three windows have limits of their own ([`BudgetWindow`]): the run, the current decision
//! cycle and the current day. The caller opens a cycle with
//! [`Llm::begin_cycle`](crate::Llm::begin_cycle), naming its day; the cycle's account starts
//! at zero, and so does the day's when the day is a new one. A call must fit every window.

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

/// A window of the budget: what it limits is spent within it.
///
/// ```
/// use tradegraph_llm::budget::BudgetWindow;
/// assert_eq!(BudgetWindow::Cycle.to_string(), "cycle");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetWindow {
    /// The run ([`Llm::new_run`](crate::Llm::new_run) starts a new one).
    #[default]
    Run,
    /// The decision cycle ([`Llm::begin_cycle`](crate::Llm::begin_cycle) starts each).
    Cycle,
    /// The day the current cycle is in (UTC days, or whatever days the caller numbers).
    Day,
}

impl BudgetWindow {
    /// When calls may be made again.
    pub fn advice(self) -> &'static str {
        match self {
            Self::Run => "raise the budget or start a new run",
            Self::Cycle => "the next cycle may ask again",
            Self::Day => "models are asked again from the next day",
        }
    }
}

impl std::fmt::Display for BudgetWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Run => "run",
            Self::Cycle => "cycle",
            Self::Day => "day",
        })
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
    /// The current cycle (since the last [`Llm::begin_cycle`](crate::Llm::begin_cycle)).
    pub cycle: Account,
    /// The cycle's budget.
    pub cycle_budget: RunBudget,
    /// The current day.
    pub day: Account,
    /// The day's budget.
    pub day_budget: RunBudget,
}

/// What a call in flight holds of the budget until it ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Reservation {
    tokens: u64,
    cost: Decimal,
}

/// The sum of the reservations of the calls in flight.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Reserved {
    calls: u64,
    tokens: u64,
    cost: Decimal,
}

/// The running books.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    pub(crate) prices: PriceTable,
    pub(crate) budget: RunBudget,
    pub(crate) cycle_budget: RunBudget,
    pub(crate) day_budget: RunBudget,
    run: Account,
    providers: BTreeMap<String, Account>,
    cycle: Account,
    day: Account,
    /// The day the current cycle is in (`None` before the first cycle).
    day_number: Option<i64>,
    reserved: Reserved,
}

impl Ledger {
    pub(crate) fn new(prices: PriceTable, budget: RunBudget) -> Self {
        Self {
            prices,
            budget,
            ..Self::default()
        }
    }

    /// The same, with the cycle's and the day's budgets.
    pub(crate) fn with_windows(mut self, cycle: RunBudget, day: RunBudget) -> Self {
        self.cycle_budget = cycle;
        self.day_budget = day;
        self
    }

    /// What was spent on day `day` before this process began (a restarted bot's saved tally):
    /// the day's account, when `day` is the day the ledger is in or none yet.
    pub(crate) fn carry_day(&mut self, day: i64, spent: Account) {
        if self.day_number.is_none_or(|d| d == day) {
            self.day_number = Some(day);
            self.day = spent;
        }
    }

    /// A new cycle on day `day`: the cycle's account starts at zero, and the day's too when
    /// `day` is not the last cycle's.
    pub(crate) fn begin_cycle(&mut self, day: i64) {
        self.cycle = Account::default();
        if self.day_number != Some(day) {
            self.day = Account::default();
            self.day_number = Some(day);
        }
    }

    /// Records a provider call; returns its cost if the model is priced.
    pub(crate) fn record(&mut self, provider: &str, model: &str, usage: Usage) -> Option<Decimal> {
        let cost = self.prices.lookup(provider, model).map(|p| p.cost(usage));
        self.run.add(usage, cost);
        self.cycle.add(usage, cost);
        self.day.add(usage, cost);
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

    /// Takes a place in the budget for one call to `model` on `provider` whose size is
    /// `estimate` (prompt estimate in, answer limit out), or `Err` when what was spent plus
    /// what calls in flight reserved already reaches a limit. Give the reservation back with
    /// [`Ledger::settle`] or [`Ledger::release`].
    pub(crate) fn reserve(
        &mut self,
        provider: &str,
        model: &str,
        estimate: Usage,
    ) -> Result<Reservation, LlmError> {
        self.check()?;
        let reservation = Reservation {
            tokens: estimate.total(),
            cost: self
                .prices
                .lookup(provider, model)
                .map_or(Decimal::ZERO, |p| p.cost(estimate)),
        };
        self.reserved.calls += 1;
        self.reserved.tokens = self.reserved.tokens.saturating_add(reservation.tokens);
        self.reserved.cost = self.reserved.cost.saturating_add(reservation.cost);
        Ok(reservation)
    }

    /// Another turn of a call in flight (a repair turn: the vendor bills it): the call's
    /// reservation becomes what its turns so far spent (`spent`), then, unless what was spent
    /// plus what calls in flight hold reaches a limit (`Err`, as [`Ledger::reserve`]), grows
    /// by the next turn's worst case `next`. The call keeps its one slot.
    pub(crate) fn extend(
        &mut self,
        reservation: &mut Reservation,
        provider: &str,
        model: &str,
        spent: Usage,
        next: Usage,
    ) -> Result<(), LlmError> {
        let cost = |usage: Usage| {
            self.prices
                .lookup(provider, model)
                .map_or(Decimal::ZERO, |p| p.cost(usage))
        };
        let (spent_cost, next_cost) = (cost(spent), cost(next));
        self.reserved.tokens = self.reserved.tokens.saturating_sub(reservation.tokens);
        self.reserved.cost = (self.reserved.cost - reservation.cost).max(Decimal::ZERO);
        *reservation = Reservation {
            tokens: spent.total(),
            cost: spent_cost,
        };
        self.reserved.tokens = self.reserved.tokens.saturating_add(reservation.tokens);
        self.reserved.cost = self.reserved.cost.saturating_add(reservation.cost);
        // A turn is no new call: the calls' caps do not count it (the call has its slot).
        self.check_spend()?;
        reservation.tokens = reservation.tokens.saturating_add(next.total());
        reservation.cost = reservation.cost.saturating_add(next_cost);
        self.reserved.tokens = self.reserved.tokens.saturating_add(next.total());
        self.reserved.cost = self.reserved.cost.saturating_add(next_cost);
        Ok(())
    }

    /// Gives back a reservation whose call was not made or was abandoned.
    pub(crate) fn release(&mut self, reservation: Reservation) {
        self.reserved.calls = self.reserved.calls.saturating_sub(1);
        self.reserved.tokens = self.reserved.tokens.saturating_sub(reservation.tokens);
        self.reserved.cost = (self.reserved.cost - reservation.cost).max(Decimal::ZERO);
    }

    /// Replaces a reservation with what its call spent; returns the cost if the model is priced.
    pub(crate) fn settle(
        &mut self,
        reservation: Reservation,
        provider: &str,
        model: &str,
        usage: Usage,
    ) -> Option<Decimal> {
        self.release(reservation);
        self.record(provider, model, usage)
    }

    /// `Err` once a window has spent its budget, counting what calls in flight reserved (they
    /// belong to the current cycle and day too).
    fn check(&self) -> Result<(), LlmError> {
        self.check_windows(true)
    }

    /// [`check`](Self::check) of the tokens and cost only (another turn of a call in flight).
    fn check_spend(&self) -> Result<(), LlmError> {
        self.check_windows(false)
    }

    fn check_windows(&self, calls_too: bool) -> Result<(), LlmError> {
        let held = &self.reserved;
        let in_flight = |n: bool| if n { " with calls in flight" } else { "" };
        for (window, b, spent) in [
            (BudgetWindow::Run, &self.budget, &self.run),
            (BudgetWindow::Day, &self.day_budget, &self.day),
            (BudgetWindow::Cycle, &self.cycle_budget, &self.cycle),
        ] {
            let calls = spent.calls.saturating_add(held.calls);
            let tokens = spent.usage.total().saturating_add(held.tokens);
            let cost = spent.cost.saturating_add(held.cost);
            let what = if let Some(max) = b.max_calls.filter(|m| calls_too && calls >= *m) {
                format!("{calls} calls of {max}{}", in_flight(held.calls > 0))
            } else if let Some(max) = b.max_tokens.filter(|m| tokens >= *m) {
                format!("{tokens} tokens of {max}{}", in_flight(held.tokens > 0))
            } else if let Some(max) = b.max_cost.filter(|m| cost >= *m) {
                format!("cost {cost} of {max}{}", in_flight(!held.cost.is_zero()))
            } else {
                continue;
            };
            return Err(LlmError::BudgetExceeded { window, what });
        }
        Ok(())
    }

    pub(crate) fn snapshot(&self) -> Accounting {
        Accounting {
            run: self.run,
            providers: self.providers.clone(),
            budget: self.budget,
            cycle: self.cycle,
            cycle_budget: self.cycle_budget,
            day: self.day,
            day_budget: self.day_budget,
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
    fn the_cycle_and_the_day_have_budgets_of_their_own() {
        let mut ledger = Ledger::new(PriceTable::new(), RunBudget::default().max_calls(10));
        ledger.cycle_budget = RunBudget::default().max_calls(2);
        ledger.day_budget = RunBudget::default().max_calls(3);
        ledger.begin_cycle(100);
        ledger.record("p", "m", Usage::new(1, 1));
        assert!(ledger.check().is_ok());
        ledger.record("p", "m", Usage::new(1, 1));
        let err = ledger.check().unwrap_err();
        assert!(
            matches!(&err, LlmError::BudgetExceeded { window: BudgetWindow::Cycle, what } if what == "2 calls of 2"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "cycle budget exceeded: 2 calls of 2; the next cycle may ask again"
        );
        // A new cycle on the same day: one more call, then the day is spent.
        ledger.begin_cycle(100);
        assert!(ledger.check().is_ok());
        ledger.record("p", "m", Usage::new(1, 1));
        let err = ledger.check().unwrap_err();
        assert!(
            matches!(
                &err,
                LlmError::BudgetExceeded {
                    window: BudgetWindow::Day,
                    ..
                }
            ),
            "{err:?}"
        );
        ledger.begin_cycle(100);
        assert!(ledger.check().is_err(), "still the same day");
        // What a restarted bot carries over counts only for the day the ledger is in.
        ledger.carry_day(99, Account::default());
        assert!(ledger.check().is_err(), "another day's tally is ignored");
        let mut restarted = Ledger::new(PriceTable::new(), RunBudget::default())
            .with_windows(RunBudget::default(), RunBudget::default().max_calls(3));
        let today = Account {
            calls: 3,
            ..Account::default()
        };
        restarted.carry_day(100, today);
        restarted.begin_cycle(100);
        assert!(
            matches!(
                restarted.check(),
                Err(LlmError::BudgetExceeded {
                    window: BudgetWindow::Day,
                    ..
                })
            ),
            "a restart gives the day no fresh budget"
        );
        // The next day starts afresh; the run's limit still counts all of it.
        ledger.begin_cycle(101);
        assert!(ledger.check().is_ok());
        let snap = ledger.snapshot();
        assert_eq!(
            (snap.run.calls, snap.day.calls, snap.cycle.calls),
            (3, 0, 0)
        );
        for _ in 0..7 {
            ledger.begin_cycle(ledger.day_number.unwrap() + 1);
            ledger.record("p", "m", Usage::new(1, 1));
        }
        let err = ledger.check().unwrap_err();
        assert_eq!(
            err.to_string(),
            "run budget exceeded: 10 calls of 10; raise the budget or start a new run"
        );
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

    #[test]
    fn reservations_count_while_in_flight_and_are_given_back() {
        let mut prices = PriceTable::new();
        prices.insert("p/m", Price::new(Decimal::new(1, 0), Decimal::new(1, 0)));
        let budget = RunBudget::default()
            .max_cost(Decimal::new(1, 3))
            .max_calls(3);
        let mut ledger = Ledger::new(prices, budget);
        // Worst case 1000 tokens at $1/M = 0.001: a second priced call in flight is refused.
        let first = ledger.reserve("p", "m", Usage::new(200, 800)).unwrap();
        let err = ledger.reserve("p", "m", Usage::new(200, 800)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "run budget exceeded: cost 0.001 of 0.001 with calls in flight; raise the budget or start a new run"
        );
        // The call really spent 100 tokens: its reservation becomes 0.0001.
        assert_eq!(
            ledger.settle(first, "p", "m", Usage::new(50, 50)),
            Some(Decimal::new(1, 4))
        );
        let second = ledger.reserve("p", "m", Usage::new(200, 800)).unwrap();
        ledger.release(second);
        // Unpriced calls reserve only their slot.
        let a = ledger.reserve("q", "free", Usage::new(200, 800)).unwrap();
        let b = ledger.reserve("q", "free", Usage::new(200, 800)).unwrap();
        assert!(ledger
            .reserve("q", "free", Usage::new(1, 1))
            .unwrap_err()
            .to_string()
            .contains("3 calls of 3 with calls in flight"));
        ledger.release(a);
        ledger.release(b);
        assert!(ledger.check().is_ok());
        assert_eq!(ledger.snapshot().run.calls, 1);
    }
}
