//! Prompt refinement (issue 16, item 2): the learning agent proposes an amendment to an
//! analyst's prompt from its record; the amendment becomes the prompt's next version only when
//! its shadow evaluation on the recorded cycles does better; a person can approve it or roll
//! the prompt back, and the versions survive a restart. The models are a local server in
//! OpenAI's chat-completions format.

use super::shared::llm::{desk_answer, is_agent, messages};
use super::support::*;
use futures::StreamExt;
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tradegraph::engine::{
    paper_broker, AlertKind, BotConfig, BotEvent, BotHandle, Command, Engine, Mode, ReplyKind,
};
use tradegraph_agents::learning::{rule_lesson, PromptRef, Recall, TradeOutcome, VersionStatus};
use tradegraph_agents::model::LlmModel;
use tradegraph_agents::node::{Brain, DEFAULT_GRAPH};
use tradegraph_agents::prompt::{Prompts, RenderedPrompt};
use tradegraph_agents::reports::Signal;
use tradegraph_agents::{AgentName, TradingState};
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::{Side, Timeframe, Timestamp};
use tradegraph_llm::config::{LlmConfig, ProviderConfig, ProviderKind};
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::SimulatedClock;
use tradegraph_store::{PromptRecord, Situation, Stores, StoresConfig};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const HEADING: &str = "Guidance from your record";

/// How the technical analyst's model answers a prompt carrying an amendment.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Amended {
    /// Right on every recorded cycle: SELL where the market fell, BUY where it rose.
    Better,
    /// Wrong on every one.
    Worse,
    /// HOLD on every one: it abstains where the prompt before was wrong, and where it was right.
    Hold,
    /// An answer that breaks the report's schema, every time.
    Broken,
}

/// Every agent answers validly (the technical analyst BUY); the technical analyst's prompts
/// with an amendment are answered as `amended` says, from the recorded cycle's marker.
struct Models {
    amended: Amended,
    /// The portfolio manager's first answer is a long (a stop at 95, a target at 130);
    /// every other is HOLD.
    pm_buys: std::sync::atomic::AtomicBool,
    /// The technical analyst's prompts: (system, user).
    technical: Arc<Mutex<Vec<(String, String)>>>,
}

impl Respond for Models {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let (system, user) = messages(request);
        let answer = if is_agent(&system, "technical analyst") {
            self.technical
                .lock()
                .unwrap()
                .push((system.clone(), user.clone()));
            let fell = user.contains("market fell");
            let rose = user.contains("market rose");
            let signal = match (system.contains(HEADING), self.amended, fell, rose) {
                (true, Amended::Better, true, _) | (true, Amended::Worse, _, true) => "SELL",
                (true, Amended::Better, _, true) | (true, Amended::Worse, true, _) => "BUY",
                (true, Amended::Broken, _, _) => "UP",
                (true, _, _, _) => "HOLD",
                (false, ..) => "BUY",
            };
            json!({"signal": signal, "confidence": 0.7, "reasoning": "As the tape reads.",
                   "key_levels": {"support": [], "resistance": []}})
        } else if is_agent(&system, "portfolio manager")
            && self
                .pm_buys
                .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            json!({"action": "BUY", "size_pct": 1.0, "stop_loss": 95.0, "take_profit": 130.0,
                   "trailing_pct": null, "confidence": 0.7, "rationale": "Buy the range."})
        } else {
            desk_answer(&system).unwrap_or_else(hold)
        };
        ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_733_000_000,
            "model": "gpt-test",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.to_string()},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 900, "completion_tokens": 60, "total_tokens": 960}
        }))
    }
}

type Seen = Arc<Mutex<Vec<(String, String)>>>;

async fn models(amended: Amended) -> (MockServer, Seen) {
    models_buying(amended, false).await
}

/// [`models`], the portfolio manager buying at its first answer when `pm_buys`.
async fn models_buying(amended: Amended, pm_buys: bool) -> (MockServer, Seen) {
    let technical: Seen = Arc::default();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("chat/completions$"))
        .respond_with(Models {
            amended,
            pm_buys: std::sync::atomic::AtomicBool::new(pm_buys),
            technical: Arc::clone(&technical),
        })
        .mount(&server)
        .await;
    (server, technical)
}

