//! [`RecordBook`]: a record file, opened to record into or to replay from.

use super::line::{ChainEntry, Entry, Line, RecordedError, FORMAT_VERSION};
use super::{RecordKey, Recorded, Replayed};
use crate::{LlmError, Provider, Request, Response};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::watch;

/// Whether a book records answers or replays them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordMode {
    /// Every provider's answers (and failures) are appended as they come.
    Record,
    /// Answers come from the file; no provider is called.
    Replay,
}

/// A line of the file that was not read: torn by an interrupted write, or unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    /// Its number, from 1.
    pub line: usize,
    /// Why it was skipped.
    pub reason: String,
}

/// What identifies a record file's answers ([`RecordBook::fingerprint`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordFingerprint {
    /// The file, as given.
    pub path: String,
    /// The format version.
    pub format_version: u32,
    /// Answers in it.
    pub answers: usize,
    /// The SHA-256 of its bytes, in hex.
    pub sha256: String,
}

/// A call a replay found no recorded answer for (inside [`LlmError::NotRecorded`]).
///
/// ```
/// use tradegraph_llm::record::Miss;
///
/// let miss = Miss {
///     agent: Some("technical".into()),
///     provider: "openai".into(),
///     model: "gpt-4.1-mini".into(),
///     key: "9f2c".into(),
///     file: "answers.jsonl".into(),
/// };
/// assert!(miss.to_string().starts_with("no recorded answer for agent `technical` on openai (model gpt-4.1-mini), request hash 9f2c, in answers.jsonl"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    /// Who asked (`technical`, ...), when the request said.
    pub agent: Option<String>,
    /// The provider asked.
    pub provider: String,
    /// The model asked.
    pub model: String,
    /// The request's [`RecordKey`].
    pub key: String,
    /// The record file.
    pub file: String,
}

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no recorded answer for agent `{}` on {} (model {}), request hash {}, in {}; the prompts, the data, the settings or the model changed since it was recorded: record again with --record",
            self.agent.as_deref().unwrap_or("(unnamed)"),
            self.provider,
            self.model,
            self.key,
            self.file
        )
    }
}

/// A record file of model answers (JSON Lines, append-only, see [the module](super)), opened
/// to [record](RecordBook::record) into or to [replay](RecordBook::replay) from. Put providers
/// behind it with [`RecordBook::layer`], or take the recorded chain's stand-ins with
/// [`RecordBook::replayers`] (or let [`LlmConfig::build_recorded`](crate::config::LlmConfig::build_recorded)
/// do either).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
/// use std::sync::Arc;
/// use tradegraph_llm::record::RecordBook;
/// use tradegraph_llm::{Llm, Provider, Request, ScriptedProvider};
///
/// let path = std::env::temp_dir().join(format!("llm-record-doc-{}.jsonl", std::process::id()));
/// # std::fs::remove_file(&path).ok();
/// let req = Request::chat("Be brief.", "Trade?");
/// {
///     let book = RecordBook::record(&path)?;
///     let model: Arc<dyn Provider> = Arc::new(ScriptedProvider::new("openai", "gpt-4.1-mini").text("HOLD"));
///     let llm = Llm::builder().provider_arc(book.layer(model), Default::default()).build()?;
///     book.begin(&llm)?;
///     assert_eq!(llm.complete(&req).await?.text(), "HOLD");
/// }
/// // Later, with no key and no network:
/// let book = RecordBook::replay(&path)?;
/// let mut builder = Llm::builder();
/// for p in book.replayers() {
///     builder = builder.provider_arc(p, Default::default());
/// }
/// let llm = builder.build()?;
/// assert_eq!(llm.complete(&req).await?.text(), "HOLD");
/// assert!(llm.complete(&Request::chat("Be brief.", "Sell?")).await.is_err());
/// assert_eq!(book.misses().len(), 1);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RecordBook {
    path: PathBuf,
    mode: RecordMode,
    skipped: Vec<SkippedLine>,
    chain: Vec<ChainEntry>,
    state: Mutex<State>,
    missed: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct State {
    /// Each key's outcomes, as the latest session that asked it recorded them.
    outcomes: HashMap<RecordKey, KeyOutcomes>,
    /// Sessions seen so far (session lines read, or begun).
    session: usize,
    answers: usize,
    file: Option<File>,
    misses: Vec<Miss>,
    write_error: Option<String>,
    /// Whether any outcome is a skip (a replay of a record with none, on one provider, has
    /// nothing to pass over).
    any_skip: bool,
    /// Whether any outcome is a budget's refusal (a replay of a record with none looks for
    /// none, and hashes no request for it).
    any_refusal: bool,
}

