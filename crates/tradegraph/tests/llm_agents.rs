//! The agents' LLM path end to end: a local server speaking OpenAI's chat-completions format
//! answers each agent — valid JSON, JSON that breaks the schema and is fixed by the repair turn,
//! or a server error — and the graph records which mode produced every report.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use serde_json::{json, Value};
use std::sync::Arc;
use tradegraph::config::default_cash;
use tradegraph_agents::model::LlmModel;
use tradegraph_agents::node::{registry, Brain, DEFAULT_GRAPH};
use tradegraph_agents::reports::{AgentMode, RuleReason, Spend};
use tradegraph_agents::{fixture, TradingState};
use tradegraph_core::Instrument;
use tradegraph_graph::{yaml, RunConfig};
use tradegraph_llm::budget::{Price, PriceTable};
use tradegraph_llm::config::{LlmConfig, ProviderConfig, ProviderKind};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const REPAIR: &str = "does not match the required JSON Schema";

/// Answers like a model that knows which agent is asking.
struct Desk;

fn completion(content: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1_733_000_000, "model": "gpt-test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content.to_string()},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 900, "completion_tokens": 60, "total_tokens": 960}
    }))
}

impl Respond for Desk {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let messages = body["messages"].as_array().unwrap();
        let system = messages[0]["content"].as_str().unwrap_or_default();
        let repairing = messages
            .iter()
            .any(|m| m["content"].as_str().is_some_and(|c| c.contains(REPAIR)));
        if system.contains("technical analyst") {
            completion(&json!({"signal": "BUY", "confidence": 0.81,
                "reasoning": "Price holds above the EMA with rising MACD.",
                "key_levels": {"support": [94000.0], "resistance": [96500.0]}}))
        } else if system.contains("sentiment analyst") {
            if repairing {
                completion(&json!({"score": 0.4, "confidence": 0.7, "drivers": ["ETF inflows"]}))
            } else {
                // Confidence out of range: the schema check sends it back for repair.
                completion(&json!({"score": 0.4, "confidence": 7, "drivers": ["ETF inflows"]}))
            }
        } else if system.contains("macro analyst") {
            ResponseTemplate::new(500).set_body_json(
                json!({"error": {"message": "upstream failure", "type": "server_error"}}),
            )
        } else if system.contains("portfolio manager") {
            completion(
                &json!({"action": "HOLD", "size_pct": 0, "stop_loss": null, "take_profit": null,
                "trailing_pct": null, "confidence": 0.6, "rationale": "Mixed signals; wait."}),
            )
        } else {
            // Fundamental, the debate and the risk manager: prose instead of JSON, no repair.
            completion(&json!("I think the market looks fine."))
        }
    }
}

/// The chain of one OpenAI-format provider at `server`, model `gpt-test`, priced at $1 per
/// million tokens in and $2 out (every answer's cost is recorded with its report).
fn priced_desk(server: &MockServer) -> LlmConfig {
    let mut provider = ProviderConfig::new(ProviderKind::Openai);
    provider.api_key = Some("sk-test-not-a-real-key".into());
    provider.base_url = Some(format!("{}/v1", server.uri()));
    provider.model = Some("gpt-test".into());
    let mut prices = PriceTable::new();
    prices.insert(
        "gpt-test",
        Price::new(rust_decimal::Decimal::ONE, rust_decimal::Decimal::TWO),
    );
    LlmConfig {
        providers: vec![provider],
        prices,
        ..LlmConfig::default()
    }
}

#[test]
fn sample_cash_mirrors_the_default_cash() {
    for instrument in [
        Instrument::btc_usdt(),
        Instrument::bank_nifty(),
        Instrument::nifty_50(),
    ] {
        assert_eq!(
            fixture::sample_cash(&instrument),
            default_cash(instrument.currency),
            "{}: the agents' sample desk and a default bot have the same capital",
            instrument.symbol
        );
    }
}

