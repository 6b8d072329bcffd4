//! The `tradegraph` command line. The binary is a thin wrapper around [`run`], which writes to
//! the streams it is given (so it can be embedded and tested) and returns the exit code.
//!
//! Exit codes: 0 success, 1 the input is invalid (the problems are on stderr, one per line, as
//! `file:line:column: message`), 2 the input could not be read or the command line is wrong,
//! 3 a bot (`run`, `backtest`) stopped on an error (the message says what and where), 130 a
//! bot was stopped by a second Ctrl-C without finishing its cycle.

mod backtest;
mod bot;
mod bot_ctl;
mod config;
mod data;
mod graph;
mod kite;
mod live;
mod prompts;
mod providers;
mod record;
mod run;
mod store;
mod worker;

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::io::Write;

/// Success.
pub const EXIT_OK: u8 = 0;
/// The input is invalid.
pub const EXIT_INVALID: u8 = 1;
/// The input could not be read, or the command line is wrong.
pub const EXIT_USAGE: u8 = 2;
/// A bot stopped on an error.
pub const EXIT_FAILED: u8 = 3;

/// Input a command cannot run with, found once it runs (settings its options conflict with):
/// exit [`EXIT_USAGE`], as a wrong command line, not [`EXIT_FAILED`] (a bot that stopped on an
/// error, which a supervisor restarts, to be refused again).
#[derive(Debug)]
struct InputRefused(String);

impl std::fmt::Display for InputRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputRefused {}

/// The `tradegraph` command line, as clap parses it. Private: the command line's API is
/// [`run`], which parses, runs and returns the exit code.
#[derive(Debug, Parser)]
#[command(
    name = "tradegraph",
    version,
    about = "LLM trading agents as typed state graphs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    log: crate::config::LogArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a bot for one instrument (paper unless live trading is asked for) until stopped (SIGINT or SIGTERM).
    ///
    /// The feed is live (binance, kite), replayed (a file of one-minute bars or a recording)
    /// or synthetic; the broker is the paper broker, or the venue's (Binance spot, Kite) with
    /// TRADEGRAPH_LIVE=1, `live = true` under [bot], the venue's keys (BINANCE_API_KEY and
    /// BINANCE_API_SECRET; KITE_API_KEY and KITE_ACCESS_TOKEN or the token of `tradegraph kite
    /// login`), its live feed and a state that survives a restart; a live bot prints a banner
    /// (venue, masked key, balances, limits) and reconciles with the venue at start and after
    /// every reconnection, holding entries on a discrepancy until a person confirms
    /// (`tradegraph bot confirm-reconciliation`). Candles close on the exchange's time, each
    /// close of the decision timeframe runs a decision cycle of the graph, and a line per cycle
    /// is printed. What the bot must not forget (the guard's halt, the kill switch, the learner,
    /// the open trade, the paper account, order intents) is saved to the configured store as it
    /// changes: a restarted bot carries on, and never sends an order twice. On SIGINT or SIGTERM
    /// the cycle in flight finishes, the state is saved and the stores are flushed.
    ///
    /// The bot is served over HTTP on --listen (127.0.0.1:8001 for btc, 8002 banknifty, 8003
    /// nifty): the dashboard at /, the overview of several bots at /overview, the API under
    /// /api/v1, server-sent events at /api/v1/events, the control endpoints (kill switch, pause,
    /// close all, cancel all, approvals) behind a bearer token (TRADEGRAPH_API_TOKEN, or one
    /// generated and printed at start), /healthz, /readyz (the health checks, every 10 s) and
    /// /metrics (Prometheus). Alerts go to the log, the event stream, the store and the
    /// configured webhooks.
    Run(run::RunArgs),
    /// Replay a file through the bot on a simulated clock, with a progress bar and a summary.
    ///
    /// The same engine as `run`, on a simulated clock that the data moves, with the paper
    /// broker; the agents only see data stamped at or before the simulated time. With models
    /// configured, the run states the calls it plans and stops asking models (rule mode) once
    /// its budget (TRADEGRAPH_LLM_BUDGET_USD, 5 USD unless set) is spent.
    Backtest(backtest::BacktestArgs),
    /// A bot's configuration: show the effective settings and where each came from.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Graphs declared in YAML: check, draw, and the format's JSON Schema.
    #[command(subcommand)]
    Graph(graph::GraphCommand),
    /// Market data files: indicators over a CSV of bars; historical bars downloaded from Binance or Kite.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Record a live Binance or Kite feed to a JSONL file that replay reads back.
    ///
    /// Every event is written, one JSON market event per line, the feed's notices
    /// (connections, gaps, malformed frames) included; they are also shown on stderr as they
    /// happen. Stops after --max-events, after --seconds, or on Ctrl-C, and then prints a
    /// one-line summary. Exit code 2 when the options, the Kite credentials or the output file
    /// are wrong.
    Record(record::RecordArgs),
    /// The agents' prompts: render one from a fixture state; a running bot's prompt versions
    /// (list, approve, roll back).
    #[command(subcommand)]
    Prompts(prompts::PromptsCommand),
    /// LLM providers: check that each configured one answers with structured output.
    #[command(subcommand)]
    Providers(providers::ProvidersCommand),
    /// A bot's stores: write the records MongoDB refused to it again.
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// A running bot, over its HTTP API: its status, and confirming a reconciliation.
    #[command(subcommand)]
    Bot(bot_ctl::BotCommand),
    /// Zerodha Kite: log in for the day's access token.
    #[command(subcommand)]
    Kite(kite::KiteCommand),
    /// Run decision cycles from the Redis run queue that `tradegraph run --workers redis`
    /// publishes to, until stopped (SIGINT or SIGTERM).
    ///
    /// Any number of workers, on any machine, share the instruments: each of the --concurrency
    /// slots takes an instrument under a lease, starts its engine from the shared state
    /// (MongoDB, or Redis) with the instrument's settings from the same configuration file and
    /// environment as the bots, and runs its cycles in order, one at a time, acknowledging
    /// each. A worker that dies has its instrument taken over once the lease runs out (10 s);
    /// the cycle it was running goes on from the graph's last checkpoint, and no order is sent
    /// twice. SIGINT or SIGTERM finishes the cycles in flight and gives the instruments back at
    /// once. Needs REDIS_URL; workers trade on paper.
    Worker(worker::WorkerArgs),
}

