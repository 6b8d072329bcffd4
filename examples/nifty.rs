//! The Nifty 50 bot: replays the bundled one-minute bars through the trading graph with the paper
//! broker. No keys: rule-mode agents. With LLM keys in the environment or `.env.nifty` (see
//! `.env.nifty.example`), the agents ask the models, with fallback.
//!
//! ```text
//! cargo run --release --example nifty
//! ```

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    tradegraph::runtime::example_main(tradegraph::runtime::InstrumentKey::Nifty, &root).await
}
