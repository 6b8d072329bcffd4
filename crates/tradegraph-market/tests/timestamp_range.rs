//! Issue 12, item 6: times outside years 0000-9999 cannot round-trip through RFC 3339, so the
//! feeds refuse them with a `Malformed` notice and the stream goes on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod replay_support;

use replay_support::{replay_all, TempFile};
use tradegraph_core::Timestamp;
use tradegraph_market::{FeedNotice, MarketEvent};

#[tokio::test]
async fn replay_csv_millis_outside_years_0_to_9999_are_notices() {
    let file = TempFile::with(
        "far.csv",
        "timestamp,price,volume\n\
         1704103200000,100,1\n\
         -9223372036854775808,1,1\n\
         253402300800000,1,1\n\
         1704103201000,101,1\n",
    );
    let (events, stats) = replay_all(file.path(), "X").await;
    let summary: Vec<String> = events
        .iter()
        .map(|e| match e {
            MarketEvent::Tick { tick, .. } => format!("tick {}", tick.price),
            MarketEvent::Notice {
                notice: FeedNotice::Malformed { origin, reason },
                ..
            } => {
                let line = origin.rsplit(':').next().unwrap();
                assert!(
                    reason.contains("is outside 0000-01-01T00:00:00Z"),
                    "{reason}"
                );
                format!("line {line}")
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(summary, ["tick 100", "line 3", "line 4", "tick 101"]);
    assert_eq!(stats.malformed(), 2);
}

#[cfg(feature = "binance")]
#[test]
fn binance_times_outside_years_0_to_9999_are_malformed() {
    use tradegraph_market::feed::binance::{Decoded, Decoder};
    let trade = |time: i64| {
        format!(
            r#"{{"stream":"btcusdt@trade","data":{{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"100","q":"1","T":{time},"m":true,"M":true}}}}"#
        )
    };
    let kline = |open: i64| {
        format!(
            r#"{{"stream":"btcusdt@kline_1m","data":{{"e":"kline","E":1,"s":"BTCUSDT","k":{{"t":{open},"T":1,"s":"BTCUSDT","i":"1m","f":1,"L":2,"o":"1","c":"1","h":"1","l":"1","v":"1","n":1,"x":false,"q":"1","V":"1","Q":"1","B":"0"}}}}}}"#
        )
    };
    let decoder = Decoder::new("BTCUSDT");
    for frame in [trade(i64::MIN), trade(253_402_300_800_000), kline(i64::MIN)] {
        let err = decoder
            .decode(&frame, Timestamp::EPOCH)
            .expect_err("out of range");
        assert!(
            err.to_string().contains("is outside 0000-01-01T00:00:00Z"),
            "{err}"
        );
    }
    let ok = decoder
        .decode(&trade(1_704_103_200_000), Timestamp::EPOCH)
        .unwrap();
    assert!(
        matches!(ok, Decoded::Event(MarketEvent::Trade { .. })),
        "{ok:?}"
    );
}
