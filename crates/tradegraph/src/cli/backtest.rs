//! `tradegraph backtest`: the engine on a replayed file, with a progress bar and the summary.

use super::bot::{assemble, drive, BudgetWatch, DefaultBudget, MODEL_CALLS_PER_CYCLE};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::config::{FeedSettings, Flags, Settings};
use crate::engine::{summary_text, Mode};
use clap::Args;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rust_decimal::Decimal;
use std::io::{BufRead, Write};
use std::path::Path;
use tradegraph_core::{Timeframe, Timestamp};
use tradegraph_market::MarketEvent;

/// The spending cap of a backtest with models when none is configured, in US dollars.
const DEFAULT_BUDGET_USD: Decimal = Decimal::from_parts(5, 0, 0, false, 0);

/// The options of `tradegraph backtest` (its help text is on `Command::Backtest`).
#[derive(Debug, Args)]
pub(super) struct BacktestArgs {
    #[command(flatten)]
    flags: Flags,
    /// Only data stamped at or after this time (RFC 3339, e.g. 2024-01-01T00:00:00Z).
    #[arg(long, value_name = "T")]
    from: Option<Timestamp>,
    /// Only data stamped before this time.
    #[arg(long, value_name = "T")]
    to: Option<Timestamp>,
}

pub(super) fn run(args: BacktestArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if from >= to {
            let _ = writeln!(err, "backtest: --from {from} is not before --to {to}");
            return EXIT_USAGE;
        }
    }
    let settings = match super::bot::settings("backtest", &args.flags, err) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let FeedSettings::Replay { path } = &settings.feed else {
        let _ = writeln!(
            err,
            "backtest: replays a file; --feed {} is for `tradegraph run`. Give --data FILE (a CSV of one-minute bars or a JSONL recording)",
            settings.feed.kind().as_str()
        );
        return EXIT_USAGE;
    };
    let records = match count_records(path) {
        Ok(n) => n,
        Err(e) => {
            let _ = writeln!(err, "backtest: {}: {e}", path.display());
            return EXIT_USAGE;
        }
    };
    let runtime = match super::bot::runtime("backtest", err) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    match runtime.block_on(replay(&settings, &args, records, out)) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            let _ = writeln!(err, "backtest: {e}");
            EXIT_FAILED
        }
    }
}

/// Records in the file (the progress bar's length), and whether they are one-minute bars (a
/// CSV, whose header line is not a record) rather than a recording's events (JSONL).
fn count_records(path: &Path) -> std::io::Result<(u64, bool)> {
    let file = std::fs::File::open(path)?;
    let mut n: u64 = 0;
    for line in std::io::BufReader::new(file).lines() {
        if !line?.trim().is_empty() {
            n += 1;
        }
    }
    let csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    Ok(if csv {
        (n.saturating_sub(1), true)
    } else {
        (n, false)
    })
}

async fn replay(
    settings: &Settings,
    args: &BacktestArgs,
    (records, bars): (u64, bool),
    out: &mut dyn Write,
) -> Result<(), Box<dyn std::error::Error>> {
    let minutes = u64::try_from(settings.decision_every.millis() / Timeframe::M1.millis())
        .unwrap_or(1)
        .max(1);
    // One-minute bars tell the cycles to come; a recording's events do not.
    let cycles = if bars { records / minutes } else { 0 };
    let defaults = DefaultBudget {
        usd: Some(DEFAULT_BUDGET_USD),
        planned_calls: bars.then_some(cycles * MODEL_CALLS_PER_CYCLE),
    };
    let bot = assemble(settings, Mode::Backtest, defaults, out).await?;
    if bars {
        writeln!(
            out,
            "{}: backtest of {} over {records} bars, about {cycles} decision cycles",
            settings.name, settings.instrument.symbol
        )?;
    } else {
        writeln!(
            out,
            "{}: backtest of {} over a recording of {records} events",
            settings.name, settings.instrument.symbol
        )?;
    }
    if bot.llm.is_some() && bars {
        writeln!(
            out,
            "models: up to {MODEL_CALLS_PER_CYCLE} calls per cycle, about {} calls in all",
            cycles * MODEL_CALLS_PER_CYCLE
        )?;
    }
    let bar = ProgressBar::with_draw_target(Some(records), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} records  {msg}  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let (from, to) = (args.from, args.to);
    let counter = bar.clone();
    let window = move |feed: tradegraph_market::feed::Feed| {
        feed.filter(move |event| {
            // every record read moves the bar, kept or not, so it ends at its length
            let keep = match event {
                MarketEvent::Notice { .. } => true,
                other => {
                    counter.inc(1);
                    let ts = other.ts();
                    from.is_none_or(|f| ts >= f) && to.is_none_or(|t| ts < t)
                }
            };
            futures::future::ready(keep)
        })
        .boxed()
    };
    let mut budget = BudgetWatch::new(bot.llm.clone());
    let instrument = bot.config.instrument.clone();
    let (mut done, mut trades) = (0u64, 0usize);
    let summary = {
        let bar = bar.clone();
        let out = &mut *out;
        Box::pin(drive(
            settings,
            bot.config,
            std::future::pending(),
            |state| {
                done += 1;
                // the trades closed since the previous cycle, as the ledger gave them
                trades += state.closed_trades.len();
                bar.set_message(format!("cycles {done}, trades closed {trades}"));
                if let Some(line) = budget.check() {
                    bar.suspend(|| {
                        let _ = writeln!(out, "{line}");
                    });
                }
            },
            window,
            Box::new(|_| {}),
            Box::new(|_| Box::pin(async {})),
        ))
        .await?
    };
    bar.finish_and_clear();
    writeln!(out, "{}", summary_text(&summary, &instrument))?;
    Ok(())
}
