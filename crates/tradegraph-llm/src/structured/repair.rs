//! The repair turn: what to tell a model whose answer broke the schema.

use super::Violation;
use crate::Message;
use std::fmt;

/// How much of an invalid answer is sent back (the rest is cut, to spare the context).
const MAX_ECHO_CHARS: usize = 4000;

/// Decides whether, and how, to ask again after an answer broke the schema — as tower's
/// `retry::Policy` decides whether to retry a request.
///
/// ```
/// use tradegraph_llm::{Message, RepairPolicy, Violation};
///
/// /// Asks once more, tersely.
/// #[derive(Debug)]
/// struct Terse;
///
/// impl RepairPolicy for Terse {
///     fn repair(&self, attempt: u32, answer: &str, problems: &[Violation]) -> Option<Vec<Message>> {
///         (attempt == 1).then(|| vec![
///             Message::assistant(answer),
///             Message::user(format!("Invalid: {}. JSON only.", problems[0])),
///         ])
///     }
/// }
/// ```
pub trait RepairPolicy: Send + Sync + fmt::Debug {
    /// After the `attempt`-th answer (1 is the first) failed with `problems`, the messages to
    /// append to the conversation for another try; `None` gives up.
    fn repair(&self, attempt: u32, answer: &str, problems: &[Violation]) -> Option<Vec<Message>>;
}

/// The default [`RepairPolicy`]: sends the answer back with the violations (JSON pointer,
/// rule, explanation), at most `max_repairs` times.
///
/// ```
/// use tradegraph_llm::{Repair, RepairPolicy, Violation};
///
/// let policy = Repair::new(1);
/// let problem = Violation { pointer: "/confidence".into(), rule: "maximum".into(), message: "7 is greater than 1".into() };
/// let turn = policy.repair(1, r#"{"confidence": 7}"#, &[problem.clone()]).unwrap();
/// assert!(turn[1].content.contains("at `/confidence`, rule `maximum`: 7 is greater than 1"));
/// assert!(policy.repair(2, "{}", &[problem]).is_none()); // bounded
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repair {
    max_repairs: u32,
}

impl Repair {
    /// At most `max_repairs` repair turns per provider.
    pub fn new(max_repairs: u32) -> Self {
        Self { max_repairs }
    }

    /// No repair turn: the first invalid answer fails.
    pub fn none() -> Self {
        Self::new(0)
    }

    /// The bound.
    pub fn max_repairs(&self) -> u32 {
        self.max_repairs
    }
}

impl Default for Repair {
    /// Two repair turns.
    fn default() -> Self {
        Self::new(2)
    }
}

impl RepairPolicy for Repair {
    fn repair(&self, attempt: u32, answer: &str, problems: &[Violation]) -> Option<Vec<Message>> {
        if attempt > self.max_repairs {
            return None;
        }
        let mut echo: String = answer.chars().take(MAX_ECHO_CHARS).collect();
        if echo.trim().is_empty() {
            echo = "(empty answer)".into();
        }
        let list: Vec<String> = problems.iter().map(|p| format!("- {p}")).collect();
        Some(vec![
            Message::assistant(echo),
            Message::user(format!(
                "Your answer does not match the required JSON Schema:\n{}\n\
                 Answer again with only the corrected JSON value: no prose, no code fences.",
                list.join("\n")
            )),
        ])
    }
}
