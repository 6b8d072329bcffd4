//! A replayed LLM year: one year of one-minute BTC bars (525,600), a decision every 15 minutes
//! (35,040 cycles of `graphs/trading.yaml`) with every agent answered by a model, each answer
//! from a record (`tradegraph backtest --replay`). The bench makes the record itself, with an
//! in-process desk of models (no network), then times the replay against the same year in
//! rule mode. Both run as `tradegraph backtest` runs them: on a runtime of one thread, with the
//! binary's allocator (mimalloc).
//!
//! Run: `cargo bench -p tradegraph --bench replay_year`. Target: the replay within 2x the rule
//! mode's time (issue 15), printed with the figure. Criterion then repeats the year's first
//! week both ways (the week replayed from its own record, opened for each run). The record
//! layer itself (keys, lookups, reading the file) is about a tenth of a replay, most of it
//! hashing each request for its key: the rest is the agents' work in model mode (rendering and
//! defusing nine prompts a cycle, checking and parsing the answers) that rule mode never does.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tradegraph::engine::{backtest, BotConfig, BotSummary, Mode};
use tradegraph_agents::model::LlmModel;
use tradegraph_agents::node::{Brain, DEFAULT_GRAPH};
use tradegraph_core::{Instrument, Timeframe};
use tradegraph_llm::record::RecordBook;
use tradegraph_llm::{async_trait, Content, Llm, LlmError, Provider, Request, Response, Usage};

#[path = "support/year_data.rs"]
mod year_data;
use year_data::year_file;

/// The `tradegraph` binary's allocator, as `tradegraph backtest` runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TARGET_RATIO: f64 = 2.0;

/// The year's first week (10,080 bars), for criterion's repeated runs.
fn week_file(year: &Path) -> PathBuf {
    let path = std::env::temp_dir().join("tradegraph-bench-week-btc-1m.csv");
    let text = std::fs::read_to_string(year).unwrap();
    let week: Vec<&str> = text.lines().take(1 + 7 * 1440).collect();
    std::fs::write(&path, week.join("\n") + "\n").unwrap();
    path
}

/// A desk of models in process: each agent gets a valid report; the portfolio manager buys
/// on every 40th decision (a stop 3% below the last price, a target 5% above) and holds
/// otherwise.
#[derive(Debug, Default)]
struct Desk {
    decisions: std::sync::atomic::AtomicU64,
}

/// The number after `label` in `text`, up to the end of its sentence.
fn number_after(text: &str, label: &str) -> Option<f64> {
    let rest = &text[text.find(label)? + label.len()..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '\n')
        .unwrap_or(rest.len());
    rest[..end].trim_end_matches('.').parse().ok()
}

#[async_trait]
impl Provider for Desk {
    fn name(&self) -> &str {
        "desk"
    }
    fn model(&self) -> &str {
        "desk-1"
    }
    async fn complete(&self, request: &Request) -> Result<Response, LlmError> {
        let answer = match request.agent.as_deref().unwrap_or_default() {
            "technical" => {
                json!({"signal": "BUY", "confidence": 0.7, "reasoning": "Higher lows above the EMA.",
                "key_levels": {"support": [], "resistance": []}})
            }
            "fundamental" => {
                json!({"thesis": "Adoption keeps growing.", "signal": "HOLD", "confidence": 0.5})
            }
            "sentiment" => json!({"score": 0.2, "confidence": 0.6, "drivers": ["steady flows"]}),
            "macro" => {
                json!({"regime": "neutral", "confidence": 0.5, "factors": ["rates on hold"]})
            }
            "bull" | "bear" => {
                json!({"argument": "The evidence is mixed.", "points": [], "rebuttal": "", "conviction": 0.5})
            }
            "risk_manager" => {
                json!({"risk_score": 0.3, "max_position_pct": 5.0, "stop_loss_pct": 3.0,
                "take_profit_pct": 5.0, "warnings": []})
            }
            "portfolio_manager" => {
                let n = self
                    .decisions
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let user = request
                    .turns()
                    .last()
                    .map(|m| m.content.as_str())
                    .unwrap_or_default();
                match number_after(user, "Last price: ").filter(|_| n.is_multiple_of(40)) {
                    Some(price) => json!({"action": "BUY", "size_pct": 2.0,
                        "stop_loss": (price * 0.97 * 100.0).round() / 100.0,
                        "take_profit": (price * 1.05 * 100.0).round() / 100.0,
                        "trailing_pct": null, "confidence": 0.8, "rationale": "Trend and flows agree."}),
                    None => {
                        json!({"action": "HOLD", "size_pct": 0.0, "stop_loss": null, "take_profit": null,
                        "trailing_pct": null, "confidence": 0.6, "rationale": "Nothing new."})
                    }
                }
            }
            "learning" => json!({"text": "A small long with a wide stop held through chop."}),
            other => {
                return Err(LlmError::BadRequest {
                    provider: "desk".into(),
                    status: 400,
                    message: format!("unknown agent {other}"),
                })
            }
        };
        Ok(
            Response::new("desk", "desk-1", Content::Text(answer.to_string()))
                .with_usage(Usage::new(900, 60)),
        )
    }
}