async fn bot(
    instrument: &tradegraph_core::Instrument,
    server: &MockServer,
    stores: Stores,
) -> (BotConfig, tokio::sync::broadcast::Receiver<BotEvent>) {
    let mut provider = ProviderConfig::new(ProviderKind::Openai);
    provider.api_key = Some("sk-test-not-a-real-key".into());
    provider.base_url = Some(format!("{}/v1", server.uri()));
    provider.model = Some("gpt-test".into());
    let llm = LlmConfig {
        providers: vec![provider],
        ..LlmConfig::default()
    }
    .build()
    .await
    .unwrap();
    let brain = Brain::rules_only()
        .unwrap()
        .with_model(Arc::new(LlmModel::new(llm)));
    let cash = tradegraph::config::default_cash(instrument.currency);
    let mut config = BotConfig::new(instrument.clone(), brain, cash, Mode::Service);
    config.graph_yaml = DEFAULT_GRAPH.to_owned();
    config.graph_origin = "trading.yaml".into();
    config.decision_every = Timeframe::M15;
    config.risk_limits = RiskLimits::default();
    config.stores = stores;
    config.recall = Recall::nearest(3);
    let (events, watched) = tokio::sync::broadcast::channel(4096);
    config.events = Some(events);
    (config, watched)
}

/// The `prompt_adopted` alerts the engine raised: (key, message).
fn adopted_alerts(
    events: &mut tokio::sync::broadcast::Receiver<BotEvent>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let BotEvent::Alert(alert) = event {
            if alert.kind == AlertKind::PromptAdopted {
                out.push((alert.key.clone(), alert.message.clone()));
            }
        }
    }
    out
}

/// Six longs the technical analyst called BUY under the shipped prompt: two won, four lost
/// (2 of 6 right). Each call's prompt is in the prompt log, marked with which way the market
/// went, as a cycle's prompt would show it.
async fn record_calls(engine: &TestEngine, stores: &Stores, symbol: &str) {
    let version = Prompts::embedded()
        .unwrap()
        .version(AgentName::Technical)
        .to_owned();
    let mut learner = engine.desk().learner().lock().unwrap().clone();
    for n in 0..6_i64 {
        let won = n < 2;
        let prompt = RenderedPrompt {
            agent: AgentName::Technical,
            system: "You are the technical analyst of a trading desk.".into(),
            user: format!(
                "<data>recorded cycle {n}: the market {} after this</data>",
                if won { "rose" } else { "fell" }
            ),
            version: version.clone(),
        };
        let hash = prompt.hash();
        stores
            .prompts
            .record_prompt(&PromptRecord::new(
                hash.clone(),
                symbol.into(),
                "technical",
                version.clone(),
                prompt.system.clone(),
                prompt.user.clone(),
                Timestamp::from_secs(1_700_000_000 + n * 3_600),
            ))
            .await
            .unwrap();
        let outcome = TradeOutcome {
            trade_id: format!("t-{n}"),
            instrument: symbol.into(),
            side: Side::Buy,
            opened_at: Timestamp::from_secs(1_700_000_000 + n * 3_600),
            closed_at: Timestamp::from_secs(1_700_001_800 + n * 3_600),
            entry_price: Decimal::from(100),
            exit_price: Decimal::from(if won { 103 } else { 97 }),
            pnl: Decimal::from(if won { 3 } else { -3 }),
            quantity: Decimal::ONE,
            fees: Decimal::ZERO,
            return_pct: if won { 0.3 } else { -0.3 },
            signals: BTreeMap::from([(AgentName::Technical, Signal::Buy)]),
            situation: Situation::default(),
            prompts: BTreeMap::from([(
                AgentName::Technical,
                PromptRef {
                    version: version.clone(),
                    hash: Some(hash),
                },
            )]),
        };
        learner.learn(&outcome, rule_lesson).unwrap();
    }
    *engine.desk().learner().lock().unwrap() = learner;
}

