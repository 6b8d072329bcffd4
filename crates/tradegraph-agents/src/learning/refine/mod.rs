//! Prompt refinement: the learning agent proposes an amendment to an analyst's prompt from
//! its record (its hit rate under the current prompt, the situations of the calls that were
//! not right, the lessons of those trades as evidence); the amendment becomes the prompt's
//! next version only when a paired shadow evaluation on the recorded cycles behind it shows it
//! better by a margin, or a person approves it. Versions
//! are kept with their evidence and every change of status, and can be rolled back; every
//! decision records the version each agent used (`technical@00ff+v2`).
//!
//! One record: [`PromptVersions`], kept in the [`Learner`](super::Learner) and saved with it.

mod amendment;
mod policy;
mod shadow;
mod version;
mod versions;

pub use amendment::{template_version, Amendment};
pub use policy::RefinePolicy;
pub use shadow::{evaluate, ShadowCase, CYCLES_AT_ONCE};
pub use version::{
    Call, Change, Decider, Evidence, PromptRef, PromptVersion, Score, Shadow, VersionStatus,
};
pub use versions::{AdoptedAmendment, PromptVersions};