fn config(brain: Brain) -> BotConfig {
    let instrument = Instrument::btc_usdt();
    let cash = tradegraph::config::default_cash(instrument.currency);
    let mut config = BotConfig::new(instrument, brain, cash, Mode::Backtest);
    config.graph_yaml = DEFAULT_GRAPH.to_owned();
    config.decision_every = Timeframe::M15;
    config
}

fn with_model(llm: Llm) -> Brain {
    Brain::rules_only()
        .unwrap()
        .with_model(Arc::new(LlmModel::new(llm)))
}

/// The chain that replays `book`.
fn replayer(book: &Arc<RecordBook>) -> Llm {
    let mut builder = Llm::builder();
    for p in book.replayers() {
        builder = builder.provider_arc(p, Default::default());
    }
    builder.build().unwrap()
}

fn run(runtime: &tokio::runtime::Runtime, brain: Brain, data: &Path) -> (BotSummary, f64) {
    let start = Instant::now();
    let summary = runtime
        .block_on(Box::pin(backtest(config(brain), data, |_| {})))
        .unwrap();
    (summary, start.elapsed().as_secs_f64())
}

/// Runs `data` with a fresh in-process desk behind a recorder writing `record` (emptied
/// first): the run's summary, its seconds and the answers recorded.
fn record_run(
    runtime: &tokio::runtime::Runtime,
    record: &Path,
    data: &Path,
) -> (BotSummary, f64, usize) {
    let _ = std::fs::remove_file(record);
    let book = RecordBook::record(record).unwrap();
    let desk: Arc<dyn Provider> = Arc::new(Desk::default());
    let llm = Llm::builder()
        .provider_arc(book.layer(desk), Default::default())
        .build()
        .unwrap();
    book.begin(&llm).unwrap();
    let (summary, secs) = run(runtime, with_model(llm), data);
    assert!(book.write_error().is_none());
    (summary, secs, book.answers())
}

/// Opens `record` and replays `data` from it: the run's summary, its seconds with the record's
/// loading, and the loading's seconds. Asserts no miss and the recording's cycles and trades.
fn replay_run(
    runtime: &tokio::runtime::Runtime,
    record: &Path,
    data: &Path,
    recorded: &BotSummary,
) -> (BotSummary, f64, f64) {
    let start = Instant::now();
    let book = RecordBook::replay(record).unwrap();
    let load_secs = start.elapsed().as_secs_f64();
    let (replayed, run_secs) = run(runtime, with_model(replayer(&book)), data);
    assert!(book.misses().is_empty(), "{:?}", &book.misses()[..1]);
    assert_eq!(
        (replayed.cycles, replayed.trades),
        (recorded.cycles, recorded.trades),
        "the replay decides as the recording did"
    );
    (replayed, load_secs + run_secs, load_secs)
}

fn replay_year(c: &mut Criterion) {
    let data = year_file();
    // one thread, as `tradegraph backtest` runs (the agents' calls run concurrently on it)
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // the record, made here with the in-process desk
    let record = std::env::temp_dir().join("tradegraph-bench-replay-year.jsonl");
    let (recorded, record_secs, answers) = record_run(&runtime, &record, &data);

    let (rules, rule_secs) = run(&runtime, Brain::rules_only().unwrap(), &data);
    let (replayed, replay_secs, load_secs) = replay_run(&runtime, &record, &data, &recorded);
    let ratio = replay_secs / rule_secs;
    let verdict = if ratio <= TARGET_RATIO {
        "met"
    } else {
        "MISSED"
    };
    let size = std::fs::metadata(&record).map_or(0, |m| m.len());
    println!(
        "replayed LLM year ({} cycles, {} trades, {answers} answers, record {:.0} MB read in {load_secs:.2} s): {replay_secs:.2} s; rule mode ({} cycles, {} trades): {rule_secs:.2} s; ratio {ratio:.2}x (target <= {TARGET_RATIO:.0}x: {verdict}); recording took {record_secs:.2} s",
        replayed.cycles,
        replayed.trades,
        size as f64 / 1e6,
        rules.cycles,
        rules.trades,
    );

    let _ = std::fs::remove_file(&record);

    // criterion repeats a week (the year takes minutes a run), replayed from the week's own
    // record, opened afresh each time: a record answers each request as often as the
    // recording asked it, and an ask beyond that is a miss
    let week = week_file(&data);
    let week_record = std::env::temp_dir().join("tradegraph-bench-replay-week.jsonl");
    let (week_recorded, _, _) = record_run(&runtime, &week_record, &week);
    let mut group = c.benchmark_group("replay_year");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("BTC 2024, first week, every answer replayed", |b| {
        b.iter(|| replay_run(&runtime, &week_record, &week, &week_recorded));
    });
    group.bench_function("BTC 2024, first week, rule mode", |b| {
        b.iter(|| run(&runtime, Brain::rules_only().unwrap(), &week));
    });
    group.finish();
    let _ = std::fs::remove_file(&week_record);
    let _ = std::fs::remove_file(&week);
}

criterion_group!(benches, replay_year);
criterion_main!(benches);
