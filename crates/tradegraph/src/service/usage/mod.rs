//! Model usage by agent, provider and UTC day: what `GET /api/v1/llm/usage` reports beyond
//! this run's totals.
//!
//! **Source.** Every finished model call raises an
//! [`LlmEvent::Call`] naming its provider, the agent that asked,
//! its tokens and its cost (the chain's own accounting, [`Llm::accounting`], keeps this run's
//! totals by provider only, and forgets them at exit). A [`UsageBook`] counts those events
//! into a [`UsageLedger`] (a tally per day, agent and provider, the newest [`KEPT_DAYS`] days)
//! and saves it with the bot's state (the `llm_usage` part, next to the kill switch and the
//! paper account: the state file, Redis or MongoDB, whichever the bot keeps its state in), so
//! the figures survive a restart with every store configuration. The decision log was the
//! other candidate; it is kept only with MongoDB, records no tokens or cost, and would have to
//! be read whole (a decision a minute) to answer; the ledger is a few rows a day.
//!
//! **What counts: the chain's own rule.** A *call* is one attempt sent to a provider,
//! whether it answered ([`LlmEvent::Call`]) or failed ([`LlmEvent::CallFailed`]: a failed or
//! unrepairable answer may still be billed); its tokens and cost are what it spent, repair
//! turns included. An answer served from the response cache is not a call: it is counted in
//! `cached`, with no tokens and no cost (nothing was billed). This is the rule of
//! [`Llm::accounting`] (the `run` and `providers` of the answer, and the budget), so the
//! calls, tokens and cost the book counted since the bot started ([`UsageBook::run`]) equal
//! the accounting's `run`. Days are UTC, by when the call finished.
//!
//! **The day's budget.** At start the book hands today's saved tally to the chain
//! ([`Llm::carry_day`]), so that `[llm.day_budget]` counts the calls made before a restart.
//!
//! **Missed events.** The book reads the chain's broadcast channel; should it fall behind,
//! the events it missed are counted (`tradegraph_engine_llm_usage_missed_events_total`, a
//! warning in the log) and the answer says `incomplete: true` with `missed_events`.
//!
//! **Saving.** The book saves at most every [`SAVE_EVERY`] (30 s) while calls come: the
//! first call after a quiet spell at once, the calls after it when the interval is up (so a
//! cycle's burst of calls is one or two writes of the bot's state, not one per call, and the
//! order journal's writes are not crowded out), and once more when the bot stops
//! ([`UsageBook::flush`]); a crash loses at most the calls of the last 30 s.

mod ledger;

pub use ledger::{CallRecord, DayTally, Tally, UsageLedger, UsageReport, KEPT_DAYS};

