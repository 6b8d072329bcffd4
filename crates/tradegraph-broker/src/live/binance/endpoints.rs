//! Binance's endpoints, named by the settings. Compiled without the `binance` feature too, so
//! that a configuration naming them reads the same in every build.

/// Binance's REST base URL.
pub const BINANCE_API_URL: &str = "https://api.binance.com";
/// Binance's WebSocket API (where the user data stream is subscribed).
pub const BINANCE_WS_API_URL: &str = "wss://ws-api.binance.com:443/ws-api/v3";
/// The spot testnet's REST base URL.
pub const TESTNET_API_URL: &str = "https://testnet.binance.vision";
/// The spot testnet's WebSocket API.
pub const TESTNET_WS_API_URL: &str = "wss://ws-api.testnet.binance.vision/ws-api/v3";
