//! Training cut-offs: what a model may already know. A backtest over a period before its
//! models' cut-off may be flattered (the model may have read about the moves it "predicts"),
//! so a run says so with a [`KnowledgeNotice`].
//!
//! The known dates are in one table, [`KNOWN_CUTOFFS`], each row with the vendor's page that
//! states it; a date is the last day of the stated month (the conservative reading).

mod table;

pub use table::{KnownCutoff, KNOWN_CUTOFFS};

use chrono::NaiveDate;
use serde::Serialize;
use std::fmt;

/// The row of `model`: the name lowercased, without a vendor prefix (`openai/`,
/// `meta-llama/`), equal to a row's model or a dated snapshot, Ollama tag or Vertex version
/// of it.
///
/// ```
/// use tradegraph_llm::cutoff::known_cutoff;
///
/// assert_eq!(known_cutoff("gpt-4.1-mini-2025-04-14").unwrap().model, "gpt-4.1-mini");
/// assert_eq!(known_cutoff("openai/gpt-4.1-mini").unwrap().model, "gpt-4.1-mini");
/// assert_eq!(known_cutoff("llama3.2:3b").unwrap().model, "llama3.2");
/// assert!(known_cutoff("claude-sonnet-4-6").is_none(), "a newer model is not guessed");
/// ```
pub fn known_cutoff(model: &str) -> Option<&'static KnownCutoff> {
    let name = model.trim().to_ascii_lowercase();
    let name = name.rsplit('/').next().unwrap_or_default();
    KNOWN_CUTOFFS
        .iter()
        .find(|row| is_version_of(name, row.model))
}

/// Whether `model` is `base` itself, a dated snapshot of it (`gpt-4.1-mini-2025-04-14`,
/// `claude-sonnet-4-20250514`), its `-latest` alias, or a tag of it (`llama3.2:3b`,
/// `model@q4`), not another model whose name starts alike (`o3-pro` is not `o3`).
pub(crate) fn is_version_of(model: &str, base: &str) -> bool {
    model.strip_prefix(base).is_some_and(|rest| {
        rest.is_empty()
            || rest.starts_with("-20")
            || rest == "-latest"
            || rest.starts_with(':')
            || rest.starts_with('@')
    })
}

/// The last day `model` may have training data from, if the table knows it.
///
/// ```
/// use chrono::NaiveDate;
/// use tradegraph_llm::cutoff::training_cutoff;
///
/// assert_eq!(training_cutoff("gpt-4.1-mini"), NaiveDate::from_ymd_opt(2024, 6, 30));
/// assert_eq!(training_cutoff("my-finetune"), None);
/// ```
pub fn training_cutoff(model: &str) -> Option<NaiveDate> {
    known_cutoff(model).and_then(|row| last_day(row.year, row.month))
}

fn last_day(year: i32, month: u32) -> Option<NaiveDate> {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}

/// A model that may have seen the period a backtest replays: its cut-off is after the
/// period's start, or unknown. Serializable for the report's `summary.json`.
///
/// ```
/// use chrono::NaiveDate;
/// use tradegraph_llm::cutoff::KnowledgeNotice;
///
/// let chain = [("openai".to_owned(), "gpt-4.1-mini".to_owned())];
/// let start = NaiveDate::from_ymd_opt(2024, 3, 4).unwrap();
/// let notices = KnowledgeNotice::for_chain(&chain, start);
/// assert_eq!(notices.len(), 1);
/// assert!(notices[0].to_string().contains("trained on data up to 2024-06-30"));
/// assert!(KnowledgeNotice::for_chain(&chain, NaiveDate::from_ymd_opt(2024, 7, 1).unwrap()).is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnowledgeNotice {
    /// The provider.
    pub provider: String,
    /// The model.
    pub model: String,
    /// Its training cut-off (the last day of the stated month); `None`: not known.
    pub cutoff: Option<NaiveDate>,
    /// Where the cut-off is stated.
    pub source: Option<&'static str>,
    /// The first day the backtest replays.
    pub period_start: NaiveDate,
}

