//! `tradegraph data download`: parses the options, reads the venue's credentials and hosts from
//! the environment and `.env`, and shows a progress bar; the download itself is
//! [`tradegraph_market::history`].

use crate::cli::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::config::{CommandEnv, FeedKind, Flags, Settings, DATA_DIR_VAR};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};
use tradegraph_broker::live::binance::BINANCE_API_URL;
use tradegraph_broker::live::kite::DEFAULT_API_URL as KITE_API_URL;
use tradegraph_core::redact::Secret;
use tradegraph_core::{Timeframe, Timestamp};
use tradegraph_market::history::{
    download, interval_label, DownloadConfig, HistoryError, HistorySource, IST_OFFSET_MS,
};

/// The options of `tradegraph data download`.
#[derive(Debug, Args)]
pub(in crate::cli) struct DownloadArgs {
    /// The venue: binance (spot klines, no key needed) or kite (historical candles: needs
    /// KITE_API_KEY and KITE_ACCESS_TOKEN, or the day's token of `tradegraph kite login`).
    #[arg(long, value_enum)]
    venue: Venue,
    /// Binance: the symbol (BTCUSDT).
    #[arg(long)]
    symbol: Option<String>,
    /// Kite: the instrument token (256265 NIFTY 50, 260105 NIFTY BANK; tokens are in Kite's
    /// instruments dump).
    #[arg(long)]
    token: Option<u32>,
    /// The bars' interval: 1m, 5m, 15m, 1h or 1d.
    #[arg(long, default_value = "1m", value_parser = interval)]
    interval: Timeframe,
    /// The first bar's open time: RFC 3339 (2024-01-01T00:00:00Z) or a date (2024-01-01:
    /// midnight UTC for Binance, midnight in India for Kite).
    #[arg(long, value_name = "TIME")]
    from: String,
    /// The end (excluded), in the same forms; bars that have not closed yet are left out.
    #[arg(long, value_name = "TIME")]
    to: String,
    /// Kite: where `tradegraph kite login` saved the day's token [default: the bots' data
    /// directory: TRADEGRAPH_DATA_DIR, `[live] data_dir` of the configuration, or ./data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Kite: the configuration file whose `[live] data_dir` holds the day's token [env:
    /// TRADEGRAPH_CONFIG; default: tradegraph.toml when present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The CSV file [default: <symbol>-<interval>.csv, or kite-<token>-<interval>.csv]. An
    /// existing file is continued after its last row; FILE.meta beside it records the source
    /// and the start, and another source, or a --from before that start, is refused.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Venue {
    /// Binance spot: `GET /api/v3/klines`.
    Binance,
    /// Zerodha Kite Connect: `GET /instruments/historical/{token}/{interval}`.
    Kite,
}

fn interval(text: &str) -> Result<Timeframe, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not an interval: use 1m, 5m, 15m, 1h or 1d"))
}

/// RFC 3339, or a date meaning midnight at `offset_ms` east of UTC.
fn time(text: &str, option: &str, offset_ms: i64) -> Result<Timestamp, String> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Timestamp::from_datetime(t.and_utc()).add_millis(-offset_ms))
        .ok_or_else(|| {
            format!("{option} {text}: give an RFC 3339 time (2024-01-01T00:00:00Z) or a date (2024-01-01)")
        })
}

/// The download `args` ask for, with the keys and hosts of `env`.
fn config(args: &DownloadArgs, env: &CommandEnv) -> Result<DownloadConfig, String> {
    let env = |name: &str| env.var(name);
    let label = interval_label(args.interval);
    let (source, offset, default_out) = match args.venue {
        Venue::Binance => {
            if args.token.is_some() {
                return Err("--token is for --venue kite; Binance takes --symbol".into());
            }
            let symbol = args
                .symbol
                .as_deref()
                .map(|s| s.trim().to_ascii_uppercase())
                .ok_or("--venue binance needs --symbol, e.g. --symbol BTCUSDT")?;
            let out = format!("{}-{label}.csv", symbol.to_ascii_lowercase());
            let api_url = env("BINANCE_API_URL").unwrap_or_else(|| BINANCE_API_URL.to_owned());
            (HistorySource::Binance { api_url, symbol }, 0, out)
        }
        Venue::Kite => {
            if args.symbol.is_some() {
                return Err("--symbol is for --venue binance; Kite takes --token".into());
            }
            let token = args.token.ok_or(
                "--venue kite needs --token, the instrument token (256265 is NIFTY 50, 260105 NIFTY BANK)",
            )?;
            let api_key = env("KITE_API_KEY").map(Secret::new);
            let Some(api_key) = api_key else {
                return Err(
                    "--venue kite needs KITE_API_KEY and KITE_ACCESS_TOKEN (or the \
                            day's token of `tradegraph kite login`): KITE_API_KEY is not set"
                        .to_owned(),
                );
            };
            // Why the saved token cannot be used (none, another day's) is said as it is.
            let access_token = match env("KITE_ACCESS_TOKEN") {
                Some(token) => Secret::new(token),
                None => {
                    // The day's token of `tradegraph kite login`, where the bots read it.
                    let data_dir = kite_data_dir(args)?;
                    let day = tradegraph_broker::live::kite::ist_today();
                    tradegraph_broker::live::kite::load_token(&data_dir, &day).map_err(|e| {
                        let why = match e {
                            tradegraph_broker::BrokerError::Config(why) => why,
                            other => other.to_string(),
                        };
                        format!(
                            "--venue kite needs KITE_API_KEY and KITE_ACCESS_TOKEN (or the \
                             day's token of `tradegraph kite login`, read from {}: --data-dir, \
                             {DATA_DIR_VAR} or `[live] data_dir`): {why}",
                            data_dir.display()
                        )
                    })?
                }
            };
            let api_url = env("KITE_API_URL").unwrap_or_else(|| KITE_API_URL.to_owned());
            let source = HistorySource::Kite {
                api_url,
                token,
                api_key,
                access_token,
            };
            (source, IST_OFFSET_MS, format!("kite-{token}-{label}.csv"))
        }
    };
    let from = time(&args.from, "--from", offset)?;
    let to = time(&args.to, "--to", offset)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(default_out));
    Ok(DownloadConfig::new(source, args.interval, from, to, out))
}

