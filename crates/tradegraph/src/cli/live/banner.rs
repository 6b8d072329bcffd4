//! The banner a live bot prints at start, and how a key shows in it.

use crate::config::Settings;
use tradegraph_broker::Broker;
use tradegraph_core::redact::Secret;

/// A key as its length only: enough to tell that one is set and which of two of different
/// lengths, nothing of the key itself.
pub(super) fn masked(key: &Secret) -> String {
    format!("*** ({} characters)", key.expose().chars().count())
}

/// The banner a live bot prints at start: LIVE, the venue, its base URL and masked key, the
/// account's balances, the instrument and the risk limits.
pub(in crate::cli) async fn banner(
    broker: &dyn Broker,
    venue: &str,
    settings: &Settings,
) -> String {
    let limits = &settings.risk;
    let account = match broker.account().await {
        Ok(a) => format!(
            "cash {} {:?}, equity {}, {} open position(s)",
            a.cash,
            a.currency,
            a.equity,
            a.open_positions()
        ),
        Err(e) => format!("not read ({e})"),
    };
    [
        "================ LIVE TRADING: real orders, real money ================".to_owned(),
        format!("venue:       {venue}"),
        format!("account:     {account}"),
        format!(
            "instrument:  {} (tick {}, lot {})",
            settings.instrument.symbol, settings.instrument.tick_size, settings.instrument.lot_size
        ),
        format!(
            "risk limits: position {}% of equity, daily loss {}%, {} open position(s), stop at most {}%, kill switch closes positions: {}",
            limits.max_position_pct,
            limits.max_daily_loss_pct,
            limits.max_open_positions,
            limits.max_stop_pct,
            limits.kill_switch_closes_positions
        ),
        "stop it: POST /api/v1/kill-switch {\"engaged\": true} cancels every order and closes the position".to_owned(),
        "=======================================================================".to_owned(),
    ]
    .join("\n")
}
