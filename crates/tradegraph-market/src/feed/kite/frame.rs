//! Splitting one binary WebSocket message into packets.
//!
//! A message is a 2-byte packet count, then per packet a 2-byte length and the packet; a
//! 1-byte message is Kite's heartbeat. Where kiteconnect silently drops or loses packets on bad
//! input, this reports each problem (with the packet's number) and keeps every packet that can
//! still be read.

use super::KitePacket;

/// What a binary message is.
#[derive(Debug, Clone)]
pub enum Message<'a> {
    /// The 1-byte keep-alive.
    Heartbeat,
    /// Packets (or problems), in order.
    Packets(Packets<'a>),
}

/// Why (part of) a message could not be used. Packet numbers count from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A binary message with no bytes.
    #[error("empty binary message")]
    Empty,
    /// A message declaring zero packets (any bytes after the count are ignored).
    #[error("message declares 0 packets ({len} bytes)")]
    NoPackets {
        /// The message's length.
        len: usize,
    },
    /// The message ends where a packet's 2-byte length should be.
    #[error(
        "packet {packet} of {count}: message ends at byte {len} before the packet's 2-byte length"
    )]
    MissingLength {
        /// The packet's number.
        packet: u16,
        /// How many packets the message declares.
        count: u16,
        /// The message's length.
        len: usize,
    },
    /// A packet's length runs past the end of the message.
    #[error("packet {packet} of {count}: length {declared} but only {available} bytes remain")]
    Truncated {
        /// The packet's number.
        packet: u16,
        /// How many packets the message declares.
        count: u16,
        /// Its declared length.
        declared: usize,
        /// Bytes left in the message.
        available: usize,
    },
    /// A packet whose length is not one of Kite's layouts; it is skipped, the rest are read.
    #[error("packet {packet} of {count}: {len} bytes is not a Kite packet length (8, 28, 32, 44 or 184)")]
    UnknownLength {
        /// The packet's number.
        packet: u16,
        /// How many packets the message declares.
        count: u16,
        /// Its length.
        len: usize,
    },
    /// Bytes after the declared packets (the packets before them are used).
    #[error("{extra} bytes after the {count} declared packets")]
    Trailing {
        /// How many packets the message declares.
        count: u16,
        /// Bytes left over.
        extra: usize,
    },
}

impl FrameError {
    /// The packet number the problem is in, if it is in one.
    pub fn packet(&self) -> Option<u16> {
        match self {
            Self::MissingLength { packet, .. }
            | Self::Truncated { packet, .. }
            | Self::UnknownLength { packet, .. } => Some(*packet),
            Self::Empty | Self::NoPackets { .. } | Self::Trailing { .. } => None,
        }
    }
}

/// Reads a binary message.
///
/// ```
/// use tradegraph_market::feed::kite::{split, Message};
/// let bytes = [0, 1, 0, 8, 0x00, 0x06, 0x3a, 0x01, 0x00, 0x02, 0x48, 0x33];
/// let Ok(Message::Packets(packets)) = split(&bytes) else { panic!() };
/// let prices: Vec<String> = packets.flatten().map(|p| p.last_price.to_string()).collect();
/// assert_eq!(prices, ["1495.55"]);
/// assert!(matches!(split(&[0]), Ok(Message::Heartbeat)));
/// ```
///
/// # Errors
///
/// [`FrameError::Empty`] for a message with no bytes.
pub fn split(message: &[u8]) -> Result<Message<'_>, FrameError> {
    match message {
        [] => Err(FrameError::Empty),
        [_] => Ok(Message::Heartbeat),
        [hi, lo, rest @ ..] => Ok(Message::Packets(Packets {
            rest,
            len: message.len(),
            count: u16::from_be_bytes([*hi, *lo]),
            remaining: u16::from_be_bytes([*hi, *lo]),
            done: false,
        })),
    }
}

/// The packets of a message: each one decoded, or the reason it could not be. After a
/// [`MissingLength`](FrameError::MissingLength) or [`Truncated`](FrameError::Truncated) the
/// iterator ends, since the packets after it cannot be found.
#[derive(Debug, Clone)]
pub struct Packets<'a> {
    rest: &'a [u8],
    len: usize,
    count: u16,
    remaining: u16,
    done: bool,
}

impl Packets<'_> {
    /// How many packets the message declares.
    pub fn declared(&self) -> u16 {
        self.count
    }
}

impl Iterator for Packets<'_> {
    type Item = Result<KitePacket, FrameError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let count = self.count;
        if count == 0 {
            self.done = true;
            return Some(Err(FrameError::NoPackets { len: self.len }));
        }
        if self.remaining == 0 {
            self.done = true;
            return (!self.rest.is_empty()).then_some(Err(FrameError::Trailing {
                count,
                extra: self.rest.len(),
            }));
        }
        let packet = count - self.remaining + 1;
        self.remaining -= 1;
        let [hi, lo, body @ ..] = self.rest else {
            self.done = true;
            return Some(Err(FrameError::MissingLength {
                packet,
                count,
                len: self.len,
            }));
        };
        let declared = usize::from(u16::from_be_bytes([*hi, *lo]));
        let Some((bytes, rest)) = body.split_at_checked(declared) else {
            self.done = true;
            return Some(Err(FrameError::Truncated {
                packet,
                count,
                declared,
                available: body.len(),
            }));
        };
        self.rest = rest;
        Some(KitePacket::decode(bytes).ok_or(FrameError::UnknownLength {
            packet,
            count,
            len: declared,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(bytes: &[u8]) -> Vec<Result<u32, FrameError>> {
        match split(bytes) {
            Ok(Message::Packets(p)) => p.map(|r| r.map(|p| p.token)).collect(),
            Ok(Message::Heartbeat) => vec![],
            Err(e) => vec![Err(e)],
        }
    }

    #[test]
    fn bad_packets_are_reported_and_good_ones_kept() {
        let ltp = [0, 8, 0, 0, 0, 1, 0, 0, 0, 5];
        let odd = [0, 2, 0xaa, 0xbb];
        let bytes: Vec<u8> = [&[0, 3][..], &ltp, &odd, &ltp, &[9]].concat();
        let got = collect(&bytes);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], Ok(1));
        assert!(matches!(
            got[1],
            Err(FrameError::UnknownLength {
                packet: 2,
                len: 2,
                ..
            })
        ));
        assert_eq!(got[2], Ok(1));
        assert_eq!(got[3], Err(FrameError::Trailing { count: 3, extra: 1 }));
    }

    #[test]
    fn structural_errors_end_the_message() {
        let got = collect(&[0, 2, 0, 8, 0, 0, 0, 1, 0, 0, 0, 5]);
        assert_eq!(got[0], Ok(1));
        assert!(matches!(
            got[1],
            Err(FrameError::MissingLength { packet: 2, .. })
        ));
        let got = collect(&[0, 1, 0, 184, 1, 2, 3]);
        assert!(matches!(
            got[..],
            [Err(FrameError::Truncated {
                declared: 184,
                available: 3,
                ..
            })]
        ));
        assert_eq!(collect(&[]), vec![Err(FrameError::Empty)]);
        assert_eq!(
            collect(&[0, 0]),
            vec![Err(FrameError::NoPackets { len: 2 })]
        );
    }
}
