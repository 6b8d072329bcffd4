//! The Binance decoder never panics, and decodes every well-formed trade exactly.
#![cfg(feature = "binance")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use rust_decimal::Decimal;
use tradegraph_core::{Side, Timestamp};
use tradegraph_market::feed::binance::{Decoded, Decoder};
use tradegraph_market::{MarketError, MarketEvent};

const TRADE: &str = r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":7,"p":"93512.10","q":"0.5","T":2,"m":true,"M":true}}"#;
const KLINE: &str = r#"{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":0,"T":59999,"s":"BTCUSDT","i":"1m","f":1,"L":2,"o":"1.0","c":"2.0","h":"2.5","l":"0.5","v":"10","n":2,"x":false,"q":"1","V":"1","Q":"1","B":"0"}}}"#;
const DEPTH: &str = r#"{"stream":"btcusdt@depth5@100ms","data":{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}}"#;

fn decode(text: &str) -> Result<Decoded, MarketError> {
    Decoder::new("BTCUSDT").decode(text, Timestamp::EPOCH)
}

/// Errors are `Malformed` and say something.
fn check(text: &str) {
    match decode(text) {
        Ok(_) => {}
        Err(MarketError::Malformed { reason, .. }) => assert!(!reason.is_empty()),
        Err(other) => panic!("unexpected error kind: {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn json_like_strings_never_panic(text in r#"[{}\[\]",:0-9a-zA-Z@_.\- ]{0,120}"#) {
        check(&text);
    }

    #[test]
    fn damaged_frames_never_panic(
        frame in prop::sample::select(vec![TRADE, KLINE, DEPTH]),
        cut in 0usize..200,
        at in 0usize..200,
        insert in r#"[{}\[\]",:0-9a-z\-]{0,4}"#,
    ) {
        let cut = cut.min(frame.len());
        check(&frame[..cut]);
        let at = at.min(frame.len());
        check(&format!("{}{insert}{}", &frame[..at], &frame[at..]));
    }

    #[test]
    fn well_formed_trades_decode_exactly(
        id in any::<u64>(),
        // Up to the largest plausible price (tradegraph_core::MAX_PRICE, 10^12) at each scale.
        (mantissa, scale) in (0u32..=8).prop_flat_map(|scale| (1i64..=10i64.checked_pow(12 + scale).unwrap_or(i64::MAX), Just(scale))),
        qty in 0i64..1_000_000_000,
        time in 0i64..4_102_444_800_000,
        maker in any::<bool>(),
    ) {
        let price = Decimal::new(mantissa, scale);
        let quantity = Decimal::new(qty, 8);
        let frame = format!(
            r#"{{"stream":"btcusdt@trade","data":{{"e":"trade","E":{time},"s":"BTCUSDT","t":{id},"p":"{price}","q":"{quantity}","T":{time},"m":{maker},"M":true}}}}"#
        );
        let Decoded::Event(MarketEvent::Trade { symbol, trade }) = decode(&frame).unwrap() else {
            panic!("not a trade")
        };
        prop_assert_eq!(symbol.as_str(), "BTCUSDT");
        prop_assert_eq!(trade.trade_id, id);
        prop_assert_eq!(trade.price, price);
        prop_assert_eq!(trade.price.to_string(), price.to_string());
        prop_assert_eq!(trade.quantity, quantity);
        prop_assert_eq!(trade.ts.millis(), time);
        prop_assert_eq!(trade.aggressor, if maker { Side::Sell } else { Side::Buy });
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        r#"{{"stream":"btcusdt@trade","data":{}"#,
        "[".repeat(100_000)
    );
    check(&deep);
    let deep_raw = format!(r#"{{"data":{},"stream":"x"}}"#, "[".repeat(100_000));
    check(&deep_raw);
}
