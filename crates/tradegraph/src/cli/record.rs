//! `tradegraph record`: a live feed into a JSONL file that replay reads back.

use super::{EXIT_OK, EXIT_USAGE};
use clap::{Args, ValueEnum};
use futures::StreamExt;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tradegraph_core::Symbol;
use tradegraph_market::feed::binance::{BinanceConfig, BinanceFeed};
use tradegraph_market::feed::kite::{KiteConfig, KiteFeed, KiteMode, Secret};
use tradegraph_market::feed::record::{RecordConfig, Recorder};
use tradegraph_market::feed::Feed;
use tradegraph_market::{FeedNotice, GapKind, MarketError, MarketEvent, SystemClock};

/// The environment variables the Kite credentials come from when not given as options.
const KITE_API_KEY: &str = "KITE_API_KEY";
const KITE_ACCESS_TOKEN: &str = "KITE_ACCESS_TOKEN";

/// The options of `tradegraph record` (its help text is on `Command::Record`).
#[derive(Debug, Args)]
pub(super) struct RecordArgs {
    /// The feed.
    #[arg(long, value_enum)]
    feed: FeedKind,
    /// The feed's endpoint, e.g. a testnet or a proxy [default: the exchange's own:
    /// wss://stream.binance.com:9443 or wss://ws.kite.trade].
    #[arg(long)]
    url: Option<String>,
    /// Binance: the symbol (BTCUSDT). Kite: the name the events of a single --token carry.
    #[arg(long)]
    symbol: Option<String>,
    /// Kite: an instrument token, as TOKEN or TOKEN=SYMBOL (260105=BANKNIFTY); repeat for
    /// more instruments.
    #[arg(long = "token", value_name = "TOKEN")]
    tokens: Vec<String>,
    /// Kite: how much to receive per instrument.
    #[arg(long, value_enum, default_value_t = Mode::Full)]
    mode: Mode,
    /// Kite Connect API key [default: $KITE_API_KEY]. Prefer the environment: options show
    /// up in the process list.
    #[arg(long, value_parser = secret)]
    api_key: Option<Secret>,
    /// Kite access token [default: $KITE_ACCESS_TOKEN].
    #[arg(long, value_parser = secret)]
    access_token: Option<Secret>,
    /// The JSONL file to write; created, or truncated if it exists.
    #[arg(long, value_name = "FILE.jsonl")]
    out: PathBuf,
    /// Stop after this many events (notices included).
    #[arg(long, value_name = "N")]
    max_events: Option<u64>,
    /// Stop after this many seconds (fractions allowed).
    #[arg(long, value_name = "S")]
    seconds: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FeedKind {
    /// Binance spot: trades, 1-minute klines and the top-5 book of one symbol.
    Binance,
    /// Zerodha Kite Connect: ticks (and books in full mode) of instrument tokens.
    Kite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Last traded price only.
    Ltp,
    /// Price, quantities and OHLC.
    Quote,
    /// Quote plus times, open interest and 5+5 depth.
    Full,
}

fn secret(text: &str) -> Result<Secret, std::convert::Infallible> {
    Ok(Secret::new(text))
}

pub(super) fn run(args: RecordArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    match record(args, out, err) {
        Ok(()) => EXIT_OK,
        Err(message) => {
            let _ = writeln!(err, "tradegraph record: {message}");
            EXIT_USAGE
        }
    }
}

fn record(args: RecordArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), String> {
    let duration = args.seconds.map(seconds).transpose()?;
    let (feed, name) = match args.feed {
        FeedKind::Binance => (binance(&args)?, "binance"),
        FeedKind::Kite => (kite(&args)?, "kite"),
    };
    let config = RecordConfig {
        max_events: args.max_events,
        duration,
        ..RecordConfig::new(&args.out)
    };
    let recorder = Recorder::create(config).map_err(|e| match e {
        MarketError::Io { path, source } => {
            format!("cannot create {}: {source}", path.display())
        }
        other => other.to_string(),
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let summary = runtime
        .block_on(async {
            let events = feed().inspect(|event| {
                if let MarketEvent::Notice { notice, .. } = event {
                    let _ = writeln!(err, "{name}: {}", describe(notice));
                }
            });
            recorder.record_until(events, interrupted()).await
        })
        .map_err(|e| e.to_string())?;
    let _ = writeln!(out, "{summary}");
    Ok(())
}

/// The duration of `--seconds`.
fn seconds(value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("--seconds {value}: give a positive number of seconds"))
}

/// Completes on Ctrl-C; never, if Ctrl-C cannot be watched.
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// A feed, made inside the runtime.
type MakeFeed = Box<dyn FnOnce() -> Feed>;

fn binance(args: &RecordArgs) -> Result<MakeFeed, String> {
    for (given, option) in [
        (!args.tokens.is_empty(), "--token"),
        (args.api_key.is_some(), "--api-key"),
        (args.access_token.is_some(), "--access-token"),
    ] {
        if given {
            return Err(format!(
                "{option} is for --feed kite; Binance market data needs only --symbol"
            ));
        }
    }
    let symbol = args
        .symbol
        .clone()
        .ok_or("--feed binance needs --symbol, e.g. --symbol BTCUSDT")?;
    let mut config = BinanceConfig::new(symbol);
    if let Some(url) = &args.url {
        config.url.clone_from(url);
    }
    let feed = BinanceFeed::new(config, Arc::new(SystemClock)).map_err(|e| e.to_string())?;
    Ok(Box::new(move || feed.stream()))
}

fn kite(args: &RecordArgs) -> Result<MakeFeed, String> {
    if args.tokens.is_empty() {
        return Err(
            "--feed kite needs at least one --token (an instrument token, e.g. --token \
             260105=BANKNIFTY)"
                .to_owned(),
        );
    }
    let mut tokens = Vec::with_capacity(args.tokens.len());
    for text in &args.tokens {
        let (number, name) = match text.split_once('=') {
            Some((number, name)) => (number, Some(name.trim())),
            None => (text.as_str(), None),
        };
        let token: u32 = number.trim().parse().map_err(|_| {
            format!("--token {text}: give an instrument token number, as TOKEN or TOKEN=SYMBOL")
        })?;
        let symbol = match (name, &args.symbol) {
            (Some(name), _) if !name.is_empty() => name.to_owned(),
            (_, Some(symbol)) if args.tokens.len() == 1 => symbol.clone(),
            (_, Some(_)) => {
                return Err(
                    "--symbol names a single --token; with several, give each as TOKEN=SYMBOL"
                        .to_owned(),
                )
            }
            _ => token.to_string(),
        };
        tokens.push((token, Symbol::new(symbol)));
    }
    let api_key = credential(&args.api_key, KITE_API_KEY, "--api-key")?;
    let access_token = credential(&args.access_token, KITE_ACCESS_TOKEN, "--access-token")?;
    let mut config = KiteConfig::new(api_key.expose(), access_token.expose(), tokens);
    config.mode = match args.mode {
        Mode::Ltp => KiteMode::Ltp,
        Mode::Quote => KiteMode::Quote,
        Mode::Full => KiteMode::Full,
    };
    if let Some(url) = &args.url {
        config.url.clone_from(url);
    }
    let feed = KiteFeed::new(config, Arc::new(SystemClock)).map_err(|e| e.to_string())?;
    Ok(Box::new(move || feed.stream()))
}

/// The option's value, or the environment variable's; never empty.
fn credential(given: &Option<Secret>, variable: &str, option: &str) -> Result<Secret, String> {
    let value = match given {
        Some(secret) => secret.clone(),
        None => Secret::new(std::env::var(variable).unwrap_or_default()),
    };
    if value.expose().trim().is_empty() {
        return Err(format!(
            "--feed kite needs {option} or the environment variable {variable}"
        ));
    }
    Ok(value)
}

/// A notice as a short line for stderr.
fn describe(notice: &FeedNotice) -> String {
    match notice {
        FeedNotice::Connected { url } => format!("connected to {url}"),
        FeedNotice::Disconnected { reason } => format!("disconnected: {reason}"),
        FeedNotice::Replaced { reason } => format!("switched connections: {reason}"),
        FeedNotice::Reconnecting { attempt, delay_ms } => {
            format!("reconnecting in {delay_ms} ms (attempt {attempt})")
        }
        FeedNotice::Gap { symbol, kind } => match kind {
            GapKind::TradeIds {
                first_missing,
                last_missing,
            } => format!("{symbol}: trade ids {first_missing}..={last_missing} missing"),
            GapKind::Time { from, to } => format!("{symbol}: no data from {from} to {to}"),
        },
        FeedNotice::Malformed { origin, reason } => format!("skipped {origin}: {reason}"),
        FeedNotice::Message { kind, payload } => {
            let payload: String = payload.chars().take(200).collect();
            format!("{kind} message: {payload}")
        }
        other => format!("{other:?}"),
    }
}