/// Where `tradegraph kite login` saves the day's token: `--data-dir`, else the bots' data
/// directory as their settings resolve it (TRADEGRAPH_DATA_DIR, `[live] data_dir` of the
/// configuration file, relative to it, or `./data`).
fn kite_data_dir(args: &DownloadArgs) -> Result<PathBuf, String> {
    if let Some(dir) = &args.data_dir {
        return Ok(dir.clone());
    }
    let cwd = std::env::current_dir()
        .map_err(|e| format!("the current directory cannot be read: {e}"))?;
    let flags = Flags {
        config: args.config.clone(),
        feed: Some(FeedKind::Synthetic),
        ..Flags::default()
    };
    Settings::resolve(&flags, &|k| std::env::var(k).ok(), &cwd)
        .map(|settings| settings.live_trading.data_dir)
        .map_err(|e| {
            format!(
                "--venue kite reads the day's token of `tradegraph kite login` from the bots' \
                 data directory, and their settings cannot be read: {e}"
            )
        })
}

pub(in crate::cli) fn run(args: &DownloadArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let env = CommandEnv::read(Path::new(""));
    let config = match env
        .map_err(|e| e.to_string())
        .and_then(|env| config(args, &env))
    {
        Ok(config) => config,
        Err(message) => {
            let _ = writeln!(err, "tradegraph data download: {message}");
            return EXIT_USAGE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = writeln!(
                err,
                "tradegraph data download: cannot start the async runtime: {e}"
            );
            return EXIT_FAILED;
        }
    };
    // On stderr, drawn only on a terminal.
    let bar = ProgressBar::with_draw_target(Some(1_000), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {percent}%  {msg}  ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let timeframe = config.timeframe;
    let result = runtime.block_on(download(&config, |p| {
        bar.set_position((p.fraction(timeframe) * 1_000.0).round() as u64);
        if let Some(last) = p.last {
            bar.set_message(format!("{} bars, up to {last}", p.bars));
        }
    }));
    bar.finish_and_clear();
    match result {
        Ok(summary) => {
            for gap in &summary.gaps {
                let _ = writeln!(
                    err,
                    "{}: warning: no bars from {} to {} (the venue has none; not filled)",
                    summary.path.display(),
                    gap.from,
                    gap.to
                );
            }
            let _ = writeln!(out, "{summary}");
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(err, "tradegraph data download: {e}");
            match e {
                HistoryError::Config(_) => EXIT_USAGE,
                _ => EXIT_FAILED,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn times_are_rfc3339_or_the_venues_midnight() {
        let utc = time("2024-01-01", "--from", 0).unwrap();
        assert_eq!(utc.to_string(), "2024-01-01T00:00:00Z");
        let ist = time("2024-01-01", "--from", IST_OFFSET_MS).unwrap();
        assert_eq!(ist.to_string(), "2023-12-31T18:30:00Z");
        let exact = time("2024-01-01T09:15:00+05:30", "--to", IST_OFFSET_MS).unwrap();
        assert_eq!(exact.to_string(), "2024-01-01T03:45:00Z");
        let err = time("2024-13-01", "--to", 0).unwrap_err();
        assert!(
            err.starts_with("--to 2024-13-01: give an RFC 3339 time"),
            "{err}"
        );
    }

    proptest! {
        #[test]
        fn any_text_is_a_time_or_an_error_naming_the_option(text in ".{0,40}") {
            if let Err(err) = time(&text, "--from", IST_OFFSET_MS) {
                prop_assert!(err.starts_with("--from "), "{}", err);
            }
        }
    }
}
