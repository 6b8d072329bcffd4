//! [`RefinePolicy`]: when the learning agent proposes an amendment, and how much evidence a
//! shadow evaluation needs.

/// When an analyst's prompt is worth amending and how an amendment is judged.
///
/// The learning agent proposes an amendment when an analyst's last `window` judged calls under
/// its current prompt (at least `min_calls` of them, and `min_calls` new ones since its last
/// proposal) were right less than `below` of the time. The shadow evaluation asks the model
/// again on at most `window` of those recorded cycles and needs at least `min_cases` of them
/// in the prompt log, and answered; with fewer it is tried again after later cycles, then
/// withdrawn ([`PromptVersions::MAX_ATTEMPTS`](super::PromptVersions::MAX_ATTEMPTS)). Without a
/// model nothing is proposed or evaluated; a person can still approve a proposal.
///
/// ```
/// use tradegraph_agents::learning::RefinePolicy;
/// let p = RefinePolicy::default();
/// assert_eq!((p.window, p.min_calls, p.below, p.min_cases), (10, 6, 0.5, 3));
/// assert!(p.enabled && !RefinePolicy::off().enabled);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefinePolicy {
    /// Whether amendments are proposed at all.
    pub enabled: bool,
    /// The latest calls judged.
    pub window: usize,
    /// The fewest calls to judge a prompt on.
    pub min_calls: usize,
    /// The hit rate under which an amendment is proposed.
    pub below: f64,
    /// The fewest recorded cycles a shadow evaluation decides on.
    pub min_cases: usize,
}

impl Default for RefinePolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            window: 10,
            min_calls: 6,
            below: 0.5,
            min_cases: 3,
        }
    }
}

impl RefinePolicy {
    /// No amendments are proposed (the adopted ones stay in use).
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }
}
