//! Any feed into a JSONL file, until a limit, the end of the feed or a stop signal.

use super::{JsonlWriter, RecordConfig, RecordSummary, StopReason};
use crate::{MarketError, MarketEvent};
use futures::{Stream, StreamExt};
use std::future::Future;
use std::pin::pin;
use tokio::time::{interval_at, sleep_until, Instant, MissedTickBehavior};

/// Records a feed to JSONL that [`Replay`](crate::feed::replay::Replay) reads back to the same
/// events.
///
/// [`create`](Self::create) creates the file at once (so a path that cannot be written fails
/// before any connection is made); [`record`](Self::record) writes every event of the feed,
/// notices included, until [`RecordConfig::max_events`], [`RecordConfig::duration`] or the end
/// of the feed, flushing every [`RecordConfig::flush_interval`] and at the end.
///
/// ```
/// use futures::stream;
/// use tradegraph_core::{Tick, Timestamp};
/// use tradegraph_market::feed::record::{RecordConfig, Recorder, StopReason};
/// use tradegraph_market::MarketEvent;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tradegraph_market::MarketError> {
/// let path = std::env::temp_dir().join("tradegraph-recorder-doc.jsonl");
/// let tick = |ms| MarketEvent::Tick {
///     symbol: "BTCUSDT".into(),
///     tick: Tick::new(Timestamp::from_millis(ms), "93512.10".parse().unwrap(), 1.into()),
/// };
/// let feed = stream::iter((0..10).map(tick));
/// let config = RecordConfig { max_events: Some(3), ..RecordConfig::new(&path) };
/// let summary = Recorder::create(config)?.record(feed).await?;
/// assert_eq!((summary.counts.ticks, summary.stop), (3, StopReason::MaxEvents));
/// assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Recorder {
    config: RecordConfig,
    file: std::fs::File,
}

impl Recorder {
    /// Creates (or truncates) the file of `config`.
    ///
    /// # Errors
    ///
    /// [`MarketError::Io`] naming the file when it cannot be created;
    /// [`MarketError::Config`] for a zero flush interval.
    pub fn create(config: RecordConfig) -> Result<Self, MarketError> {
        if config.flush_interval.is_zero() {
            return Err(MarketError::Config(
                "record.flush_interval must be more than zero, e.g. 1 s".to_owned(),
            ));
        }
        let file = std::fs::File::create(&config.path).map_err(|source| MarketError::Io {
            path: config.path.clone(),
            source,
        })?;
        Ok(Self { config, file })
    }

    /// Records `feed` until a configured limit or its end.
    ///
    /// # Errors
    ///
    /// [`MarketError::Io`] when writing fails; what was written before stays in the file.
    pub async fn record<S>(self, feed: S) -> Result<RecordSummary, MarketError>
    where
        S: Stream<Item = MarketEvent>,
    {
        self.record_until(feed, std::future::pending()).await
    }

    /// Records `feed` until a configured limit, its end, or `stop` completes (Ctrl-C, a
    /// shutdown signal); whatever the reason, the file is flushed and the summary returned.
    ///
    /// # Errors
    ///
    /// [`MarketError::Io`] when writing fails; what was written before stays in the file.
    pub async fn record_until<S, F>(self, feed: S, stop: F) -> Result<RecordSummary, MarketError>
    where
        S: Stream<Item = MarketEvent>,
        F: Future<Output = ()>,
    {
        let Self { config, file } = self;
        let io = |source| MarketError::Io {
            path: config.path.clone(),
            source,
        };
        let started = Instant::now();
        let mut writer = JsonlWriter::new(tokio::fs::File::from_std(file));
        let mut feed = pin!(feed);
        let mut stop = pin!(stop);
        let deadline = config.duration.map(|d| started.checked_add(d));
        let mut time_up = pin!(async move {
            match deadline {
                Some(Some(at)) => sleep_until(at).await,
                // A duration too long to represent never ends; no duration either.
                _ => std::future::pending().await,
            }
        });
        let period = config.flush_interval;
        let mut flush = interval_at(started.checked_add(period).unwrap_or(started), period);
        flush.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut unflushed = false;
        tracing::info!(path = %config.path.display(), "recording");
        let stop = loop {
            if config
                .max_events
                .is_some_and(|max| writer.counts().total() >= max)
            {
                break StopReason::MaxEvents;
            }
            tokio::select! {
                biased;
                () = &mut stop => break StopReason::Stopped,
                () = &mut time_up => break StopReason::Duration,
                _ = flush.tick(), if unflushed => {
                    writer.flush().await.map_err(io)?;
                    unflushed = false;
                }
                event = feed.next() => match event {
                    Some(event) => {
                        writer.write(&event).await.map_err(io)?;
                        unflushed = true;
                    }
                    None => break StopReason::FeedEnded,
                },
            }
        };
        writer.flush().await.map_err(io)?;
        let summary = RecordSummary {
            path: config.path.clone(),
            counts: writer.counts(),
            bytes: writer.bytes(),
            elapsed: started.elapsed(),
            stop,
        };
        tracing::info!(path = %config.path.display(), events = summary.counts.total(), %stop, "recording ended");
        Ok(summary)
    }
}
