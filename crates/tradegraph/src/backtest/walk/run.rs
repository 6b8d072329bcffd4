//! Running backtests: one period ([`run_one`]), or every window of a walk-forward ([`run`]),
//! each with its report when asked.

use super::{Overview, WalkError, Window, WindowResult};
use crate::backtest::metrics::{baselines_until, Baselines, Halt, Period};
use crate::backtest::report::{prepare_out, Context, DataSpan, Recorder, Report, RunLog, Written};
use crate::engine::{paper_broker, BotConfig, BotSummary, Engine, Mode};
use futures::StreamExt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tradegraph_agents::TradingState;
use tradegraph_core::Timestamp;
use tradegraph_llm::Llm;
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::{MarketEvent, SimulatedClock};

/// One backtest: `config`'s bot on the events of `data` within `period`.
#[derive(Debug)]
pub struct RunSpec<'a> {
    /// The bot. The run gets a clone: a fresh engine, the same model (so the same budget).
    pub config: &'a BotConfig,
    /// The model `config`'s brain calls, for the report's usage and the training cut-off
    /// notices (`None` in rule mode).
    pub llm: Option<&'a Llm>,
    /// The data file (a CSV of one-minute bars or a JSONL recording).
    pub data: &'a Path,
    /// The part of it to run on.
    pub period: Period,
    /// The walk-forward window the run is, if any.
    pub window: Option<Window>,
    /// Writes `decisions.jsonl` (its folder is the report's), `None`: no report files.
    pub recorder: Option<Recorder>,
    /// The report's context ([`Context::of`]); `None`: no report is made.
    pub context: Option<Context>,
    /// Runs the baselines (buy-and-hold, rule mode) beside the run, on a thread of their own.
    pub baselines: bool,
}

/// What a caller sees of a run as it goes.
pub struct Observer<'a> {
    /// Called for each event of the data within the period (a progress bar's tick).
    pub on_record: Box<dyn Fn() + Send + Sync>,
    /// Called after each decision cycle.
    pub on_cycle: Box<dyn FnMut(&TradingState) + 'a>,
    /// Stops the run when it resolves (a replay's first missing answer, say).
    pub stop: Pin<Box<dyn Future<Output = ()> + 'a>>,
}

impl Default for Observer<'_> {
    fn default() -> Self {
        Self {
            on_record: Box::new(|| {}),
            on_cycle: Box::new(|_| {}),
            stop: Box::pin(std::future::pending()),
        }
    }
}

impl std::fmt::Debug for Observer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Observer")
    }
}

/// What a run gave.
#[derive(Debug)]
pub struct Outcome {
    /// The engine's summary.
    pub summary: BotSummary,
    /// Notices about the model (its training cut-off after the run's first decision, say).
    pub notices: Vec<String>,
    /// The report, when a context was given.
    pub report: Option<Report>,
    /// Its files, when a recorder was given.
    pub written: Option<Written>,
    /// Why the baselines failed, when they were asked for and did (the report says
    /// `baselines: null` and this).
    pub baselines_error: Option<String>,
}