/// The engine on the bar files `parts` in turn, each after the test opened its gate (the
/// first at once), its feed kept open after the last so that it takes commands; the gates.
async fn open_engine(
    config: BotConfig,
    parts: &[std::path::PathBuf],
) -> (TestEngine, Vec<tokio::sync::oneshot::Sender<()>>) {
    let broker = paper_broker(&config).unwrap();
    let clock = SimulatedClock::default();
    let mut gates = Vec::new();
    let mut feed = futures::stream::empty().boxed();
    for (i, part) in parts.iter().enumerate() {
        let replay = Replay::new(ReplayConfig {
            clock: clock.clone(),
            ..ReplayConfig::new(part.clone(), config.instrument.symbol.clone())
        })
        .unwrap();
        let events = replay.stream();
        feed = if i == 0 {
            feed.chain(events).boxed()
        } else {
            let (open, opened) = tokio::sync::oneshot::channel::<()>();
            gates.push(open);
            let gate = futures::stream::once(opened).filter_map(|_| async { None });
            feed.chain(gate).chain(events).boxed()
        };
    }
    let feed = feed.chain(futures::stream::pending()).boxed();
    let engine = Box::pin(Engine::start(config, clock, feed, broker))
        .await
        .unwrap();
    (engine, gates)
}

/// Waits until the bot has run `cycles` cycles.
async fn cycles(bot: &BotHandle, cycles: u64) {
    let mut status = bot.watch_status();
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        status.wait_for(|s| s.cycles >= cycles),
    )
    .await
    .expect("the cycles within a minute")
    .unwrap();
}