#[tokio::test]
async fn valid_repaired_and_failing_answers_each_land_in_the_right_mode() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("chat/completions$"))
        .respond_with(Desk)
        .mount(&server)
        .await;
    let config = priced_desk(&server);
    let llm = config.build().await.unwrap();
    let brain = Brain::rules_only()
        .unwrap()
        .with_model(Arc::new(LlmModel::new(llm)));

    let btc = Instrument::btc_usdt();
    let (desk, _) = fixture::paper_desk(&btc, default_cash(btc.currency)).unwrap();
    let graph = yaml::load_str(DEFAULT_GRAPH, "trading.yaml", &registry(&brain, &desk)).unwrap();
    let (market, inputs) = fixture::market(&btc).unwrap();
    let mut state = TradingState::new(btc, market, inputs);
    state.account = Some(desk.broker().account().await.unwrap());
    let s = graph.invoke(state, RunConfig::new()).await.unwrap().state;

    // One call: 900 tokens in at $1/M and 60 out at $2/M.
    let llm_mode = |calls: u64| AgentMode::Llm {
        provider: "openai".into(),
        model: "gpt-test".into(),
        spend: Some(Spend {
            input_tokens: 900 * calls,
            output_tokens: 60 * calls,
            cached_input_tokens: 0,
            cost: Some(rust_decimal::Decimal::new(102, 5) * rust_decimal::Decimal::from(calls)),
        }),
    };
    let technical = s.technical.unwrap();
    assert_eq!(technical.mode, llm_mode(1));
    assert_eq!(technical.report.key_levels.support, [94000.0]);

    let sentiment = s.sentiment.unwrap();
    assert_eq!(
        sentiment.mode,
        llm_mode(2),
        "repaired (two calls), then accepted"
    );
    assert_eq!(sentiment.report.confidence, 0.7);

    match s.macro_view.unwrap().mode {
        AgentMode::Rule {
            reason: RuleReason::ModelFailed(reason),
        } => {
            assert!(!reason.is_empty());
            assert!(
                !reason.contains("sk-test"),
                "no key in the recorded reason: {reason}"
            );
        }
        other => panic!("the macro analyst should have fallen back to rules: {other:?}"),
    }
    match s.fundamental.unwrap().mode {
        AgentMode::Rule {
            reason: RuleReason::ModelFailed(reason),
        } => assert!(!reason.is_empty()),
        other => panic!("prose is not a report: {other:?}"),
    }
    let decision = s.decision.unwrap();
    assert_eq!(decision.mode, llm_mode(1));
    assert_eq!(
        decision.report.action,
        tradegraph_agents::reports::Action::Hold
    );
    assert!(s.verdict.unwrap().intent.is_none());
    assert!(s.orders.is_empty());

    // The server saw the schema in OpenAI's strict form, and a repair turn for the sentiment.
    let requests = server.received_requests().await.unwrap();
    let bodies: Vec<Value> = requests
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert!(bodies
        .iter()
        .any(|b| b["response_format"]["type"] == "json_schema"));
    assert!(bodies.iter().any(|b| b.to_string().contains(REPAIR)));
}

/// The providers' rate limits shared in Redis by several clients (as several bots).
#[cfg(feature = "redis")]
mod shared_limits {
    use super::*;

    /// A provider with `limits` at `server`, calls never waiting for a rate limit, the limits
    /// shared through `shared` when given.
    async fn limited_client(
        server: &MockServer,
        limits: tradegraph_llm::fallback::Limits,
        shared: Option<&tradegraph_store::redis::RedisLlmLimits>,
    ) -> tradegraph_llm::Llm {
        let mut provider = ProviderConfig::new(ProviderKind::Openai);
        provider.api_key = Some(tradegraph_llm::Secret::new("sk-test"));
        provider.base_url = Some(format!("{}/v1", server.uri()));
        provider.model = Some("gpt-test".into());
        provider.limits = limits;
        LlmConfig {
            providers: vec![provider],
            max_queue_wait: std::time::Duration::ZERO,
            shared_limits: shared
                .map(|s| tradegraph_llm::fallback::SharedLimitsHandle(Arc::new(s.clone()))),
            ..LlmConfig::default()
        }
        .build()
        .await
        .unwrap()
    }

    /// Asks `llm` once (a short prompt, at most 400 tokens back: about 401 estimated): whether
    /// it was answered, or refused for the rate limit.
    async fn ask_once(llm: &tradegraph_llm::Llm) -> bool {
        let mut request = tradegraph_llm::Request::new(vec![tradegraph_llm::Message::user("ping")]);
        request.max_tokens = Some(400);
        match llm.complete(&request).await {
            Ok(_) => true,
            Err(tradegraph_llm::LlmError::RateLimited { .. }) => false,
            Err(e) => panic!("neither answered nor rate-limited: {e}"),
        }
    }