use crate::engine::{BotState, EngineError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{broadcast, mpsc, oneshot};
use tradegraph_core::Symbol;
use tradegraph_llm::fallback::LlmEvent;
use tradegraph_llm::Llm;
use tradegraph_store::{BotStateStore, StatePart};

/// The ledger is saved at most this often while calls come (the first call after a quiet
/// spell at once, the calls after it when this is up), and once more by [`UsageBook::flush`]:
/// a burst of calls is one write of the bot's state, not one per batch.
pub const SAVE_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// The usage ledger of a running bot, kept current from its model chain's events and saved
/// with its state (see the [module documentation](self)). Clones share it.
///
/// ```no_run
/// # async fn demo(llm: tradegraph::llm::Llm, stores: tradegraph::store::Stores) -> Result<(), tradegraph::engine::EngineError> {
/// use tradegraph::service::UsageBook;
/// let book = UsageBook::start(&llm, stores.state.clone(), "BTCUSDT".into()).await?;
/// let today = chrono::Utc::now().date_naive();
/// println!("{} calls in 7 days", book.report(7, today).total.calls);
/// book.flush().await; // before the process exits
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct UsageBook {
    ledger: Arc<Mutex<UsageLedger>>,
    run: Arc<Mutex<Tally>>,
    missed: Arc<AtomicU64>,
    flush: mpsc::Sender<oneshot::Sender<()>>,
}

impl UsageBook {
    /// Reads the ledger saved in `store` for `instrument`'s bot and starts counting `llm`'s
    /// calls into it (a task on the current tokio runtime, ending with the chain).
    ///
    /// A saved ledger this build cannot read (a hand edit, a damaged file) is logged (a
    /// warning naming the part and the instrument) and replaced by an empty one: usage figures
    /// must not keep a bot from trading.
    ///
    /// # Errors
    /// The store's error when the store cannot be read.
    pub async fn start(
        llm: &Llm,
        store: Arc<dyn BotStateStore>,
        instrument: Symbol,
    ) -> Result<Self, EngineError> {
        let clock: Arc<dyn tradegraph_market::Clock> = Arc::new(tradegraph_market::SystemClock);
        let state = BotState::new(store, instrument.clone(), clock, false);
        let saved = state.load::<serde_json::Value>(StatePart::LlmUsage).await?;
        let ledger: UsageLedger = saved
            .map(|saved| decode_saved(saved, &instrument))
            .unwrap_or_default();
        // Today's calls before the restart count against today's budget.
        let today = chrono::Utc::now().date_naive();
        let spent = ledger.report(1, today).total;
        llm.carry_day(
            utc_day_number(today),
            tradegraph_llm::budget::Account {
                calls: spent.calls,
                cached: spent.cached,
                usage: tradegraph_llm::Usage::new(spent.input_tokens, spent.output_tokens),
                cost: spent.cost,
                unpriced_calls: 0,
            },
        );
        let ledger = Arc::new(Mutex::new(ledger));
        let (flush, flushes) = mpsc::channel(8);
        let book = Self {
            ledger,
            run: Arc::default(),
            missed: Arc::default(),
            flush,
        };
        tokio::spawn(count(
            llm.subscribe(),
            flushes,
            book.clone(),
            state,
            instrument,
        ));
        Ok(book)
    }

    /// The usage of the `days` days up to `today` (UTC), today included.
    pub fn report(&self, days: u32, today: chrono::NaiveDate) -> UsageReport {
        self.ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .report(days, today)
    }

    /// The calls, tokens and cost counted since the book started (this run), by the rule of
    /// [`Llm::accounting`]: equal to its `run` unless events were missed.
    pub fn run(&self) -> Tally {
        *self.run.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The model-call events the book missed since it started (it fell behind the chain):
    /// while not zero, its figures undercount.
    pub fn missed(&self) -> u64 {
        self.missed.load(Ordering::Relaxed)
    }

    /// Counts the calls finished so far and saves the ledger; returns once saved (or once
    /// saving failed, which is logged).
    pub async fn flush(&self) {
        let (done, saved) = oneshot::channel();
        if self.flush.send(done).await.is_ok() {
            let _ = saved.await;
        }
    }

    /// [`flush`](Self::flush), waiting at most `grace` (a process stopping); a flush cut short
    /// is logged, naming what goes missing.
    pub async fn flush_within(&self, grace: std::time::Duration) {
        if tokio::time::timeout(grace, self.flush()).await.is_err() {
            tracing::warn!(
                "the model usage was not saved within {grace:?}; the calls of the last minutes \
                 are missing from the usage by day (GET /api/v1/llm/usage) and from the day's \
                 budget after a restart"
            );
        }
    }
}

impl std::fmt::Debug for UsageBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageBook").finish_non_exhaustive()
    }
}

/// The ledger saved for `instrument`, or an empty one (with a warning) when `saved` is not a
/// ledger.
/// The number of a UTC day, as the agents' model numbers the day of a cycle (days since
/// 1970-01-01).
fn utc_day_number(day: chrono::NaiveDate) -> i64 {
    day.signed_duration_since(chrono::NaiveDate::default())
        .num_days()
}

fn decode_saved(saved: serde_json::Value, instrument: &Symbol) -> UsageLedger {
    match ledger::Saved::read_rows(saved) {
        Ok((saved, bad)) => {
            // One bad row loses no other (and today's rows still count against the budget).
            for (row, e) in bad {
                tracing::warn!(
                    instrument = %instrument,
                    part = %StatePart::LlmUsage,
                    row,
                    error = %e,
                    "llm usage: row {row} of the usage saved in the bot's state (part `{}` of {instrument}) cannot be read ({e}); it is left out, the other rows are kept",
                    StatePart::LlmUsage
                );
            }
            UsageLedger::from_saved(saved)
        }
        Err(e) => {
            tracing::warn!(
                instrument = %instrument,
                part = %StatePart::LlmUsage,
                error = %e,
                "llm usage: the usage by day saved in the bot's state (part `{}` of {instrument}, in the state store [stores] configures: the state file, Redis or MongoDB) cannot be read ({e}); starting with an empty ledger, which replaces it at the next save",
                StatePart::LlmUsage
            );
            UsageLedger::default()
        }
    }
}

/// The ledger's row for `event`, when it is a finished call (answered, cached or failed).
fn record_of(event: &LlmEvent, day: chrono::NaiveDate) -> Option<CallRecord> {
    let (provider, agent, tally) = match event {
        LlmEvent::Call {
            provider,
            agent,
            cached: true,
            ..
        } => {
            let tally = Tally {
                cached: 1,
                ..Tally::default()
            };
            (provider, agent, tally)
        }
        LlmEvent::Call {
            provider,
            agent,
            usage,
            cost,
            ..
        }
        | LlmEvent::CallFailed {
            provider,
            agent,
            usage,
            cost,
            ..
        } => {
            let tally = Tally {
                calls: 1,
                cached: 0,
                input_tokens: usage.input_tokens,
                output_tokens: usage.output_tokens,
                cost: *cost,
            };
            (provider, agent, tally)
        }
        _ => return None,
    };
    Some(CallRecord {
        day,
        agent: agent
            .clone()
            .unwrap_or_else(|| tradegraph_llm::metrics::UNKNOWN_AGENT.to_owned()),
        provider: provider.clone(),
        tally,
    })
}

