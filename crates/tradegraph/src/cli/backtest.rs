//! `tradegraph backtest`: the engine on a replayed file, with a progress bar and the summary.

use super::bot::{assemble, Bot, BudgetWatch, DefaultBudget, MODEL_CALLS_PER_CYCLE};
use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use crate::backtest::metrics::Period;
use crate::backtest::report::{prepare_out, Context, Recorder, REPORT_FILE};
use crate::backtest::walk::{self, DataScan, Observer, Outcome, RunSpec, WalkHooks, Window};
use crate::config::{FeedSettings, Flags, Settings};
use crate::engine::{paper_broker, summary_text, Mode};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rust_decimal::Decimal;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tradegraph_core::Timestamp;
use tradegraph_llm::record::{RecordBook, RecordMode};

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
    /// Write the report into this folder (created if missing): summary.json, equity.csv,
    /// trades.csv, decisions.jsonl, equity.svg, drawdown.svg and report.html (open it in a
    /// browser).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Walk-forward: cut the data's period into N consecutive windows of equal length and
    /// backtest each on its own (with --out, each window's report in DIR/window-01, ...,
    /// and an overview in DIR/walk-forward.json and DIR/report.html).
    #[arg(long, value_name = "N")]
    split: Option<usize>,
    /// Record every model answer to FILE (JSON Lines, appended; see --replay).
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    record: Option<PathBuf>,
    /// Replay the model answers recorded in FILE: no model is called, no key is needed, and
    /// the run decides as the recorded one did. A request the file lacks stops the run.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// When market orders fill: next-open (the default: at the next bar's open, never at the
    /// close that triggered the decision) or immediate (at that close). Overrides
    /// TRADEGRAPH_FILL_TIMING and `[paper] fill_timing`.
    #[arg(long, value_name = "WHEN", value_parser = parse_fill_timing)]
    fill_timing: Option<tradegraph_broker::paper::FillTiming>,
    /// Also write the market data the run replays (its candles, the latest price) to the
    /// configured Redis hot cache and MongoDB history, as a running bot does: to fill a new
    /// deployment's history. Off by default: in stores a live bot shares, it would move the
    /// bot's price keys back in time and replace its recorded candles.
    #[arg(long)]
    store_market_data: bool,
}

/// `--fill-timing`: `next-open`, `next_open` or `immediate`.
fn parse_fill_timing(value: &str) -> Result<tradegraph_broker::paper::FillTiming, String> {
    value.parse()
}

pub(super) fn run(args: BacktestArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if from >= to {
            let _ = writeln!(err, "backtest: --from {from} is not before --to {to}");
            return EXIT_USAGE;
        }
    }
    // A backtest replays a file: a live feed set for `run` (`[bot] feed`, TRADEGRAPH_FEED)
    // does not apply to it; only a --feed given to it is refused below.
    let mut flags = args.flags.clone();
    if flags.feed.is_none() {
        flags.feed = Some(crate::config::FeedKind::Replay);
    }
    let mut settings =
        match super::bot::settings("backtest", &flags, super::bot::LiveUse::Paper, err) {
            Ok(settings) => settings,
            Err(code) => return code,
        };
    if let Some(timing) = args.fill_timing {
        settings.execution.fill_timing = Some(timing);
        settings
            .origins
            .set("paper.fill_timing", crate::config::Origin::Flag);
    }
    let FeedSettings::Replay { path } = &settings.feed else {
        let _ = writeln!(
            err,
            "backtest: replays a file; --feed {} is for `tradegraph run`. Give --data FILE (a CSV of one-minute bars or a JSONL recording)",
            settings.feed.kind().as_str()
        );
        return EXIT_USAGE;
    };
    let period = Period {
        from: args.from,
        to: args.to,
    };
    // the data read once: its records, and with --split its bars and windows
    let planned = match args.split {
        Some(n) => walk::plan(
            path,
            &settings.instrument,
            period,
            settings.decision_every,
            n,
        )
        .map(|(scan, windows)| (scan, Some(windows))),
        // a period: the bars it holds are read, for the plan and the progress bar
        None if period.from.is_some() || period.to.is_some() => {
            DataScan::bars(path, &settings.instrument.symbol, period).map(|scan| (scan, None))
        }
        None => DataScan::count(path, &settings.instrument.symbol).map(|scan| (scan, None)),
    };
    let (scan, windows) = match planned {
        Ok(planned) => planned,
        Err(e) => {
            let _ = writeln!(err, "backtest: {e}");
            return EXIT_USAGE;
        }
    };
    // a bad or used --out is said before anything runs
    let recorder = match args.out.as_deref().map(|dir| {
        prepare_out(dir)?;
        match windows {
            Some(_) => Ok(None),
            None => Recorder::create(dir).map(Some),
        }
    }) {
        Some(Ok(recorder)) => recorder,
        None => None,
        Some(Err(e)) => {
            let _ = writeln!(err, "backtest: {e}");
            return EXIT_USAGE;
        }
    };
    let answers =
        match crate::backtest::answers::open(args.record.as_deref(), args.replay.as_deref()) {
            Ok(book) => book,
            Err(e) => {
                let _ = writeln!(err, "backtest: {e}");
                return EXIT_USAGE;
            }
        };
    for skipped in answers.iter().flat_map(|book| book.skipped()) {
        let _ = writeln!(
            err,
            "note: {}:{}: skipped, {}",
            answers
                .as_ref()
                .map_or_else(String::new, |b| b.path().display().to_string()),
            skipped.line,
            skipped.reason
        );
    }
    let runtime = match super::bot::runtime("backtest", err) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let plan = Plan {
        settings: &settings,
        data: path,
        period,
        scan,
        windows,
        recorder,
        out_dir: args.out.as_deref(),
        answers: answers.as_ref(),
        store_market_data: args.store_market_data,
    };
    match runtime.block_on(backtest(plan, out)) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            let _ = writeln!(err, "backtest: {e}");
            EXIT_FAILED
        }
    }
}