type Outcome = Result<Response, RecordedError>;

/// A key's outcomes in the order they were recorded, the session that recorded them, and how
/// many a replay served.
#[derive(Debug, Default)]
struct KeyOutcomes {
    outcomes: Vec<Outcome>,
    session: usize,
    served: usize,
}

impl State {
    /// Adds `outcome` under `key` for the current session. A key that an earlier session
    /// recorded starts over: a file recorded into twice replays its latest run.
    fn push(&mut self, key: RecordKey, outcome: Outcome) {
        self.any_skip |= matches!(outcome, Err(RecordedError::Skipped));
        self.any_refusal |= matches!(outcome, Err(RecordedError::BudgetExceeded { .. }));
        let session = self.session;
        let recorded = self.outcomes.entry(key).or_default();
        if recorded.session != session {
            recorded.outcomes.clear();
            recorded.session = session;
        }
        recorded.outcomes.push(outcome);
    }
}

impl RecordBook {
    /// Opens (or creates, with its directory) `path` to append to. Answers already in it are
    /// kept, and replay as they were, except those of a request this recording asks again: a
    /// key's answers are those of the latest session that asked it, so a file recorded into
    /// twice replays its latest run. A torn last line (an interrupted write) is [reported](Self::skipped) and closed
    /// with a line break so that nothing new is glued to it.
    ///
    /// # Errors
    /// [`LlmError::Record`] when the file cannot be read, created or written, or was written
    /// in a newer format.
    pub fn record(path: impl AsRef<Path>) -> Result<Arc<Self>, LlmError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| fail(&path, "cannot create the directory of", &e))?;
        }
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(fail(&path, "cannot read", &e)),
        };
        let mut book = Self::load(path, RecordMode::Record, &text)?;
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&book.path)
            .map_err(|e| fail(&book.path, "cannot open", &e))?;
        if !text.is_empty() && !text.ends_with(b"\n") {
            file.write_all(b"\n")
                .map_err(|e| fail(&book.path, "cannot write", &e))?;
        }
        book.state_mut().file = Some(file);
        Ok(Arc::new(book))
    }

    /// Opens `path` to replay from.
    ///
    /// # Errors
    /// [`LlmError::Record`] when the file cannot be read, was written in a newer format, or
    /// holds no recording (no session line).
    pub fn replay(path: impl AsRef<Path>) -> Result<Arc<Self>, LlmError> {
        let path = path.as_ref().to_path_buf();
        let text = std::fs::read(&path).map_err(|e| fail(&path, "cannot read", &e))?;
        let book = Self::load(path, RecordMode::Replay, &text)?;
        if book.chain.is_empty() {
            return Err(LlmError::Record(format!(
                "{}: no recording in it (no session line); record one with --record",
                book.path.display()
            )));
        }
        Ok(Arc::new(book))
    }

    /// Reads the lines of `text` (the contents of `path`), each on its own: a line that is not
    /// UTF-8 (a write torn inside a character, a damaged sector) is one line skipped, not a
    /// file unread.
    fn load(path: PathBuf, mode: RecordMode, text: &[u8]) -> Result<Self, LlmError> {
        let mut state = State::default();
        let mut skipped = Vec::new();
        let mut chain = Vec::new();
        let complete = text.ends_with(b"\n");
        let lines: Vec<&[u8]> = text.split_inclusive(|b| *b == b'\n').collect();
        for (n, raw) in lines.iter().enumerate() {
            let last = n + 1 == lines.len();
            let torn = |what: String| {
                if last && !complete {
                    format!("torn (an interrupted write): {what}")
                } else {
                    format!("unreadable: {what}")
                }
            };
            let line = match std::str::from_utf8(raw) {
                Ok(line) => line.trim(),
                Err(e) => {
                    skipped.push(SkippedLine {
                        line: n + 1,
                        reason: torn(format!("not UTF-8 ({e})")),
                    });
                    continue;
                }
            };
            if line.is_empty() {
                continue;
            }
            let parsed = match serde_json::from_str::<Line>(line) {
                Ok(parsed) => parsed,
                Err(e) => {
                    // A newer version may add kinds of lines: say so rather than skip them.
                    if let Some(v) = version_of(line).filter(|v| *v > FORMAT_VERSION) {
                        return Err(newer(&path, n + 1, v));
                    }
                    skipped.push(SkippedLine {
                        line: n + 1,
                        reason: torn(e.to_string()),
                    });
                    continue;
                }
            };
            if parsed.v > FORMAT_VERSION {
                return Err(newer(&path, n + 1, parsed.v));
            }
            match parsed.entry {
                Entry::Session { chain: c } => {
                    chain = c;
                    state.session += 1;
                }
                Entry::Answer { key, response, .. } => {
                    state.answers += 1;
                    state.push(key, Ok(*response));
                }
                Entry::Failure { key, error, .. } => state.push(key, Err(error)),
            }
        }
        for s in &skipped {
            tracing::warn!(path = %path.display(), line = s.line, reason = %s.reason, "skipping a line of the LLM record");
        }
        Ok(Self {
            path,
            mode,
            skipped,
            chain,
            state: Mutex::new(state),
            missed: watch::channel(false).0,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether it records or replays.
    pub fn mode(&self) -> RecordMode {
        self.mode
    }

    /// The lines that could not be read when it was opened (each also logged).
    pub fn skipped(&self) -> &[SkippedLine] {
        &self.skipped
    }

    /// The chain of the file's last recording, primary first (what a replay stands in for).
    pub fn chain(&self) -> &[ChainEntry] {
        &self.chain
    }

    /// Answer lines in the file (read from it and recorded since), replaced ones included.
    pub fn answers(&self) -> usize {
        self.state().answers
    }

    /// The calls a replay found no answer for, in order.
    pub fn misses(&self) -> Vec<Miss> {
        self.state().misses.clone()
    }

    /// Completes at the first miss: a run can stop on it rather than carry on without the
    /// answer.
    pub async fn missed(&self) {
        let mut rx = self.missed.subscribe();
        // The sender lives as long as `self`, so this only ends on a miss.
        let _ = rx.wait_for(|missed| *missed).await;
    }

    /// What identifies the answers a run used, for its report: the file as given, the format
    /// version, the answers held and the SHA-256 of the file's bytes now. A recording's
    /// fingerprint at its end equals its replay's (the replay adds nothing to the file).
    ///
    /// # Errors
    /// [`LlmError::Record`] when the file cannot be read.
    pub fn fingerprint(&self) -> Result<RecordFingerprint, LlmError> {
        use sha2::{Digest, Sha256};
        let bytes = std::fs::read(&self.path).map_err(|e| fail(&self.path, "cannot read", &e))?;
        Ok(RecordFingerprint {
            path: self.path.display().to_string(),
            format_version: FORMAT_VERSION,
            answers: self.answers(),
            sha256: crate::structured::hex(&Sha256::digest(&bytes)),
        })
    }

    /// The first failure to append to the file while recording, if any (the answer itself
    /// still went to the caller).
    pub fn write_error(&self) -> Option<String> {
        self.state().write_error.clone()
    }

    /// `provider` behind this book: every call's outcome is appended to the file.
    pub fn layer(self: &Arc<Self>, provider: Arc<dyn Provider>) -> Arc<dyn Provider> {
        Arc::new(Recorded::new(provider, Arc::clone(self)))
    }

    /// Stand-ins for the recorded chain's providers, primary first: each answers from the file
    /// and calls nothing.
    pub fn replayers(self: &Arc<Self>) -> Vec<Arc<dyn Provider>> {
        self.chain
            .iter()
            .map(|entry| {
                Arc::new(Replayed::new(entry.clone(), Arc::clone(self))) as Arc<dyn Provider>
            })
            .collect()
    }

    /// Starts a recording: appends a session line with the chain of `llm` (each provider's
    /// name, model and sampling), which a replay stands in for.
    ///
    /// # Errors
    /// [`LlmError::Record`] when the line cannot be written, or the book replays.
    pub fn begin(&self, llm: &crate::Llm) -> Result<(), LlmError> {
        if self.mode != RecordMode::Record {
            return Err(LlmError::Record(format!(
                "{}: opened to replay, not to record",
                self.path.display()
            )));
        }
        let chain = llm.chain_entries();
        self.append(&Entry::Session { chain })?;
        self.state().session += 1;
        Ok(())
    }

    /// Appends a call's outcome (recording).
    pub(crate) fn put(
        &self,
        key: RecordKey,
        provider: &dyn Provider,
        request: &Request,
        outcome: &Result<Response, LlmError>,
    ) {
        let provider_name = provider.name().to_owned();
        let model = request.model_or(provider.model()).to_owned();
        let agent = request.agent.clone();
        let entry = match outcome {
            Ok(response) => Entry::Answer {
                key: key.clone(),
                provider: provider_name,
                model,
                agent,
                response: Box::new(Response {
                    cost: None,
                    ..response.clone()
                }),
            },
            Err(error) => match RecordedError::of(error) {
                Some(error) => Entry::Failure {
                    key: key.clone(),
                    provider: provider_name,
                    model,
                    agent,
                    error,
                },
                None => return,
            },
        };
        self.keep(key, entry);
    }

    /// Appends that the chain did not ask `provider` `request` (recording): a replay skips it
    /// there too.
    pub(crate) fn put_skipped(&self, key: RecordKey, provider: &dyn Provider, request: &Request) {
        let entry = Entry::Failure {
            key: key.clone(),
            provider: provider.name().to_owned(),
            model: request.model_or(provider.model()).to_owned(),
            agent: request.agent.clone(),
            error: RecordedError::Skipped,
        };
        self.keep(key, entry);
    }

    /// Appends that the chain's budget refused `request` before asking `provider` (recording).
    pub(crate) fn put_budget_refused(
        &self,
        key: RecordKey,
        provider: &dyn Provider,
        request: &Request,
        refusal: &LlmError,
    ) {
        let LlmError::BudgetExceeded { window, what } = refusal else {
            return;
        };
        let entry = Entry::Failure {
            key: key.clone(),
            provider: provider.name().to_owned(),
            model: request.model_or(provider.model()).to_owned(),
            agent: request.agent.clone(),
            error: RecordedError::BudgetExceeded {
                window: *window,
                what: what.clone(),
            },
        };
        self.keep(key, entry);
    }

    /// Whether the record holds budget refusals (a replay then looks for them).
    pub(crate) fn any_budget_refusal(&self) -> bool {
        self.state().any_refusal
    }

    /// The budget's refusal of `key`, when it is the next outcome for it (served then).
    pub(crate) fn take_budget_refusal(&self, key: &RecordKey) -> Option<LlmError> {
        let mut state = self.state();
        let recorded = state.outcomes.get_mut(key)?;
        match recorded.outcomes.get(recorded.served) {
            Some(Err(refusal @ RecordedError::BudgetExceeded { .. })) => {
                let error = refusal.to_error("");
                recorded.served += 1;
                Some(error)
            }
            _ => None,
        }
    }

    /// Appends `entry` (an answer or a failure) and keeps it for `key`.
    fn keep(&self, key: RecordKey, entry: Entry) {
        if let Err(e) = self.append(&entry) {
            let mut state = self.state();
            tracing::error!(error = %e, "the LLM record is incomplete");
            state.write_error.get_or_insert(e.to_string());
            return;
        }
        let mut state = self.state();
        if matches!(entry, Entry::Answer { .. }) {
            state.answers += 1;
        }
        let recorded = match entry {
            Entry::Answer { response, .. } => Ok(*response),
            Entry::Failure { error, .. } => Err(error),
            Entry::Session { .. } => return,
        };
        state.push(key, recorded);
    }

    /// The next recorded outcome for `key` (the n-th ask of a key gets its n-th outcome), as
    /// `provider`'s; `None` when the record has none, or none left: a replay that asks more
    /// often than the recording did took another path, and that is a miss.
    pub(crate) fn take(
        &self,
        key: &RecordKey,
        provider: &str,
    ) -> Option<Result<Response, LlmError>> {
        let mut state = self.state();
        let recorded = state.outcomes.get_mut(key)?;
        let outcome = recorded.outcomes.get(recorded.served).cloned()?;
        recorded.served += 1;
        Some(outcome.map_err(|e| e.to_error(provider)))
    }

    /// Whether a replay may have to pass a provider over: the record holds skips, or its
    /// chain has another provider that may have answered instead.
    pub(crate) fn may_skip(&self) -> bool {
        self.chain.len() > 1 || self.state().any_skip
    }

    /// Whether the next outcome for `key` is a skip (the recording's chain passed the provider
    /// over): it is served, and the provider is passed over again.
    pub(crate) fn take_skip(&self, key: &RecordKey) -> bool {
        let mut state = self.state();
        let Some(recorded) = state.outcomes.get_mut(key) else {
            return false;
        };
        let skip = matches!(
            recorded.outcomes.get(recorded.served),
            Some(Err(RecordedError::Skipped))
        );
        if skip {
            recorded.served += 1;
        }
        skip
    }

    /// Whether the record holds an outcome for `key` that a replay has not served yet.
    pub(crate) fn has_unserved(&self, key: &RecordKey) -> bool {
        self.state()
            .outcomes
            .get(key)
            .is_some_and(|k| k.served < k.outcomes.len())
    }

    /// A miss, noted and signalled, as the error it is.
    pub(crate) fn miss(
        &self,
        key: &RecordKey,
        provider: &str,
        model: &str,
        request: &Request,
    ) -> LlmError {
        let miss = Miss {
            agent: request.agent.clone(),
            provider: provider.to_owned(),
            model: model.to_owned(),
            key: key.to_string(),
            file: self.path.display().to_string(),
        };
        self.state().misses.push(miss.clone());
        self.missed.send_replace(true);
        LlmError::NotRecorded(Box::new(miss))
    }

    /// Writes one line, whole, with one write call: an interruption leaves at most this line
    /// torn, never an earlier one.
    fn append(&self, entry: &Entry) -> Result<(), LlmError> {
        let line = Line {
            v: FORMAT_VERSION,
            entry: entry.clone(),
        };
        let mut text = serde_json::to_string(&line)
            .map_err(|e| LlmError::Record(format!("cannot encode a line: {e}")))?;
        text.push('\n');
        let mut state = self.state();
        let Some(file) = state.file.as_mut() else {
            return Err(LlmError::Record(format!(
                "{}: opened to replay, not to record",
                self.path.display()
            )));
        };
        file.write_all(text.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| fail(&self.path, "cannot append to", &e))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn state_mut(&mut self) -> &mut State {
        self.state.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

fn fail(path: &Path, what: &str, e: &std::io::Error) -> LlmError {
    LlmError::Record(format!("{what} {}: {e}", path.display()))
}

fn newer(path: &Path, line: usize, v: u32) -> LlmError {
    LlmError::Record(format!(
        "{}:{line}: written in record format version {v}, and this build reads version {FORMAT_VERSION}; update tradegraph or record again",
        path.display()
    ))
}

/// The `v` of a line that is JSON but not a line this build knows.
fn version_of(line: &str) -> Option<u32> {
    serde_json::from_str::<serde_json::Value>(line)
        .ok()?
        .get("v")?
        .as_u64()
        .and_then(|v| u32::try_from(v).ok())
}
