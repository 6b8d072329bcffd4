//! The audit trail (issue 16, item 6): every decision keeps, per agent, the prompt version, the
//! rendered prompt (stored once per distinct text, referenced by its hash) and the model's
//! answer as it came; re-running a period never replaces an earlier run's records. Through
//! `tradegraph backtest` against a local server in OpenAI's chat-completions format and a real
//! MongoDB.
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use mongodb::bson::{doc, Document};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use support::llm::{desk_answer, is_agent, messages};
use tradegraph_testkit::services::{mongodb_uri, unique};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// What the server was sent and answered: (system, user, the answer's text).
type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

/// Answers every agent; the technical analyst wraps its JSON in prose and a code fence, as
/// models do, so its answer as it came differs from the JSON read from it.
struct Desk {
    seen: Seen,
}

impl Respond for Desk {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let (system, user) = messages(request);
        let answer = desk_answer(&system).unwrap_or_else(|| {
            json!({"action": "HOLD", "size_pct": 0.0, "stop_loss": null, "take_profit": null,
                "trailing_pct": null, "confidence": 0.6, "rationale": "Nothing to do."})
        });
        let text = if is_agent(&system, "technical analyst") {
            format!("Here is my call.\n```json\n{answer}\n```")
        } else {
            answer.to_string()
        };
        self.seen.lock().unwrap().push((system, user, text.clone()));
        ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_733_000_000,
            "model": "gpt-test",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 900, "completion_tokens": 60, "total_tokens": 960}
        }))
    }
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `tradegraph backtest` of the same two cycles into report folder `out`, with `config`.
fn backtest(dir: &Path, server: &MockServer, out: &str, config: &str) {
    std::fs::write(dir.join("tradegraph.toml"), config).unwrap();
    let data = support::bars_for_cycles(dir, 2);
    let run = Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .args(["backtest", "--instrument", "btc", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(dir.join(out))
        .current_dir(dir)
        .env_clear()
        .env("OPENAI_API_KEY", "test")
        .env("OPENAI_BASE_URL", format!("{}/v1", server.uri()))
        .env("OPENAI_MODEL", "gpt-test")
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}

/// The local model server, answering every agent, and what it was sent and answered.
fn desk() -> (tokio::runtime::Runtime, MockServer, Seen) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let seen: Seen = Arc::default();
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path_regex("chat/completions$"))
            .respond_with(Desk {
                seen: Arc::clone(&seen),
            })
            .mount(&server)
            .await;
        server
    });
    (runtime, server, seen)
}

/// The report folder `out`: each agent's report names its prompt by hash and keeps the answer
/// as it came; `prompts.jsonl` holds each prompt once, as the server received it. Its prompts
/// by hash.
fn check_report(out: &Path, seen: &Seen) -> BTreeMap<String, Value> {
    let decisions = lines(&out.join("decisions.jsonl"));
    assert_eq!(decisions.len(), 2);
    let prompts: BTreeMap<String, Value> = lines(&out.join("prompts.jsonl"))
        .into_iter()
        .map(|p| (p["prompt_hash"].as_str().unwrap().to_owned(), p))
        .collect();
    let sent = seen.lock().unwrap().clone();
    let mut named = BTreeSet::new();
    for decision in &decisions {
        let mut reports: Vec<&Value> = [
            "technical",
            "fundamental",
            "sentiment",
            "macro_view",
            "risk",
            "decision",
        ]
        .iter()
        .map(|agent| &decision[*agent])
        .collect();
        reports.extend(
            decision["debate"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| &e["turn"]),
        );
        assert_eq!(reports.len(), 10, "six reports and two rounds of two sides");
        for report in reports {
            assert_eq!(report["mode"], "llm", "{report}");
            let hash = report["exchange"]["prompt_hash"]
                .as_str()
                .expect("a prompt hash");
            let answer = report["exchange"]["answer"].as_str().expect("the answer");
            let prompt = prompts
                .get(hash)
                .unwrap_or_else(|| panic!("{hash} not in prompts.jsonl"));
            // The stored text is what the model was sent, and the answer what it sent back.
            let system = prompt["system"].as_str().unwrap();
            let user = prompt["user"].as_str().unwrap();
            // stored under the hash of its own text (the system message, a zero byte, the
            // user message)
            let digest = {
                use sha2::Digest;
                let mut hasher = sha2::Sha256::new();
                hasher.update(system.as_bytes());
                hasher.update([0u8]);
                hasher.update(user.as_bytes());
                hasher.finalize()
            };
            let own: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hash, format!("sha256:{own}"), "the key of `{hash}`");
            assert!(
                sent.iter()
                    .any(|(s, u, text)| s == system && u == user && text == answer),
                "no request sent `{hash}`'s text and got `{answer}` back"
            );
            assert_eq!(prompt["prompt_version"], report["prompt_version"]);
            named.insert(hash.to_owned());
        }
        let technical = decision["technical"]["exchange"]["answer"]
            .as_str()
            .unwrap();
        assert!(
            technical.starts_with("Here is my call.\n```json\n"),
            "{technical}"
        );
    }
    assert_eq!(
        named.len(),
        prompts.len(),
        "prompts.jsonl holds each named prompt once"
    );

    prompts
}