/// Runs the command line `args` (the program name first), writing results to `out` and
/// problems to `err`; returns the exit code.
///
/// Logs go to the process's stderr from whatever thread makes them (a backtest's baselines
/// run on a thread of their own, and the command waits for it): pass `std::io::stderr()`,
/// not a held `std::io::stderr().lock()`, or a log line from that thread waits forever.
///
/// ```
/// let mut out = Vec::new();
/// let mut err = Vec::new();
/// let code = tradegraph::cli::run(["tradegraph", "graph", "schema"], &mut out, &mut err);
/// assert_eq!(code, 0);
/// assert!(String::from_utf8(out).unwrap().contains("\"title\": \"tradegraph graph\""));
/// ```
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let mut text = e.render().to_string();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            return if e.use_stderr() {
                let _ = write!(err, "{text}");
                EXIT_USAGE
            } else {
                // --help, --version
                let _ = write!(out, "{text}");
                EXIT_OK
            };
        }
    };
    // `record` prints its feed's notices on stderr itself: its log comes on top only when
    // asked for (so the notices are not said twice).
    let asked = cli.log.verbose > 0
        || cli.log.quiet
        || cli.log.log_format != crate::config::LogFormat::default()
        || std::env::var_os("RUST_LOG").is_some_and(|v| !v.is_empty());
    if asked || !matches!(cli.command, Command::Record(_)) {
        crate::telemetry::log::install(&cli.log);
    }
    match cli.command {
        Command::Config(command) => config::run(command, out, err),
        Command::Run(args) => run::run(args, out, err),
        Command::Backtest(args) => backtest::run(args, out, err),
        Command::Graph(command) => graph::run(command, out, err),
        Command::Data(command) => data::run(command, out, err),
        Command::Record(args) => record::run(args, out, err),
        Command::Prompts(command) => prompts::run(command, out, err),
        Command::Providers(command) => providers::run(command, out, err),
        Command::Store(command) => store::run(command, out, err),
        Command::Bot(command) => bot_ctl::run(command, out, err),
        Command::Kite(command) => kite::run(command, out, err),
        Command::Worker(args) => worker::run(args, out, err),
    }
}
