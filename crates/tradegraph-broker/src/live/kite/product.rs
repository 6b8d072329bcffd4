//! What the settings name without trading: Kite's product and its endpoints. Compiled without
//! the `kite` feature too, so that a configuration naming them reads the same in every build.

use crate::BrokerError;

/// Kite's REST API.
pub const DEFAULT_API_URL: &str = "https://api.kite.trade";
/// Kite's ticker WebSocket, which also carries order updates.
pub const DEFAULT_WS_URL: &str = "wss://ws.kite.trade";

/// Kite's product: how long a position may be held and how it is margined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KiteProduct {
    /// Intraday (margin intraday square-off): squared off by the broker near the close.
    Mis,
    /// Normal (carry forward) derivatives positions.
    Nrml,
}

impl KiteProduct {
    /// The wire value: `MIS` or `NRML`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Mis => "MIS",
            Self::Nrml => "NRML",
        }
    }
}

impl std::str::FromStr for KiteProduct {
    type Err = BrokerError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "MIS" => Ok(Self::Mis),
            "NRML" => Ok(Self::Nrml),
            other => Err(BrokerError::Config(format!(
                "Kite product `{other}` is not supported: use MIS (intraday) or NRML"
            ))),
        }
    }
}
