//! Asks the configured LLM providers for a typed, schema-validated trading signal.
//!
//! Providers come from the environment, as everywhere in tradegraph: `OPENAI_API_KEY`,
//! `ANTHROPIC_API_KEY`, `GEMINI_API_KEY`, `GROQ_API_KEY`, `TOGETHER_API_KEY`,
//! `OPENROUTER_API_KEY` (each with `<PROVIDER>_BASE_URL` and `<PROVIDER>_MODEL`),
//! `OLLAMA_BASE_URL`/`OLLAMA_MODEL` for a local model, and `TRADEGRAPH_LLM_PROVIDERS` to order
//! the chain (primary first). With none set, it explains what to set and exits successfully.
//!
//! ```text
//! OLLAMA_BASE_URL=http://localhost:11434 cargo run --example llm_structured
//! OPENAI_API_KEY=sk-... ANTHROPIC_API_KEY=sk-ant-... cargo run --example llm_structured
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use schemars::JsonSchema;
use serde::Deserialize;
use tradegraph_llm::config::LlmConfig;
use tradegraph_llm::fallback::LlmEvent;
use tradegraph_llm::Request;

/// What the analyst must answer: the schema is generated from this type, sent to each
/// provider in its native form, and the answer is validated against it.
#[derive(Debug, Deserialize, JsonSchema)]
struct Signal {
    /// The trade: BUY, SELL or HOLD.
    action: Action,
    /// How sure the analyst is, from 0 to 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    confidence: f64,
    /// One to three short reasons.
    #[schemars(length(min = 1, max = 3))]
    reasons: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
enum Action {
    Buy,
    Sell,
    Hold,
}

const NO_PROVIDER: &str = "\
No LLM provider is configured, so there is nothing to ask. Set one of:

  OPENAI_API_KEY=sk-...            (OPENAI_MODEL, OPENAI_BASE_URL optional)
  ANTHROPIC_API_KEY=sk-ant-...     (ANTHROPIC_MODEL, ANTHROPIC_BASE_URL)
  GEMINI_API_KEY=...               (GEMINI_MODEL, GEMINI_BASE_URL)
  GROQ_API_KEY / TOGETHER_API_KEY / OPENROUTER_API_KEY
  OLLAMA_BASE_URL=http://localhost:11434   (a local model; OLLAMA_MODEL=llama3.2)

Several keys make a fallback chain; TRADEGRAPH_LLM_PROVIDERS=anthropic,openai orders it
(primary first). `tradegraph providers check` tests each one. Then run this example again.";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = LlmConfig::from_env(|name| std::env::var(name).ok())?;
    if config.providers.is_empty() {
        println!("{NO_PROVIDER}");
        return Ok(());
    }
    let llm = config.build().await?;
    let chain: Vec<String> = llm
        .providers()
        .into_iter()
        .map(|(p, m)| format!("{p} ({m})"))
        .collect();
    println!("chain: {}", chain.join(" -> "));

    // Failovers and alerts as they happen.
    let mut events = llm.subscribe();
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            match event {
                LlmEvent::Failover { provider, kind, .. } => {
                    eprintln!("  {provider} failed ({kind}); trying the next provider")
                }
                LlmEvent::ProviderDisabled { provider, status } => {
                    eprintln!("  ALERT: {provider} rejected its key (HTTP {status}); disabled")
                }
                _ => {}
            }
        }
    });

    let request = Request::chat(
        "You are a cautious crypto analyst. Answer with a trading signal.",
        "BTC/USDT: price 64,250; 1h RSI 71; MACD histogram turning down; funding rate high. Signal?",
    )
    .temperature(0.0)
    .max_tokens(400);
    match llm.structured::<Signal>(request).await {
        Ok(answer) => {
            let s = &answer.value;
            println!("signal: {:?} (confidence {:.2})", s.action, s.confidence);
            for reason in &s.reasons {
                println!("  - {reason}");
            }
            let r = &answer.response;
            println!(
                "answered by {} / {} in {:?}; {} tokens in, {} out; repair turns: {}",
                r.provider,
                r.model,
                r.latency,
                r.usage.input_tokens,
                r.usage.output_tokens,
                answer.repairs
            );
        }
        Err(e) => {
            eprintln!("no signal: {e}");
            eprintln!("(`tradegraph providers check` shows what each provider says)");
            std::process::exit(1);
        }
    }
    Ok(())
}
