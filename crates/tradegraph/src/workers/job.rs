//! A decision cycle as the ingesting process publishes it: the instrument, and the market
//! events since the previous cycle.

use serde::{Deserialize, Serialize};
use tradegraph_core::{Symbol, Timeframe, Timestamp};
use tradegraph_market::MarketEvent;
use tradegraph_store::queue::Job;

/// The format of [`CycleJob`]'s encoding; a worker refuses another.
pub const JOB_FORMAT: u32 = 1;

/// One decision cycle for a worker: what an engine running the instrument in one process would
/// have seen since the previous cycle, in order: every candle the feed closed (one-minute ones,
/// then the longer ones they complete, the decision timeframe's last). The worker's engine
/// takes them as its feed; the cycle runs when the decision candle closes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CycleJob {
    /// [`JOB_FORMAT`].
    pub format: u32,
    /// The instrument's name in the configuration (`btc`, `banknifty`, a name of your own):
    /// the worker resolves the bot's settings by it, as `tradegraph run --instrument` does.
    pub instrument: String,
    /// Its symbol (the queue's stream is the symbol's).
    pub symbol: Symbol,
    /// The closed candles since the previous job, oldest first.
    pub events: Vec<MarketEvent>,
    /// The decision time the job ends with (the decision candle's end), or the last event's
    /// time when the feed ended before it.
    pub at: Timestamp,
    /// When it was published, on the publisher's wall clock (Unix µs): the queue's wait starts.
    pub published_us: i64,
    /// The decision timeframe the ingesting bot cuts the cycles at: a worker whose settings
    /// decide at another refuses the instrument (its engine would run several cycles a job,
    /// late, or skip some). `None`: a job of an earlier version, which did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_every: Option<Timeframe>,
}

/// Now on the wall clock, in Unix microseconds (0 before 1970).
pub(crate) fn wall_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// A job the worker cannot read.
#[derive(Debug, thiserror::Error)]
#[error("job {job} of {instrument} cannot be read: {reason}")]
pub struct BadJob {
    /// The job's id in the queue.
    pub job: String,
    /// The queue's instrument.
    pub instrument: String,
    /// What is wrong with it.
    pub reason: String,
}

impl CycleJob {
    /// The job's encoding on the queue (JSON).
    ///
    /// # Errors
    /// Only if an event cannot be written as JSON (it always can).
    pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// Reads a job taken from the queue: its format, that it is the queue's instrument, and
    /// that every event is a closed candle of that instrument, in time order.
    ///
    /// # Errors
    /// [`BadJob`] naming the job and what is wrong.
    pub fn decode(job: &Job) -> Result<Self, BadJob> {
        let bad = |reason: String| BadJob {
            job: job.id.to_string(),
            instrument: job.instrument.to_string(),
            reason,
        };
        let decoded: Self = serde_json::from_slice(&job.payload).map_err(|e| {
            bad(format!(
                "not a cycle job ({e}); it starts with {:?}",
                String::from_utf8_lossy(&job.payload[..job.payload.len().min(80)])
            ))
        })?;
        if decoded.format != JOB_FORMAT {
            return Err(bad(format!(
                "format {} (this worker reads format {JOB_FORMAT}): run workers and bots of the same version",
                decoded.format
            )));
        }
        if decoded.symbol != job.instrument {
            return Err(bad(format!(
                "it is for {} but sits in {}'s queue",
                decoded.symbol, job.instrument
            )));
        }
        let mut last: Option<Timestamp> = None;
        for (i, event) in decoded.events.iter().enumerate() {
            let MarketEvent::Candle {
                symbol,
                closed: true,
                ..
            } = event
            else {
                return Err(bad(format!("event {i} is not a closed candle")));
            };
            if *symbol != decoded.symbol {
                return Err(bad(format!("event {i} is a candle of {symbol}")));
            }
            let at = event.known_at();
            if last.is_some_and(|l| at < l) {
                return Err(bad(format!(
                    "event {i} ends at {at}, before the one ahead of it"
                )));
            }
            last = Some(at);
        }
        Ok(decoded)
    }

