use serde::{Deserialize, Serialize};
use std::ops::AddAssign;

/// Tokens consumed by a call.
///
/// ```
/// use tradegraph_llm::Usage;
///
/// let mut total = Usage::new(10, 5);
/// total += Usage::new(1, 1);
/// assert_eq!(total.total(), 17);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens, all of them: those read from the vendor's prompt cache and those written
    /// to it included (Anthropic reports these apart; they are added in here).
    pub input_tokens: u64,
    /// Answer tokens.
    pub output_tokens: u64,
    /// Of the prompt tokens, those the vendor read from its prompt cache (billed lower).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cached_input_tokens: u64,
    /// Of the prompt tokens, those written to the vendor's prompt cache (Anthropic bills them
    /// higher).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_write_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Usage {
    /// A usage figure.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
            cached_input_tokens: 0,
            cache_write_tokens: 0,
        }
    }

    /// The same, with `cached` of the prompt tokens read from the vendor's cache and `written`
    /// written to it (each at most the prompt tokens).
    #[must_use]
    pub fn with_cache(mut self, cached: u64, written: u64) -> Self {
        self.cached_input_tokens = cached.min(self.input_tokens);
        self.cache_write_tokens = written.min(self.input_tokens - self.cached_input_tokens);
        self
    }
    /// Input plus output.
    pub fn total(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, rhs: Self) {
        self.input_tokens = self.input_tokens.saturating_add(rhs.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(rhs.output_tokens);
        self.cached_input_tokens = self
            .cached_input_tokens
            .saturating_add(rhs.cached_input_tokens);
        self.cache_write_tokens = self
            .cache_write_tokens
            .saturating_add(rhs.cache_write_tokens);
    }
}
