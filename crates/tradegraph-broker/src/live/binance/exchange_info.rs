//! `GET /api/v3/exchangeInfo?symbol=`: the symbol's rules, parsed exactly.

use super::filters::{
    LotFilter, NotionalFilter, PercentPriceBySide, PriceFilter, SymbolRules, TrailingDeltaFilter,
};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;

/// The answer: a JSON object only, as its symbol entries.
#[derive(Deserialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
struct Info {
    symbols: Vec<SymbolInfo>,
}

#[derive(Deserialize)]
struct InfoFields {
    symbols: Vec<SymbolInfo>,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for Info {
    type Error = serde_json::Error;
    fn try_from(map: serde_json::Map<String, serde_json::Value>) -> Result<Self, Self::Error> {
        let fields: InfoFields = serde_json::from_value(serde_json::Value::Object(map))?;
        Ok(Self {
            symbols: fields.symbols,
        })
    }
}

/// A symbol entry: a JSON object only (serde would read a struct from an array of its fields,
/// so `["BTCUSDT", ...]` must not pass for one).
#[derive(Deserialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
struct SymbolInfo(SymbolFields);

impl TryFrom<serde_json::Map<String, serde_json::Value>> for SymbolInfo {
    type Error = serde_json::Error;
    fn try_from(map: serde_json::Map<String, serde_json::Value>) -> Result<Self, Self::Error> {
        serde_json::from_value(serde_json::Value::Object(map)).map(Self)
    }
}

impl std::ops::Deref for SymbolInfo {
    type Target = SymbolFields;
    fn deref(&self) -> &SymbolFields {
        &self.0
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SymbolFields {
    symbol: String,
    #[serde(default)]
    status: String,
    base_asset: String,
    quote_asset: String,
    #[serde(default)]
    order_types: Vec<String>,
    #[serde(default)]
    oco_allowed: bool,
    #[serde(default)]
    allow_trailing_stop: bool,
    #[serde(default)]
    filters: Vec<HashMap<String, serde_json::Value>>,
}

/// Parses an `exchangeInfo` answer into the rules of `symbol`. Errors name what is missing or
/// malformed.
///
/// ```
/// use tradegraph_broker::live::binance::parse_exchange_info;
/// let body = r#"{"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC",
///   "quoteAsset":"USDT","orderTypes":["LIMIT","MARKET"],"ocoAllowed":true,
///   "filters":[{"filterType":"LOT_SIZE","minQty":"0.00001000","maxQty":"9000.00000000",
///   "stepSize":"0.00001000"}]}]}"#;
/// let rules = parse_exchange_info(body, "BTCUSDT")?;
/// assert_eq!(rules.base_asset, "BTC");
/// assert_eq!(rules.lot.unwrap().step.to_string(), "0.00001000");
/// # Ok::<(), String>(())
/// ```
pub fn parse_exchange_info(body: &str, symbol: &str) -> Result<SymbolRules, String> {
    let info: Info = serde_json::from_str(body)
        .map_err(|e| format!("exchangeInfo is not as documented: {e}"))?;
    let s = info
        .symbols
        .into_iter()
        .find(|s| s.symbol.eq_ignore_ascii_case(symbol))
        .ok_or_else(|| format!("exchangeInfo does not list symbol {symbol}"))?;
    let s = s.0;
    if !s.status.is_empty() && s.status != "TRADING" {
        return Err(format!(
            "symbol {symbol} has status {} on the venue, not TRADING",
            s.status
        ));
    }
    let mut rules = SymbolRules {
        symbol: s.symbol,
        base_asset: s.base_asset,
        quote_asset: s.quote_asset,
        order_types: s.order_types,
        oco_allowed: s.oco_allowed,
        trailing_allowed: s.allow_trailing_stop,
        ..SymbolRules::default()
    };
    for f in &s.filters {
        let kind = f.get("filterType").and_then(|v| v.as_str()).unwrap_or("");
        match kind {
            "PRICE_FILTER" => {
                rules.price = Some(PriceFilter {
                    min: dec(f, kind, "minPrice")?,
                    max: dec(f, kind, "maxPrice")?,
                    tick: dec(f, kind, "tickSize")?,
                })
            }
            "LOT_SIZE" | "MARKET_LOT_SIZE" => {
                let lot = LotFilter {
                    min: dec(f, kind, "minQty")?,
                    max: dec(f, kind, "maxQty")?,
                    step: dec(f, kind, "stepSize")?,
                };
                if kind == "LOT_SIZE" {
                    rules.lot = Some(lot);
                } else {
                    rules.market_lot = Some(lot);
                }
            }
            "NOTIONAL" => {
                rules.notional = Some(NotionalFilter {
                    min: dec(f, kind, "minNotional")?,
                    max: Some(dec(f, kind, "maxNotional")?),
                    min_to_market: flag(f, "applyMinToMarket"),
                    max_to_market: flag(f, "applyMaxToMarket"),
                    name: "NOTIONAL",
                })
            }
            // The older filter; NOTIONAL supersedes it when both are listed.
            "MIN_NOTIONAL" if rules.notional.is_none() => {
                rules.notional = Some(NotionalFilter {
                    min: dec(f, kind, "minNotional")?,
                    max: None,
                    min_to_market: flag(f, "applyToMarket"),
                    max_to_market: false,
                    name: "MIN_NOTIONAL",
                })
            }
            "PERCENT_PRICE_BY_SIDE" => {
                rules.percent_price = Some(PercentPriceBySide {
                    bid_up: dec(f, kind, "bidMultiplierUp")?,
                    bid_down: dec(f, kind, "bidMultiplierDown")?,
                    ask_up: dec(f, kind, "askMultiplierUp")?,
                    ask_down: dec(f, kind, "askMultiplierDown")?,
                })
            }
            "TRAILING_DELTA" => {
                rules.trailing_delta = Some(TrailingDeltaFilter {
                    min_above: bips(f, kind, "minTrailingAboveDelta")?,
                    max_above: bips(f, kind, "maxTrailingAboveDelta")?,
                    min_below: bips(f, kind, "minTrailingBelowDelta")?,
                    max_below: bips(f, kind, "maxTrailingBelowDelta")?,
                })
            }
            _ => {}
        }
    }
    if rules.notional.is_some_and(|n| n.name == "MIN_NOTIONAL") {
        // A NOTIONAL listed after MIN_NOTIONAL replaces it.
        if let Some(f) = s
            .filters
            .iter()
            .find(|f| f.get("filterType").and_then(|v| v.as_str()) == Some("NOTIONAL"))
        {
            rules.notional = Some(NotionalFilter {
                min: dec(f, "NOTIONAL", "minNotional")?,
                max: Some(dec(f, "NOTIONAL", "maxNotional")?),
                min_to_market: flag(f, "applyMinToMarket"),
                max_to_market: flag(f, "applyMaxToMarket"),
                name: "NOTIONAL",
            });
        }
    }
    Ok(rules)
}

fn dec(
    f: &HashMap<String, serde_json::Value>,
    filter: &str,
    field: &str,
) -> Result<Decimal, String> {
    let text = f
        .get(field)
        .and_then(|v| v.as_str())
        .ok_or_else(|| format!("exchangeInfo filter {filter} has no `{field}` string"))?;
    Decimal::from_str_exact(text)
        .map_err(|e| format!("exchangeInfo filter {filter} `{field}` = `{text}`: {e}"))
}

fn bips(f: &HashMap<String, serde_json::Value>, filter: &str, field: &str) -> Result<u32, String> {
    f.get(field)
        .and_then(serde_json::Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| format!("exchangeInfo filter {filter} has no `{field}` number of BIPS"))
}

fn flag(f: &HashMap<String, serde_json::Value>, field: &str) -> bool {
    f.get(field).and_then(|v| v.as_bool()).unwrap_or(false)
}
