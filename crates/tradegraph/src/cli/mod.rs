//! The `tradegraph` command line. The binary is a thin wrapper around [`run`], which writes to
//! the streams it is given (so it can be embedded and tested) and returns the exit code.
//!
//! Exit codes: 0 success, 1 the input is invalid (the problems are on stderr, one per line, as
//! `file:line:column: message`), 2 the input could not be read or the command line is wrong.

mod data;
mod graph;
mod prompts;
mod providers;
mod record;

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::io::Write;

/// Success.
pub const EXIT_OK: u8 = 0;
/// The input is invalid.
pub const EXIT_INVALID: u8 = 1;
/// The input could not be read, or the command line is wrong.
pub const EXIT_USAGE: u8 = 2;

/// The `tradegraph` command line.
#[derive(Debug, Parser)]
#[command(
    name = "tradegraph",
    version,
    about = "LLM trading agents as typed state graphs"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Graphs declared in YAML: check, draw, and the format's JSON Schema.
    #[command(subcommand)]
    Graph(graph::GraphCommand),
    /// Market data files: indicators over a CSV of bars.
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
    /// The agents' prompts: render one from a fixture state.
    #[command(subcommand)]
    Prompts(prompts::PromptsCommand),
    /// LLM providers: check that each configured one answers with structured output.
    #[command(subcommand)]
    Providers(providers::ProvidersCommand),
}

/// Runs the command line `args` (the program name first), writing results to `out` and
/// problems to `err`; returns the exit code.
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
    match cli.command {
        Command::Graph(command) => graph::run(command, out, err),
        Command::Data(command) => data::run(command, out, err),
        Command::Record(args) => record::run(args, out, err),
        Command::Prompts(command) => prompts::run(command, out, err),
        Command::Providers(command) => providers::run(command, out, err),
    }
}