/// Waits until `agent`'s version `number` is no longer `proposed` with `attempts` shadow
/// evaluations tried (0: settled); its status then.
async fn settled(bot: &BotHandle, number: u32, attempts: u32) -> VersionStatus {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let versions = bot.prompt_versions();
        if let Some(v) = versions.version(AgentName::Technical, number) {
            if v.status() != VersionStatus::Proposed || (attempts > 0 && v.attempts >= attempts) {
                return v.status();
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "v{number} not settled: {versions:#?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Runs `engine` while `then` drives it through its handle and gates, then stops it. The
/// cycles' states.
async fn drive<F, Fut>(
    engine: TestEngine,
    gates: Vec<tokio::sync::oneshot::Sender<()>>,
    then: F,
) -> Vec<TradingState>
where
    F: FnOnce(BotHandle, Vec<tokio::sync::oneshot::Sender<()>>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let handle = engine.handle();
    let states = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&states);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let driver = async {
        then(handle.clone(), gates).await;
        stop.send(()).unwrap();
    };
    let running = Box::pin(engine.run(
        async {
            let _ = stopped.await;
        },
        move |s| sink.lock().unwrap().push(s.clone()),
    ));
    let (summary, ()) = tokio::join!(running, driver);
    summary.unwrap();
    let states = states.lock().unwrap().clone();
    states
}

/// Bars for the 00:15 cycle, then (after a gate) for the 00:30 cycle, named after `name`.
fn two_cycles(name: &str) -> Vec<std::path::PathBuf> {
    let bars = flat(100.0, 31);
    vec![
        bars_file(&format!("{name}-a"), "2024-03-04T00:00:00Z", &bars[..16]),
        bars_file(&format!("{name}-b"), "2024-03-04T00:16:00Z", &bars[16..]),
    ]
}

fn technical_version(state: &TradingState) -> String {
    state.prompt_versions[&AgentName::Technical].clone()
}

/// The first life of a bot whose technical analyst's model answers amended prompts as
/// `amended` says: the 00:15 cycle proposes v1; the test waits until its shadow evaluation
/// settles (or, with `attempts`, until it was tried that many times), then lets the 00:30
/// cycle run; `then` goes on with the handle.
async fn first_life<F, Fut>(
    amended: Amended,
    stores: Stores,
    symbol: &str,
    attempts: u32,
    then: F,
) -> (
    Vec<TradingState>,
    Seen,
    Vec<(String, String)>,
    VersionStatus,
)
where
    F: FnOnce(BotHandle) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let instrument = btc_as(symbol);
    let (server, technical) = models(amended).await;
    let (config, mut events) = bot(&instrument, &server, stores.clone()).await;
    let (engine, gates) = open_engine(config, &two_cycles(symbol)).await;
    record_calls(&engine, &stores, symbol).await;
    let status = Arc::new(Mutex::new(None));
    let seen_status = Arc::clone(&status);
    let states = drive(engine, gates, |bot, mut gates| async move {
        cycles(&bot, 1).await;
        *seen_status.lock().unwrap() = Some(settled(&bot, 1, attempts).await);
        gates.remove(0).send(()).unwrap();
        cycles(&bot, 2).await;
        then(bot).await;
    })
    .await;
    let status = status.lock().unwrap().unwrap();
    (states, technical, adopted_alerts(&mut events), status)
}

/// The technical analyst's version 1 as the bot holds it now.
fn version_1(bot: &BotHandle) -> tradegraph_agents::learning::PromptVersion {
    bot.prompt_versions()
        .version(AgentName::Technical, 1)
        .cloned()
        .expect("v1 proposed")
}

fn template() -> String {
    Prompts::embedded()
        .unwrap()
        .version(AgentName::Technical)
        .to_owned()
}

/// The technical analyst's prompt of a cycle, as sent.
fn technical_prompt(state: &TradingState) -> &RenderedPrompt {
    state
        .prompts
        .values()
        .find(|p| p.agent == AgentName::Technical)
        .unwrap()
}

#[tokio::test]
async fn a_prompt_amendment_that_makes_the_shadow_evaluation_worse_is_not_adopted() {
    let (states, technical, alerts, status) = Box::pin(first_life(
        Amended::Worse,
        Stores::memory(),
        &unique("RW"),
        0,
        |bot| async move {
            let versions = bot.prompt_versions();
            let v1 = versions.version(AgentName::Technical, 1).unwrap();
            assert_eq!((v1.evidence.calls, v1.evidence.hits), (6, 2));
            assert_eq!(
                v1.evidence.lessons.len(),
                4,
                "the lessons of the four losses"
            );
            let shadow = v1.evidence.shadow.expect("evaluated");
            assert_eq!(
                (shadow.cycles, shadow.changed, shadow.unanswered),
                (6, 2, 0)
            );
            assert_eq!(
                (shadow.current.hits, shadow.current.net()),
                (2, -2),
                "the prompt as sent, asked again: 2 right, 4 wrong"
            );
            assert_eq!((shadow.amended.hits, shadow.amended.net()), (0, -6));
            let text = v1.amendment.text();
            assert!(text.contains("2 of your last 6 calls"), "{text}");
            assert!(
                text.contains("- 4 of them: a BUY against a falling trend")
                    || text.contains("- 4 of them: a direction the other readings did not confirm"),
                "our own advice, from the calls' situations: {text}"
            );
            assert!(versions.adopted(AgentName::Technical).is_none());
            // A person can still adopt it.
            let reply = bot
                .send(
                    Command::ApprovePrompt {
                        agent: AgentName::Technical,
                        version: 1,
                    },
                    Some("tester".into()),
                )
                .await
                .unwrap();
            assert_eq!(reply.kind, ReplyKind::Done, "{reply:?}");
            let v1 = version_1(&bot);
            assert_eq!(v1.status(), VersionStatus::Adopted);
            assert_eq!(
                serde_json::to_value(&v1.history.last().unwrap().by).unwrap(),
                json!({"kind": "person", "via": "tester"})
            );
        },
    ))
    .await;
    assert_eq!(status, VersionStatus::Rejected);
    assert_eq!(states.len(), 2);
    for state in &states {
        assert_eq!(
            technical_version(state),
            template(),
            "the shipped prompt throughout"
        );
        assert!(!technical_prompt(state).system.contains(HEADING));
    }
    let seen = technical.lock().unwrap().clone();
    let recorded: Vec<&(String, String)> = seen
        .iter()
        .filter(|(_, user)| user.contains("recorded cycle"))
        .collect();
    assert_eq!(
        recorded.len(),
        12,
        "each recorded cycle asked twice: as sent, and amended"
    );
    assert_eq!(
        recorded
            .iter()
            .filter(|(system, _)| system.contains(HEADING))
            .count(),
        6
    );
    assert!(alerts.is_empty(), "nothing adopted by itself");
}

#[tokio::test]
async fn an_amendment_that_only_answers_hold_is_not_adopted() {
    let (states, _, alerts, status) = Box::pin(first_life(
        Amended::Hold,
        Stores::memory(),
        &unique("RH"),
        0,
        |bot| async move {
            let v1 = version_1(&bot);
            let shadow = v1.evidence.shadow.unwrap();
            assert_eq!(
                (
                    shadow.amended.hits,
                    shadow.amended.net(),
                    shadow.current.net()
                ),
                (0, 0, -2),
                "fewer wrong calls, but no more right ones: abstaining is not skill"
            );
        },
    ))
    .await;
    assert_eq!(status, VersionStatus::Rejected);
    assert_eq!(technical_version(&states[1]), template());
    assert!(alerts.is_empty());
}

#[tokio::test]
async fn an_evaluation_the_model_gives_no_usable_answers_for_leaves_the_proposal_pending() {
    let (states, _, alerts, status) = Box::pin(first_life(
        Amended::Broken,
        Stores::memory(),
        &unique("RX"),
        1,
        |bot| async move {
            let v1 = version_1(&bot);
            assert!(v1.attempts >= 1, "{v1:#?}");
            assert!(v1.evidence.shadow.is_none(), "no scores from no answers");
        },
    ))
    .await;
    assert_eq!(
        status,
        VersionStatus::Proposed,
        "not rejected: it was never judged"
    );
    assert_eq!(technical_version(&states[1]), template());
    assert!(alerts.is_empty());
}

#[tokio::test]
async fn an_amendment_that_does_better_is_adopted_used_rolled_back_and_kept_over_a_restart() {
    let path = std::env::temp_dir().join(format!("{}.json", unique("tg-refine-")));
    let connect = |path: &std::path::Path| {
        let config = StoresConfig::new().state_file(Some(path.to_owned()));
        async move { Stores::connect(config).await.unwrap() }
    };
    let template = template();

    // First life: the 00:15 cycle proposes v1 and its shadow evaluation adopts it; the 00:30
    // cycle's technical analyst is sent the amended prompt.
    let symbol = unique("RB");
    let stores = connect(&path).await;
    let (states, technical, alerts, status) = Box::pin(first_life(
        Amended::Better,
        stores.clone(),
        &symbol,
        0,
        |bot| async move {
            let v1 = version_1(&bot);
            let shadow = v1.evidence.shadow.unwrap();
            assert_eq!(
                (shadow.current.hits, shadow.amended.hits, shadow.changed),
                (2, 6, 4)
            );
            assert_eq!(
                serde_json::to_value(&v1.history.last().unwrap().by).unwrap(),
                json!({"kind": "shadow"})
            );
        },
    ))
    .await;
    assert_eq!(status, VersionStatus::Adopted);
    assert_eq!(
        technical_version(&states[0]),
        template,
        "proposed after its reports"
    );
    assert_eq!(technical_version(&states[1]), format!("{template}+v1"));
    let amended = technical_prompt(&states[1]);
    assert_eq!(amended.version, format!("{template}+v1"));
    assert!(
        amended.system.ends_with(&format!(
            "{HEADING} (prompt version v1):\n{}",
            states[1].amendments[&AgentName::Technical].amendment.text()
        )),
        "{}",
        amended.system
    );
    let live_amended = technical
        .lock()
        .unwrap()
        .iter()
        .filter(|(system, user)| system.contains(HEADING) && !user.contains("recorded cycle"))
        .count();
    assert_eq!(live_amended, 1, "the 00:30 cycle's prompt, as sent");
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].0, "prompt_adopted:technical:v1");
    assert!(
        alerts[0]
            .1
            .contains("it called 6 right (net +6) where the prompt before called 2 right")
            && alerts[0]
                .1
                .contains("tradegraph prompts rollback --agent technical --to 0"),
        "{}",
        alerts[0].1
    );
    stores.shutdown().await;
    drop(stores);

    // Second life: v1 is still in use (the 00:45 cycle; the two before are done and not run
    // again); a person rolls it back to the template (the 01:00 cycle is sent the template),
    // then restores v1.
    let stores = connect(&path).await;
    let instrument = btc_as(&symbol);
    let (server, _) = models(Amended::Better).await;
    let bars = flat(100.0, 61);
    let parts = vec![
        bars_file(&format!("{symbol}-a"), "2024-03-04T00:00:00Z", &bars[..46]),
        bars_file(&format!("{symbol}-b"), "2024-03-04T00:46:00Z", &bars[46..]),
    ];
    let (config, _events) = bot(&instrument, &server, stores.clone()).await;
    let (engine, gates) = open_engine(config, &parts).await;
    let states = drive(engine, gates, |bot, mut gates| async move {
        cycles(&bot, 3).await;
        let technical = AgentName::Technical;
        let send = |command: Command| {
            let bot = bot.clone();
            async move { bot.send(command, Some("tester".into())).await.unwrap() }
        };
        let refused = send(Command::ApprovePrompt {
            agent: technical,
            version: 1,
        })
        .await;
        assert_eq!(
            refused.kind,
            ReplyKind::Refused,
            "adopted already: {refused:?}"
        );
        assert!(
            refused.message.contains("it is adopted"),
            "{}",
            refused.message
        );
        let missing = send(Command::RollbackPrompt {
            agent: technical,
            to: 7,
        })
        .await;
        assert_eq!(missing.kind, ReplyKind::Refused);
        assert!(
            missing.message.contains("no such version"),
            "{}",
            missing.message
        );
        let back = send(Command::RollbackPrompt {
            agent: technical,
            to: 0,
        })
        .await;
        assert_eq!(back.kind, ReplyKind::Done, "{back:?}");
        assert!(bot.prompt_versions().adopted(technical).is_none());
        assert_eq!(
            bot.prompt_versions()
                .version(technical, 1)
                .unwrap()
                .status(),
            VersionStatus::RolledBack
        );
        let again = send(Command::RollbackPrompt {
            agent: technical,
            to: 0,
        })
        .await;
        assert_eq!(again.kind, ReplyKind::Refused, "in use already");
        gates.remove(0).send(()).unwrap();
        cycles(&bot, 4).await;
        let restored = send(Command::RollbackPrompt {
            agent: technical,
            to: 1,
        })
        .await;
        assert_eq!(restored.kind, ReplyKind::Done, "{restored:?}");
        assert_eq!(bot.prompt_versions().adopted(technical).unwrap().number, 1);
    })
    .await;
    let versions: Vec<String> = states.iter().map(technical_version).collect();
    assert_eq!(
        versions,
        [format!("{template}+v1"), template.clone()],
        "restored with the learner, then rolled back"
    );
    assert!(technical_prompt(&states[0]).system.contains(HEADING));
    assert!(!technical_prompt(&states[1]).system.contains(HEADING));
    stores.shutdown().await;
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_trade_the_desk_took_is_judged_on_the_prompt_its_analyst_was_sent() {
    let symbol = unique("RT");
    let instrument = btc_as(&symbol);
    let (server, _) = models_buying(Amended::Better, true).await;
    let stores = Stores::memory();
    let (config, _events) = bot(&instrument, &server, stores.clone()).await;
    // Flat at 100 to 00:16 (the 00:15 cycle buys, filled at 00:16's open), through the stop at
    // 00:17, flat at 91 to 00:30 (that cycle's learning agent judges the trade).
    let mut bars = flat(100.0, 17);
    bars.push((100.0, 100.0, 90.0, 91.0));
    bars.extend(flat(91.0, 13));
    let (engine, gates) =
        open_engine(config, &[bars_file(&symbol, "2024-03-04T00:00:00Z", &bars)]).await;
    let judged = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&judged);
    let states = drive(engine, gates, |bot, _| async move {
        cycles(&bot, 2).await;
        *seen.lock().unwrap() = bot
            .prompt_versions()
            .calls(AgentName::Technical)
            .cloned()
            .collect();
    })
    .await;
    let calls: Vec<tradegraph_agents::learning::Call> = judged.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "the one trade: {calls:#?}");
    let call = &calls[0];
    assert_eq!(
        (call.signal, call.moved),
        (Signal::Buy, Signal::Sell),
        "a long that lost"
    );
    assert_eq!(
        call.version,
        template(),
        "the prompt version of the cycle that opened it"
    );
    let opened = &states[0];
    assert!(!opened.orders.is_empty(), "the 00:15 cycle bought");
    let exchange = opened
        .technical
        .as_ref()
        .unwrap()
        .exchange
        .as_ref()
        .unwrap();
    assert_eq!(
        call.prompt_hash.as_deref(),
        Some(exchange.prompt_hash.as_str())
    );
    let stored = stores
        .prompts
        .prompt(&exchange.prompt_hash)
        .await
        .unwrap()
        .expect("in the prompt log under the hash the call keeps");
    let sent = technical_prompt(opened);
    assert_eq!(
        (stored.system.as_str(), stored.user.as_str()),
        (sent.system.as_str(), sent.user.as_str())
    );
    assert_eq!(call.trade_id, opened.orders[0].request.client_id.as_str());
}

