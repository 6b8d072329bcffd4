//! The Bank Nifty bot: replays the bundled one-minute bars through the trading graph with the paper
//! broker. No keys: rule-mode agents. With LLM keys in the environment or `.env.banknifty` (see
//! `.env.banknifty.example`), the agents ask the models, with fallback.
//!
//! ```text
//! cargo run --release --example banknifty
//! ```

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    tradegraph::runtime::example_main(tradegraph::runtime::InstrumentKey::BankNifty, &root).await
}
