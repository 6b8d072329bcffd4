//! Binance REST JSON: what `parse_exchange_info` and the error body (`ApiError`, then
//! `classify`) make of any text, against a model built from the text as plain JSON.
//!
//! Shared by the property test `tests/binance_venue_json_properties.rs` and the cargo-fuzz
//! target `fuzz/fuzz_targets/binance_venue_json.rs` (which includes this file by path). A
//! violated property panics with what was violated.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use serde_json::Value;
use tradegraph_broker::live::binance::{
    classify, parse_exchange_info, ApiError, Classified, SymbolRules,
};
use tradegraph_core::Decimal;

/// Runs every parser on `text`: the exchange rules of `symbol`, and the error body.
pub fn check(text: &str, symbol: &str) {
    check_exchange_info(text, symbol);
    check_api_error(text);
}

/// `parse_exchange_info(text, symbol)`: rules only for an object whose `symbols` list the
/// symbol (any case) trading, carrying its assets, order types, flags and filter numbers
/// exactly as written; otherwise an error that says what failed. Returns the rules, if any.
pub fn check_exchange_info(text: &str, symbol: &str) -> Option<SymbolRules> {
    let parsed = parse_exchange_info(text, symbol);
    let rules = match parsed {
        Ok(rules) => rules,
        Err(e) => {
            assert!(
                e.starts_with("exchangeInfo") || e.starts_with(&format!("symbol {symbol} ")),
                "an error that does not say what failed: {e}"
            );
            if let Some(rest) = e.strip_prefix("exchangeInfo filter ") {
                let kind = rest.split(' ').next().unwrap_or("");
                assert!(
                    !kind.is_empty() && text.contains(kind),
                    "the error names a filter the answer does not have: {e}"
                );
            }
            return None;
        }
    };
    // serde reads duplicate keys differently from `Value` (it refuses them): only text that
    // plain JSON reads has a model.
    let Ok(model) = serde_json::from_str::<Value>(text) else {
        return Some(rules);
    };
    let symbols = model
        .get("symbols")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("rules from JSON without a `symbols` list: {text}"));
    let listed = symbols
        .iter()
        .find(|s| {
            s.get("symbol")
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case(symbol))
        })
        .unwrap_or_else(|| panic!("rules for {symbol}, which the answer does not list: {text}"));
    let field = |name: &str| listed.get(name).and_then(Value::as_str);
    assert_eq!(Some(rules.symbol.as_str()), field("symbol"), "{text}");
    assert_eq!(
        Some(rules.base_asset.as_str()),
        field("baseAsset"),
        "{text}"
    );
    assert_eq!(
        Some(rules.quote_asset.as_str()),
        field("quoteAsset"),
        "{text}"
    );
    assert!(
        matches!(field("status"), None | Some("" | "TRADING")),
        "rules for a symbol that is not trading: {text}"
    );
    let flag = |name: &str| listed.get(name).and_then(Value::as_bool).unwrap_or(false);
    assert_eq!(rules.oco_allowed, flag("ocoAllowed"), "{text}");
    assert_eq!(rules.trailing_allowed, flag("allowTrailingStop"), "{text}");
    let types: Vec<String> = listed
        .get("orderTypes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(rules.order_types, types, "{text}");
    check_filters(&rules, listed, text);
    Some(rules)
}

