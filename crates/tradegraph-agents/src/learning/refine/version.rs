//! A prompt version: its amendment, the evidence behind it, and what became of it.

use super::Amendment;
use crate::reports::Signal;
use crate::AgentName;
use serde::{Deserialize, Serialize};
use tradegraph_core::Timestamp;

/// Which prompt an analyst made a call with: its version (`technical@00ff+v2`) and, when a
/// model was asked, the hash the prompt log keeps its text under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptRef {
    /// The prompt version.
    pub version: String,
    /// The prompt's hash (`None`: no model was asked, the rules answered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// An analyst's call on a trade, judged when the trade closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// The trade.
    pub trade_id: String,
    /// When it closed.
    pub closed_at: Timestamp,
    /// What the analyst said when the trade was opened.
    pub signal: Signal,
    /// Which way the market went over the trade.
    pub moved: Signal,
    /// The prompt version the analyst answered with.
    pub version: String,
    /// The prompt's hash, when a model answered (the shadow evaluation asks again with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_hash: Option<String>,
    /// The market when the trade was opened (what the amendment's advice reads; `None` in a
    /// call kept before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub situation: Option<crate::learning::Situation>,
}

impl Call {
    /// Whether the call was right (a HOLD never is: it called nothing).
    pub fn hit(&self) -> bool {
        self.signal == self.moved
    }
}

/// Right and wrong directional calls (a HOLD is neither).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    /// Calls the market's move bore out.
    pub hits: u32,
    /// BUY or SELL calls against the move.
    pub misses: u32,
}

impl Score {
    /// Counts `signal` against the market's move.
    pub fn count(&mut self, signal: Signal, moved: Signal) {
        match signal {
            Signal::Hold => {}
            s if s == moved => self.hits += 1,
            _ => self.misses += 1,
        }
    }

    /// Hits less misses: what a shadow evaluation compares.
    pub fn net(&self) -> i64 {
        i64::from(self.hits) - i64::from(self.misses)
    }
}

/// The shadow evaluation of an amendment: each recorded cycle behind it asked again twice, with
/// the prompt as it was sent and with the amendment (paired, so that the model's sampling
/// noise falls on both sides alike), both answers scored against what the market did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shadow {
    /// Recorded cycles asked again (their prompt texts found in the prompt log).
    pub cycles: u32,
    /// Cycles whose answer the amendment changed.
    pub changed: u32,
    /// Cycles the model gave no usable answer for, to either prompt (left out of both scores).
    pub unanswered: u32,
    /// The current prompt's answers, asked again.
    pub current: Score,
    /// The amended prompt's answers.
    pub amended: Score,
}

impl Shadow {
    /// Cycles both prompts were answered on.
    pub fn answered(&self) -> u32 {
        self.cycles.saturating_sub(self.unanswered)
    }

    /// The more right calls an amendment needs: 2, or a fifth of the cycles answered when that
    /// is more, so that one lucky answer does not change a prompt.
    pub fn margin(&self) -> u32 {
        (self.answered() / 5).max(2)
    }

    /// Whether the amended prompt did better on the same cycles: at least [`margin`](Self::margin)
    /// more calls right **and** strictly more net hits (right less wrong). Abstaining is not
    /// skill: an amendment that only turns wrong calls into HOLDs has no more right calls, and
    /// is not better.
    pub fn better(&self) -> bool {
        self.amended.hits >= self.current.hits.saturating_add(self.margin())
            && self.amended.net() > self.current.net()
    }
}

/// Why a version was proposed: the analyst's record under the prompt it amends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Calls judged under that prompt (the latest, at most the policy's window).
    pub calls: u32,
    /// How many were right.
    pub hits: u32,
    /// The trades behind those calls.
    pub trades: Vec<String>,
    /// The lessons of the trades called wrong, by id (the lesson log's `lesson_id`).
    pub lessons: Vec<String>,
    /// The shadow evaluation, once run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<Shadow>,
}

/// Where a version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    /// Waiting for its shadow evaluation, or for a person.
    Proposed,
    /// In use: the agent's prompt carries it.
    Adopted,
    /// Not adopted: the shadow evaluation did not show it better.
    Rejected,
    /// Was in use; a newer version replaced it.
    Retired,
    /// Was in use; a person rolled it back.
    RolledBack,
    /// Proposed, then no longer considered: a person withdrew it, a person changed the prompt
    /// it amends (approved or rolled back another version), or it could not be evaluated.
    Withdrawn,
}

impl std::fmt::Display for VersionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Proposed => "proposed",
            Self::Adopted => "adopted",
            Self::Rejected => "rejected",
            Self::Retired => "retired",
            Self::RolledBack => "rolled back",
            Self::Withdrawn => "withdrawn",
        })
    }
}

/// Who changed a version's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decider {
    /// The learning agent (a proposal).
    Learner,
    /// The shadow evaluation.
    Shadow,
    /// A person, through the bot's API (`via`: who sent the command, as the operator log names it).
    Person {
        /// Who sent it.
        via: String,
    },
}

/// A change of a version's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// When.
    pub at: Timestamp,
    /// The status from then on.
    pub status: VersionStatus,
    /// Who.
    pub by: Decider,
    /// Why, in words.
    pub note: String,
}

/// A version of an analyst's prompt: the template as shipped with an [`Amendment`] appended,
/// numbered from 1 per agent (0 is the template alone), with the evidence it was proposed and
/// judged on and every change of its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptVersion {
    /// The agent.
    pub agent: AgentName,
    /// Its number.
    pub number: u32,
    /// The version of the prompt it amends (`technical@00ff`, or `technical@00ff+v1` over an
    /// earlier amendment, which it then replaces).
    pub amends: String,
    /// The guidance.
    pub amendment: Amendment,
    /// Why it was proposed, and its shadow evaluation.
    pub evidence: Evidence,
    /// Its status over time, oldest first (never empty: it starts `proposed`).
    pub history: Vec<Change>,
    /// Shadow evaluations tried that did not conclude (too few answers, no time left).
    #[serde(default)]
    pub attempts: u32,
}

impl PromptVersion {
    /// Where it stands now.
    pub fn status(&self) -> VersionStatus {
        self.history
            .last()
            .map_or(VersionStatus::Proposed, |c| c.status)
    }

    /// The number of the version it amends (0: the template as shipped), from
    /// [`amends`](Self::amends).
    pub fn amends_number(&self) -> u32 {
        self.amends
            .rsplit_once("+v")
            .and_then(|(_, n)| n.parse().ok())
            .unwrap_or(0)
    }

    /// Records a change of its status.
    pub(crate) fn mark(&mut self, at: Timestamp, status: VersionStatus, by: Decider, note: String) {
        self.history.push(Change {
            at,
            status,
            by,
            note,
        });
    }

    /// Whether it was ever in use.
    pub fn was_adopted(&self) -> bool {
        self.history
            .iter()
            .any(|c| c.status == VersionStatus::Adopted)
    }
}