    /// The first event's time: the worker's engine warms up with the candles cached up to it.
    pub fn starts_at(&self) -> Timestamp {
        self.events.first().map_or(self.at, MarketEvent::known_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::Decimal;
    use tradegraph_core::Candle;
    use tradegraph_store::queue::JobId;

    fn candle(symbol: &str, minute: i64, timeframe: Timeframe) -> MarketEvent {
        let open = Timestamp::from_millis(1_700_000_040_000 + minute * 60_000);
        MarketEvent::Candle {
            symbol: Symbol::new(symbol),
            candle: Candle::opening(open, timeframe, Decimal::from(100), Decimal::from(5)),
            closed: true,
        }
    }

    fn job(payload: Vec<u8>, queue: &str) -> Job {
        Job {
            id: JobId::new("1-0"),
            instrument: Symbol::new(queue),
            payload,
            deliveries: 1,
        }
    }

    fn sample(minutes: i64) -> CycleJob {
        CycleJob {
            format: JOB_FORMAT,
            instrument: "btc".into(),
            symbol: Symbol::new("BTCUSDT"),
            events: (0..minutes)
                .map(|m| candle("BTCUSDT", m, Timeframe::M1))
                .collect(),
            at: Timestamp::from_millis(1_700_000_040_000 + minutes * 60_000),
            published_us: 1,
            decision_every: Some(Timeframe::M15),
        }
    }

    /// A job says the decision timeframe it was cut at; one of an earlier version, without it,
    /// still reads.
    #[test]
    fn a_job_carries_its_decision_timeframe_and_an_older_one_reads_without() {
        let written = sample(2);
        let encoded = written.encode().unwrap();
        let text = String::from_utf8(encoded.clone()).unwrap();
        assert!(text.contains("\"decision_every\":\"15min\""), "{text}");
        let read = CycleJob::decode(&job(encoded, "BTCUSDT")).unwrap();
        assert_eq!(read.decision_every, Some(Timeframe::M15));
        let mut older: serde_json::Value = serde_json::from_str(&text).unwrap();
        older.as_object_mut().unwrap().remove("decision_every");
        let read = CycleJob::decode(&job(serde_json::to_vec(&older).unwrap(), "BTCUSDT")).unwrap();
        assert_eq!(read.decision_every, None);
    }

    #[test]
    fn a_job_reads_back_as_written() {
        let written = sample(5);
        let read = CycleJob::decode(&job(written.encode().unwrap(), "BTCUSDT")).unwrap();
        assert_eq!(read, written);
        assert_eq!(read.starts_at(), written.events[0].known_at());
    }

    #[test]
    fn bad_jobs_are_refused_by_name() {
        let refused = |payload: Vec<u8>, queue: &str| {
            CycleJob::decode(&job(payload, queue))
                .unwrap_err()
                .to_string()
        };
        let e = refused(b"{\"nope\":1}".to_vec(), "BTCUSDT");
        assert!(
            e.starts_with("job 1-0 of BTCUSDT cannot be read: not a cycle job"),
            "{e}"
        );
        let mut other = sample(2);
        other.format = 2;
        assert!(refused(other.encode().unwrap(), "BTCUSDT").contains("format 2"));
        assert!(refused(sample(2).encode().unwrap(), "ETHUSDT").contains("sits in ETHUSDT's queue"));
        let mut foreign = sample(2);
        foreign.events.push(candle("ETHUSDT", 3, Timeframe::M1));
        assert!(refused(foreign.encode().unwrap(), "BTCUSDT")
            .contains("event 2 is a candle of ETHUSDT"));
        let mut backwards = sample(3);
        backwards.events.swap(0, 2);
        assert!(refused(backwards.encode().unwrap(), "BTCUSDT").contains("event 1 ends at"));
    }

    proptest! {
        /// Whatever bytes sit in a queue, reading them answers a job or an error naming it,
        /// never a panic.
        #[test]
        fn any_payload_reads_or_is_refused(payload in proptest::collection::vec(any::<u8>(), 0..512)) {
            match CycleJob::decode(&job(payload, "BTCUSDT")) {
                Ok(read) => prop_assert_eq!(read.symbol, Symbol::new("BTCUSDT")),
                Err(e) => prop_assert!(e.to_string().starts_with("job 1-0 of BTCUSDT cannot be read: ")),
            }
        }

        /// Every job the ingesting process writes reads back equal.
        #[test]
        fn written_jobs_read_back(minutes in 0i64..40, published in any::<i64>()) {
            let mut written = sample(minutes);
            written.published_us = published;
            let read = CycleJob::decode(&job(written.encode().unwrap(), "BTCUSDT")).unwrap();
            prop_assert_eq!(read, written);
        }
    }
}
