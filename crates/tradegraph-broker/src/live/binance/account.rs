//! `GET /api/v3/account`: the quote asset as cash, the base asset (less what is not the bot's)
//! as the position.

use super::broker::Inner;
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

fn total(account: &WireAccount, asset: &str) -> Decimal {
    account
        .balances
        .iter()
        .filter(|b| b.asset == asset)
        .map(|b| b.free + b.locked)
        .sum()
}

fn bot_base(inner: &Inner, account: &WireAccount) -> Decimal {
    let held = total(account, &inner.rules.base_asset) - inner.config.reserved_base;
    // Dust below the lot step cannot be sold: it is no position.
    if held < inner.rules.dust() || held <= Decimal::ZERO {
        Decimal::ZERO
    } else {
        held
    }
}

/// The bot's base-asset holding at the venue.
pub(crate) async fn base_position(inner: &Arc<Inner>) -> Result<Decimal, BrokerError> {
    Ok(bot_base(inner, &balances(inner).await?))
}

fn position(inner: &Inner, quantity: Decimal, now: Timestamp) -> Option<Position> {
    if quantity.is_zero() {
        return None;
    }
    let mut p = Position::flat(inner.symbol.clone());
    p.quantity = quantity;
    p.mark_price = inner.reference();
    // The venue keeps no cost basis: it is the position at the last price known.
    p.cost_basis = inner
        .reference()
        .map_or(Decimal::ZERO, |price| quantity * price);
    p.updated_at = now;
    Some(p)
}

/// The venue's truth: the base balance (free + locked) less `reserved_base`, dust ignored.
pub(crate) async fn positions(inner: &Arc<Inner>) -> Result<Vec<Position>, BrokerError> {
    let account = balances(inner).await?;
    let now = Timestamp::from_millis(inner.rest.server_now());
    Ok(position(inner, bot_base(inner, &account), now)
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
    let cash = total(&wire, &inner.rules.quote_asset);
    let mut account = Account::flat(inner.config.instrument.currency, cash, now);
    if let Some(p) = position(inner, bot_base(inner, &wire), now) {
        let value = p.mark_price.map_or(Decimal::ZERO, |m| m * p.quantity);
        account.equity = cash + value;
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
