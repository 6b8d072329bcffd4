//! A cycle's checkpoints with its market view written once ([`CycleCheckpoints`]).

use std::sync::{Arc, Mutex, PoisonError};
use tradegraph_agents::{MarketSnapshot, TradingState};
use tradegraph_graph::checkpoint::{CheckpointError, PendingWrite};
use tradegraph_graph::{Checkpoint, CheckpointId, Checkpointer, GraphState};

/// A full market view is written again after this many checkpoints without one, so that a
/// backend keeping only a thread's newest checkpoints still holds one.
const FULL_EVERY: u32 = 8;

/// The market view of a thread's newest full checkpoint, and the checkpoints since.
struct Written {
    thread: String,
    market: MarketSnapshot,
    since: u32,
}

/// Wraps the engine's checkpointer for a cycle's graph runs, with two policies:
///
/// - **The market view once.** A cycle's market view (its candles of every timeframe and their
///   indicators: most of a checkpoint's bytes, and the same at every superstep of the cycle) is
///   written with the thread's first checkpoint only, and then every [`FULL_EVERY`]th, or when
///   it changed. The others are stored with an empty view, and read back with the view of the
///   newest full checkpoint before them, from the thread's history (reads are a resume's, rare).
///   A checkpoint whose full predecessors were all pruned reads as an error (and is left out of
///   the history): the engine then runs the cycle from the top. A real market view is never
///   empty (it has its time), so the empty one marks an elided view.
/// - **Best effort.** A checkpoint the store does not take is logged and the run goes on.
/// - **Superstep durability.** The writes of the tasks that finish inside a superstep are not
///   kept (`put_writes` does nothing): a cycle cut short goes on from its last completed
///   superstep, and the nodes of the superstep it was in run again. Their orders carry the
///   cycle's client order ids, which the order journal sends once; what is lost is at most one
///   superstep's model calls, against a round trip to the store for every node of every cycle.
pub(crate) struct CycleCheckpoints {
    inner: Arc<dyn Checkpointer<TradingState>>,
    /// The view last written, of the one thread whose cycle runs now (an engine runs one
    /// cycle at a time; another thread's put starts afresh, so nothing of an earlier cycle is
    /// kept, deleted or not).
    written: Mutex<Option<Written>>,
}

impl CycleCheckpoints {
    pub(crate) fn new(inner: Arc<dyn Checkpointer<TradingState>>) -> Self {
        Self {
            inner,
            written: Mutex::new(None),
        }
    }

    fn elided(market: &MarketSnapshot) -> bool {
        *market == MarketSnapshot::default()
    }

    /// Fills the empty views of `checkpoints` (one thread's, newest first) from the newest full
    /// one older than each; those with none (pruned) stay empty.
    fn fill(checkpoints: &mut [Checkpoint<TradingState>]) {
        let mut older: Option<MarketSnapshot> = None;
        for checkpoint in checkpoints.iter_mut().rev() {
            if Self::elided(&checkpoint.state.market) {
                if let Some(market) = &older {
                    checkpoint.state.market = market.clone();
                }
            } else {
                older = Some(checkpoint.state.market.clone());
            }
        }
    }

    /// The thread's checkpoints, newest first, their views filled; those whose full checkpoint
    /// was pruned are left out.
    async fn filled(&self, thread: &str) -> Result<Vec<Checkpoint<TradingState>>, CheckpointError> {
        let mut history = self.inner.history(thread, usize::MAX).await?;
        Self::fill(&mut history);
        history.retain(|c| !Self::elided(&c.state.market));
        Ok(history)
    }

    /// `checkpoint` with its view filled from the thread's history (reads are rare: a resume).
    async fn restore(
        &self,
        thread: &str,
        checkpoint: Option<Checkpoint<TradingState>>,
    ) -> Result<Option<Checkpoint<TradingState>>, CheckpointError> {
        let Some(checkpoint) = checkpoint else {
            return Ok(None);
        };
        if !Self::elided(&checkpoint.state.market) {
            return Ok(Some(checkpoint));
        }
        match self
            .filled(thread)
            .await?
            .into_iter()
            .find(|c| c.id == checkpoint.id)
        {
            Some(full) => Ok(Some(full)),
            None => Err(CheckpointError::Backend {
                backend: "cycle checkpoints",
                operation: "read",
                message: format!(
                    "checkpoint {} of thread {thread} has no market view, and none before it \
                     does (they were pruned)",
                    checkpoint.id
                ),
            }),
        }
    }
}

