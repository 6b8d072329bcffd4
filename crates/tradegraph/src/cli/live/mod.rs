//! Live trading's opt-in: what it needs (`TRADEGRAPH_LIVE=1`, `live = true`, the venue's keys,
//! settings that are not paper-only), the venue broker it builds from the settings, the checks
//! of the settings against the venue's own rules once connected, and the banner a live bot
//! prints at start.

mod banner;
mod rules;

pub(super) use banner::banner;
pub(super) use rules::LiveRefused;

use crate::config::{FeedSettings, Settings, Venue};
use std::error::Error;
use tradegraph_broker::live::binance::{BinanceBroker, BinanceConfig};
use tradegraph_broker::live::kite::{KiteBroker, KiteConfig};
use tradegraph_broker::live::venue::VenueBookSnapshot;
use tradegraph_broker::live::{Live, LiveTradingEnabled};
use tradegraph_core::redact::Secret;
use tradegraph_core::{Exchange, Instrument, Segment};
use tradegraph_store::{StateKey, StatePart, Stores};

/// Why these settings cannot trade live, one line per setting (empty: they can). Only asked
/// when live trading was asked for (`TRADEGRAPH_LIVE=1` and `live = true`), before anything
/// connects.
pub(super) fn refusals(settings: &Settings) -> Vec<String> {
    let mut no = Vec::new();
    match &settings.feed {
        FeedSettings::Replay { .. } | FeedSettings::Synthetic { .. } => no.push(format!(
            "the feed (`--feed`, TRADEGRAPH_FEED, `[bot] feed`) is {}: live trading needs the \
             venue's own feed (binance or kite)",
            settings.feed.kind().as_str()
        )),
        FeedSettings::Binance {
            ws_url,
            api_url,
            ws_api_url,
            api_key,
            api_secret,
        } => {
            if let Some(mismatch) = rules::binance_environments(ws_url, api_url) {
                no.push(mismatch);
            }
            if api_key.as_ref().is_none_or(Secret::is_empty) {
                no.push(
                    "BINANCE_API_KEY is not set: live orders need the account's API key".into(),
                );
            }
            if api_secret.as_ref().is_none_or(Secret::is_empty) {
                no.push("BINANCE_API_SECRET is not set: live orders are signed with it".into());
            }
            if ws_api_url.is_none() {
                no.push(format!(
                    "BINANCE_API_URL is {}, neither Binance's nor the testnet's: set \
                     BINANCE_WS_API_URL (`[feeds.binance] ws_api_url`) to the same venue's \
                     WebSocket API, where the bot's order updates come from",
                    tradegraph_store::url::redact(api_url)
                ));
            }
        }
        FeedSettings::Kite {
            api_key,
            access_token,
            ..
        } => {
            if api_key.is_empty() {
                no.push(
                    "KITE_API_KEY is not set: live orders need the Kite Connect app's key".into(),
                );
            }
            if access_token.is_empty() {
                no.push(format!(
                    "KITE_ACCESS_TOKEN is not set and `tradegraph kite login` kept no token \
                     for today in {} (`[live] data_dir`, TRADEGRAPH_DATA_DIR)",
                    settings.live_trading.data_dir.display()
                ));
            }
        }
    }
    if settings.venue == Venue::None {
        no.push(format!(
            "the instrument {} has no venue (`venue = \"none\"`): live orders need binance or \
             kite, with the venue's lot size and tick size",
            settings.instrument.symbol
        ));
    }
    if !settings.state_is_durable() {
        no.push(
            "the bot's state is kept in memory (`[stores] state_file` unset, no REDIS_URL or \
             MONGODB_URI): live trading needs a state that survives a restart, its order \
             intents with it"
                .into(),
        );
    }
    no
}

/// A connected venue broker behind the opt-in.
pub(super) enum LiveBroker {
    /// Binance spot.
    Binance(Live<BinanceBroker>),
    /// Zerodha Kite Connect.
    Kite(Live<KiteBroker>),
}

