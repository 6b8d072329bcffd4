//! `GET /api/v3/account`: the quote asset as cash, the base asset (less what is not the bot's)
//! as the position.

use super::broker::Inner;
use super::wire::overflows;
use super::wire::WireAccount;
use crate::BrokerError;
use reqwest::Method;
use std::sync::Arc;
use tradegraph_core::position::{Account, Position};
use tradegraph_core::{Decimal, Timestamp};

async fn balances(inner: &Arc<Inner>) -> Result<WireAccount, BrokerError> {
    let body = inner
        .must(Method::GET, "/api/v3/account", 20, &|q| {
            q.push("omitZeroBalances", "true");
        })
        .await?;
    inner.parse("GET /api/v3/account", &body)
}

/// `asset`'s balance, free and locked; a sum that overflows a decimal is an error naming it.
fn total(inner: &Inner, account: &WireAccount, asset: &str) -> Result<Decimal, BrokerError> {
    account
        .balances
        .iter()
        .filter(|b| b.asset == asset)
        .try_fold(Decimal::ZERO, |sum, b| {
            sum.checked_add(b.free)
                .and_then(|s| s.checked_add(b.locked))
        })
        .ok_or_else(|| {
            inner
                .rest
                .error(overflows(format_args!("the {asset} balance")))
        })
}

fn bot_base(inner: &Inner, account: &WireAccount) -> Result<Decimal, BrokerError> {
    let base = &inner.rules.base_asset;
    let held = total(inner, account, base)?
        .checked_sub(inner.config.reserved_base)
        .ok_or_else(|| {
            inner
                .rest
                .error(overflows(format_args!("the {base} balance")))
        })?;
    // Dust below the lot step cannot be sold: it is no position.
    Ok(if held < inner.rules.dust() || held <= Decimal::ZERO {
        Decimal::ZERO
    } else {
        held
    })
}

/// The bot's base-asset holding at the venue.
pub(crate) async fn base_position(inner: &Arc<Inner>) -> Result<Decimal, BrokerError> {
    bot_base(inner, &balances(inner).await?)
}

/// [`base_position`] in whole lots: what an order can sell of it.
pub(crate) async fn base_in_lots(inner: &Arc<Inner>) -> Result<Decimal, BrokerError> {
    Ok(tradegraph_core::money::floor_to_step(
        base_position(inner).await?,
        inner.rules.dust(),
    ))
}

/// The position of `quantity` at the last price; its value overflowing a decimal is an error.
fn position(
    inner: &Inner,
    quantity: Decimal,
    now: Timestamp,
) -> Result<Option<Position>, BrokerError> {
    if quantity.is_zero() {
        return Ok(None);
    }
    let mut p = Position::flat(inner.symbol.clone());
    p.quantity = quantity;
    p.mark_price = inner.reference();
    // The venue keeps no cost basis: it is the position at the last price known.
    p.cost_basis = match inner.reference() {
        Some(price) => quantity.checked_mul(price).ok_or_else(|| {
            inner.rest.error(overflows(format_args!(
                "the position's value ({quantity} at {price})"
            )))
        })?,
        None => Decimal::ZERO,
    };
    p.updated_at = now;
    Ok(Some(p))
}

/// The venue's truth: the base balance (free + locked) less `reserved_base`, dust ignored.
pub(crate) async fn positions(inner: &Arc<Inner>) -> Result<Vec<Position>, BrokerError> {
    let account = balances(inner).await?;
    let now = Timestamp::from_millis(inner.rest.server_now());
    Ok(position(inner, bot_base(inner, &account)?, now)?
        .into_iter()
        .collect())
}

/// Cash is the quote asset (free + locked); equity adds the position at the last price.
///
/// `day_start_equity` is the equity the trading day (the instrument's session day: the UTC
/// day for BTC) opened with, as the book first saw it ([`VenueBook::opening_equity`]; Binance
/// keeps none), so the risk guard's daily-loss limit works on a live account.
///
/// [`VenueBook::opening_equity`]: crate::live::venue::VenueBook::opening_equity
pub(crate) async fn account(inner: &Arc<Inner>) -> Result<Account, BrokerError> {
    let wire = balances(inner).await?;
    let now = Timestamp::from_millis(inner.rest.server_now());
    let cash = total(inner, &wire, &inner.rules.quote_asset)?;
    let mut account = Account::flat(inner.config.instrument.currency, cash, now);
    if let Some(p) = position(inner, bot_base(inner, &wire)?, now)? {
        // The position's value is its cost basis here (both at the last price).
        let value = p.cost_basis;
        account.equity = cash
            .checked_add(value)
            .ok_or_else(|| inner.rest.error(overflows("the account's equity")))?;
        account.gross_exposure = value;
        account.net_exposure = value;
        account.positions.push(p);
    }
    let day_start = inner
        .config
        .instrument
        .session
        .day_at(now)
        .map_or(now, |(start, _)| start);
    account.day_start_equity = inner.book.opening_equity(day_start, account.equity);
    account.day_started_at = Some(day_start);
    Ok(account)
}