#[async_trait::async_trait]
impl Checkpointer<TradingState> for CycleCheckpoints {
    /// Best effort: a checkpoint the store does not take is logged, and the run goes on (it
    /// costs the cycle a resume from there, not the cycle).
    async fn put(&self, mut checkpoint: Checkpoint<TradingState>) -> Result<(), CheckpointError> {
        let thread = checkpoint.thread_id.clone();
        let elide = !Self::elided(&checkpoint.state.market)
            && self
                .written
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .is_some_and(|w| {
                    w.thread == thread
                        && w.since + 1 < FULL_EVERY
                        && w.market == checkpoint.state.market
                });
        if elide {
            checkpoint.state.market = MarketSnapshot::default();
            if let Err(e) = self.inner.put(checkpoint).await {
                tracing::warn!(thread, error = %e, "checkpoint not saved; the cycle goes on");
                return Ok(());
            }
            if let Some(w) = self
                .written
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_mut()
                .filter(|w| w.thread == thread)
            {
                w.since += 1;
            }
            return Ok(());
        }
        let market = checkpoint.state.market.clone();
        if let Err(e) = self.inner.put(checkpoint).await {
            tracing::warn!(thread, error = %e, "checkpoint not saved; the cycle goes on");
            return Ok(());
        }
        self.written
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(Written {
                thread,
                market,
                since: 0,
            });
        Ok(())
    }

    async fn put_writes(
        &self,
        _: &str,
        _: &CheckpointId,
        _: Vec<PendingWrite<<TradingState as GraphState>::Update>>,
    ) -> Result<(), CheckpointError> {
        // Superstep durability: see the type's documentation.
        Ok(())
    }

    async fn latest(
        &self,
        thread_id: &str,
    ) -> Result<Option<Checkpoint<TradingState>>, CheckpointError> {
        let latest = self.inner.latest(thread_id).await?;
        self.restore(thread_id, latest).await
    }

    async fn get(
        &self,
        thread_id: &str,
        id: &CheckpointId,
    ) -> Result<Option<Checkpoint<TradingState>>, CheckpointError> {
        let found = self.inner.get(thread_id, id).await?;
        self.restore(thread_id, found).await
    }

    async fn history(
        &self,
        thread_id: &str,
        limit: usize,
    ) -> Result<Vec<Checkpoint<TradingState>>, CheckpointError> {
        let mut history = self.filled(thread_id).await?;
        history.truncate(limit);
        Ok(history)
    }

