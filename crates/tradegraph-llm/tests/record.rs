#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "openai")]
//! Record and replay: answers recorded against a local OpenAI-format peer replay with the peer
//! gone and no key; failovers replay; a torn file keeps its earlier answers; a request the
//! record lacks is an error naming the agent, the model and the hash.

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use tradegraph_llm::config::{LlmConfig, ProviderConfig, ProviderKind};
use tradegraph_llm::record::{RecordBook, RecordKey, FORMAT_VERSION};
use tradegraph_llm::{Llm, LlmError, Provider, Request, ScriptedProvider};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tg-llm-record-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("answers.jsonl")
}

fn completion(content: &str) -> serde_json::Value {
    json!({
        "id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4.1-mini-2025-04-14",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
    })
}

fn config(base: &str) -> LlmConfig {
    let mut p = ProviderConfig::new(ProviderKind::Openai);
    p.api_key = Some(CANARY.into());
    p.base_url = Some(base.to_owned());
    p.seed = Some(11);
    let mut config = LlmConfig::default();
    config.providers.push(p);
    config
}

fn asked(agent: &str, user: &str) -> Request {
    Request::chat("You are a trading analyst.", user)
        .temperature(0.0)
        .max_tokens(200)
        .agent(agent)
}

#[tokio::test]
async fn a_recorded_run_replays_with_the_peer_gone_and_no_key() {
    let file = temp("roundtrip");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(json(200, completion(INVALID)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(json(200, completion(VALID)))
        .mount(&server)
        .await;
    let base = format!("{}/v1", server.uri());
    let recorded = {
        let book = RecordBook::record(&file).unwrap();
        let llm = config(&base).build_recorded(&book).await.unwrap();
        // the first answer breaks the schema: the repair turn is a second call
        let first = llm
            .structured::<Signal>(asked("technical", "BTC at 45000?"))
            .await
            .unwrap();
        let second = llm
            .structured::<Signal>(asked("macro", "Rates?"))
            .await
            .unwrap();
        assert_eq!((first.repairs, second.repairs), (1, 0));
        assert_eq!(book.answers(), 3);
        (first.value, second.value, llm.accounting().run)
    };
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    drop(server);

    let book = RecordBook::replay(&file).unwrap();
    assert_eq!(book.chain()[0].provider, "openai");
    let print = book.fingerprint().unwrap();
    assert_eq!(
        (print.answers, print.format_version, print.sha256.len()),
        (3, FORMAT_VERSION, 64)
    );
    assert_eq!(book.chain()[0].sampling.seed, Some(11));
    // no provider configured, no key: the recorded chain stands in
    let llm = LlmConfig::default().build_recorded(&book).await.unwrap();
    let first = llm
        .structured::<Signal>(asked("technical", "BTC at 45000?"))
        .await
        .unwrap();
    let second = llm
        .structured::<Signal>(asked("macro", "Rates?"))
        .await
        .unwrap();
    assert_eq!(first.repairs, 1, "the repair replays too");
    assert_eq!((first.value, second.value), (recorded.0, recorded.1));
    let run = llm.accounting().run;
    assert_eq!(
        (run.calls, run.usage),
        (recorded.2.calls, recorded.2.usage),
        "the recorded usage is counted again"
    );
    assert!(book.misses().is_empty());

    // a question never recorded: an error naming who asked, the model and the hash
    let err = llm
        .structured::<Signal>(asked("sentiment", "Mood?"))
        .await
        .unwrap_err();
    let LlmError::NotRecorded(miss) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(
        (
            miss.agent.as_deref(),
            miss.provider.as_str(),
            miss.model.as_str()
        ),
        (Some("sentiment"), "openai", "gpt-4.1-mini")
    );
    let key = &miss.key;
    assert_eq!(key.len(), 64);
    assert!(miss.file.ends_with("answers.jsonl"));
    let text = err.to_string();
    assert!(
        text.contains("agent `sentiment`") && text.contains(key.as_str()),
        "{text}"
    );
    assert_eq!(book.misses().len(), 1);
    // the run's stop signal has fired
    tokio::time::timeout(std::time::Duration::from_secs(1), book.missed())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_failover_replays_and_a_second_ask_gets_the_second_answer() {
    let file = temp("failover");
    let primary = ScriptedProvider::new("primary", "m1").error(LlmError::Server {
        provider: "primary".into(),
        status: 503,
        message: "busy".into(),
    });
    let backup = ScriptedProvider::new("backup", "m2")
        .text(VALID)
        .text(r#"{"action": "SELL", "confidence": 0.4, "reasons": []}"#);
    let recorded = {
        let book = RecordBook::record(&file).unwrap();
        let llm = Llm::builder()
            .provider_arc(book.layer(Arc::new(primary.clone())), Default::default())
            .provider_arc(book.layer(Arc::new(backup.clone())), Default::default())
            .build()
            .unwrap();
        book.begin(&llm).unwrap();
        let a = llm.structured::<Signal>(asked("pm", "Now?")).await.unwrap();
        // the primary's breaker still lets it try; it fails the same way again
        let b = llm.structured::<Signal>(asked("pm", "Now?")).await.unwrap();
        assert_eq!(a.response.provider, "backup");
        (a.value, b.value)
    };
    assert_ne!(recorded.0, recorded.1);
    let book = RecordBook::replay(&file).unwrap();
    let mut builder = Llm::builder();
    for p in book.replayers() {
        builder = builder.provider_arc(p, Default::default());
    }
    let llm = builder.build().unwrap();
    let a = llm.structured::<Signal>(asked("pm", "Now?")).await.unwrap();
    let b = llm.structured::<Signal>(asked("pm", "Now?")).await.unwrap();
    assert_eq!(a.response.provider, "backup", "the primary's 503 replayed");
    assert_eq!((a.value, b.value), recorded);
    assert_eq!(
        llm.health()[0].failed(),
        2,
        "the primary failed in the replay as it did"
    );
    // a third ask: the recording asked twice, so it is a miss, not a failure of the chain
    let err = llm.complete(&asked("pm", "Now?")).await.unwrap_err();
    assert!(matches!(err, LlmError::NotRecorded(_)), "{err:?}");
    assert_eq!(book.misses().len(), 1, "{:?}", book.misses());
}

#[tokio::test]
async fn recording_turns_the_answer_cache_off_so_every_call_is_in_the_record() {
    let file = temp("cache-off");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(json(200, completion(VALID)))
        .mount(&server)
        .await;
    let mut config = config(&format!("{}/v1", server.uri()));
    config.cache.mode = tradegraph_llm::cache::CacheMode::ReadWrite;
    let book = RecordBook::record(&file).unwrap();
    let llm = config.build_recorded(&book).await.unwrap();
    let req = asked("technical", "BTC?");
    llm.complete(&req).await.unwrap();
    llm.complete(&req).await.unwrap();
    // with the cache on, the second answer would have come from it and never reached the file
    assert_eq!(book.answers(), 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    drop(server);
    let book = RecordBook::replay(&file).unwrap();
    let llm = config.build_recorded(&book).await.unwrap();
    llm.complete(&req).await.unwrap();
    llm.complete(&req).await.unwrap();
    assert!(book.misses().is_empty(), "{:?}", book.misses());
}

/// Records `answer` for one question into `file` (a session of its own).
async fn record_once(file: &PathBuf, answer: &str) {
    let book = RecordBook::record(file).unwrap();
    let p: Arc<dyn Provider> = Arc::new(ScriptedProvider::new("p", "m").text(answer));
    let llm = Llm::builder()
        .provider_arc(book.layer(p), Default::default())
        .build()
        .unwrap();
    book.begin(&llm).unwrap();
    llm.complete(&asked("technical", "BTC?")).await.unwrap();
}

#[tokio::test]
async fn a_file_recorded_into_twice_replays_the_latest_run_and_an_extra_ask_is_a_miss() {
    let file = temp("twice");
    record_once(&file, "first run").await;
    record_once(&file, "second run").await;
    let book = RecordBook::replay(&file).unwrap();
    assert_eq!(book.answers(), 2, "both answer lines are in the file");
    let llm = LlmConfig::default().build_recorded(&book).await.unwrap();
    let req = asked("technical", "BTC?");
    assert_eq!(llm.complete(&req).await.unwrap().text(), "second run");
    // the recording asked once: a second ask took another path
    let err = llm.complete(&req).await.unwrap_err().to_string();
    assert!(
        err.contains("no recorded answer for agent `technical`"),
        "{err}"
    );
    assert_eq!(book.misses().len(), 1);
}

#[tokio::test]
async fn a_provider_the_recording_skipped_is_skipped_in_the_replay() {
    use tradegraph_llm::fallback::BreakerPolicy;
    let file = temp("skipped");
    let primary = ScriptedProvider::new("primary", "m1").error(LlmError::Overloaded {
        provider: "primary".into(),
        status: 529,
    });
    let backup = ScriptedProvider::new("backup", "m2").text(VALID);
    // recording: one failure opens the primary's breaker for an hour; the second question
    // never reaches it
    let breaker = |open_for: std::time::Duration| BreakerPolicy {
        failure_threshold: 1,
        open_for,
        ..BreakerPolicy::default()
    };
    {
        let book = RecordBook::record(&file).unwrap();
        let llm = Llm::builder()
            .provider_arc(book.layer(Arc::new(primary.clone())), Default::default())
            .provider_arc(book.layer(Arc::new(backup)), Default::default())
            .breaker(breaker(std::time::Duration::from_secs(3600)))
            .build()
            .unwrap();
        book.begin(&llm).unwrap();
        llm.complete(&asked("pm", "First?")).await.unwrap();
        llm.complete(&asked("pm", "Second?")).await.unwrap();
    }
    assert_eq!(primary.requests().len(), 1);
    // a replay whose breaker closes at once asks the primary the second question too: the
    // record has the backup's answer, so the primary is skipped, not a miss
    let book = RecordBook::replay(&file).unwrap();
    let mut builder = Llm::builder().breaker(breaker(std::time::Duration::ZERO));
    for p in book.replayers() {
        builder = builder.provider_arc(p, Default::default());
    }
    let llm = builder.build().unwrap();
    for question in ["First?", "Second?"] {
        let answer = llm.complete(&asked("pm", question)).await.unwrap();
        assert_eq!(
            (answer.provider.as_str(), answer.text()),
            ("backup", VALID.to_owned())
        );
    }
    assert!(book.misses().is_empty(), "{:?}", book.misses());
}

/// A replay takes the recording's path whatever time it takes: a recorded 429 with
/// `Retry-After` opened the breaker for 200 ms of the recording's time, which a replay running
/// at memory speed must not carry over to later questions the recording asked once the breaker
/// had closed; and a question the recording's open breaker kept from the only provider is
/// skipped again, not a miss.
#[tokio::test]
async fn a_replay_follows_the_recordings_breaker_not_its_own_clock() {
    let file = temp("breaker-clock");
    let only = ScriptedProvider::new("only", "m1")
        .error(LlmError::RateLimited {
            provider: "only".into(),
            retry_after: Some(std::time::Duration::from_millis(200)),
        })
        .text(VALID);
    {
        let book = RecordBook::record(&file).unwrap();
        let llm = Llm::builder()
            .provider_arc(book.layer(Arc::new(only.clone())), Default::default())
            .build()
            .unwrap();
        book.begin(&llm).unwrap();
        // the 429 opens the breaker; the next question is refused without asking
        assert!(llm.complete(&asked("pm", "First?")).await.is_err());
        assert!(matches!(
            llm.complete(&asked("pm", "Second?")).await,
            Err(LlmError::CircuitOpen { .. })
        ));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            llm.complete(&asked("pm", "Third?")).await.unwrap().text(),
            VALID
        );
    }
    assert_eq!(only.requests().len(), 2);
    let book = RecordBook::replay(&file).unwrap();
    let llm = LlmConfig::default().build_recorded(&book).await.unwrap();
    assert!(matches!(
        llm.complete(&asked("pm", "First?")).await,
        Err(LlmError::RateLimited { .. })
    ));
    assert!(matches!(
        llm.complete(&asked("pm", "Second?")).await,
        Err(LlmError::CircuitOpen { .. })
    ));
    assert_eq!(
        llm.complete(&asked("pm", "Third?")).await.unwrap().text(),
        VALID
    );
    assert!(book.misses().is_empty(), "{:?}", book.misses());
}

/// A provider the recording's chain passed over (its breaker open after a 429) is passed over
/// in the replay before the chain admits it, as in the recording: the replay counts the same
/// calls per provider, so a call cap the recording kept to holds in the replay too.
#[tokio::test]
async fn a_replay_passes_over_what_the_recording_did_and_counts_the_same_calls() {
    let file = temp("skips-counted");
    let primary = ScriptedProvider::new("primary", "m1")
        .error(LlmError::RateLimited {
            provider: "primary".into(),
            retry_after: Some(std::time::Duration::from_secs(3600)),
        })
        .text(VALID);
    let backup = ScriptedProvider::new("backup", "m2")
        .text(VALID)
        .text(VALID)
        .text(VALID);
    let questions = ["First?", "Second?", "Third?"];
    let recorded = {
        let book = RecordBook::record(&file).unwrap();
        let llm = Llm::builder()
            .provider_arc(book.layer(Arc::new(primary.clone())), Default::default())
            .provider_arc(book.layer(Arc::new(backup.clone())), Default::default())
            .build()
            .unwrap();
        book.begin(&llm).unwrap();
        for question in questions {
            let answer = llm.complete(&asked("pm", question)).await.unwrap();
            assert_eq!(answer.provider, "backup");
        }
        llm.accounting()
    };
    // the primary was asked once (the 429), then passed over
    assert_eq!(primary.requests().len(), 1);
    assert_eq!(recorded.providers["primary"].calls, 1);
    let book = RecordBook::replay(&file).unwrap();
    let mut config = LlmConfig::default();
    config.budget.max_calls = Some(recorded.run.calls);
    let llm = config.build_recorded(&book).await.unwrap();
    for question in questions {
        let answer = llm.complete(&asked("pm", question)).await.unwrap();
        assert_eq!(answer.provider, "backup");
    }
    let replayed = llm.accounting();
    assert_eq!(replayed.run.calls, recorded.run.calls);
    assert_eq!(replayed.providers, recorded.providers);
    assert!(book.misses().is_empty(), "{:?}", book.misses());
}

/// Records into `file` one answer (`VALID`) to the technical analyst's question; the question.
async fn record_one_answer(file: &std::path::Path) -> Request {
    let req = asked("technical", "BTC?");
    let book = RecordBook::record(file).unwrap();
    let p: Arc<dyn Provider> = Arc::new(ScriptedProvider::new("p", "m").text(VALID));
    let llm = Llm::builder()
        .provider_arc(book.layer(p), Default::default())
        .build()
        .unwrap();
    book.begin(&llm).unwrap();
    llm.complete(&req).await.unwrap();
    req
}

#[tokio::test]
async fn a_torn_last_line_is_reported_and_earlier_answers_kept() {
    let file = temp("torn");
    let req = record_one_answer(&file).await;
    // a crash in the middle of writing the next answer
    let mut text = std::fs::read_to_string(&file).unwrap();
    let lines = text.lines().count();
    text.push_str(r#"{"v":1,"type":"answer","key":"ab"#);
    std::fs::write(&file, &text).unwrap();

    let book = RecordBook::replay(&file).unwrap();
    assert_eq!(book.skipped().len(), 1);
    assert_eq!(book.skipped()[0].line, lines + 1);
    assert!(
        book.skipped()[0].reason.starts_with("torn"),
        "{:?}",
        book.skipped()
    );
    assert_eq!(book.answers(), 1);
    let llm = LlmConfig::default().build_recorded(&book).await.unwrap();
    assert_eq!(llm.complete(&req).await.unwrap().text(), VALID);

    // recording on: the torn line is closed off, the new answer is whole
    {
        let book = RecordBook::record(&file).unwrap();
        assert_eq!(book.skipped().len(), 1);
        let p: Arc<dyn Provider> = Arc::new(ScriptedProvider::new("p", "m").text("later"));
        let llm = Llm::builder()
            .provider_arc(book.layer(p), Default::default())
            .build()
            .unwrap();
        book.begin(&llm).unwrap();
        llm.complete(&asked("macro", "Rates?")).await.unwrap();
    }
    let book = RecordBook::replay(&file).unwrap();
    assert_eq!(book.answers(), 2);
    assert_eq!(book.skipped().len(), 1, "{:?}", book.skipped());
    assert!(book.skipped()[0].reason.starts_with("unreadable"));
}

/// A write torn inside a multi-byte character ("₹" is three bytes) leaves a last line that
/// is not UTF-8: it is reported as torn, the answers before it replay, and recording goes on.
#[tokio::test]
async fn a_line_torn_inside_a_character_is_reported_and_earlier_answers_kept() {
    let file = temp("torn-utf8");
    let req = record_one_answer(&file).await;
    let mut bytes = std::fs::read(&file).unwrap();
    let lines = bytes.iter().filter(|b| **b == b'\n').count();
    bytes.extend_from_slice(b"{\"v\":1,\"type\":\"answer\",\"key\":\"ab\",\"text\":\"\xE2\x82");
    std::fs::write(&file, &bytes).unwrap();

    let book = RecordBook::replay(&file).unwrap();
    assert_eq!(book.skipped().len(), 1, "{:?}", book.skipped());
    assert_eq!(book.skipped()[0].line, lines + 1);
    assert!(
        book.skipped()[0].reason.starts_with("torn") && book.skipped()[0].reason.contains("UTF-8"),
        "{:?}",
        book.skipped()
    );
    let llm = LlmConfig::default().build_recorded(&book).await.unwrap();
    assert_eq!(llm.complete(&req).await.unwrap().text(), VALID);
    // Recording into it again works too.
    assert_eq!(RecordBook::record(&file).unwrap().skipped().len(), 1);
}

#[test]
fn a_newer_format_is_refused_and_an_empty_file_holds_no_recording() {
    let file = temp("newer");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        format!(
            "{{\"v\":{},\"type\":\"session\",\"chain\":[]}}\n",
            FORMAT_VERSION + 1
        ),
    )
    .unwrap();
    let err = RecordBook::replay(&file).unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            ":1: written in record format version {}, and this build reads version {FORMAT_VERSION}",
            FORMAT_VERSION + 1
        )),
        "{err}"
    );
    std::fs::write(&file, "").unwrap();
    let err = RecordBook::replay(&file).unwrap_err().to_string();
    assert!(err.contains("no recording in it"), "{err}");
    let err = RecordBook::replay(file.with_extension("absent"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn configured_sampling_is_part_of_the_key() {
    use tradegraph_llm::openai::OpenAi;
    use tradegraph_llm::Sampling;
    let plain = OpenAi::new(CANARY).unwrap();
    let seeded = OpenAi::new(CANARY).unwrap().with_sampling(Sampling {
        temperature: None,
        seed: Some(3),
    });
    let req = asked("technical", "BTC?");
    let key = RecordKey::of(&plain, &req);
    assert_eq!(key, RecordKey::of(&plain, &req.clone().agent("other")));
    assert_ne!(key, RecordKey::of(&seeded, &req));
    assert_eq!(
        RecordKey::of(&seeded, &req),
        RecordKey::of(&plain, &req.clone().seed(3)),
        "the seed sent is what counts"
    );
}

proptest! {
    /// Whatever a record file holds, opening it never panics: each line is read, skipped
    /// with its number and a reason, or refused naming the file and line.
    #[test]
    fn any_file_opens_without_panicking(lines in proptest::collection::vec(
        prop_oneof![
            ".{0,40}",
            Just(r#"{"v":1,"type":"session","chain":[{"provider":"p","model":"m"}]}"#.to_owned()),
            Just(r#"{"v":1,"type":"answer","key":"k","provider":"p","model":"m","response":{}}"#.to_owned()),
            Just(r#"{"v":9,"type":"other"}"#.to_owned()),
            Just(r#"{"v":1,"type":"failure","key":"k","provider":"p","model":"m","error":{"kind":"timeout","after_ms":5}}"#.to_owned()),
        ],
        0..8,
    ), torn in any::<bool>()) {
        let file = temp(&format!("prop-{}", lines.len()));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        let mut text = lines.join("\n");
        if !torn { text.push('\n'); }
        std::fs::write(&file, &text).unwrap();
        match RecordBook::replay(&file) {
            Ok(book) => {
                for s in book.skipped() {
                    prop_assert!(s.line >= 1 && s.line <= lines.len());
                    prop_assert!(!s.reason.is_empty());
                }
            }
            Err(e) => prop_assert!(e.to_string().contains("answers.jsonl"), "{}", e),
        }
    }
}

/// A file of format version 1 (before `skipped` failures) still replays.
#[tokio::test]
async fn a_version_1_file_still_replays() {
    let file = temp("version-1");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let request = asked("pm", "Old?");
    let key = RecordKey::of(&ScriptedProvider::new("p", "m"), &request);
    std::fs::write(
        &file,
        format!(
            "{{\"v\":1,\"type\":\"session\",\"chain\":[{{\"provider\":\"p\",\"model\":\"m\"}}]}}\n\
             {{\"v\":1,\"type\":\"answer\",\"key\":\"{key}\",\"provider\":\"p\",\"model\":\"m\",\"response\":{{\"content\":{{\"text\":\"old\"}},\"usage\":{{\"input_tokens\":1,\"output_tokens\":1}},\"latency\":1,\"provider\":\"p\",\"model\":\"m\",\"finish\":\"stop\",\"cached\":false}}}}\n"
        ),
    )
    .unwrap();
    let book = RecordBook::replay(&file).unwrap();
    assert!(book.skipped().is_empty(), "{:?}", book.skipped());
    let llm = LlmConfig::default().build_recorded(&book).await.unwrap();
    assert_eq!(llm.complete(&request).await.unwrap().text(), "old");
}

/// Calls asked at once settle in another order in a replay (its answers come at once): four
/// analysts in flight under a cap their worst cases pass, the recording's budget refused the
/// fourth; the replay refuses it too, from the record, with no miss (its own budget, seeing
/// only the small real spend of the three answered, admitted it, found no answer and stopped).
#[tokio::test]
async fn a_call_the_recordings_budget_refused_is_refused_in_the_replay() {
    use tradegraph_llm::budget::{Price, PriceTable, RunBudget};
    let file = temp("budget");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(json(200, completion(VALID)).set_delay(std::time::Duration::from_millis(100)))
        .mount(&server)
        .await;
    let base = format!("{}/v1", server.uri());
    // Worst case 200 tokens out at $10 a million: 0.002 a call; the cap holds two and a half.
    let budgeted = |mut config: LlmConfig| {
        let mut prices = PriceTable::new();
        prices.insert(
            "m",
            Price::new(rust_decimal::Decimal::ONE, rust_decimal::Decimal::TEN),
        );
        config.prices = prices;
        config.budget = RunBudget::default().max_cost(rust_decimal::Decimal::new(5, 3));
        config
    };
    let agents = ["technical", "fundamental", "sentiment", "macro"];
    let ask_all = |llm: tradegraph_llm::Llm| async move {
        let asks = agents
            .iter()
            .map(|agent| llm.structured::<Signal>(asked(agent, &format!("{agent}: BTC?"))));
        futures::future::join_all(asks)
            .await
            .into_iter()
            .map(|r| match r {
                Ok(_) => "answered".to_owned(),
                Err(LlmError::BudgetExceeded { .. }) => "refused".to_owned(),
                Err(e) => format!("{e}"),
            })
            .collect::<Vec<_>>()
    };
    let recorded = {
        let book = RecordBook::record(&file).unwrap();
        let mut config = budgeted(config(&base));
        config.providers[0].model = Some("m".into());
        ask_all(config.build_recorded(&book).await.unwrap()).await
    };
    assert_eq!(
        recorded,
        ["answered", "answered", "answered", "refused"],
        "the recording's budget refused the fourth in flight"
    );
    drop(server);
    let book = RecordBook::replay(&file).unwrap();
    let replayed = ask_all(
        budgeted(LlmConfig::default())
            .build_recorded(&book)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(replayed, recorded);
    assert!(book.misses().is_empty(), "{:?}", book.misses());
}