/// Counts `n` missed events, loudly.
fn missed(book: &UsageBook, instrument: &Symbol, n: u64) {
    book.missed.fetch_add(n, Ordering::Relaxed);
    metrics::counter!(
        crate::telemetry::names::LLM_USAGE_MISSED_EVENTS_TOTAL,
        "instrument" => instrument.as_str().to_owned()
    )
    .increment(n);
    tracing::warn!(
        missed = n,
        instrument = %instrument,
        "llm usage: model calls came faster than they were counted; {n} calls are not in the usage by agent and day (GET /api/v1/llm/usage says incomplete: true)"
    );
}

/// Waits until `due`, or forever when nothing is due.
async fn sleep_until_due(due: Option<tokio::time::Instant>) {
    match due {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Counts what comes on `events`; saves at most every [`SAVE_EVERY`] while calls come, on
/// each flush, and when the chain is gone.
async fn count(
    mut events: broadcast::Receiver<LlmEvent>,
    mut flushes: mpsc::Receiver<oneshot::Sender<()>>,
    book: UsageBook,
    state: BotState,
    instrument: Symbol,
) {
    let ledger = book.ledger.clone();
    // The calls counted since the last save: put on top of another writer's rows when the
    // part was saved by someone else meanwhile.
    let unsaved: Mutex<Vec<CallRecord>> = Mutex::default();
    let take = |event: &LlmEvent| {
        let today = chrono::Utc::now().date_naive();
        if let Some(record) = record_of(event, today) {
            book.run
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .add(&record.tally);
            unsaved
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(record.clone());
            ledger
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .record(record);
            true
        } else {
            false
        }
    };
    // Calls counted but not saved yet, and when the ledger was last saved.
    let mut dirty = false;
    let mut last_save: Option<tokio::time::Instant> = None;
    loop {
        let mut changed = false;
        let mut flushed = None;
        let mut closed = false;
        let due = last_save.filter(|_| dirty).map(|at| at + SAVE_EVERY);
        tokio::select! {
            () = sleep_until_due(due) => {},
            received = events.recv() => match received {
                Ok(event) => changed |= take(&event),
                Err(broadcast::error::RecvError::Lagged(n)) => missed(&book, &instrument, n),
                Err(broadcast::error::RecvError::Closed) => closed = true,
            },
            asked = flushes.recv() => match asked {
                Some(done) => flushed = Some(done),
                None => closed = true,
            },
        }
        // The rest of the batch: whatever came meanwhile.
        loop {
            match events.try_recv() {
                Ok(event) => changed |= take(&event),
                Err(broadcast::error::TryRecvError::Lagged(n)) => missed(&book, &instrument, n),
                Err(_) => break,
            }
        }
        dirty |= changed;
        let now = tokio::time::Instant::now();
        let interval_up = last_save.is_none_or(|at| now >= at + SAVE_EVERY);
        // Saved when something was counted since the last save: a flush with nothing new
        // writes nothing (an instrument's previous holder stopping late has nothing to add).
        if dirty && (flushed.is_some() || closed || interval_up) {
            let saved = ledger
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .saved();
            last_save = Some(now);
            dirty = false;
            let mut result = state.save(StatePart::LlmUsage, &saved).await;
            if let Err(EngineError::StateConflict { stored, .. }) = &result {
                // Another writer saved the part since it was read (an instrument's previous
                // holder flushing late, an instance taken over): its rows, with this book's
                // calls not saved yet on top, are the ledger now; no call is lost.
                tracing::info!(instrument = %instrument, stored, "llm usage: another process saved the usage by day since it was read; this process's calls are added to it");
                if let Ok(Some(theirs)) = state.load::<serde_json::Value>(StatePart::LlmUsage).await
                {
                    let mut merged = decode_saved(theirs, &instrument);
                    for call in unsaved
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .iter()
                    {
                        merged.record(call.clone());
                    }
                    let saved = merged.saved();
                    *ledger.lock().unwrap_or_else(PoisonError::into_inner) = merged;
                    result = state.save(StatePart::LlmUsage, &saved).await;
                }
            }
            match result {
                Ok(()) => unsaved
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clear(),
                Err(e) => {
                    dirty = true;
                    tracing::warn!(error = %e, "llm usage: the usage by day could not be saved with the bot's state; it is tried again in {} s", SAVE_EVERY.as_secs());
                }
            }
        }
        if let Some(done) = flushed {
            let _ = done.send(());
        }
        if closed {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
