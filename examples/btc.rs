//! The Bitcoin (BTC/USDT) bot: replays the bundled one-minute bars through the trading graph with the paper
//! broker. No keys: rule-mode agents. With LLM keys in the environment or `.env.btc` (see
//! `.env.btc.example`), the agents ask the models, with fallback.
//!
//! ```text
//! cargo run --release --example btc
//! ```

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    tradegraph::runtime::example_main(tradegraph::runtime::InstrumentKey::Btc, &root).await
}
