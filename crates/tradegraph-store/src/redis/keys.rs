//! The key scheme: the specification's keys, plus the indexes that make "the last N" two round
//! trips. Every key names its instrument, so bots of several instruments share one Redis; the
//! instrument (or a checkpoint's thread) is the key's hash tag, `{BTCUSDT}`, so on a Redis Cluster
//! everything of one instrument lives in one slot: a pipeline or a script over its keys runs on
//! one node.

use crate::StatePart;
use tradegraph_core::order::ClientOrderId;
use tradegraph_core::{Symbol, Timeframe, Timestamp};

/// Builds keys, each behind an optional prefix (empty by default, which gives the specification's
/// keys with the instrument as a hash tag, `price:{BTCUSD}:latest`, so that an instrument's keys
/// share a Cluster slot; a prefix such as `staging:` separates environments sharing a server).
///
/// ```
/// use tradegraph_core::{Symbol, Timeframe};
/// use tradegraph_store::redis::Keys;
/// let keys = Keys::new("");
/// let btc = Symbol::new("BTCUSD");
/// let at = "2024-01-01T10:00:00Z".parse()?;
/// assert_eq!(keys.latest(&btc), "price:{BTCUSD}:latest");
/// assert_eq!(keys.latest_ts(&btc), "price:{BTCUSD}:latest_ts");
/// assert_eq!(keys.ohlc(&btc, Timeframe::M1, at), "ohlc:{BTCUSD}:1min:20240101T100000Z");
/// assert_eq!(keys.tick(&btc, at), "tick:{BTCUSD}:20240101T100000Z");
/// assert_eq!(keys.ohlc_index(&btc, Timeframe::M1), "index:ohlc:{BTCUSD}:1min");
/// assert_eq!(keys.checkpoint("btc-run-1", "7"), "checkpoint:{btc-run-1}:7");
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// Keys behind `prefix`.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `price:{<SYM>}:latest`: the last price, as a decimal string (5 minutes).
    pub fn latest(&self, instrument: &Symbol) -> String {
        format!("{}price:{{{instrument}}}:latest", self.prefix)
    }

    /// `price:{<SYM>}:latest_ts`: its time, RFC 3339 (5 minutes).
    pub fn latest_ts(&self, instrument: &Symbol) -> String {
        format!("{}price:{{{instrument}}}:latest_ts", self.prefix)
    }

    /// `ohlc:{<SYM>}:<tf>:`, to which the compact open time is appended.
    pub fn ohlc_stem(&self, instrument: &Symbol, timeframe: Timeframe) -> String {
        format!("{}ohlc:{{{instrument}}}:{}:", self.prefix, timeframe.key())
    }

    /// `ohlc:{<SYM>}:<tf>:<open time>`: a candle as JSON (24 hours).
    pub fn ohlc(&self, instrument: &Symbol, timeframe: Timeframe, open_time: Timestamp) -> String {
        format!(
            "{}{}",
            self.ohlc_stem(instrument, timeframe),
            open_time.compact()
        )
    }

    /// `tick:{<SYM>}:`, to which the compact time is appended.
    pub fn tick_stem(&self, instrument: &Symbol) -> String {
        format!("{}tick:{{{instrument}}}:", self.prefix)
    }

    /// `tick:{<SYM>}:<time>`: the last tick of that second as JSON (24 hours).
    pub fn tick(&self, instrument: &Symbol, ts: Timestamp) -> String {
        format!("{}{}", self.tick_stem(instrument), ts.compact())
    }

    /// `index:ohlc:{<SYM>}:<tf>`: sorted set of the candles' compact open times, scored by open
    /// time in milliseconds.
    pub fn ohlc_index(&self, instrument: &Symbol, timeframe: Timeframe) -> String {
        format!(
            "{}index:ohlc:{{{instrument}}}:{}",
            self.prefix,
            timeframe.key()
        )
    }

    /// `index:tick:{<SYM>}`: sorted set of the ticks' compact times, scored in milliseconds.
    pub fn tick_index(&self, instrument: &Symbol) -> String {
        format!("{}index:tick:{{{instrument}}}", self.prefix)
    }

    /// `checkpoint:{<thread>}:<id>`: a graph checkpoint (JSON, the engine's codec).
    pub fn checkpoint(&self, thread: &str, id: &str) -> String {
        format!("{}checkpoint:{{{thread}}}:{id}", self.prefix)
    }

    /// `checkpoint_writes:{<thread>}:<id>`: hash of pending writes by task index.
    pub fn checkpoint_writes(&self, thread: &str, id: &str) -> String {
        format!("{}checkpoint_writes:{{{thread}}}:{id}", self.prefix)
    }

    /// `checkpoints:{<thread>}`: sorted set of the thread's checkpoint ids, in write order.
    pub fn checkpoints(&self, thread: &str) -> String {
        format!("{}checkpoints:{{{thread}}}", self.prefix)
    }

    /// `checkpoint_seq:{<thread>}`: the thread's write counter.
    pub fn checkpoint_seq(&self, thread: &str) -> String {
        format!("{}checkpoint_seq:{{{thread}}}", self.prefix)
    }

    /// `state:{<SYM>}:<part>`: a part of a bot's state, the `StateDoc` as JSON. The instrument is
    /// the hash tag, as in every key of an instrument.
    ///
    /// ```
    /// use tradegraph_core::Symbol;
    /// use tradegraph_store::{redis::Keys, StatePart};
    /// assert_eq!(Keys::new("").state(&Symbol::new("BTCUSDT"), StatePart::KillSwitch), "state:{BTCUSDT}:kill_switch");
    /// ```
    pub fn state(&self, instrument: &Symbol, part: StatePart) -> String {
        format!("{}state:{{{instrument}}}:{}", self.prefix, part.as_str())
    }

    /// `intent:{<SYM>}:`, to which the client order id is appended.
    pub fn intent_stem(&self, instrument: &Symbol) -> String {
        format!("{}intent:{{{instrument}}}:", self.prefix)
    }

    /// `intent:{<SYM>}:<client id>`: an order intent, the `IntentRecord` as JSON.
    pub fn intent(&self, instrument: &Symbol, client_id: &ClientOrderId) -> String {
        format!("{}{client_id}", self.intent_stem(instrument))
    }

    /// `intents:{<SYM>}:unsettled`: sorted set of the client ids of the instrument's pending and
    /// submitted intents, scored by creation time in milliseconds.
    pub fn unsettled_intents(&self, instrument: &Symbol) -> String {
        format!("{}intents:{{{instrument}}}:unsettled", self.prefix)
    }

    /// `intent_instrument:<client id>`: the instrument an intent was recorded for, so that an
    /// intent is found by its client id alone.
    pub fn intent_instrument(&self, client_id: &ClientOrderId) -> String {
        format!("{}intent_instrument:{client_id}", self.prefix)
    }

    /// `queue:<name>:{<SYM>}`: the stream of an instrument's queued jobs (a consumer group of
    /// the queue's name reads it); `:dead`, `:lease` and `:lease_seq` beside it, same hash tag.
    ///
    /// ```
    /// use tradegraph_core::Symbol;
    /// use tradegraph_store::redis::Keys;
    /// let btc = Symbol::new("BTCUSDT");
    /// assert_eq!(Keys::new("").jobs("cycles", &btc), "queue:cycles:{BTCUSDT}");
    /// assert_eq!(Keys::new("").lease("cycles", &btc), "queue:cycles:{BTCUSDT}:lease");
    /// ```
    pub fn jobs(&self, queue: &str, instrument: &Symbol) -> String {
        format!("{}queue:{queue}:{{{instrument}}}", self.prefix)
    }

    /// `queue:<name>:{<SYM>}:dead`: the stream of the instrument's dead letters.
    pub fn dead_jobs(&self, queue: &str, instrument: &Symbol) -> String {
        format!("{}:dead", self.jobs(queue, instrument))
    }

    /// `queue:<name>:{<SYM>}:lease`: `<worker>#<token>` of the instrument's owner, expiring.
    pub fn lease(&self, queue: &str, instrument: &Symbol) -> String {
        format!("{}:lease", self.jobs(queue, instrument))
    }

    /// `queue:<name>:{<SYM>}:lease_seq`: the instrument's last fencing token.
    pub fn lease_seq(&self, queue: &str, instrument: &Symbol) -> String {
        format!("{}:lease_seq", self.jobs(queue, instrument))
    }

    /// `queue:<name>:{meta}:instruments`: the set of instruments that have a queue.
    pub fn queued_instruments(&self, queue: &str) -> String {
        format!("{}queue:{queue}:{{meta}}:instruments", self.prefix)
    }

    /// `queue:<name>:{meta}:workers`: hash of the workers' last reports (JSON) by name.
    pub fn queue_workers(&self, queue: &str) -> String {
        format!("{}queue:{queue}:{{meta}}:workers", self.prefix)
    }

    /// `queue:<name>:{meta}:beats`: sorted set of the workers' names, scored by when (server
    /// time, ms) their last report stops counting.
    pub fn queue_beats(&self, queue: &str) -> String {
        format!("{}queue:{queue}:{{meta}}:beats", self.prefix)
    }

    /// `queue:<name>:{meta}:cancel`: the pub/sub channel of cancellation requests (the
    /// instrument's symbol as the message).
    pub fn queue_cancel(&self, queue: &str) -> String {
        format!("{}queue:{queue}:{{meta}}:cancel", self.prefix)
    }

    /// `llm_limit:{<provider>}:<bucket>`: a provider's shared `requests` or `tokens` bucket.
    pub fn llm_limit(&self, provider: &str, bucket: &str) -> String {
        format!("{}llm_limit:{{{provider}}}:{bucket}", self.prefix)
    }
}