/// Runs two cycles of a bot configured by `adjust` whose technical analyst has a poor record
/// (and, with `pending`, a proposal made already); what the model server was sent and the
/// versions after.
async fn two_cycles_of(
    adjust: impl FnOnce(&mut BotConfig),
    pending: bool,
) -> (
    Vec<(String, String)>,
    tradegraph_agents::learning::PromptVersions,
) {
    let symbol = unique("RO");
    let instrument = btc_as(&symbol);
    let (server, technical) = models(Amended::Better).await;
    let stores = Stores::memory();
    let (mut config, _events) = bot(&instrument, &server, stores.clone()).await;
    adjust(&mut config);
    let bars = flat(100.0, 31);
    let part = bars_file(&symbol, "2024-03-04T00:00:00Z", &bars);
    let (engine, gates) = open_engine(config, &[part]).await;
    record_calls(&engine, &stores, &symbol).await;
    if pending {
        let mut learner = engine.desk().learner().lock().unwrap();
        let policy = tradegraph_agents::learning::RefinePolicy::default();
        let at = Timestamp::from_secs(1_700_100_000);
        assert!(learner
            .propose(AgentName::Technical, &template(), &policy, at)
            .is_some());
    }
    let versions = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&versions);
    drive(engine, gates, |bot, _| async move {
        cycles(&bot, 2).await;
        *seen.lock().unwrap() = Some(bot.prompt_versions());
    })
    .await;
    let sent = technical.lock().unwrap().clone();
    let versions = versions.lock().unwrap().take().unwrap();
    (sent, versions)
}

