//! Any bytes given to the Kite frame parser as one binary WebSocket message: packets or
//! reported problems, never a panic, and never more items than declared packets plus one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradegraph_market::feed::kite::{split, Message};

fuzz_target!(|data: &[u8]| {
    if let Ok(Message::Packets(packets)) = split(data) {
        let declared = usize::from(packets.declared());
        let mut items = 0usize;
        for item in packets {
            items += 1;
            match item {
                Ok(packet) => {
                    let _ = packet.change();
                }
                Err(e) => {
                    let _ = e.to_string();
                }
            }
        }
        assert!(items <= declared + 1);
    }
});