    async fn delete_thread(&self, thread_id: &str) -> Result<(), CheckpointError> {
        {
            let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
            if written.as_ref().is_some_and(|w| w.thread == thread_id) {
                *written = None;
            }
        }
        self.inner.delete_thread(thread_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradegraph_agents::ExternalInputs;
    use tradegraph_core::{Instrument, Timestamp};
    use tradegraph_graph::checkpoint::{CheckpointSource, Progress};
    use tradegraph_graph::MemoryCheckpointer;

    fn market(at: i64) -> MarketSnapshot {
        MarketSnapshot {
            as_of: Timestamp::from_millis(at),
            ..MarketSnapshot::default()
        }
    }

    fn checkpoint(thread: &str, n: u64, market: MarketSnapshot) -> Checkpoint<TradingState> {
        let mut state =
            TradingState::new(Instrument::btc_usdt(), market, ExternalInputs::default());
        state.lessons.clear();
        Checkpoint {
            format: tradegraph_graph::checkpoint::FORMAT_VERSION,
            id: CheckpointId(format!("{n:04}")),
            parent: None,
            thread_id: thread.into(),
            run_id: "run".into(),
            graph: "trading".into(),
            created_at_ms: n,
            source: CheckpointSource::Step,
            state,
            next: Vec::new(),
            pending_writes: Vec::new(),
            progress: Progress {
                steps: n,
                ..Progress::default()
            },
            interrupt: None,
        }
    }

    /// Only the running cycle's view is remembered: a cycle whose checkpoints were never
    /// deleted leaves nothing behind once the next one writes, and were it written to again,
    /// its view would be written whole.
    #[tokio::test]
    async fn only_the_running_cycles_view_is_remembered() {
        let inner: Arc<MemoryCheckpointer<TradingState>> = Arc::new(MemoryCheckpointer::new());
        let shared: Arc<dyn Checkpointer<TradingState>> = inner.clone();
        let cycle = CycleCheckpoints::new(shared);
        cycle.put(checkpoint("a", 1, market(60_000))).await.unwrap();
        cycle.put(checkpoint("b", 1, market(60_000))).await.unwrap();
        let remembered: Vec<String> = cycle
            .written
            .lock()
            .unwrap()
            .iter()
            .map(|w| w.thread.clone())
            .collect();
        assert_eq!(remembered, ["b"]);
        cycle.put(checkpoint("a", 2, market(60_000))).await.unwrap();
        let raw = inner
            .get("a", &CheckpointId("0002".into()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(raw.state.market, market(60_000), "written whole");
    }

    #[tokio::test]
    async fn the_market_view_is_written_once_and_read_back_everywhere() {
        let inner: Arc<MemoryCheckpointer<TradingState>> = Arc::new(MemoryCheckpointer::new());
        let shared: Arc<dyn Checkpointer<TradingState>> = inner.clone();
        let cycle = CycleCheckpoints::new(shared.clone());
        for n in 1..=3 {
            cycle.put(checkpoint("t", n, market(60_000))).await.unwrap();
        }
        // Stored: the view with the first only.
        let stored = inner.history("t", 10).await.unwrap();
        let views: Vec<bool> = stored
            .iter()
            .map(|c| CycleCheckpoints::elided(&c.state.market))
            .collect();
        assert_eq!(views, [true, true, false]);
        // Read back whole, by this process and by another.
        assert_eq!(
            cycle.latest("t").await.unwrap().unwrap().state.market,
            market(60_000)
        );
        let other = CycleCheckpoints::new(shared.clone());
        let latest = other.latest("t").await.unwrap().unwrap();
        assert_eq!(
            (latest.progress.steps, latest.state.market),
            (3, market(60_000))
        );
        let second = other
            .get("t", &CheckpointId("0002".into()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.state.market, market(60_000));
        assert!(other
            .history("t", 10)
            .await
            .unwrap()
            .iter()
            .all(|c| c.state.market == market(60_000)));
        // A view that changes is written again; every eighth is full.
        cycle
            .put(checkpoint("t", 4, market(120_000)))
            .await
            .unwrap();
        cycle
            .put(checkpoint("t", 5, market(120_000)))
            .await
            .unwrap();
        let latest = other.latest("t").await.unwrap().unwrap();
        assert_eq!(latest.state.market, market(120_000));
        // An older checkpoint reads with its own view, by the writer too.
        let second = cycle
            .get("t", &CheckpointId("0002".into()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.state.market, market(60_000));
        for n in 6..=20 {
            cycle
                .put(checkpoint("t", n, market(120_000)))
                .await
                .unwrap();
        }
        let stored = inner.history("t", 100).await.unwrap();
        let full = stored
            .iter()
            .filter(|c| !CycleCheckpoints::elided(&c.state.market))
            .count();
        assert_eq!(full, 1 + 1 + 2, "{full} full checkpoints of 20");
        // Gone with the thread.
        cycle.delete_thread("t").await.unwrap();
        assert!(cycle.latest("t").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_long_thread_pruned_by_its_store_stays_readable() {
        let inner: Arc<dyn Checkpointer<TradingState>> =
            Arc::new(MemoryCheckpointer::keep_last(16));
        let cycle = CycleCheckpoints::new(inner.clone());
        for n in 1..=20 {
            cycle.put(checkpoint("t", n, market(60_000))).await.unwrap();
        }
        let other = CycleCheckpoints::new(inner);
        let latest = other.latest("t").await.unwrap().unwrap();
        assert_eq!(
            (latest.progress.steps, latest.state.market),
            (20, market(60_000))
        );
        // The oldest kept, whose full one was pruned, are left out of the history.
        let history = other.history("t", 100).await.unwrap();
        assert!(
            !history.is_empty() && history.len() < 16,
            "{}",
            history.len()
        );
        assert!(history.iter().all(|c| c.state.market == market(60_000)));
    }

    #[tokio::test]
    async fn a_thread_whose_full_checkpoints_were_pruned_reads_as_an_error() {
        // A backend keeping the newest two only.
        let inner: Arc<dyn Checkpointer<TradingState>> = Arc::new(MemoryCheckpointer::keep_last(2));
        let cycle = CycleCheckpoints::new(inner.clone());
        for n in 1..=4 {
            cycle.put(checkpoint("t", n, market(60_000))).await.unwrap();
        }
        let e = CycleCheckpoints::new(inner)
            .latest("t")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("no market view"), "{e}");
    }
}