/// Backtests `spec`, observed by `observer`; with a context, makes the report (and with a
/// recorder, writes its files).
///
/// # Errors
/// [`WalkError::Engine`] when the data, the graph or the broker cannot be set up or a cycle
/// fails; [`WalkError::Report`] when a report file cannot be written.
pub async fn run_one(spec: RunSpec<'_>, observer: Observer<'_>) -> Result<Outcome, WalkError> {
    let RunSpec {
        config,
        llm,
        data,
        period,
        window,
        mut recorder,
        context,
        baselines: with_baselines,
    } = spec;
    let mut config = config.clone();
    config.mode = Mode::Backtest;
    // the baselines run on the same data and period beside the run: the run keeps its core.
    // They end with it: the handle sets their halt when the run is stopped, and when this
    // function returns early (an error), by being dropped.
    let (halt, halt_handle) = Halt::new();
    let baselines = if with_baselines && context.is_some() {
        Some(spawn_baselines(
            config.clone(),
            data.to_path_buf(),
            period,
            halt,
        ))
    } else {
        None
    };
    let clock = SimulatedClock::default();
    let replay = Replay::new(ReplayConfig {
        clock: clock.clone(),
        ..ReplayConfig::new(data.to_path_buf(), config.instrument.symbol.clone())
    })
    .map_err(crate::engine::EngineError::from)?;
    let span = Arc::new(Mutex::new(DataSpan::default()));
    let seen = span.clone();
    let on_record = observer.on_record;
    let feed = replay
        .stream()
        // the replay is in time order: nothing after the period's end is read
        .take_while(move |event| {
            let before_end = matches!(event, MarketEvent::Notice { .. })
                || period.to.is_none_or(|to| event.ts() < to);
            futures::future::ready(before_end)
        })
        .filter(move |event| {
            let keep = match event {
                MarketEvent::Notice { .. } => true,
                other => period.contains(other.ts()),
            };
            if keep {
                on_record();
                if let Ok(mut span) = seen.lock() {
                    span.observe(event);
                }
            }
            futures::future::ready(keep)
        })
        .boxed();
    let broker = paper_broker(&config)?;
    let engine = Box::pin(Engine::start(config, clock, feed, broker)).await?;
    let mut first: Option<Timestamp> = None;
    let mut on_cycle = observer.on_cycle;
    let stopped = std::cell::Cell::new(false);
    let stop = async {
        observer.stop.await;
        stopped.set(true);
    };
    let summary = Box::pin(engine.run(stop, |state| {
        if let Some(recorder) = recorder.as_mut() {
            recorder.observe(state);
        }
        first.get_or_insert(state.as_of);
        on_cycle(state);
    }))
    .await?;
    let notices: Vec<String> = match (llm, first) {
        (Some(llm), Some(first)) => crate::backtest::answers::knowledge_notices(llm, first)
            .iter()
            .map(ToString::to_string)
            .collect(),
        _ => Vec::new(),
    };
    if stopped.get() {
        halt_handle.set();
    }
    let (baselines, baselines_error) = match baselines {
        None => (None, None),
        Some(Err(e)) => (None, Some(e)),
        Some(Ok(thread)) => match thread.join() {
            Ok(Ok(b)) => (Some(b), None),
            Ok(Err(e)) => (None, Some(e)),
            Err(_) => (None, Some("baselines: their thread panicked".to_owned())),
        },
    };
    let Some(mut context) = context else {
        return Ok(Outcome {
            summary,
            notices,
            report: None,
            written: None,
            baselines_error,
        });
    };
    context.period = period;
    context.window = window;
    context.model_notices = notices.clone();
    context.llm = llm.map(Llm::accounting);
    context.baselines = baselines;
    context.baselines_error = baselines_error.clone();
    if stopped.get() {
        context.stopped = Some(
            context
                .answers
                .as_deref()
                .and_then(crate::backtest::answers::incomplete)
                .unwrap_or_else(|| "the run was stopped before the end of its data".to_owned()),
        );
    }
    context.state_record()?;
    let (dir, log) = match recorder {
        Some(recorder) => (Some(recorder.dir().to_path_buf()), recorder.finish()?),
        None => (None, RunLog::default()),
    };
    let data_span = span.lock().map(|s| *s).unwrap_or_default();
    let report = Report::new(&summary, data_span, log, context);
    let written = dir.map(|dir| report.write(&dir)).transpose()?;
    Ok(Outcome {
        summary,
        notices,
        report: Some(report),
        written,
        baselines_error,
    })
}

/// [`baselines`](crate::backtest::metrics::baselines) of `config` on `data` within `period`,
/// on a thread of its own, ended early (and an error) once `halt` is set.
fn spawn_baselines(
    config: BotConfig,
    data: PathBuf,
    period: Period,
    halt: Halt,
) -> Result<std::thread::JoinHandle<Result<Baselines, String>>, String> {
    std::thread::Builder::new()
        .name("baselines".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("baselines: the async runtime cannot start: {e}"))?;
            let baselines = runtime.block_on(baselines_until(&config, &data, period, &halt));
            // cut short, whatever they came to (an error of a half-read file included)
            if halt.is_set() {
                return Err("baselines: stopped with the run".to_owned());
            }
            baselines.map_err(|e| format!("baselines: {e}"))
        })
        .map_err(|e| format!("baselines: their thread cannot start: {e}"))
}

/// What a walk-forward's caller does around each window.
pub trait WalkHooks {
    /// Window `window` is about to run: what observes it.
    fn start(&mut self, window: &Window) -> Observer<'_>;
    /// Window `window` finished (its report written when asked). An `Err` stops the
    /// walk-forward with [`WalkError::Stopped`].
    fn finish(&mut self, window: &Window, outcome: &Outcome) -> Result<(), String>;
}

/// No hooks: the windows run unobserved.
impl WalkHooks for () {
    fn start(&mut self, _: &Window) -> Observer<'_> {
        Observer::default()
    }

    fn finish(&mut self, _: &Window, _: &Outcome) -> Result<(), String> {
        Ok(())
    }
}

