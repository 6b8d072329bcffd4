//! The generator: a seeded iterator of trades (and book snapshots).

use super::book::BookMaker;
use super::calendar::Calendar;
use super::grid::Grid;
use super::random::Sampler;
use super::regime::{Chain, Regime, RegimeConfig};
use super::size::Sizes;
use super::SyntheticConfig;
use crate::{MarketError, MarketEvent};
use std::iter::FusedIterator;
use std::time::Duration;
use tradegraph_core::{Book, Side, Symbol, Timestamp, Trade};

const DAY_MS: f64 = 86_400_000.0;

/// Per-regime constants, in milliseconds of trading time.
#[derive(Debug, Clone, Copy)]
struct Motion {
    /// Log drift per ms: `(mu - sigma^2 / 2) / year`.
    drift: f64,
    /// Log volatility per square root of a ms: `sigma / sqrt(year)`.
    diffusion: f64,
    /// Mean time between trades.
    mean_interval: f64,
}

/// A seeded, synchronous stream of synthetic [`MarketEvent::Trade`]s (and
/// [`MarketEvent::Book`]s, when configured). See [the module](super) for the model.
///
/// Each trade costs a few dozen nanoseconds and no allocation (a book snapshot allocates its
/// two level vectors), so it can feed benchmarks with tens of millions of trades.
///
/// ```
/// use tradegraph_market::feed::synthetic::{SyntheticConfig, SyntheticGenerator};
/// use tradegraph_market::MarketEvent;
///
/// let config = SyntheticConfig::bank_nifty(42).with_max_events(1_000);
/// let events: Vec<MarketEvent> = SyntheticGenerator::new(config.clone())?.collect();
/// assert_eq!(events.len(), 1_000);
/// // The first trade is after Monday's 09:15 open in Kolkata.
/// assert!(events[0].ts() >= "2025-01-06T09:15:00+05:30".parse()?);
/// // Same seed, same events.
/// assert_eq!(SyntheticGenerator::new(config)?.collect::<Vec<_>>(), events);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct SyntheticGenerator {
    symbol: Symbol,
    sampler: Sampler,
    calendar: Calendar,
    ticks: Grid,
    sizes: Sizes,
    book: Option<BookMaker>,
    regimes: RegimeConfig,
    chain: Chain,
    motion: [Motion; 3],
    /// The mid price, in ticks.
    mid: f64,
    /// Bounds of `mid`: a spread above zero, and far below the grid's limit.
    min_mid: f64,
    max_mid: f64,
    /// Half the spread, in ticks.
    half_spread: f64,
    spread: i64,
    /// Overnight gap standard deviation per square root of a closed ms.
    gap_per_sqrt_ms: f64,
    /// Time of the last trade (or the first open), UTC ms.
    now: i64,
    /// Fractions of a ms not yet added to `now`.
    carry: f64,
    /// Trading time since the first open, ms.
    trading_ms: f64,
    end: i64,
    max_events: u64,
    emitted: u64,
    next_id: u64,
    since_book: u32,
    /// A book snapshot to hand out after the trade just handed out.
    pending: Option<Book>,
    done: bool,
}

impl SyntheticGenerator {
    /// A generator for `config`.
    ///
    /// # Errors
    ///
    /// [`MarketError::Config`] (or [`MarketError::Core`] for a session) when the configuration
    /// cannot work; see [`SyntheticConfig::validate`].
    pub fn new(config: SyntheticConfig) -> Result<Self, MarketError> {
        config.validate()?;
        let bad = |what: &str| MarketError::Config(format!("synthetic: {what}"));
        let ticks = Grid::new(config.instrument.tick_size).ok_or_else(|| bad("tick size"))?;
        let sizes = Sizes::new(&config.size, "synthetic.size")?;
        let book = config.book.as_ref().map(BookMaker::new).transpose()?;
        let mut calendar = Calendar::new(config.instrument.session.clone());
        let year = calendar.year_ms();
        let motion = Regime::ALL.map(|regime| {
            let p = config.regimes.params(regime);
            Motion {
                drift: (p.drift - p.volatility * p.volatility / 2.0) / year,
                diffusion: p.volatility / year.sqrt(),
                mean_interval: config.mean_interval_ms / p.activity,
            }
        });
        let units = ticks
            .count(config.start_price)
            .ok_or_else(|| bad("start price"))?;
        let mut sampler = Sampler::new(config.seed, config.instrument.symbol.as_str());
        let chain = Chain::start(&config.regimes, &mut sampler);
        // No session within two years: an empty stream.
        let (now, done) = match calendar.enter(config.start.millis()) {
            Some(open) => (open, false),
            None => (config.start.millis(), true),
        };
        Ok(Self {
            symbol: config.instrument.symbol.clone(),
            sampler,
            calendar,
            ticks,
            sizes,
            book,
            chain,
            motion,
            mid: units as f64,
            min_mid: f64::from(config.spread_ticks) / 2.0 + 1.0,
            max_mid: ticks.max_count() as f64 / 2.0,
            half_spread: f64::from(config.spread_ticks) / 2.0,
            spread: i64::from(config.spread_ticks),
            gap_per_sqrt_ms: config.overnight_gap / DAY_MS.sqrt(),
            now,
            carry: 0.0,
            trading_ms: 0.0,
            end: config.end.map_or(i64::MAX, Timestamp::millis),
            max_events: config.max_events.unwrap_or(u64::MAX),
            emitted: 0,
            next_id: config.first_trade_id,
            since_book: 0,
            pending: None,
            done,
            regimes: config.regimes,
        })
    }