#[tokio::test]
async fn with_refinement_off_nothing_is_proposed_and_a_pending_proposal_is_not_evaluated() {
    let off = |config: &mut BotConfig| {
        config.brain = config
            .brain
            .clone()
            .with_refine(tradegraph_agents::learning::RefinePolicy::off());
    };
    let (sent, versions) = Box::pin(two_cycles_of(off, false)).await;
    assert!(versions.all().next().is_none(), "{versions:#?}");
    assert!(sent
        .iter()
        .all(|(_, user)| !user.contains("recorded cycle")));
    let (sent, versions) = Box::pin(two_cycles_of(off, true)).await;
    assert_eq!(
        versions.version(AgentName::Technical, 1).unwrap().status(),
        VersionStatus::Proposed,
        "made before the switch, and left as it is"
    );
    assert!(
        sent.iter()
            .all(|(_, user)| !user.contains("recorded cycle")),
        "no shadow evaluation"
    );
}

#[tokio::test]
async fn a_backtest_keeps_its_prompts_fixed() {
    let backtest = |config: &mut BotConfig| config.mode = Mode::Backtest;
    let (sent, versions) = Box::pin(two_cycles_of(backtest, false)).await;
    assert!(versions.all().next().is_none(), "{versions:#?}");
    assert!(!sent.is_empty(), "the technical analyst was asked");
    assert!(sent
        .iter()
        .all(|(system, user)| !user.contains("recorded cycle") && !system.contains(HEADING)));
}

