//! The contract traded, and its roll while running: the instruments dump is read at connect
//! and again at the start of every trading day (India) by the broker's timer (and before an
//! order on a new day). When an underlying's nearest-month future changes, a flat broker
//! switches to the new contract; with a position (or working orders) in the expiring one, it
//! goes on managing them there, logs an error (an alert: the position must be closed or
//! rolled by hand before expiry; [`KiteBroker::roll_alert`](super::KiteBroker::roll_alert)
//! says so too) and refuses new entries, naming the roll, until they are gone. The broker
//! never closes a position itself for a roll. An MIS position is squared off by Kite at the
//! end of each day anyway, so only NRML positions can reach expiry.

use super::broker::Inner;
use super::now;
use super::rest::{KiteRest, VENUE};
use super::{KiteConfig, KiteRules};
use crate::live::VenueReason;
use crate::BrokerError;
use rust_decimal::Decimal;
use std::sync::{MutexGuard, PoisonError};
use tradegraph_core::order::OrderRequest;
use tradegraph_market::feed::kite::{nearest_future, read_instruments};

/// The contract traded now, and a roll waiting for the position in it to close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Contract {
    /// `BANKNIFTY25JANFUT`.
    pub(crate) tradingsymbol: String,
    /// Its lot and tick size.
    pub(crate) rules: KiteRules,
    /// Its expiry (`YYYY-MM-DD`), when it has one.
    pub(crate) expiry: Option<String>,
    /// The trading day (India, days since 1970-01-01) the dump was last read.
    pub(crate) day: i64,
    /// The contract to roll to once flat.
    pub(crate) next: Option<Box<Contract>>,
}

/// Today in India, as days since 1970-01-01.
pub(crate) fn ist_day() -> i64 {
    now().india_day()
}

/// Reads the dump of `config.exchange` and picks the instrument `config.tradingsymbol` names
/// (a contract, or an underlying's nearest-month future as of today in India).
///
/// # Errors
/// [`BrokerError::Config`] for an instrument not in the dump or one that cannot be traded;
/// [`BrokerError::Venue`] when Kite cannot be read.
pub(crate) async fn resolve(rest: &KiteRest, config: &KiteConfig) -> Result<Contract, BrokerError> {
    let day = ist_day();
    let today = now().in_india().date();
    let dump = rest.instruments(&config.exchange).await?;
    let shown = format!("GET /instruments/{}", config.exchange);
    let read = read_instruments(&dump).map_err(|e| rest.unreadable(&shown, &e.to_string()))?;
    if let Some(first) = read.bad_rows.first() {
        tracing::warn!(venue = VENUE, bad_rows = read.bad_rows.len(), first_line = first.line, reason = %first.reason, "rows of Kite's instruments dump could not be read and were skipped");
    }
    // A bad row the instrument may need (its own, or a future of the underlying) fails.
    read.check_needed(&config.tradingsymbol)
        .map_err(|e| rest.unreadable(&shown, &e.to_string()))?;
    let all = read.instruments;
    let instrument = match all.iter().find(|i| i.tradingsymbol == config.tradingsymbol) {
        Some(found) => found,
        None => nearest_future(&all, &config.tradingsymbol, today, config.roll_days).ok_or_else(|| {
            BrokerError::Config(format!(
                "{} is neither a trading symbol nor an underlying with a future in Kite's {} instruments: check the instrument's settings",
                config.tradingsymbol, config.exchange
            ))
        })?,
    };
    let rules = KiteRules {
        lot_size: instrument.lot_size,
        tick_size: instrument.tick_size,
    };
    // Kite's ticks are paise to rupees; anything else is not a tradable instrument's.
    if rules.lot_size == 0
        || rules.tick_size <= Decimal::ZERO
        || rules.tick_size > Decimal::from(10_000)
    {
        return Err(BrokerError::Config(format!(
            "{} has lot size {} and tick size {} in Kite's instruments: it cannot be traded (pick a future or a stock)",
            instrument.tradingsymbol, rules.lot_size, rules.tick_size
        )));
    }
    Ok(Contract {
        tradingsymbol: instrument.tradingsymbol.clone(),
        rules,
        expiry: instrument.expiry.map(|e| e.to_string()),
        day,
        next: None,
    })
}

impl Inner {
    pub(crate) fn contract(&self) -> MutexGuard<'_, Contract> {
        self.contract.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The contract traded now.
    pub(crate) fn tradingsymbol(&self) -> String {
        self.contract().tradingsymbol.clone()
    }

    /// Its lot and tick size.
    pub(crate) fn rules(&self) -> KiteRules {
        self.contract().rules
    }

