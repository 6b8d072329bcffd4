//! Issue 12, item 9 (Kite): packets of tokens nobody subscribed to must not grow the
//! converter's memory, and must be reported without flooding the stream.

use super::super::{Converter, KitePacket, UnknownTokens};
use crate::{FeedNotice, MarketEvent};
use tradegraph_core::{Symbol, Timestamp};

const INFY: u32 = 408_065;
/// Distinct unknown tokens named in a notice each.
const NAMED: usize = UnknownTokens::NAMED;

fn ltp(token: u32, price: u32) -> KitePacket {
    let mut bytes = [0u8; 8];
    bytes[..4].copy_from_slice(&token.to_be_bytes());
    bytes[4..].copy_from_slice(&price.to_be_bytes());
    KitePacket::decode(&bytes).unwrap()
}

fn malformed(events: &[MarketEvent]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            MarketEvent::Notice {
                notice: FeedNotice::Malformed { origin, reason },
                ..
            } => Some((origin.clone(), reason.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn kite_converter_memory_is_bounded_for_unknown_tokens() {
    let mut c = Converter::new("kite", &[(INFY, Symbol::new("INFY"))]);
    let mut out = Vec::new();
    let rx = Timestamp::from_secs(1);
    let unknown = 10_000u32;
    // Every unknown token twice (NSE tokens other than INFY's 1594 << 8 | 1), the subscribed
    // one between.
    for round in 0..2 {
        for i in 0..unknown {
            c.convert(&ltp(((2_000 + i) << 8) | 1, 100), rx, &mut out);
            if i % 1_000 == 0 {
                c.convert(&ltp(INFY, 150_000 + round), rx, &mut out);
            }
        }
        assert_eq!(c.tokens_tracked(), 1, "only the subscribed token has state");
        assert_eq!(c.unknown().named().len(), NAMED, "a bounded set of names");
        assert_eq!(c.unknown().skipped(), u64::from(unknown * (round + 1)));
    }
    assert_eq!(NAMED, 16);

    // No market data for an unknown token: only the subscribed one's ticks.
    let ticks: Vec<_> = out.iter().filter_map(MarketEvent::symbol).collect();
    assert_eq!(ticks.len(), 20);
    assert!(ticks.iter().all(|s| s.as_str() == "INFY"), "{ticks:?}");

    let notices = malformed(&out);
    // One notice for each of the first NAMED unknown tokens, naming it.
    let named: Vec<_> = notices
        .iter()
        .filter(|(origin, _)| origin.starts_with("kite token "))
        .collect();
    assert_eq!(named.len(), NAMED);
    for (i, (origin, reason)) in named.iter().enumerate() {
        let token = ((2_000 + i as u32) << 8) | 1;
        assert_eq!(origin, &format!("kite token {token}"));
        assert!(reason.contains("not subscribed"), "{reason}");
    }
    // Then summaries, counting the packets of the tokens not named, each time the count
    // doubles: 1, 2, 4, ... 16384 of the 2 * (10000 - 16) = 19968.
    let summaries: Vec<_> = notices
        .iter()
        .filter(|(origin, _)| origin == "kite tokens")
        .map(|(_, reason)| reason.clone())
        .collect();
    assert_eq!(summaries.len(), 15, "{summaries:#?}");
    assert!(
        summaries[0].starts_with("1 packet of unsubscribed tokens skipped"),
        "{}",
        summaries[0]
    );
    assert!(
        summaries[14].starts_with("16384 packets of unsubscribed tokens skipped"),
        "{}",
        summaries[14]
    );
    assert_eq!(notices.len(), NAMED + 15, "nothing else: {notices:#?}");
}
