//! The model side of a backtest: its answers recorded or replayed (`--record FILE` /
//! `--replay FILE`, see [`tradegraph_llm::record`]), and the notice that a model may have
//! seen the period it trades ([`tradegraph_llm::cutoff`]).

use std::path::Path;
use std::sync::Arc;
use tradegraph_core::Timestamp;
use tradegraph_llm::cutoff::KnowledgeNotice;
use tradegraph_llm::record::RecordBook;
use tradegraph_llm::{Llm, LlmError};

/// The record file the flags name: recorded into (`record`), replayed from (`replay`), or
/// none.
///
/// # Errors
/// When both are given, or the file cannot be opened (see [`RecordBook::record`],
/// [`RecordBook::replay`]).
///
/// ```
/// use tradegraph::backtest::answers;
///
/// assert!(answers::open(None, None)?.is_none());
/// let missing = std::path::Path::new("no/such/answers.jsonl");
/// assert!(answers::open(None, Some(missing)).is_err());
/// # Ok::<(), tradegraph_llm::LlmError>(())
/// ```
pub fn open(
    record: Option<&Path>,
    replay: Option<&Path>,
) -> Result<Option<Arc<RecordBook>>, LlmError> {
    match (record, replay) {
        (Some(_), Some(_)) => Err(LlmError::Record(
            "--record and --replay together: record once, then replay".into(),
        )),
        (Some(path), None) => RecordBook::record(path).map(Some),
        (None, Some(path)) => RecordBook::replay(path).map(Some),
        (None, None) => Ok(None),
    }
}

/// The knowledge notices of `llm`'s chain for a run whose first decision is at `first`: one
/// per model whose training cut-off is on or after that day, or unknown.
pub fn knowledge_notices(llm: &Llm, first: Timestamp) -> Vec<KnowledgeNotice> {
    KnowledgeNotice::for_chain(&llm.providers(), first.to_datetime().date_naive())
}

/// Why a run with `book` cannot be trusted, if it cannot: a replay that missed answers (it
/// stopped at the first), or a recording that could not write every answer.
pub fn incomplete(book: &RecordBook) -> Option<String> {
    if let Some(miss) = book.misses().first() {
        return Some(format!("replay stopped: {miss}"));
    }
    book.write_error()
        .map(|e| format!("the record is incomplete ({e}); record again"))
}

/// `configuration` (the run's settings as JSON) with the record file the answers came from or
/// went to, as `llm_record`: its path, format version, answers and SHA-256
/// ([`RecordBook::fingerprint`]). A recording and its replay state the same.
///
/// # Errors
/// When the record file cannot be read.
pub fn with_record(
    mut configuration: serde_json::Value,
    book: Option<&RecordBook>,
) -> Result<serde_json::Value, LlmError> {
    if let (Some(book), Some(fields)) = (book, configuration.as_object_mut()) {
        let print = serde_json::to_value(book.fingerprint()?)
            .map_err(|e| LlmError::Record(format!("cannot describe the record: {e}")))?;
        fields.insert("llm_record".into(), print);
    }
    Ok(configuration)
}