/// Connects the venue's broker for `settings` (`BINANCE_API_URL` / `KITE_API_URL` honoured),
/// continuing from the book saved in `stores` by the last run, and checks the settings
/// against the venue's rules (the instrument's lot and tick size; Kite: the feed's
/// instrument token is the contract the broker trades). Returns the broker and what the
/// banner says of the venue.
pub(super) async fn connect(
    settings: &Settings,
    stores: &Stores,
) -> Result<(LiveBroker, String), Box<dyn Error>> {
    let key = StateKey {
        instrument: settings.instrument.symbol.clone(),
        part: StatePart::Broker,
    };
    let saved: Option<VenueBookSnapshot> = match stores.state.load(&key).await? {
        Some(doc) => Some(doc.decode().map_err(|e| {
            format!(
                "the saved state of {} is not a venue's order book ({e}): was this bot trading \
                 on paper with the same state? give the live bot its own state file",
                settings.instrument.symbol
            )
        })?),
        None => None,
    };
    let live = &settings.live_trading;
    match &settings.feed {
        FeedSettings::Binance {
            api_url,
            ws_api_url: Some(ws_api_url),
            api_key: Some(api_key),
            api_secret: Some(api_secret),
            ..
        } => {
            let mut config = BinanceConfig::new(
                api_key.clone(),
                api_secret.clone(),
                settings.instrument.clone(),
            )
            .with_urls(api_url.clone(), ws_api_url.clone());
            config.reserved_base = live.binance_reserved_base;
            let opt_in = LiveTradingEnabled::i_understand_this_trades_real_money();
            let broker = BinanceBroker::connect(config, saved, opt_in).await?;
            rules::check_binance(&settings.instrument, broker.rules())?;
            Ok((
                LiveBroker::Binance(broker),
                format!(
                    "binance at {} with key {}",
                    redact_url(api_url),
                    banner::masked(api_key)
                ),
            ))
        }
        FeedSettings::Kite {
            api_url,
            api_key,
            access_token,
            tokens,
            ..
        } => {
            // The configuration resolver already fell back to `tradegraph kite login`'s token.
            let (exchange, tradingsymbol) = kite_contract(&settings.instrument);
            let config = KiteConfig::new(
                api_key.clone(),
                access_token.clone(),
                exchange,
                tradingsymbol,
            )
            .with_api_url(api_url.clone())
            .with_product(live.kite_product)
            // The feed streams the contract traded at start: the entry that would roll was
            // decided on its prices (the bot then stops: `rolled_away`).
            .with_entry_that_rolls_refused();
            let opt_in = LiveTradingEnabled::i_understand_this_trades_real_money();
            let dump = rules::KiteDump {
                api_url: api_url.clone(),
                api_key: api_key.clone(),
                access_token: access_token.clone(),
                exchange: exchange.to_owned(),
            };
            let broker =
                KiteBroker::connect(config, settings.instrument.symbol.clone(), saved, opt_in)
                    .await?;
            rules::check_kite(&settings.instrument, broker.rules())?;
            let contract = broker.tradingsymbol();
            let traded = dump.instrument_token(&contract).await?;
            rules::check_kite_feed(&settings.name, tokens, &contract, traded)?;
            Ok((
                LiveBroker::Kite(broker),
                format!(
                    "kite at {} with key {}, product {}, contract {contract}",
                    redact_url(api_url),
                    banner::masked(api_key),
                    live.kite_product.as_str()
                ),
            ))
        }
        _ => Err("live trading needs the binance or kite feed with the venue's keys".into()),
    }
}

/// How often a live Kite bot looks whether its broker rolled to another contract.
pub(crate) const ROLL_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// The contract the broker `reader` reads trades once it is no longer `from` (looked at
/// `every`): never while the broker keeps trading `from`, or once it is gone.
pub(crate) async fn rolled_away(
    reader: &tradegraph_broker::live::kite::KiteContractReader,
    from: &str,
    every: std::time::Duration,
) -> String {
    loop {
        tokio::time::sleep(every).await;
        match reader.tradingsymbol() {
            Some(now) if now != from => return now,
            Some(_) => {}
            None => std::future::pending::<()>().await,
        }
    }
}

/// Why a live Kite bot stopped when its broker rolled from `from` to `to`.
pub(crate) fn rolled_message(name: &str, from: &str, to: &str) -> String {
    format!(
        "the Kite contract rolled from {from} to {to} (the broker was flat): the bot stopped \
         because its feed streams {from}'s instrument token and it would decide on those prices \
         while trading {to}; start it again with `{name} = <{to}'s instrument token>` under \
         [feeds.kite.tokens] (the refusal at start names it)"
    )
}

/// Kite's exchange and trading symbol for `instrument`: an index's nearest-month future on NFO
/// (the broker picks and rolls the contract), an equity on its exchange.
fn kite_contract(instrument: &Instrument) -> (&'static str, String) {
    let symbol = match instrument.symbol.as_str() {
        "NIFTY50" => "NIFTY".to_owned(),
        other => other.to_owned(),
    };
    let exchange = match (instrument.exchange, instrument.segment) {
        (Exchange::Bse, Segment::Equity) => "BSE",
        (Exchange::Bse, _) => "BFO",
        (_, Segment::Equity) => "NSE",
        _ => "NFO",
    };
    (exchange, symbol)
}

/// A URL without its credentials or query.
fn redact_url(url: &str) -> String {
    tradegraph_store::url::redact(url)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