    async fn answering(usage: u64) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path_regex("/chat/completions$"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1_733_000_000, "model": "gpt-test",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": usage - 10, "completion_tokens": 10, "total_tokens": usage}
            })))
            .mount(&server)
            .await;
        server
    }

    /// Two clients, as two bots using one key would be: with their limits shared in Redis they
    /// get the provider's 4 requests a minute between them; each on its own would send 4.
    #[tokio::test]
    async fn bots_sharing_redis_share_a_providers_requests_per_minute() {
        let Some(url) = tradegraph_testkit::services::redis_url() else {
            return;
        };
        let rpm = tradegraph_llm::fallback::Limits::new().requests_per_minute(4);
        let prefix = format!("{}:", tradegraph_testkit::services::unique("limits"));
        let shared = tradegraph_store::redis::RedisLlmLimits::connect(
            tradegraph_store::redis::RedisConfig::new(url).key_prefix(prefix),
        )
        .unwrap();
        let server = answering(60).await;
        let (a, b) = (
            limited_client(&server, rpm, Some(&shared)).await,
            limited_client(&server, rpm, Some(&shared)).await,
        );
        let mut answered = 0;
        for _ in 0..3 {
            answered += u32::from(ask_once(&a).await) + u32::from(ask_once(&b).await);
        }
        assert_eq!(answered, 4, "the shared quota");
        assert_eq!(server.received_requests().await.unwrap().len(), 4);

        // Apart, each client has the whole quota to itself.
        let apart = answering(60).await;
        let (a, b) = (
            limited_client(&apart, rpm, None).await,
            limited_client(&apart, rpm, None).await,
        );
        let mut answered = 0;
        for _ in 0..3 {
            answered += u32::from(ask_once(&a).await) + u32::from(ask_once(&b).await);
        }
        assert_eq!(answered, 6);
    }

    /// The shared token bucket is corrected with each call's real usage: a call that used 900 of
    /// a 1,000-token minute leaves the other client no room for its next call (it needs about
    /// 401; the bucket refills 300 tokens in 18 s).
    #[tokio::test]
    async fn the_shared_token_bucket_counts_the_tokens_really_used() {
        let Some(url) = tradegraph_testkit::services::redis_url() else {
            return;
        };
        let tpm = tradegraph_llm::fallback::Limits::new().tokens_per_minute(1_000);
        let prefix = format!("{}:", tradegraph_testkit::services::unique("tokens"));
        let shared = tradegraph_store::redis::RedisLlmLimits::connect(
            tradegraph_store::redis::RedisConfig::new(url.clone()).key_prefix(prefix.clone()),
        )
        .unwrap();
        let server = answering(900).await;
        let (a, b) = (
            limited_client(&server, tpm, Some(&shared)).await,
            limited_client(&server, tpm, Some(&shared)).await,
        );
        assert!(ask_once(&a).await);
        // The correction lands after the call, on a task of its own: wait until the shared
        // bucket holds what a really used.
        let mut redis = redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let key = format!("{prefix}llm_limit:{{openai}}:tokens");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let level: Option<f64> = redis::cmd("HGET")
                .arg(&key)
                .arg("level")
                .query_async(&mut redis)
                .await
                .unwrap();
            if level.is_some_and(|l| l < 200.0) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the usage was not settled: level {level:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(
            !ask_once(&b).await,
            "b's call fitted in what a's really used"
        );
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    /// Redis away: each process's own limits decide, and calls go on.
    #[tokio::test]
    async fn without_redis_the_clients_own_limits_apply() {
        let rpm = tradegraph_llm::fallback::Limits::new().requests_per_minute(2);
        let away = tradegraph_store::redis::RedisLlmLimits::connect(
            tradegraph_store::redis::RedisConfig::new("redis://127.0.0.1:1")
                .timeout(std::time::Duration::from_millis(200)),
        )
        .unwrap();
        let server = answering(60).await;
        let llm = limited_client(&server, rpm, Some(&away)).await;
        assert!(ask_once(&llm).await);
        assert!(ask_once(&llm).await);
        assert!(!ask_once(&llm).await, "the client's own 2 a minute");
    }
}

/// A provider whose key was rejected takes no share of an agent's time: with the primary
/// disabled, the backup gets the agent's whole share, not half of it (it timed out at half
/// while it needed 0.3 s of 0.5 s, and the agent fell back to rules).
#[tokio::test]
async fn a_disabled_provider_takes_no_share_of_an_agents_time() {
    use std::time::Duration;
    use tradegraph_agents::model::ReportModel;
    use tradegraph_agents::prompt::RenderedPrompt;
    use tradegraph_agents::reports::answer_schema;
    use tradegraph_agents::AgentName;
    let rejecting = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("chat/completions$"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "message": "Incorrect API key provided", "type": "invalid_request_error",
            "code": "invalid_api_key"}})))
        .mount(&rejecting)
        .await;
    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("chat/completions$"))
        .respond_with(
            completion(
                &json!({"signal": "BUY", "confidence": 0.8, "reasoning": "Higher lows.",
                "key_levels": {"support": [], "resistance": []}}),
            )
            .set_delay(Duration::from_millis(300)),
        )
        .mount(&slow)
        .await;
    let provider = |kind: ProviderKind, server: &MockServer| {
        let mut p = ProviderConfig::new(kind);
        p.api_key = Some("sk-test-not-a-real-key".into());
        p.base_url = Some(format!("{}/v1", server.uri()));
        p.model = Some("gpt-test".into());
        p
    };
    let llm = LlmConfig {
        providers: vec![
            provider(ProviderKind::Openai, &rejecting),
            provider(ProviderKind::Groq, &slow),
        ],
        ..LlmConfig::default()
    }
    .build()
    .await
    .unwrap();
    let model = LlmModel::new(llm);
    let prompt = RenderedPrompt {
        agent: AgentName::Technical,
        system: "You are the technical analyst.".into(),
        user: "BTC?".into(),
        version: "technical@test".into(),
    };
    let schema = answer_schema(AgentName::Technical).unwrap();
    // The first call finds the primary's key rejected (disabled) and the backup answers.
    let first = model
        .answer_within(&prompt, schema, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(first.provider, "groq");
    assert_eq!(model.llm().askable_provider_count(), 1);
    // Then the backup has the whole half second.
    let second = model
        .answer_within(&prompt, schema, Duration::from_millis(500))
        .await;
    assert_eq!(second.map(|a| a.provider).ok().as_deref(), Some("groq"));
}

