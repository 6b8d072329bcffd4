//! The `.env.<instrument>.example` files at the repository's root, written from the defaults in
//! code (`tradegraph config env-example --instrument NAME`): a test checks that the committed
//! files are what this writes, so they cannot drift from the code.

use super::instrument::{built_in, BUILT_IN};
use super::Venue;

/// The example `.env` file of a built-in instrument (`btc`, `banknifty`, `nifty`); `None` for
/// any other name.
///
/// ```
/// let btc = tradegraph::config::env_example("btc").unwrap();
/// assert!(btc.starts_with("# tradegraph: Bitcoin"));
/// assert!(btc.contains("BINANCE_API_KEY=\n"));
/// assert!(tradegraph::config::env_example("eth").is_none());
/// ```
pub fn env_example(name: &str) -> Option<String> {
    let choice = built_in(name)?;
    let title = match choice.venue {
        Venue::Binance => "Bitcoin (BTC/USDT on Binance spot)".to_owned(),
        Venue::Kite | Venue::None => format!(
            "{} (NSE index futures through Zerodha Kite)",
            if name == "banknifty" {
                "Bank Nifty"
            } else {
                "Nifty 50"
            }
        ),
    };
    let mut out = format!(
        "# tradegraph: {title}\n\
         # Copy to .env.{name} and fill in what you have. Every key is optional: with none, the bot replays\n\
         # the bundled sample data with rule-mode agents, the in-memory store and the paper broker.\n\
         # Only the runtime and the examples read this file; secrets never reach logs, errors or stores.\n\
         # (Written by `tradegraph config env-example --instrument {name}`.)\n\n"
    );
    out += &tradegraph_llm::config::env_example();
    out += "\n# --- News and macro: with no key the bots read the bundled offline stories and figures; a\n\
            # running bot (`tradegraph run`) reads these providers when their keys are set (backtests\n\
            # always read the bundled data). TRADEGRAPH_NEWS / TRADEGRAPH_MACRO pick a source by name. ---\n";
    out += match choice.venue {
        Venue::Binance => {
            "# FINNHUB_API_KEY=           # crypto news (https://finnhub.io), asked at most every 300 s\n\
             # FRED_API_KEY=              # US rates, CPI, dollar index (https://fred.stlouisfed.org)\n"
        }
        Venue::Kite | Venue::None => {
            "# EODHD_API_KEY=             # Indian market news (https://eodhd.com), asked at most every 300 s\n\
             # FRED_API_KEY=              # RBI policy rate and CPI as FRED carries them (OECD series, lagged)\n\
             # TRADEGRAPH_MACRO_FILE=     # or a JSON file of RBI figures of your own ([macro] file)\n"
        }
    };
    out += match choice.venue {
        Venue::Binance => {
            "\n# Binance (only for recording live data or live trading; paper trading needs no key)\n\
             BINANCE_API_KEY=\n\
             BINANCE_API_SECRET=\n\
             # BINANCE_WS_URL=wss://stream.binance.com:9443      # testnet: wss://stream.testnet.binance.vision\n"
        }
        Venue::Kite | Venue::None => {
            "\n# Zerodha Kite Connect (only for live data or live trading; paper trading needs no key)\n\
             KITE_API_KEY=\n\
             KITE_ACCESS_TOKEN=\n\
             # KITE_WS_URL=wss://ws.kite.trade\n"
        }
    };
    out += "\n# --- Stores (unset: in memory; the example bots need `--features redis,mongodb` for these) ---\n\
            # REDIS_URL=redis://127.0.0.1:6379          # a Redis Cluster: its nodes, comma-separated\n\
            # REDIS_CLUSTER=1                          # REDIS_URL names one node of a Redis Cluster\n\
            # MONGODB_URI=mongodb://127.0.0.1:27017/tradegraph\n\
            \n# --- Prompts and trading ---\n\
            # TRADEGRAPH_PROMPTS_DIR=prompts            # templates here replace the embedded ones\n\
            # TRADEGRAPH_LIVE=1                         # trade real money. Paper trading unless set to 1.\n";
    Some(out)
}

/// The names [`env_example`] knows.
pub fn env_example_names() -> [&'static str; 3] {
    BUILT_IN
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed files are what the code writes: a default changed in code (a model, a
    /// base URL, a key's name) shows here until the files are written again.
    #[test]
    fn the_committed_env_examples_are_what_the_code_writes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for name in env_example_names() {
            let path = root.join(format!(".env.{name}.example"));
            let committed = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                committed == env_example(name).unwrap_or_default(),
                "{} differs from what the code writes: run `cargo run -p tradegraph -- config \
                 env-example --instrument {name} > .env.{name}.example`",
                path.display()
            );
        }
    }
}
