//! The generator as a [`Feed`]: a simulated clock moved to each event, optionally paced.

use super::SyntheticGenerator;
use crate::feed::Feed;
use crate::{MarketError, MarketEvent, SimulatedClock};
use std::time::Duration;
use tokio::time::{sleep_until, Instant};

/// Unpaced streams let other tasks run after this many events.
const EVENTS_PER_YIELD: u32 = 1_024;

/// How fast a synthetic stream hands out its events.
///
/// ```
/// use tradegraph_market::feed::synthetic::Pacing;
/// assert!(Pacing::Speed(60.0).validate().is_ok()); // one trading hour a minute
/// assert!(Pacing::Speed(0.0).validate().is_err());
/// assert_eq!(Pacing::default(), Pacing::AsFastAsPossible);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Pacing {
    /// No waiting (the stream still lets other tasks run every thousand events or so).
    #[default]
    AsFastAsPossible,
    /// `n` times real time, measured in trading time: closed hours (nights, weekends, holidays)
    /// pass at once. `1.0` is real time.
    Speed(f64),
}

impl Pacing {
    /// Checks that a speed is a positive, finite multiple.
    ///
    /// # Errors
    ///
    /// [`MarketError::Config`] naming the speed.
    pub fn validate(&self) -> Result<(), MarketError> {
        match self {
            Self::AsFastAsPossible => Ok(()),
            Self::Speed(x) if x.is_finite() && *x > 0.0 => Ok(()),
            Self::Speed(x) => Err(MarketError::Config(format!(
                "synthetic.pacing speed {x} cannot work: give a positive multiple of real time, \
                 e.g. 60 for one trading hour a minute"
            ))),
        }
    }
}

impl SyntheticGenerator {
    /// The events as a [`Feed`] that moves `clock` to each event's time before handing it out,
    /// so a consumer reading `clock` never sees data stamped after "now". With
    /// [`Pacing::Speed`] the stream waits on tokio's timer between events.
    ///
    /// # Errors
    ///
    /// [`MarketError::Config`] for a speed that cannot work (see [`Pacing::validate`]).
    ///
    /// ```
    /// use futures::StreamExt;
    /// use tradegraph_market::feed::synthetic::{Pacing, SyntheticConfig, SyntheticGenerator};
    /// use tradegraph_market::{Clock, SimulatedClock};
    ///
    /// # async fn run() -> Result<(), tradegraph_market::MarketError> {
    /// let config = SyntheticConfig::btc_usdt(7).with_max_events(100);
    /// let clock = SimulatedClock::new(config.start);
    /// let mut feed = SyntheticGenerator::new(config)?.stream(clock.clone(), Pacing::AsFastAsPossible)?;
    /// while let Some(event) = feed.next().await {
    ///     assert!(event.ts() <= clock.now());
    /// }
    /// # Ok(()) }
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(run())?;
    /// # Ok(()) }
    /// ```
    pub fn stream(self, clock: SimulatedClock, pacing: Pacing) -> Result<Feed, MarketError> {
        pacing.validate()?;
        let paced = Paced {
            generator: self,
            clock,
            pacing,
            origin: None,
            since_yield: 0,
        };
        Ok(crate::metrics::metered(
            "synthetic",
            futures::stream::unfold(paced, |mut paced| async move {
                let event = paced.next().await?;
                Some((event, paced))
            }),
        ))
    }
}

struct Paced {
    generator: SyntheticGenerator,
    clock: SimulatedClock,
    pacing: Pacing,
    /// Wall instant and trading time of the first event, for pacing.
    origin: Option<(Instant, Duration)>,
    since_yield: u32,
}

impl Paced {
    async fn next(&mut self) -> Option<MarketEvent> {
        let event = self.generator.next()?;
        match self.pacing {
            Pacing::AsFastAsPossible => {
                self.since_yield += 1;
                if self.since_yield >= EVENTS_PER_YIELD {
                    self.since_yield = 0;
                    tokio::task::yield_now().await;
                }
            }
            Pacing::Speed(speed) => {
                let elapsed = self.generator.trading_elapsed();
                let (start, first) = *self.origin.get_or_insert((Instant::now(), elapsed));
                let wait = Duration::try_from_secs_f64(
                    elapsed.saturating_sub(first).as_secs_f64() / speed,
                )
                .unwrap_or(Duration::MAX);
                // An absurd wait (beyond the timer's range) waits a year instead of panicking.
                let at = start
                    .checked_add(wait)
                    .or_else(|| start.checked_add(Duration::from_secs(365 * 86_400)))
                    .unwrap_or(start);
                sleep_until(at).await;
            }
        }
        self.clock.advance_to(event.ts());
        Some(event)
    }
}