/// Backtests each of `windows` (from [`split`](super::split)) of `data` with `config`, each a
/// fresh bot sharing `config`'s model and so its budget: the spending cap is for the whole
/// walk-forward, not for each window. Buy-and-hold (and rule mode, for a run with a model) run
/// for every window. With `out`, each window's report is written into `out/window-NN` and the
/// overview into `out` (`walk-forward.json`, `report.html`); `out` must not hold a report
/// already ([`prepare_out`]).
///
/// # Errors
/// [`WalkError::Report`] for a bad `out`, [`WalkError::Engine`] when a window's run fails,
/// [`WalkError::Stopped`] when `hooks` stop it.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    config: &BotConfig,
    llm: Option<&Llm>,
    data: &Path,
    windows: &[Window],
    context: &Context,
    out: Option<&Path>,
    notes: Vec<String>,
    hooks: &mut dyn WalkHooks,
) -> Result<Overview, WalkError> {
    // every folder first, so a bad --out is said before anything runs
    let mut recorders = Vec::with_capacity(windows.len());
    if let Some(dir) = out {
        prepare_out(dir)?;
    }
    for w in windows {
        recorders.push(
            out.map(|dir| Recorder::create(&dir.join(w.dir_name())))
                .transpose()?,
        );
    }
    let mut results = Vec::with_capacity(windows.len());
    for (w, recorder) in windows.iter().zip(recorders) {
        let spec = RunSpec {
            config,
            llm,
            data,
            period: Period {
                from: Some(w.from),
                to: Some(w.to),
            },
            window: Some(*w),
            recorder,
            context: Some(context.clone()),
            baselines: true,
        };
        let outcome = run_one(spec, hooks.start(w)).await?;
        hooks.finish(w, &outcome).map_err(WalkError::Stopped)?;
        if let Some(report) = &outcome.report {
            results.push(WindowResult::of(*w, report));
        }
    }
    let overview = Overview::new(&context.instrument.symbol.to_string(), results, notes);
    if let Some(dir) = out {
        overview.write(dir)?;
    }
    Ok(overview)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use tradegraph_agents::node::Brain;
    use tradegraph_core::Instrument;

    fn config() -> BotConfig {
        BotConfig::new(
            Instrument::btc_usdt(),
            Brain::rules_only().unwrap(),
            Decimal::from(100_000),
            Mode::Backtest,
        )
    }

    fn bundled() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/btcusdt-1m.csv")
    }

    #[test]
    fn the_baselines_finish_while_their_run_goes_on() {
        let (halt, handle) = Halt::new();
        let thread = spawn_baselines(config(), bundled(), Period::default(), halt).unwrap();
        let baselines = thread.join().unwrap().unwrap();
        assert!(baselines.buy_and_hold_entry.is_some(), "{baselines:?}");
        drop(handle);
    }

    /// A halt stops the baselines' reading of the data, not only their result: buy-and-hold
    /// halted before it starts has read nothing (and without the halt, the whole day).
    #[test]
    fn a_halt_stops_the_baselines_reading_the_data() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (config, data) = (config(), bundled());
        let hold = |halt: &Halt| {
            let run = crate::backtest::metrics::buy_and_hold_until(
                &config,
                &data,
                Period::default(),
                halt,
            );
            runtime.block_on(run).unwrap()
        };
        let whole = hold(&Halt::never());
        assert!(whole.metrics.points > 1_000, "{:?}", whole.metrics.points);
        let (halt, handle) = Halt::new();
        handle.set();
        let halted = hold(&halt);
        assert_eq!(halted.metrics.points, 0);
        assert!(halted.entry.is_none());
    }

    #[test]
    fn the_baselines_end_with_a_run_that_was_stopped_or_failed() {
        // stopped: the handle sets the halt
        let (halt, handle) = Halt::new();
        handle.set();
        let thread = spawn_baselines(config(), bundled(), Period::default(), halt).unwrap();
        assert_eq!(
            thread.join().unwrap().unwrap_err(),
            "baselines: stopped with the run"
        );
        // failed: the run returned early and dropped the handle
        let (halt, handle) = Halt::new();
        drop(handle);
        let thread = spawn_baselines(config(), bundled(), Period::default(), halt).unwrap();
        assert_eq!(
            thread.join().unwrap().unwrap_err(),
            "baselines: stopped with the run"
        );
    }
}