    /// The instrument's symbol, as stamped on every event.
    pub fn symbol(&self) -> &Symbol {
        &self.symbol
    }

    /// The regime the next trade is drawn in.
    pub fn regime(&self) -> Regime {
        self.chain.current()
    }

    /// Time of the last trade (before the first, the first session's open).
    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.now)
    }

    /// Trading time since the first session opened: closed hours do not count. Paced streams
    /// follow it.
    pub fn trading_elapsed(&self) -> Duration {
        Duration::try_from_secs_f64(self.trading_ms / 1_000.0).unwrap_or(Duration::ZERO)
    }

    /// The current mid price (between the bid and the ask), as a float.
    pub fn mid(&self) -> f64 {
        self.mid * self.ticks.step_f64()
    }

    /// Events handed out so far.
    pub fn emitted(&self) -> u64 {
        self.emitted
    }

    /// The next trade, or `None` at the configured end (or when no session opens any more).
    #[inline]
    fn trade(&mut self) -> Option<Trade> {
        let motion = self.motion[self.chain.current().index()];
        let dt = self.sampler.exponential(motion.mean_interval);
        self.carry += dt;
        // `carry` is finite and non-negative: truncation is the floor.
        let whole = self.carry as i64;
        self.carry -= whole as f64;
        let step = self.calendar.step(self.now, whole)?;
        if step.at >= self.end {
            return None;
        }
        self.now = step.at;
        self.trading_ms += dt;

        let shock = self.sampler.normal();
        let mut log_return = motion.drift * dt + motion.diffusion * dt.sqrt() * shock;
        if step.closed_ms > 0 && self.gap_per_sqrt_ms > 0.0 {
            let gap = self.gap_per_sqrt_ms * (step.closed_ms as f64).sqrt();
            log_return += gap * self.sampler.normal();
        }
        // The mid stays at least a spread above zero, and far below the grid's limit (`min` and
        // `max`: `clamp` would panic should a configuration invert the bounds).
        self.mid = (self.mid * exp(log_return))
            .min(self.max_mid)
            .max(self.min_mid);
        self.chain
            .advance(self.trading_ms, &self.regimes, &mut self.sampler);

        // Buyers lift the ask more often when the price rose: P(buy) = Phi(shock).
        let aggressor = if shock + self.sampler.normal() > 0.0 {
            Side::Buy
        } else {
            Side::Sell
        };
        // Positive: truncating `x + 0.5` rounds to the nearest tick.
        let bid = ((self.mid - self.half_spread + 0.5) as i64).max(1);
        let ask = bid + self.spread;
        let price = self.ticks.value(match aggressor {
            Side::Buy => ask,
            Side::Sell => bid,
        });
        let trade_id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let trade = Trade {
            ts: Timestamp::from_millis(self.now),
            price,
            quantity: self.sizes.draw(&mut self.sampler),
            aggressor,
            trade_id,
            first_trade_id: None,
            last_trade_id: None,
        };
        if let Some(maker) = &self.book {
            self.since_book += 1;
            if self.since_book >= maker.every_trades {
                self.since_book = 0;
                let book =
                    maker.snapshot(trade.ts, trade_id, bid, ask, &self.ticks, &mut self.sampler);
                self.pending = Some(book);
            }
        }
        Some(trade)
    }
}

impl Iterator for SyntheticGenerator {
    type Item = MarketEvent;

    #[inline]
    fn next(&mut self) -> Option<MarketEvent> {
        if self.done || self.emitted >= self.max_events {
            self.done = true;
            return None;
        }
        let symbol = self.symbol.clone();
        if let Some(book) = self.pending.take() {
            self.emitted += 1;
            return Some(MarketEvent::Book { symbol, book });
        }
        match self.trade() {
            Some(trade) => {
                self.emitted += 1;
                Some(MarketEvent::Trade { symbol, trade })
            }
            None => {
                self.done = true;
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        if self.max_events == u64::MAX {
            return (0, None);
        }
        let left = self.max_events.saturating_sub(self.emitted);
        (0, usize::try_from(left).ok())
    }
}

impl FusedIterator for SyntheticGenerator {}

/// `e^x`: five Taylor terms for the small moves between trades (within a few ulps below 1e-3,
/// and much cheaper), the library's `exp` otherwise.
#[inline]
fn exp(x: f64) -> f64 {
    if x.abs() < 1e-3 {
        1.0 + x * (1.0 + x / 2.0 * (1.0 + x / 3.0 * (1.0 + x / 4.0)))
    } else {
        x.exp()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_short_exp_matches_the_library() {
        for x in [0.0, 1e-9, -3e-6, 2.5e-4, -9.99e-4, 1e-3, -0.2, 3.0] {
            let (short, full) = (super::exp(x), x.exp());
            assert!(
                ((short - full) / full).abs() < 4.0 * f64::EPSILON,
                "{x}: {short} {full}"
            );
        }
    }
}
