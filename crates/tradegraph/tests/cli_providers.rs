// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `tradegraph providers check` against local peers speaking the Ollama and OpenAI wire
//! formats.

use serde_json::json;
use std::path::PathBuf;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CANARY: &str = "sk-canary-cli-5e4d3c2b1a09f8e7";

fn run(args: &[&str]) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = tradegraph::cli::run(args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn config(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tg-cli-providers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

/// An Ollama that answers `{"ok": true}` and an OpenAI that rejects the key.
fn peers(rt: &tokio::runtime::Runtime) -> (MockServer, MockServer) {
    rt.block_on(async {
        let ollama = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/chat"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "model": "llama3.2", "message": {"role": "assistant", "content": "{\"ok\": true}"},
                "done": true, "done_reason": "stop", "prompt_eval_count": 30, "eval_count": 6
            })))
            .mount(&ollama)
            .await;
        let openai = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({
                "error": {"message": format!("Incorrect API key provided: {CANARY}."), "type": "invalid_request_error", "code": "invalid_api_key"}
            })))
            .mount(&openai)
            .await;
        (ollama, openai)
    })
}

#[test]
fn prints_a_table_and_exits_zero_when_the_primary_answers() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (ollama, openai) = peers(&rt);
    let file = config(
        "ok.toml",
        &format!(
            "[[providers]]\nkind = \"ollama\"\nbase_url = \"{}\"\n\n[[providers]]\nkind = \"openai\"\napi_key = \"{CANARY}\"\nbase_url = \"{}/v1\"\nmodel = \"gpt-4.1-mini\"\n",
            ollama.uri(),
            openai.uri()
        ),
    );
    let (code, out, err) = run(&[
        "tradegraph",
        "providers",
        "check",
        "--config",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("PROVIDER")
            && lines[0].contains("MODEL")
            && lines[0].contains("LATENCY"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("ollama")
            && lines[1].contains("llama3.2")
            && lines[1].contains(" ok ")
            && lines[1].contains(" ms"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("openai")
            && lines[2].contains("bad key")
            && lines[2].contains("rejected (HTTP 401)"),
        "{out}"
    );
    assert!(
        !out.contains(CANARY) && !err.contains(CANARY),
        "the key leaked: {out}{err}"
    );
}

#[test]
fn exits_one_when_the_primary_fails() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (ollama, openai) = peers(&rt);
    let file = config(
        "bad.yaml",
        &format!(
            "providers:\n  - kind: openai\n    api_key: {CANARY}\n    base_url: {}/v1\n  - kind: ollama\n    base_url: {}\n",
            openai.uri(),
            ollama.uri()
        ),
    );
    let (code, out, err) = run(&[
        "tradegraph",
        "providers",
        "check",
        "--config",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("the primary provider failed"));
    assert!(out.lines().nth(2).unwrap().contains(" ok "), "{out}");
}

#[test]
fn unreachable_and_misconfigured_providers_are_rows() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        drop(l);
        format!("http://{a}")
    };
    let file = config(
        "down.toml",
        &format!("[[providers]]\nkind = \"ollama\"\nbase_url = \"{closed}\"\n\n[[providers]]\nkind = \"gemini\"\napi_key_env = \"TG_TEST_UNSET_GEMINI_KEY\"\n"),
    );
    let (code, out, _) = run(&[
        "tradegraph",
        "providers",
        "check",
        "--config",
        file.to_str().unwrap(),
        "--timeout",
        "5",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.lines().nth(1).unwrap().contains("unreachable"), "{out}");
    let gemini = out.lines().nth(2).unwrap();
    assert!(
        gemini.contains("configuration") && gemini.contains("set TG_TEST_UNSET_GEMINI_KEY"),
        "{out}"
    );
}

#[test]
fn an_empty_or_invalid_configuration_explains_itself() {
    let file = config("empty.toml", "repair_turns = 1\n");
    let (code, _, err) = run(&[
        "tradegraph",
        "providers",
        "check",
        "--config",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no LLM provider is configured")
            && err.contains("OPENAI_API_KEY")
            && err.contains("OLLAMA_BASE_URL"),
        "{err}"
    );
    let file = config(
        "typo.toml",
        "[[providers]]\nkind = \"openai\"\nmodle = \"x\"\n",
    );
    let (code, _, err) = run(&[
        "tradegraph",
        "providers",
        "check",
        "--config",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("typo.toml") && err.contains("unknown field `modle`"),
        "{err}"
    );
}

/// Without `--config`, the chain checked is the bot's: the environment, `.env.<instrument>`,
/// `.env` and `tradegraph.toml`'s `[llm]`, resolved as `tradegraph run` resolves them.
#[test]
fn without_a_config_file_it_checks_the_chain_the_bot_would_use() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (ollama, _openai) = peers(&rt);
    let dir = std::env::temp_dir().join(format!("tg-cli-providers-env-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(".env.banknifty"),
        format!("OLLAMA_BASE_URL={}\n", ollama.uri()),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .args(["providers", "check", "--instrument", "banknifty"])
        .current_dir(&dir)
        .env_clear()
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("ollama"), "{stdout}");
}

/// An invalid configuration is exit 2, as the command's help says (1 is the primary failing),
/// and so it is for `store replay-rejected` (1 is lines left).
#[test]
fn an_invalid_configuration_is_exit_2_not_the_commands_own_1() {
    let dir = std::env::temp_dir().join(format!("tg-cli-invalid-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for args in [
        ["providers", "check", "--instrument", "nosuch"],
        ["store", "replay-rejected", "--instrument", "nosuch"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tradegraph"))
            .args(args)
            .current_dir(&dir)
            .env_clear()
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("nosuch"), "{args:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