/// Each filter the rules carry is the symbol's last filter of that kind (NOTIONAL over the
/// first MIN_NOTIONAL), its numbers exactly as written.
fn check_filters(rules: &SymbolRules, listed: &Value, text: &str) {
    let filters: Vec<&Value> = listed
        .get("filters")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let of_kind = |kind: &str| -> Vec<&Value> {
        filters
            .iter()
            .copied()
            .filter(|f| f.get("filterType").and_then(Value::as_str) == Some(kind))
            .collect()
    };
    let dec = |f: &Value, name: &str| -> Decimal {
        let text = f.get(name).and_then(Value::as_str).unwrap();
        Decimal::from_str_exact(text).unwrap()
    };
    let last = |kind: &str| of_kind(kind).last().copied();
    match (rules.price, last("PRICE_FILTER")) {
        (None, None) => {}
        (Some(p), Some(f)) => assert_eq!(
            (p.min, p.max, p.tick),
            (dec(f, "minPrice"), dec(f, "maxPrice"), dec(f, "tickSize")),
            "{text}"
        ),
        (p, f) => panic!("PRICE_FILTER {p:?} for the listed {f:?}: {text}"),
    }
    for (lot, kind) in [
        (rules.lot, "LOT_SIZE"),
        (rules.market_lot, "MARKET_LOT_SIZE"),
    ] {
        match (lot, last(kind)) {
            (None, None) => {}
            (Some(l), Some(f)) => assert_eq!(
                (l.min, l.max, l.step),
                (dec(f, "minQty"), dec(f, "maxQty"), dec(f, "stepSize")),
                "{kind}: {text}"
            ),
            (l, f) => panic!("{kind} {l:?} for the listed {f:?}: {text}"),
        }
    }
    let notional = last("NOTIONAL").map(|f| ("NOTIONAL", f)).or_else(|| {
        of_kind("MIN_NOTIONAL")
            .first()
            .map(|f| ("MIN_NOTIONAL", *f))
    });
    match (rules.notional, notional) {
        (None, None) => {}
        (Some(n), Some((name, f))) => {
            assert_eq!(n.name, name, "{text}");
            assert_eq!(n.min, dec(f, "minNotional"), "{text}");
            let max = (name == "NOTIONAL").then(|| dec(f, "maxNotional"));
            assert_eq!(n.max, max, "{text}");
        }
        (n, f) => panic!("notional {n:?} for the listed {f:?}: {text}"),
    }
    match (rules.trailing_delta, last("TRAILING_DELTA")) {
        (None, None) => {}
        (Some(t), Some(f)) => {
            let bips = |name: &str| f.get(name).and_then(Value::as_u64).unwrap();
            assert_eq!(
                [t.min_above, t.max_above, t.min_below, t.max_below].map(u64::from),
                [
                    bips("minTrailingAboveDelta"),
                    bips("maxTrailingAboveDelta"),
                    bips("minTrailingBelowDelta"),
                    bips("maxTrailingBelowDelta")
                ],
                "{text}"
            );
        }
        (t, f) => panic!("TRAILING_DELTA {t:?} for the listed {f:?}: {text}"),
    }
}

/// An error body: read only from an object with an integer `code` (and a string `msg`,
/// empty when absent), as written; its classification keeps Binance's words.
pub fn check_api_error(text: &str) -> Option<ApiError> {
    let error = serde_json::from_str::<ApiError>(text).ok()?;
    if let Ok(model) = serde_json::from_str::<Value>(text) {
        let object = model.as_object().unwrap_or_else(|| {
            panic!("an error body ({error:?}) from JSON that is not an object: {text}")
        });
        assert_eq!(
            object.get("code").and_then(Value::as_i64),
            Some(error.code),
            "{text}"
        );
        let msg = object.get("msg").and_then(Value::as_str).unwrap_or("");
        assert_eq!(error.msg, msg, "{text}");
    }
    for status in [400u16, 401, 403, 418, 429, 500, 503] {
        match classify(status, error.code, &error.msg, None) {
            Classified::ClockSkew => assert_eq!(error.code, -1021, "{text}"),
            Classified::Duplicate => assert!(
                error.msg.to_ascii_lowercase().contains("duplicate order"),
                "a duplicate without Binance saying so: {text}"
            ),
            Classified::Reason(reason) => {
                let shown = reason.to_string();
                assert!(!shown.is_empty(), "a reason that says nothing: {text}");
            }
        }
    }
    Some(error)
}
