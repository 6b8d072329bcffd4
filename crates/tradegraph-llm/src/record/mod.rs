//! Record and replay of model calls: a run records every provider's answers into a file, and a
//! later run replays them with no provider called, no network and no key, so it decides
//! exactly as the recorded run did (`tradegraph backtest --record FILE` / `--replay FILE`).
//!
//! It is a provider layer: [`RecordBook::layer`] puts any provider behind the record
//! ([`Recorded`]), and [`RecordBook::replayers`] gives stand-ins for the recorded chain
//! ([`Replayed`]); [`LlmConfig::build_recorded`](crate::config::LlmConfig::build_recorded) does
//! either for a configured chain. Unlike the [cache](crate::cache), which keeps the final
//! validated answer of a call, the record keeps each provider call (repair turns and failures
//! too), so a replay takes the same path through repairs and failovers, with the same usage.
//!
//! # The file (format version 3)
//!
//! JSON Lines, UTF-8, append-only: one JSON object per line, each with `v` (the format
//! version: 3, which added the failure `budget_exceeded`; 2 added `skipped` and
//! `model_unavailable`; files of versions 1 and 2 are read as well) and `type`:
//!
//! | `type` | fields | written |
//! |---|---|---|
//! | `session` | `chain`: the providers, primary first, each `{provider, model, sampling?: {temperature?, seed?}}` | when a recording starts |
//! | `answer` | `key`, `provider`, `model`, `agent?`, `response` (`content` `{"text": ..}` or `{"json": ..}`, `usage`, `latency` in ms, `provider`, `model`, `finish`) | after each answer |
//! | `failure` | `key`, `provider`, `model`, `agent?`, `error` (`{"kind": "rate_limited", "retry_after_ms": 1000}`, ...; `{"kind": "skipped"}`: the chain passed the provider over; `{"kind": "budget_exceeded", "window": "run", "what": ".."}`: a budget refused the call, or its repair turn, before it was sent) | after each provider failure, each call the chain passed the provider over for, and each call or repair turn a budget refused |
//!
//! `key` is the request's [`RecordKey`]: SHA-256 of the provider, the model, the rendered
//! messages, the schema's hash, temperature, seed and token limit. No prompt text, no key, no
//! URL is stored. A key recorded twice (the same question asked again) replays its answers
//! in order; asked once more than recorded, it is a miss. Recording into a file that holds
//! answers appends a session: a key it records again keeps only this session's answers, the
//! others stay as they were, so the file replays its latest run. A replay stands in for the
//! chain of the file's last `session` line, its providers asked in the chain's order with no
//! breakers: a provider the recording passed over (a `skipped` failure; or, in a version 1
//! file, no outcome while another provider still has an answer for the request) is passed
//! over in the replay too, whatever the replay's timing. A call (or repair turn) the
//! recording's budget refused is refused in the replay before the replay's own budget is
//! consulted: calls asked at once settle in another order in a replay (its answers come at
//! once), so its budget alone would admit calls the recording refused, and miss their answers.
//!
//! Each line is written whole with one write call and flushed: a crash mid-write leaves at
//! most the last line torn. Reading reports a torn or unreadable line
//! ([`RecordBook::skipped`]) and ignores it; every line before and after it is read. Recording
//! into a file that ends torn first closes the torn line with a line break. A line of a newer
//! format version is an error naming the file and line (update, or record again).
//!
//! ```text
//! {"v":2,"type":"session","chain":[{"provider":"openai","model":"gpt-4.1-mini","sampling":{"temperature":0.0,"seed":7}}]}
//! {"v":2,"type":"answer","key":"9f2c…","provider":"openai","model":"gpt-4.1-mini","agent":"technical","response":{"content":{"text":"{\"signal\":\"BUY\",…}"},"usage":{"input_tokens":912,"output_tokens":64},"latency":820,"provider":"openai","model":"gpt-4.1-mini-2025-04-14","finish":"stop","cached":false}}
//! ```

mod book;
mod key;
mod layer;
mod line;
mod replay;

pub use book::{Miss, RecordBook, RecordFingerprint, RecordMode, SkippedLine};
pub use key::RecordKey;
pub use layer::Recorded;
pub use line::{ChainEntry, FORMAT_VERSION};
pub use replay::Replayed;