/// What the flags ask for, checked.
struct Plan<'a> {
    settings: &'a Settings,
    data: &'a Path,
    period: Period,
    scan: DataScan,
    /// With --split, the windows.
    windows: Option<Vec<Window>>,
    /// A plain run's report recorder (with --out).
    recorder: Option<Recorder>,
    out_dir: Option<&'a Path>,
    answers: Option<&'a Arc<RecordBook>>,
    /// `--store-market-data`.
    store_market_data: bool,
}

/// Assembles the bot once (one model, one budget for every window) and runs the plan: one
/// backtest, or a walk-forward with its overview.
async fn backtest(plan: Plan<'_>, out: &mut dyn Write) -> Result<(), Box<dyn std::error::Error>> {
    let Plan {
        settings,
        data,
        period,
        scan,
        windows,
        recorder,
        out_dir,
        answers,
        store_market_data,
    } = plan;
    let per_cycle = walk::bars_per_cycle(settings.decision_every, &settings.instrument.session);
    // one-minute bars tell the cycles to come (never fewer than run); a recording's events do not
    let bars = scan.run_bars();
    let cycles = bars.map(|b| b.div_ceil(per_cycle));
    let defaults = DefaultBudget {
        usd: Some(DEFAULT_BUDGET_USD),
        // a plan of no cycle is no plan: never a cap of 0 calls
        planned_calls: cycles.filter(|&c| c > 0).map(|c| c * MODEL_CALLS_PER_CYCLE),
    };
    let mut bot = assemble(settings, Mode::Backtest, defaults, answers, out).await?;
    bot.config.writes_market = store_market_data;
    if store_market_data {
        writeln!(
            out,
            "stores: this backtest also writes the market data it replays (--store-market-data)"
        )?;
    } else {
        writeln!(
            out,
            "stores: a backtest writes its decisions, trades and lessons under its own run, and \
             none of the market data it replays (--store-market-data writes it)"
        )?;
    }
    let stores = bot.config.stores.clone();
    let result = run_plan(
        &bot, settings, data, period, &scan, windows, recorder, out_dir, answers, out,
    )
    .await;
    stores.shutdown().await;
    result
}

#[allow(clippy::too_many_arguments)]
async fn run_plan(
    bot: &Bot,
    settings: &Settings,
    data: &Path,
    period: Period,
    scan: &DataScan,
    windows: Option<Vec<Window>>,
    recorder: Option<Recorder>,
    out_dir: Option<&Path>,
    answers: Option<&Arc<RecordBook>>,
    out: &mut dyn Write,
) -> Result<(), Box<dyn std::error::Error>> {
    let execution = paper_broker(&bot.config)?.read(|engine| engine.config().describe())?;
    let mut hooks = Hooks {
        settings,
        llm: bot.llm.clone(),
        budget: BudgetWatch::new(bot.llm.clone()),
        answers,
        execution: execution.to_string(),
        count: windows.as_ref().map_or(1, Vec::len),
        records: scan.records,
        run_bars: scan.run_bars(),
        bars_per_cycle: walk::bars_per_cycle(settings.decision_every, &settings.instrument.session),
        bar: None,
        out,
    };
    let Some(windows) = windows else {
        let context = match recorder {
            Some(_) => Some(Context::of(settings, &bot.config, data, answers)?),
            None => None,
        };
        let spec = RunSpec {
            config: &bot.config,
            llm: bot.llm.as_ref(),
            data,
            period,
            window: None,
            baselines: recorder.is_some(),
            recorder,
            context,
        };
        let observer = hooks.begin(None);
        let outcome = walk::run_one(spec, observer).await?;
        return hooks.end(None, &outcome).map_err(Into::into);
    };
    let context = Context::of(settings, &bot.config, data, answers)?;
    let mut notes = Vec::new();
    if bot.llm.is_some() {
        notes.push(format!(
            "one model budget for all {} windows: the cap is for the whole walk-forward, and each window's model usage is the total up to its end",
            windows.len()
        ));
    }
    let overview = walk::run(
        &bot.config,
        bot.llm.as_ref(),
        data,
        &windows,
        &context,
        out_dir,
        notes,
        &mut hooks,
    )
    .await?;
    write!(hooks.out, "{}", overview.table())?;
    if let Some(dir) = out_dir {
        writeln!(
            hooks.out,
            "walk-forward overview: {}",
            dir.join(REPORT_FILE).display()
        )?;
    }
    Ok(())
}

