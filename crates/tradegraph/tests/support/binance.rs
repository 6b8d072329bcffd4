//! Binance trade frames for the local feed servers of the `tradegraph run` tests.

use tokio_tungstenite::tungstenite::Message;

/// One trade frame as Binance sends it on `btcusdt@trade`.
pub fn trade(id: u64, at_ms: i64, price: &str) -> Message {
    Message::text(format!(
        r#"{{"stream":"btcusdt@trade","data":{{"e":"trade","E":{},"s":"BTCUSDT","t":{id},"p":"{price}","q":"0.01200000","T":{at_ms},"m":{},"M":true}}}}"#,
        at_ms + 1,
        id.is_multiple_of(2)
    ))
}

/// `minutes` minutes of trades from `start_ms`, four a minute, in a narrow band around 95,000
/// (no stop or target nearby, no circuit breaker).
pub fn script(start_ms: i64, minutes: usize) -> Vec<Vec<Message>> {
    let mut id = 1_000;
    (0..minutes)
        .map(|m| {
            (0..4)
                .map(|k| {
                    id += 1;
                    let at = start_ms + (m as i64) * 60_000 + k * 15_000;
                    let cents = 9_500_000 + ((m * 4 + k as usize) % 9) as i64 * 350;
                    trade(id, at, &format!("{}.{:02}", cents / 100, cents % 100))
                })
                .collect()
        })
        .collect()
}
