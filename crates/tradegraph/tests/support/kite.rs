//! Kite's ticker on the wire: the credentials of the handshake and binary packets in full mode
//! (big-endian; prices in paise; see `tradegraph-market`'s `tests/fixtures/kite/LAYOUT.md`).

use tokio_tungstenite::tungstenite::Message;

/// `KITE_API_KEY` of the tests.
pub const KEY: &str = "kite_test_key";
/// `KITE_ACCESS_TOKEN` of the tests: it must never be shown.
pub const ACCESS: &str = "s3cret-access-token";

/// Whether a handshake's request target carries the tests' credentials, as Kite checks them.
pub fn credentials_ok(target: &str) -> bool {
    target == format!("/?api_key={KEY}&access_token={ACCESS}")
}

/// One message of one packet (`[count][length][packet]`).
fn message(packet: &[u8]) -> Message {
    let mut message = 1u16.to_be_bytes().to_vec();
    message.extend_from_slice(&u16::try_from(packet.len()).unwrap().to_be_bytes());
    message.extend_from_slice(packet);
    Message::binary(message)
}

/// One Kite message of one index packet in full mode (32 bytes): token, last price, high,
/// low, open, close (in paise), change, exchange time (seconds).
pub fn index_full(token: u32, paise: u32, secs: u32) -> Message {
    let mut packet = vec![0u8; 32];
    let fields = [
        token,
        paise,
        paise + 2_000,
        paise - 2_000,
        paise - 500,
        paise - 1_000,
        0,
        secs,
    ];
    for (i, v) in fields.iter().enumerate() {
        packet[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    message(&packet)
}

/// A Kite message of one packet in full mode with depth (184 bytes, a tradable instrument):
/// last price, cumulative volume and the best bid and ask 5 paise either side, exchange time.
pub fn full(token: u32, paise: u32, volume: u32, secs: u32) -> Message {
    let mut packet = vec![0u8; 184];
    for (at, v) in [
        (0, token),
        (4, paise),
        (8, 75),
        (12, paise),
        (16, volume),
        (20, 30_000),
        (24, 28_000),
        (28, paise - 500),
        (32, paise + 2_000),
        (36, paise - 2_000),
        (40, paise - 1_000),
        (44, secs),
        (48, 1_000_000),
        (52, 1_100_000),
        (56, 900_000),
        (60, secs),
    ] {
        packet[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }
    for (at, price) in [(64, paise - 5), (124, paise + 5)] {
        packet[at..at + 4].copy_from_slice(&1_500u32.to_be_bytes());
        packet[at + 4..at + 8].copy_from_slice(&price.to_be_bytes());
        packet[at + 8..at + 10].copy_from_slice(&12u16.to_be_bytes());
    }
    message(&packet)
}