/// What the terminal shows around each run: the plan, a progress bar, the budget running out,
/// the summary.
struct Hooks<'a> {
    settings: &'a Settings,
    llm: Option<tradegraph_llm::Llm>,
    budget: BudgetWatch,
    answers: Option<&'a Arc<RecordBook>>,
    execution: String,
    count: usize,
    records: u64,
    /// The bars the run gets (`None`: a recording's events).
    run_bars: Option<u64>,
    /// One-minute bars per decision cycle ([`walk::bars_per_cycle`]).
    bars_per_cycle: u64,
    bar: Option<ProgressBar>,
    out: &'a mut dyn Write,
}

impl Hooks<'_> {
    fn begin(&mut self, window: Option<&Window>) -> Observer<'_> {
        let name = &self.settings.name;
        let symbol = &self.settings.instrument.symbol;
        let length = match window {
            Some(w) => {
                let _ = writeln!(
                    self.out,
                    "=== window {}/{}: {} to {} ({} bars) ===",
                    w.index, self.count, w.from, w.to, w.bars
                );
                Some(w.bars)
            }
            None => self.run_bars,
        };
        match length {
            Some(bars) => {
                let cycles = bars.div_ceil(self.bars_per_cycle);
                let _ = writeln!(
                    self.out,
                    "{name}: backtest of {symbol} over {bars} bars, about {cycles} decision cycles"
                );
                if self.llm.is_some() {
                    let _ = writeln!(
                        self.out,
                        "models: up to {MODEL_CALLS_PER_CYCLE} calls per cycle, about {} calls in all",
                        cycles * MODEL_CALLS_PER_CYCLE
                    );
                }
            }
            None => {
                let _ = writeln!(
                    self.out,
                    "{name}: backtest of {symbol} over a recording of {} events",
                    self.records
                );
            }
        }
        let bar = ProgressBar::with_draw_target(
            Some(length.unwrap_or(self.records)),
            ProgressDrawTarget::stderr(),
        );
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} records  {msg}  ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        self.bar = Some(bar.clone());
        let counter = bar.clone();
        // a replay stops at its first missing answer rather than decide without it
        let missed = self
            .answers
            .filter(|b| b.mode() == RecordMode::Replay)
            .cloned();
        let (budget, out) = (&mut self.budget, &mut *self.out);
        let (mut done, mut trades) = (0u64, 0usize);
        Observer {
            on_record: Box::new(move || counter.inc(1)),
            on_cycle: Box::new(move |state| {
                done += 1;
                // the trades closed since the previous cycle, as the ledger gave them
                trades += state.closed_trades.len();
                bar.set_message(format!("cycles {done}, trades closed {trades}"));
                if let Some(line) = budget.check() {
                    bar.suspend(|| {
                        let _ = writeln!(out, "{line}");
                    });
                }
            }),
            stop: Box::pin(async move {
                match missed {
                    Some(book) => book.missed().await,
                    None => std::future::pending().await,
                }
            }),
        }
    }

    fn end(&mut self, _window: Option<&Window>, outcome: &Outcome) -> Result<(), String> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if let Some(why) = self
            .answers
            .and_then(|b| crate::backtest::answers::incomplete(b))
        {
            return Err(why);
        }
        let out = &mut *self.out;
        for notice in &outcome.notices {
            let _ = writeln!(out, "note: {notice}");
        }
        let _ = writeln!(
            out,
            "{}",
            summary_text(&outcome.summary, &self.settings.instrument)
        );
        let _ = writeln!(out, "execution: {}", self.execution);
        if let Some(why) = &outcome.baselines_error {
            let _ = writeln!(
                out,
                "note: the baselines failed, the report has none ({why})"
            );
        }
        if let Some(written) = &outcome.written {
            let _ = writeln!(out, "report: {}", written.html.display());
        }
        Ok(())
    }
}

impl WalkHooks for Hooks<'_> {
    fn start(&mut self, window: &Window) -> Observer<'_> {
        self.begin(Some(window))
    }

    fn finish(&mut self, window: &Window, outcome: &Outcome) -> Result<(), String> {
        self.end(Some(window), outcome)
    }
}
