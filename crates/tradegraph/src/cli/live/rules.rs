//! The settings against the venue's own rules, once connected: the instrument's lot and tick
//! size must be on the venue's grid, and a Kite feed must stream the contract the broker
//! trades.

use rust_decimal::Decimal;
use std::error::Error;
use std::time::Duration;
use tradegraph_broker::live::binance::SymbolRules;
use tradegraph_broker::live::kite::KiteRules;
use tradegraph_core::redact::Secret;
use tradegraph_core::{Instrument, Symbol};
use tradegraph_market::feed::kite::parse_instruments;

/// Live settings the venue's own rules refuse, found once connected: a refusal of the
/// settings (exit 2, as the live refusals found before connecting), not a bot that stopped on
/// an error (exit 3, which a supervisor restarts, logging in to the venue again each time).
#[derive(Debug)]
pub(in crate::cli) struct LiveRefused(String);

impl std::fmt::Display for LiveRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for LiveRefused {}

/// How long reading Kite's instruments dump may take.
const DUMP_TIMEOUT: Duration = Duration::from_secs(60);

/// Checks the instrument's `lot_size` and `tick_size` against the venue's step and tick: each
/// must be a positive whole multiple of the venue's (an order on the settings' grid is then on
/// the venue's).
///
/// # Errors
/// A refusal naming the setting, its value and the venue's.
fn check_grid(
    instrument: &Instrument,
    venue: &str,
    step: Option<Decimal>,
    tick: Option<Decimal>,
) -> Result<(), LiveRefused> {
    let mut no = Vec::new();
    let on = |mine: Decimal, theirs: Option<Decimal>| match theirs {
        Some(t) if t > Decimal::ZERO => mine > Decimal::ZERO && (mine % t).is_zero(),
        // The venue sets no grid: any positive value.
        _ => mine > Decimal::ZERO,
    };
    let shown =
        |d: Option<Decimal>| d.map_or_else(|| "none".to_owned(), |d| d.normalize().to_string());
    if !on(instrument.lot_size, step) {
        no.push(format!(
            "the instrument's `lot_size` is {} but {venue}'s quantity step for {} is {}: set \
             `lot_size` to it (or a multiple of it)",
            instrument.lot_size.normalize(),
            instrument.symbol,
            shown(step)
        ));
    }
    if !on(instrument.tick_size, tick) {
        no.push(format!(
            "the instrument's `tick_size` is {} but {venue}'s price tick for {} is {}: set \
             `tick_size` to it (or a multiple of it)",
            instrument.tick_size.normalize(),
            instrument.symbol,
            shown(tick)
        ));
    }
    if no.is_empty() {
        Ok(())
    } else {
        Err(LiveRefused(format!(
            "live trading refused: {}",
            no.join("; ")
        )))
    }
}

/// The instrument's lot and tick size against Binance's `LOT_SIZE` and `PRICE_FILTER`.
pub(super) fn check_binance(
    instrument: &Instrument,
    rules: &SymbolRules,
) -> Result<(), LiveRefused> {
    check_grid(
        instrument,
        "Binance",
        rules.lot.map(|l| l.step),
        rules.price.map(|p| p.tick),
    )
}

/// The instrument's lot and tick size against the contract's in Kite's instruments dump.
pub(super) fn check_kite(instrument: &Instrument, rules: KiteRules) -> Result<(), LiveRefused> {
    check_grid(
        instrument,
        "Kite",
        Some(Decimal::from(rules.lot_size)),
        Some(rules.tick_size),
    )
}

/// The market stream must be the same Binance environment as the REST endpoint orders go to:
/// a bot deciding on the testnet's prices and trading production's (or the reverse) is
/// refused, naming the setting.
pub(super) fn binance_environments(ws_url: &str, api_url: &str) -> Option<String> {
    use crate::config::binance_environment;
    let (stream, orders) = (binance_environment(ws_url)?, binance_environment(api_url)?);
    (stream != orders).then(|| {
        format!(
            "BINANCE_WS_URL (`[feeds.binance] ws_url`) is {} ({stream}'s market streams) but \
             BINANCE_API_URL is {} ({orders}): the bot would decide on one environment's prices \
             and trade in the other; set BINANCE_WS_URL to {orders}'s streams ({}), or leave it \
             unset",
            tradegraph_store::url::redact(ws_url),
            tradegraph_store::url::redact(api_url),
            if orders == "testnet" {
                tradegraph_market::feed::binance::BinanceConfig::TESTNET_URL
            } else {
                tradegraph_market::feed::binance::BinanceConfig::DEFAULT_URL
            }
        )
    })
}

/// The Kite feed must stream the contract the broker trades: a bot deciding on one contract's
/// prices and trading another's is refused, naming both.
pub(super) fn check_kite_feed(
    name: &str,
    feed: &[(u32, Symbol)],
    contract: &str,
    traded: u32,
) -> Result<(), LiveRefused> {
    match feed.iter().map(|(t, _)| *t).find(|t| *t != traded) {
        None if !feed.is_empty() => Ok(()),
        streamed => Err(LiveRefused(format!(
            "live trading refused: the Kite feed streams instrument token {} but the broker \
             trades {contract}, instrument token {traded}: set `{name} = {traded}` under \
             [feeds.kite.tokens] so the bot decides on the prices of what it trades",
            streamed.map_or_else(|| "none".to_owned(), |t| t.to_string()),
        ))),
    }
}

/// Where Kite's instruments dump is read, to find the instrument token of the contract the
/// broker resolved.
pub(super) struct KiteDump {
    pub(super) api_url: String,
    pub(super) api_key: Secret,
    pub(super) access_token: Secret,
    pub(super) exchange: String,
}

impl KiteDump {
    /// The instrument token of `tradingsymbol` in the exchange's dump.
    pub(super) async fn instrument_token(
        &self,
        tradingsymbol: &str,
    ) -> Result<u32, Box<dyn Error>> {
        let shared = tradegraph_market::feed::tls::tls_config("Kite instruments")?;
        let mut tls = (*shared).clone();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(DUMP_TIMEOUT)
            .build()
            .map_err(|e| format!("Kite instruments: the HTTP client cannot be built: {e}"))?;
        let url = format!(
            "{}/instruments/{}",
            self.api_url.trim_end_matches('/'),
            self.exchange
        );
        let shown = tradegraph_store::url::redact(&url);
        let authorization = format!(
            "token {}:{}",
            self.api_key.expose(),
            self.access_token.expose()
        );
        let response = client
            .get(&url)
            .header("X-Kite-Version", "3")
            .header(reqwest::header::AUTHORIZATION, authorization)
            .send()
            .await
            // reqwest's errors name the URL, never the headers.
            .map_err(|e| format!("GET {shown}: {e}"))?;
        let code = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| format!("GET {shown}: HTTP {code}: {e}"))?;
        if !code.is_success() {
            return Err(format!(
                "GET {shown}: HTTP {code}: Kite refused to list the instruments (is the access \
                 token today's?)"
            )
            .into());
        }
        let all = parse_instruments(&text).map_err(|e| format!("GET {shown}: {e}"))?;
        all.iter()
            .find(|i| i.tradingsymbol == tradingsymbol)
            .map(|i| i.instrument_token)
            .ok_or_else(|| {
                format!(
                    "{tradingsymbol} is not in Kite's {} instruments",
                    self.exchange
                )
                .into()
            })
    }
}