impl KnowledgeNotice {
    /// The notices for a chain of `(provider, model)` replaying from `period_start`: one per
    /// model whose cut-off is on or after it, or unknown.
    pub fn for_chain(chain: &[(String, String)], period_start: NaiveDate) -> Vec<Self> {
        chain
            .iter()
            .filter_map(|(provider, model)| {
                let row = known_cutoff(model);
                let cutoff = row.and_then(|r| last_day(r.year, r.month));
                if cutoff.is_some_and(|c| c < period_start) {
                    return None;
                }
                Some(Self {
                    provider: provider.clone(),
                    model: model.clone(),
                    cutoff,
                    source: row.map(|r| r.source),
                    period_start,
                })
            })
            .collect()
    }
}

impl fmt::Display for KnowledgeNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cutoff {
            Some(cutoff) => write!(
                f,
                "{} ({}) was trained on data up to {cutoff} and this backtest starts {}: the model may have seen the market it trades, so treat the result as optimistic (source: {})",
                self.model,
                self.provider,
                self.period_start,
                self.source.unwrap_or("the vendor")
            ),
            None => write!(
                f,
                "{} ({}) has no known training cut-off: it may have seen the market this backtest replays from {}; treat the result as optimistic",
                self.model, self.provider, self.period_start
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_a_real_month_with_a_source_and_names_are_unique() {
        let mut names: Vec<&str> = KNOWN_CUTOFFS.iter().map(|r| r.model).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KNOWN_CUTOFFS.len());
        for row in KNOWN_CUTOFFS {
            assert!(last_day(row.year, row.month).is_some(), "{row:?}");
            assert!(!row.source.is_empty() && row.model == row.model.to_ascii_lowercase());
            assert_eq!(known_cutoff(row.model), Some(row));
        }
    }

    #[test]
    fn snapshots_tags_and_prefixes_match_and_relatives_do_not() {
        let model = |m: &str| known_cutoff(m).map(|r| r.model);
        assert_eq!(model("claude-haiku-4-5-20251001"), Some("claude-haiku-4-5"));
        assert_eq!(model("claude-sonnet-4-20250514"), Some("claude-sonnet-4"));
        assert_eq!(
            model("meta-llama/Llama-3.3-70B-Instruct-Turbo"),
            Some("llama-3.3-70b-instruct-turbo")
        );
        assert_eq!(model("o3-mini"), Some("o3-mini"));
        assert_eq!(model("gpt-5-mini"), Some("gpt-5-mini"));
        assert_eq!(model("gpt-4.1-mini-fine"), None);
        assert_eq!(
            training_cutoff("gpt-4o"),
            NaiveDate::from_ymd_opt(2023, 10, 31)
        );
        assert_eq!(
            training_cutoff("llama3.3"),
            NaiveDate::from_ymd_opt(2023, 12, 31)
        );
    }

    #[test]
    fn a_notice_for_a_known_later_cutoff_and_for_an_unknown_one() {
        let chain = [
            ("openai".to_owned(), "gpt-4o".to_owned()),
            ("local".to_owned(), "gpt-test".to_owned()),
        ];
        let start = NaiveDate::from_ymd_opt(2023, 10, 31).unwrap();
        let notices = KnowledgeNotice::for_chain(&chain, start);
        assert_eq!(notices.len(), 2, "the cut-off's own day counts as seen");
        assert!(notices[1].to_string().contains("no known training cut-off"));
        let later = NaiveDate::from_ymd_opt(2023, 11, 1).unwrap();
        let notices = KnowledgeNotice::for_chain(&chain, later);
        assert_eq!(
            notices.iter().map(|n| n.model.as_str()).collect::<Vec<_>>(),
            ["gpt-test"]
        );
        let json = serde_json::to_value(&notices[0]).unwrap();
        assert_eq!(json["cutoff"], serde_json::Value::Null);
        assert_eq!(json["period_start"], "2023-11-01");
    }
}
