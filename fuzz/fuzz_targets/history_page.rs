//! Any bytes as a page of Binance klines and of Kite historical candles (`tradegraph data
//! download`): bars, or a reason naming the row or what the page is; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradegraph_market::history::{parse_kite_candles, parse_klines};

fuzz_target!(|data: &[u8]| {
    for parsed in [parse_klines(data), parse_kite_candles(data)] {
        match parsed {
            Ok(bars) => {
                for bar in &bars {
                    let _ = bar.open_time.to_string();
                }
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
});
