//! Any bytes given to the replay parsers: the first line as a CSV header (when it is one),
//! every line as JSONL and as candle and tick rows. An event or a reason, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradegraph_core::Timeframe;
use tradegraph_market::feed::replay::LineParser;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parsers = vec![
        LineParser::jsonl(),
        LineParser::csv(
            "timestamp,open,high,low,close,volume,timeframe",
            "X".into(),
            Timeframe::M1,
        )
        .unwrap_or_else(|_| LineParser::jsonl()),
        LineParser::csv("timestamp,price,volume,bid,ask", "X".into(), Timeframe::M1)
            .unwrap_or_else(|_| LineParser::jsonl()),
    ];
    let mut lines = text.lines();
    if let Some(header) = lines.next() {
        if let Ok(parser) = LineParser::csv(header, "X".into(), Timeframe::D1) {
            parsers.push(parser);
        }
    }
    for line in text.lines() {
        for parser in &parsers {
            match parser.parse(line) {
                Ok(event) => {
                    let _ = event.known_at();
                }
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
    }
});
