//! The known training cut-offs: one row per model, each with where the vendor states it.

/// A model's training cut-off, as its vendor states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownCutoff {
    /// The model's name (lowercase, no vendor prefix); dated snapshots (`-2025-04-14`,
    /// `-20251001`), Ollama tags (`:7b`) and Vertex versions (`@20251001`) of it match too.
    pub model: &'static str,
    /// The year of the last month of training data.
    pub year: i32,
    /// That month, 1 to 12.
    pub month: u32,
    /// Where the vendor states it.
    pub source: &'static str,
}

const OPENAI: &str = "OpenAI model page, platform.openai.com/docs/models/";
const ANTHROPIC: &str =
    "Anthropic models overview (training data cut-off), docs.claude.com/en/docs/about-claude/models/overview";
const GEMINI: &str =
    "Gemini API models page (knowledge cutoff), ai.google.dev/gemini-api/docs/models";
const LLAMA_33: &str =
    "Meta Llama 3.3 model card (data freshness), github.com/meta-llama/llama-models";
const LLAMA_32: &str =
    "Meta Llama 3.2 model card (data freshness), github.com/meta-llama/llama-models";
const LLAMA_31: &str =
    "Meta Llama 3.1 model card (data freshness), github.com/meta-llama/llama-models";
const GPT_OSS: &str =
    "OpenAI gpt-oss model card (knowledge cutoff), openai.com/index/gpt-oss-model-card";

const fn row(model: &'static str, year: i32, month: u32, source: &'static str) -> KnownCutoff {
    KnownCutoff {
        model,
        year,
        month,
        source,
    }
}

/// Every model whose cut-off is known here: the defaults of each provider and their close
/// relatives. A model missing from it has an unknown cut-off (and a backtest says so).
pub const KNOWN_CUTOFFS: &[KnownCutoff] = &[
    // OpenAI: "knowledge cutoff" on each model's page.
    row("gpt-4.1", 2024, 6, OPENAI),
    row("gpt-4.1-mini", 2024, 6, OPENAI),
    row("gpt-4.1-nano", 2024, 6, OPENAI),
    row("gpt-4o", 2023, 10, OPENAI),
    row("gpt-4o-mini", 2023, 10, OPENAI),
    row("o3", 2024, 6, OPENAI),
    row("o3-mini", 2023, 10, OPENAI),
    row("o4-mini", 2024, 6, OPENAI),
    row("gpt-5", 2024, 9, OPENAI),
    row("gpt-5-mini", 2024, 5, OPENAI),
    row("gpt-5-nano", 2024, 5, OPENAI),
    row("gpt-oss-20b", 2024, 6, GPT_OSS),
    row("gpt-oss-120b", 2024, 6, GPT_OSS),
    // Anthropic: the "training data cut-off" column (later than "reliable knowledge").
    row("claude-haiku-4-5", 2025, 7, ANTHROPIC),
    row("claude-sonnet-4-5", 2025, 7, ANTHROPIC),
    row("claude-sonnet-4", 2025, 3, ANTHROPIC),
    row("claude-sonnet-4-0", 2025, 3, ANTHROPIC),
    row("claude-opus-4", 2025, 3, ANTHROPIC),
    row("claude-opus-4-0", 2025, 3, ANTHROPIC),
    row("claude-opus-4-1", 2025, 3, ANTHROPIC),
    row("claude-3-7-sonnet", 2024, 11, ANTHROPIC),
    row("claude-3-5-haiku", 2024, 7, ANTHROPIC),
    // Google.
    row("gemini-2.5-pro", 2025, 1, GEMINI),
    row("gemini-2.5-flash", 2025, 1, GEMINI),
    row("gemini-2.5-flash-lite", 2025, 1, GEMINI),
    row("gemini-2.0-flash", 2024, 8, GEMINI),
    // Meta Llama, under Groq's, Together's and Ollama's names.
    row("llama-3.3-70b-versatile", 2023, 12, LLAMA_33),
    row("llama-3.3-70b-instruct-turbo", 2023, 12, LLAMA_33),
    row("llama3.3", 2023, 12, LLAMA_33),
    row("llama3.2", 2023, 12, LLAMA_32),
    row("llama-3.1-8b-instant", 2023, 12, LLAMA_31),
    row("llama3.1", 2023, 12, LLAMA_31),
];
