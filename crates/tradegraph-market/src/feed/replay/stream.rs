//! The replay: lines in, events out, the clock moved before each one.

use super::lines::Lines;
use super::open::open;
use super::pace::Pacer;
use super::{LineParser, ReplayConfig, ReplaySpeed, ReplayStats};
use crate::feed::Feed;
use crate::{Clock, FeedNotice, MarketError, MarketEvent, SimulatedClock};
use tokio::io::BufReader;

/// Read buffer size: large enough that the blocking-pool round trip per read is cheap.
const READ_BUFFER: usize = 64 * 1024;

/// A replay of a CSV or JSONL file (see the [module](super) documentation).
///
/// [`new`](Self::new) opens the file and reads a CSV header, so a missing file or a bad
/// header fails at once; [`stream`](Self::stream) reads the rest line by line.
#[derive(Debug)]
pub struct Replay {
    file: std::fs::File,
    parser: LineParser,
    lines_before: u64,
    feed: String,
    origin: String,
    speed: ReplaySpeed,
    max_pause: std::time::Duration,
    clock: SimulatedClock,
    stats: ReplayStats,
}

impl Replay {
    /// Opens the file of `config`.
    ///
    /// # Errors
    ///
    /// [`MarketError::Io`] when the file cannot be opened or read, [`MarketError::Malformed`]
    /// (naming `file:line`) for a CSV file whose header names neither candle nor tick columns,
    /// [`MarketError::Config`] for a bad speed.
    pub fn new(config: ReplayConfig) -> Result<Self, MarketError> {
        config.validate()?;
        let opened = open(&config)?;
        let name = config.path.file_name().map_or_else(
            || config.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let stats = ReplayStats::default();
        stats.set_lines(opened.lines_before);
        Ok(Self {
            file: opened.file,
            parser: opened.parser,
            lines_before: opened.lines_before,
            feed: format!("replay:{name}"),
            origin: config.path.display().to_string(),
            speed: config.speed,
            max_pause: config.max_pause,
            clock: config.clock,
            stats,
        })
    }

    /// The feed name its notices carry: `replay:<file name>`.
    pub fn feed_name(&self) -> &str {
        &self.feed
    }

    /// The parser chosen for the file (JSONL, or CSV candles or ticks).
    pub fn parser(&self) -> &LineParser {
        &self.parser
    }

    /// A handle on the counts of lines, events and malformed lines, live while streaming.
    pub fn stats(&self) -> ReplayStats {
        self.stats.clone()
    }

    /// The events of the file, in file order; the stream ends at the end of the file.
    pub fn stream(self) -> Feed {
        let reader = BufReader::with_capacity(READ_BUFFER, tokio::fs::File::from_std(self.file));
        let pacer = match self.speed {
            ReplaySpeed::AsFastAsPossible => None,
            ReplaySpeed::Multiple(speed) => Some(Pacer::new(speed, self.max_pause)),
        };
        let session = Session {
            lines: Lines::new(reader, self.lines_before, ReplayConfig::MAX_LINE_BYTES),
            parser: self.parser,
            feed: self.feed,
            origin: self.origin,
            clock: self.clock,
            stats: self.stats,
            pacer,
            done: false,
        };
        crate::metrics::metered(
            "replay",
            futures::stream::unfold(Box::new(session), |mut session| async move {
                let event = session.next_event().await?;
                Some((event, session))
            }),
        )
    }
}

struct Session {
    lines: Lines<BufReader<tokio::fs::File>>,
    parser: LineParser,
    feed: String,
    origin: String,
    clock: SimulatedClock,
    stats: ReplayStats,
    pacer: Option<Pacer>,
    done: bool,
}

impl Session {
    async fn next_event(&mut self) -> Option<MarketEvent> {
        while !self.done {
            let parsed = match self.lines.next().await {
                Ok(None) => {
                    self.done = true;
                    tracing::debug!(
                        feed = %self.feed,
                        lines = self.stats.lines(),
                        events = self.stats.events(),
                        malformed = self.stats.malformed(),
                        "replay finished"
                    );
                    return None;
                }
                Err(e) => {
                    // An I/O error mid-file: say so and stop, as the file cannot be trusted.
                    self.done = true;
                    let line = self.lines.number() + 1;
                    let reason = format!("reading failed, the replay stops: {e}");
                    return Some(self.malformed(line, reason));
                }
                Ok(Some((line, text))) => {
                    self.stats.set_lines(line);
                    match text {
                        Ok(text) if text.trim().is_empty() => continue,
                        Ok(text) => self.parser.parse(text).map_err(|e| (line, e)),
                        Err(e) => Err((line, e)),
                    }
                }
            };
            let event = match parsed {
                Ok(event) => event,
                Err((line, error)) => return Some(self.malformed(line, error.to_string())),
            };
            let known_at = event.known_at();
            if let Some(pacer) = &mut self.pacer {
                pacer.wait(known_at).await;
            }
            // Nothing may be seen before the simulated time has reached it.
            self.clock.advance_to(known_at);
            self.stats.add_event();
            return Some(event);
        }
        None
    }

    /// Counts, logs and reports a skipped line.
    fn malformed(&mut self, line: u64, reason: String) -> MarketEvent {
        let total = self.stats.add_malformed();
        let origin = format!("{}:{line}", self.origin);
        tracing::warn!(feed = %self.feed, %origin, %reason, total, "skipped malformed line");
        MarketEvent::Notice {
            feed: self.feed.clone(),
            ts: self.clock.now(),
            notice: FeedNotice::Malformed { origin, reason },
        }
    }
}