/// How a prompt log's reads go wrong.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Down {
    /// They never answer (a store that hangs).
    Hang,
    /// They fail as a store that is down fails (transient).
    Fail,
    /// They give records that do not decode (written by another version): never transient.
    Undecodable,
    /// The log was closed (a store shut down under it): not transient, not the records'.
    Closed,
}

/// A prompt log whose writes go to memory and whose reads go wrong as `down` says.
struct DownPromptLog {
    inner: Arc<dyn tradegraph_store::PromptLog>,
    down: Down,
}

#[async_trait::async_trait]
impl tradegraph_store::PromptLog for DownPromptLog {
    async fn record_prompt(
        &self,
        prompt: &PromptRecord,
    ) -> Result<(), tradegraph_store::StoreError> {
        self.inner.record_prompt(prompt).await
    }
    async fn prompt(
        &self,
        prompt_hash: &str,
    ) -> Result<Option<PromptRecord>, tradegraph_store::StoreError> {
        match self.down {
            Down::Hang => std::future::pending().await,
            Down::Fail => Err(tradegraph_store::StoreError::Unavailable {
                backend: "mongodb",
                record: format!("prompts {prompt_hash}"),
                reason: "the primary is stepping down".into(),
            }),
            Down::Undecodable => Err(tradegraph_store::StoreError::Decode {
                what: format!("prompts {prompt_hash}"),
                reason: "missing field `user`".into(),
            }),
            Down::Closed => Err(tradegraph_store::StoreError::Closed),
        }
    }
}