#[test]
fn every_report_names_its_prompt_by_hash_and_keeps_the_answer_as_it_came() {
    let (_runtime, server, seen) = desk();
    let dir = support::temp_dir("audit-report");
    backtest(&dir, &server, "report", "");
    let prompts = check_report(&dir.join("report"), &seen);
    assert!(prompts
        .values()
        .all(|p| p["instrument"] == "BTCUSDT" && p["timestamp"].is_string()));
}

#[test]
fn the_decision_log_names_the_stored_prompts_and_reruns_keep_both_runs() {
    let Some(uri) = mongodb_uri() else {
        return;
    };
    let (runtime, server, seen) = desk();
    let dir = support::temp_dir("audit-trail");
    let database = unique("audit");
    let config = format!(
        "[stores]\nmongodb_uri = \"{uri}\"\ndatabase = \"{database}\"\nspill_file = \"{}\"\n",
        dir.join("spill.jsonl").display()
    );
    backtest(&dir, &server, "first", &config);
    let prompts = check_report(&dir.join("first"), &seen);
    let db = runtime.block_on(async {
        let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
        client.database(&database)
    });

    // The decision log in MongoDB names the same prompts, whose texts are in `prompts`.
    runtime.block_on(async {
        let stored: Vec<Document> = collect(&db, "agent_decisions").await;
        assert_eq!(stored.len(), 2);
        for d in &stored {
            let technical = d
                .get_document("agent_decisions")
                .unwrap()
                .get_document("technical")
                .unwrap();
            let hash = technical.get_str("prompt_hash").unwrap();
            assert!(technical.get_str("answer").unwrap().contains("```json"));
            let prompt = db
                .collection::<Document>("prompts")
                .find_one(doc! {"prompt_hash": hash})
                .await
                .unwrap()
                .expect("the prompt's text");
            assert_eq!(
                prompt.get_str("user").unwrap(),
                prompts[hash]["user"].as_str().unwrap()
            );
            assert_eq!(prompt.get_str("agent").unwrap(), "technical");
        }
        let prompt_docs = count(&db, "prompts").await;
        assert_eq!(
            prompt_docs as usize,
            prompts.len(),
            "each distinct text once"
        );
    });

    // The same period again: the first run's decisions stay, the second's join them, and the
    // same prompts are not stored twice.
    backtest(&dir, &server, "second", &config);
    runtime.block_on(async {
        let stored: Vec<Document> = collect(&db, "agent_decisions").await;
        assert_eq!(stored.len(), 4, "two runs of two cycles");
        let runs: BTreeSet<&str> = stored
            .iter()
            .map(|d| d.get_str("run_id").unwrap())
            .collect();
        assert_eq!(runs.len(), 2, "{runs:?}");
        let ids: BTreeSet<&str> = stored
            .iter()
            .map(|d| d.get_str("decision_id").unwrap())
            .collect();
        assert_eq!(ids.len(), 2, "the same two cycles: {ids:?}");
        let prompt_docs = count(&db, "prompts").await;
        assert_eq!(
            prompt_docs as usize,
            prompts.len(),
            "the second run's prompts are the same texts"
        );
        db.drop().await.unwrap();
    });
}

async fn count(db: &mongodb::Database, collection: &str) -> u64 {
    db.collection::<Document>(collection)
        .count_documents(doc! {})
        .await
        .unwrap()
}

async fn collect(db: &mongodb::Database, collection: &str) -> Vec<Document> {
    let mut cursor = db
        .collection::<Document>(collection)
        .find(doc! {})
        .await
        .unwrap();
    let mut out = Vec::new();
    while cursor.advance().await.unwrap() {
        out.push(cursor.deserialize_current().unwrap());
    }
    out
}
