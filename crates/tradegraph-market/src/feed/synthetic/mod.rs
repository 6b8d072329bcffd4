//! A seeded synthetic market, for examples, tests and benchmarks: no network, no files, and the
//! same events for the same seed.
//!
//! [`SyntheticGenerator`] is a plain [`Iterator`] of [`MarketEvent`](crate::MarketEvent)s;
//! [`stream`](SyntheticGenerator::stream) turns it into a [`Feed`](crate::feed::Feed) that
//! drives a [`SimulatedClock`](crate::SimulatedClock), as fast as possible or at a
//! [`Pacing::Speed`]. [`SyntheticConfig::for_instrument`] has presets for `BTCUSDT`,
//! `BANKNIFTY` and `NIFTY50`.
//!
//! # The model
//!
//! - **Time.** Trades arrive as a Poisson process: the waits between them are exponential with
//!   mean [`mean_interval_ms`](SyntheticConfig::mean_interval_ms) divided by the regime's
//!   `activity`. They happen only while the instrument's session is open: always for Bitcoin
//!   (UTC days); 09:15–15:30 Asia/Kolkata on NSE trading days for the indices. Waiting time
//!   that reaches the close carries over to the next open, skipping nights, weekends and
//!   holidays. Timestamps are whole milliseconds, never decreasing (busy moments put several
//!   trades in one millisecond).
//! - **Price.** The mid price follows a geometric Brownian motion over trading time: between
//!   two trades `dt` ms apart, `ln mid` moves by `(mu - sigma^2/2) dt/Y + sigma sqrt(dt/Y) Z`,
//!   `Z` standard normal, with the regime's annualised drift `mu` and volatility `sigma`, and
//!   `Y` a year of trading (365 days for a 24/7 market, 252 sessions for an exchange). Across a
//!   closed stretch the price gaps by a normal log return of standard deviation
//!   [`overnight_gap`](SyntheticConfig::overnight_gap) times the square root of the closed
//!   days. The mid never falls below a tick.
//! - **Regimes.** A Markov chain over [`Regime::Calm`], [`Regime::Normal`] and
//!   [`Regime::Turbulent`] ([`RegimeConfig`]): each stretch lasts an exponential time (mean
//!   [`mean_duration_ms`](RegimeConfig::mean_duration_ms) of trading time), then the chain
//!   moves to another regime with configurable weights. Each regime has its own drift,
//!   volatility and trade rate, so realized volatility and activity visibly cluster.
//! - **Trades.** The best bid is the mid less half the spread
//!   ([`spread_ticks`](SyntheticConfig::spread_ticks)), on the tick grid and at least one tick;
//!   the ask is the spread above it. The aggressor buys with probability `Phi(Z)` (the normal
//!   distribution function of the price shock), so buying pressure goes with rising prices, and
//!   trades at the ask; a seller trades at the bid. Sizes are log-normal whole lots
//!   ([`SizeModel`]). Trade ids count up by one from
//!   [`first_trade_id`](SyntheticConfig::first_trade_id).
//! - **Book.** With [`book`](SyntheticConfig::book) set, every `every_trades`-th trade is
//!   followed by a top-5 [`Book`](tradegraph_core::Book) at the same time and the same bid and
//!   ask ([`BookConfig`]).
//!
//! Prices and quantities are exact decimals built from whole numbers of ticks and lot steps.
//!
//! # Reproducibility
//!
//! The random numbers come from ChaCha8 (`rand_chacha`), whose output for a seed is fixed by
//! its specification, so the same seed, configuration and version of this crate give the same
//! events. The instrument's symbol picks the ChaCha stream, so one seed gives each instrument
//! its own, independent market. The model's floating-point functions (`ln`, `exp`) are the platform's; results are
//! bit-identical on one platform and not promised across platforms.
//!
//! ```
//! use tradegraph_market::feed::synthetic::{SyntheticConfig, SyntheticGenerator};
//! use tradegraph_market::MarketEvent;
//!
//! // One trading week of Nifty 50, a trade every 2 seconds on average.
//! let config = SyntheticConfig { mean_interval_ms: 2_000.0, ..SyntheticConfig::nifty_50(1) }
//!     .with_end("2025-01-11T00:00:00Z".parse()?);
//! let mut trades = 0;
//! for event in SyntheticGenerator::new(config.clone())? {
//!     if let MarketEvent::Trade { trade, .. } = event {
//!         assert!(config.instrument.session.is_open(trade.ts));
//!         assert!((trade.price % config.instrument.tick_size).is_zero());
//!         trades += 1;
//!     }
//! }
//! assert!(trades > 40_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod book;
mod calendar;
mod config;
mod generator;
mod grid;
mod presets;
mod random;
mod regime;
mod size;
mod stream;
#[cfg(test)]
mod tests;

pub use book::BookConfig;
pub use config::SyntheticConfig;
pub use generator::SyntheticGenerator;
pub use regime::{Regime, RegimeConfig, RegimeParams};
pub use size::SizeModel;
pub use stream::Pacing;