/// An agent with no time left in the cycle does not ask its model: nothing is sent, counted or
/// charged (the call was started and dropped at once, and charged its worst case, for every
/// agent of a cycle whose deadline had passed).
#[tokio::test]
async fn an_agent_with_no_time_left_does_not_ask_its_model() {
    use tradegraph_agents::deadline::{CycleDeadline, StagePlan};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("chat/completions$"))
        .respond_with(Desk)
        .mount(&server)
        .await;
    let llm = priced_desk(&server).build().await.unwrap();
    let model = Arc::new(LlmModel::new(llm));
    let brain = Brain::rules_only().unwrap().with_model(model.clone());
    let btc = Instrument::btc_usdt();
    let (desk, _) = fixture::paper_desk(&btc, default_cash(btc.currency)).unwrap();
    let graph = yaml::load_str(DEFAULT_GRAPH, "trading.yaml", &registry(&brain, &desk)).unwrap();
    let plan = StagePlan::for_yaml(graph.topology(), DEFAULT_GRAPH, "trading.yaml").unwrap();
    let (market, inputs) = fixture::market(&btc).unwrap();
    let mut state = TradingState::new(btc, market, inputs);
    state.account = Some(desk.broker().account().await.unwrap());
    let past = CycleDeadline::starting_now(std::time::Duration::ZERO, Arc::new(plan));
    let s = graph
        .invoke(state, RunConfig::new().extension(past))
        .await
        .unwrap()
        .state;
    let technical = s.technical.as_ref().unwrap();
    assert!(
        matches!(&technical.mode, AgentMode::Rule { reason: RuleReason::ModelFailed(why) } if why.starts_with("deadline")),
        "{:?}",
        technical.mode
    );
    let accounting = model.llm().accounting();
    assert_eq!(
        (accounting.run.calls, accounting.run.cost),
        (0, rust_decimal::Decimal::ZERO)
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}