    /// The settings with the contract traded now (for the forms).
    pub(crate) fn config_now(&self) -> KiteConfig {
        let mut config = self.config.clone();
        config.tradingsymbol = self.tradingsymbol();
        config
    }

    /// Before an order: reads the dump again on a new trading day, and rolls when a roll
    /// waits and the broker is flat.
    pub(crate) async fn roll_check(&self) {
        let (new_day, waiting) = {
            let c = self.contract();
            (c.day != ist_day(), c.next.is_some())
        };
        let checked = if new_day {
            self.reread().await
        } else if waiting {
            self.roll_when_flat().await
        } else {
            Ok(())
        };
        if let Err(e) = checked {
            tracing::warn!(venue = VENUE, error = %e, "could not check the contract's roll; trying again at the next order");
        }
    }

    /// Reads the instruments dump again and rolls to the nearest-month future
    /// when it changed: at once when flat, else once the expiring contract's position closes.
    ///
    /// # Errors
    /// When the dump cannot be read (the contract stays as it is).
    pub(crate) async fn reread(&self) -> Result<(), BrokerError> {
        let found = resolve(&self.rest, &self.config).await?;
        {
            let mut c = self.contract();
            c.day = found.day;
            if found.tradingsymbol == c.tradingsymbol {
                c.rules = found.rules;
                c.next = None;
                return Ok(());
            }
            tracing::warn!(venue = VENUE, from = %c.tradingsymbol, to = %found.tradingsymbol, expiry = ?c.expiry, "the nearest-month future changed: rolling once flat");
            c.next = Some(Box::new(found));
        }
        self.roll_when_flat().await?;
        if let Some(alert) = self.roll_alert() {
            tracing::error!(venue = VENUE, alert = %alert, "roll day with a position in the expiring contract");
        }
        Ok(())
    }

    /// At the keeper's round: the dump is read again on a new trading day.
    pub(crate) async fn daily_check(&self) {
        if self.contract().day == ist_day() {
            return;
        }
        if let Err(e) = self.reread().await {
            tracing::error!(venue = VENUE, error = %e, "could not read Kite's instruments for the new trading day: the contract's roll is not checked; trying again");
        }
    }

    /// While a roll waits for the expiring contract's position to close: what to do.
    pub(crate) fn roll_alert(&self) -> Option<String> {
        let c = self.contract();
        let next = c.next.as_ref()?;
        Some(format!(
            "{} expires {} with a position or working orders in it: close or roll it by hand before expiry (the broker does not); new entries are refused until then, then go to {}",
            c.tradingsymbol,
            c.expiry.as_deref().unwrap_or("soon"),
            next.tradingsymbol
        ))
    }

    /// Switches to the waiting contract when nothing is left in the current one (no position,
    /// no working order, no GTT).
    async fn roll_when_flat(&self) -> Result<(), BrokerError> {
        if self.contract().next.is_none() {
            return Ok(());
        }
        let busy = !self.book.open_orders().is_empty() || !self.exits().gtts.is_empty();
        let flat = !busy && super::fit::net_of(&self.positions().await?).is_zero();
        let mut c = self.contract();
        let Some(next) = c.next.take() else {
            return Ok(());
        };
        if !flat {
            tracing::info!(venue = VENUE, expiring = %c.tradingsymbol, next = %next.tradingsymbol, "the expiring contract still has a position or working orders: managed there, new entries refused until they are closed");
            c.next = Some(next);
            return Ok(());
        }
        let from = std::mem::replace(&mut *c, *next);
        tracing::warn!(venue = VENUE, from = %from.tradingsymbol, to = %c.tradingsymbol, "contract rolled: {} is traded from now on ({} expires {})", c.tradingsymbol, from.tradingsymbol, from.expiry.as_deref().unwrap_or("soon"));
        Ok(())
    }

    /// The refusal of a new entry while a roll waits (reducing orders are taken: they close
    /// the expiring contract's position).
    pub(crate) fn roll_refusal(&self, request: &OrderRequest) -> Option<VenueReason> {
        if request.reduce_only {
            return None;
        }
        let c = self.contract();
        let next = c.next.as_ref()?;
        Some(VenueReason::FilterFailed {
            filter: "contract roll".into(),
            detail: format!(
                "{} expires {} and is being rolled to {}: it takes only reduce-only orders until its position and orders are closed, then new entries go to {}",
                c.tradingsymbol,
                c.expiry.as_deref().unwrap_or("soon"),
                next.tradingsymbol,
                next.tradingsymbol
            ),
        })
    }
}