/// Two cycles of a bot whose pending proposal's recorded prompts cannot be read (as `down`
/// says); `during` runs after the first cycle, before the second. The technical
/// analyst's version 1 after the second cycle.
async fn with_the_prompt_log_down<F, Fut>(
    down: Down,
    during: F,
) -> tradegraph_agents::learning::PromptVersion
where
    F: FnOnce(BotHandle) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let symbol = unique("RD");
    let instrument = btc_as(&symbol);
    let (server, _) = models(Amended::Better).await;
    let mut stores = Stores::memory();
    stores.prompts = Arc::new(DownPromptLog {
        inner: Arc::clone(&stores.prompts),
        down,
    });
    let (mut config, _events) = bot(&instrument, &server, stores.clone()).await;
    config.cycle_deadline = Some(std::time::Duration::from_secs(1));
    let (engine, gates) = open_engine(config, &two_cycles(&symbol)).await;
    record_calls(&engine, &stores, &symbol).await;
    let v1 = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&v1);
    drive(engine, gates, |bot, mut gates| async move {
        cycles(&bot, 1).await;
        during(bot.clone()).await;
        gates.remove(0).send(()).unwrap();
        cycles(&bot, 2).await;
        *seen.lock().unwrap() = Some(version_1(&bot));
    })
    .await;
    let v1 = v1.lock().unwrap().take().unwrap();
    v1
}

/// The recorded prompts are read on the evaluation's own task: a prompt log that does not
/// answer holds up neither the loop (a kill switch is served at once) nor the next cycle, and
/// its silence is not the proposal's attempt.
#[tokio::test]
async fn a_prompt_log_that_hangs_holds_up_neither_the_loop_nor_the_proposal() {
    let v1 = Box::pin(with_the_prompt_log_down(Down::Hang, |bot| async move {
        let reply = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            bot.send(Command::KillSwitch { engaged: true }, None),
        )
        .await
        .expect("the kill switch served while the prompt log hangs")
        .unwrap();
        assert_eq!(reply.kind, ReplyKind::Done, "{reply:?}");
        // The reads give up after their bound (the cycle's deadline, 1 s).
        tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    }))
    .await;
    assert_eq!(
        (v1.status(), v1.attempts),
        (VersionStatus::Proposed, 0),
        "{v1:#?}"
    );
}

/// A prompt log that fails its reads (a store down, or closed under it) counts no attempt:
/// the proposal is not withdrawn for prompts the log holds but could not give.
#[tokio::test]
async fn a_prompt_log_that_fails_does_not_count_against_the_proposal() {
    for down in [Down::Fail, Down::Closed] {
        let v1 = Box::pin(with_the_prompt_log_down(down, |_| async {})).await;
        assert_eq!(
            (v1.status(), v1.attempts),
            (VersionStatus::Proposed, 0),
            "{down:?}: {v1:#?}"
        );
        assert!(v1.evidence.shadow.is_none());
    }
}

/// Records the prompt log cannot give back (they do not decode) are left out, as prompts not
/// in the log are: the evaluation finds too few and counts its attempts, so the proposal is
/// withdrawn in time instead of waiting forever as for a log that is down.
#[tokio::test]
async fn records_the_prompt_log_cannot_decode_are_left_out_and_count() {
    let v1 = Box::pin(with_the_prompt_log_down(Down::Undecodable, |_| async {})).await;
    assert!(v1.attempts >= 1, "{v1:#?}");
    assert!(v1.evidence.shadow.is_none());
}
