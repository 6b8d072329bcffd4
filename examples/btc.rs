//! The Bitcoin (BTC/USDT) bot: replays the bundled one-minute bars through the trading graph with the
//! paper broker. No keys: rule-mode agents. With LLM keys in the environment or `.env.btc`
//! (see `.env.btc.example`), the agents ask the models, with fallback and a 5 USD budget.
//! The engine is built step by step in `examples/paper_bot/mod.rs` (this folder is the
//! `tradegraph-examples` package: the bots are binaries, built without dev-dependencies).
//!
//! ```text
//! cargo run --release -p tradegraph-examples --bin btc
//! ```

#[path = "paper_bot/mod.rs"]
mod paper_bot;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    paper_bot::main("btc").await
}
