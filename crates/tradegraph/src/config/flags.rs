//! The command-line flags of the configuration and of logging.

use clap::{ArgAction, Args, ValueEnum};
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The configuration flags of `tradegraph run`, `backtest` and `config show` (flatten them with
/// `#[command(flatten)]`). Each one wins over the environment, the `.env` files and the
/// configuration file. Live trading has no flag: it needs `TRADEGRAPH_LIVE=1` and
/// `live = true` in the configuration file.
///
/// ```
/// use clap::Parser;
/// use tradegraph::config::{FeedKind, Flags};
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(flatten)]
///     flags: Flags,
/// }
/// let cli = Cli::parse_from(["x", "--instrument", "nifty", "--feed", "synthetic"]);
/// assert_eq!(cli.flags.instrument.as_deref(), Some("nifty"));
/// assert_eq!(cli.flags.feed, Some(FeedKind::Synthetic));
/// ```
#[derive(Debug, Clone, Default, Args)]
pub struct Flags {
    /// The bot's instrument: btc, banknifty, nifty, or the name of an `[[instruments]]` entry of
    /// the configuration file [env: TRADEGRAPH_INSTRUMENT; default: btc].
    #[arg(long, value_name = "NAME")]
    pub instrument: Option<String>,
    /// The configuration file [env: TRADEGRAPH_CONFIG; default: tradegraph.toml when present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where market data comes from [env: TRADEGRAPH_FEED; default: replay of the bundled
    /// sample, or synthetic for a custom instrument without --data].
    #[arg(long, value_enum)]
    pub feed: Option<FeedKind>,
    /// The file the replay feed reads: a CSV of one-minute bars or a JSONL recording
    /// [env: TRADEGRAPH_DATA].
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// The address of the bot's HTTP service (API, event stream, control, health) [env:
    /// TRADEGRAPH_LISTEN, which may also be an IP alone, such as 0.0.0.0, on the instrument's
    /// port; default: 127.0.0.1:8001 for btc, 8002 banknifty, 8003 nifty, 8010 and up for custom
    /// instruments].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

/// Where a bot's market data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    /// Binance spot WebSocket streams (a Binance instrument).
    Binance,
    /// Zerodha Kite Connect ticker (an NSE instrument; needs KITE_API_KEY and
    /// KITE_ACCESS_TOKEN).
    Kite,
    /// A file of one-minute bars or a recording, on a simulated clock.
    Replay,
    /// Generated, seeded market data.
    Synthetic,
}

impl FeedKind {
    /// `binance`, `kite`, `replay`, `synthetic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Binance => "binance",
            Self::Kite => "kite",
            Self::Replay => "replay",
            Self::Synthetic => "synthetic",
        }
    }
}

impl fmt::Display for FeedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The logging flags, global to every subcommand of `tradegraph` (`-v`, `-q`,
/// `--log-format`). `RUST_LOG`, when set, wins over `-v` and `-q`.
///
/// ```
/// use clap::Parser;
/// use tradegraph::config::{LogArgs, LogFormat};
///
/// #[derive(Parser)]
/// struct Cli {
///     #[command(flatten)]
///     log: LogArgs,
/// }
/// let cli = Cli::parse_from(["x", "-vv", "--log-format", "json"]);
/// assert_eq!((cli.log.verbose, cli.log.log_format), (2, LogFormat::Json));
/// ```
#[derive(Debug, Clone, Default, Args)]
pub struct LogArgs {
    /// More log output: -v for debug, -vv for trace from tradegraph's crates (RUST_LOG, when
    /// set, decides instead).
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Less log output: errors only.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// How log lines are written to stderr.
    #[arg(
        long,
        value_enum,
        default_value_t,
        global = true,
        value_name = "FORMAT"
    )]
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}
