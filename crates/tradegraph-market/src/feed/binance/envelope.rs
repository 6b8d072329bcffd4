//! One pass over a combined-stream frame `{"stream": "<name>", "data": <payload>}`: the stream
//! name picks the payload type, so `data` is parsed straight into it when `stream` comes first
//! (as Binance sends it), and kept raw for a second pass otherwise.

use super::messages::{AggTradeMsg, DepthMsg, KlineMsg, TradeMsg};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

/// Which payload a stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Trade,
    AggTrade,
    Kline,
    Depth,
}

/// Splits `btcusdt@depth5@100ms` into the lower-case symbol and the payload kind.
fn kind_of(stream: &str) -> Option<(&str, Kind)> {
    // A byte search: `split_once('@')` is a char searcher, measurably slower here.
    let at = stream.bytes().position(|b| b == b'@')?;
    let (symbol, rest) = (stream.get(..at)?, stream.get(at + 1..)?);
    let kind = match rest {
        "trade" => Kind::Trade,
        "aggTrade" => Kind::AggTrade,
        _ if rest.starts_with("kline_") => Kind::Kline,
        _ => {
            let levels = rest.strip_prefix("depth")?;
            let levels = levels
                .strip_suffix("@100ms")
                .or_else(|| levels.strip_suffix("@1000ms"))
                .unwrap_or(levels);
            if !matches!(levels, "5" | "10" | "20") {
                return None;
            }
            Kind::Depth
        }
    };
    Some((symbol, kind))
}

/// A payload, parsed. Small on purpose (the kline is boxed): it is moved out of the parser.
#[derive(Debug)]
pub(super) enum Payload<'a> {
    Trade(TradeMsg<'a>),
    AggTrade(AggTradeMsg<'a>),
    Kline(Box<KlineMsg<'a>>),
    Depth(DepthMsg<'a>),
}

/// Any frame the stream endpoint sends.
#[derive(Debug)]
pub(super) enum Frame<'a> {
    /// A stream event; `symbol` is the stream name's, lower case.
    Event {
        symbol: &'a str,
        payload: Payload<'a>,
    },
    /// `{"result": .., "id": ..}`.
    Reply,
    /// `{"code": .., "msg": ..}`.
    Error(i64),
}

impl<'de> Deserialize<'de> for Frame<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(FrameVisitor)
    }
}

struct FrameVisitor;

impl<'de> Visitor<'de> for FrameVisitor {
    type Value = Frame<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a combined-stream frame {"stream": "<name>", "data": {...}}"#)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Frame<'de>, A::Error> {
        let mut stream: Option<&'de str> = None;
        let mut payload = None;
        let mut raw: Option<&'de RawValue> = None;
        let mut code = None;
        let mut result = false;
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "stream" => stream = Some(map.next_value()?),
                "data" => match stream.and_then(kind_of) {
                    Some((_, kind)) => payload = Some(map.next_value_seed(PayloadSeed(kind))?),
                    None => raw = Some(map.next_value()?),
                },
                "code" => code = Some(map.next_value()?),
                "result" => {
                    map.next_value::<IgnoredAny>()?;
                    result = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let Some(stream) = stream else {
            return match (payload.is_some() || raw.is_some(), code, result) {
                (true, _, _) => Err(de::Error::missing_field("stream")),
                (false, Some(code), _) => Ok(Frame::Error(code)),
                (false, None, true) => Ok(Frame::Reply),
                (false, None, false) => {
                    Err(de::Error::custom("neither a stream event nor a reply"))
                }
            };
        };
        if payload.is_none() && raw.is_none() {
            return Err(de::Error::missing_field("data"));
        }
        let (symbol, kind) = kind_of(stream)
            .ok_or_else(|| de::Error::custom(format!("unsupported stream `{stream}`")))?;
        let payload = match (payload, raw) {
            (Some(payload), _) => payload,
            (None, raw) => PayloadSeed(kind)
                .deserialize(&mut serde_json::Deserializer::from_str(
                    raw.map_or("null", RawValue::get),
                ))
                .map_err(|e| de::Error::custom(format!("data: {e}")))?,
        };
        Ok(Frame::Event { symbol, payload })
    }
}

/// Parses a payload of a known kind.
#[derive(Debug, Clone, Copy)]
struct PayloadSeed(Kind);

impl<'de> DeserializeSeed<'de> for PayloadSeed {
    type Value = Payload<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Payload<'de>, D::Error> {
        match self.0 {
            Kind::Trade => TradeMsg::deserialize(d).map(Payload::Trade),
            Kind::AggTrade => AggTradeMsg::deserialize(d).map(Payload::AggTrade),
            Kind::Kline => KlineMsg::deserialize(d).map(|k| Payload::Kline(Box::new(k))),
            Kind::Depth => DepthMsg::deserialize(d).map(Payload::Depth),
        }
    }
}
