//! The price table: what a million tokens cost, per model.

use crate::Usage;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a model's tokens cost, per million, in the table's currency (USD by convention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Per million input (prompt) tokens.
    pub input_per_mtok: Decimal,
    /// Per million output (answer, including thinking) tokens.
    pub output_per_mtok: Decimal,
    /// Per million prompt tokens read from the vendor's prompt cache (default: the input
    /// price; OpenAI and Gemini bill them at a fraction of it, Anthropic at a tenth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input_per_mtok: Option<Decimal>,
    /// Per million prompt tokens written to the prompt cache (default: the input price;
    /// Anthropic bills 1.25 times it for its 5-minute cache).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_per_mtok: Option<Decimal>,
}

impl Price {
    /// A price.
    pub fn new(input_per_mtok: Decimal, output_per_mtok: Decimal) -> Self {
        Self {
            input_per_mtok,
            output_per_mtok,
            cached_input_per_mtok: None,
            cache_write_per_mtok: None,
        }
    }

    /// The same, with prices for prompt tokens read from and written to the vendor's cache.
    #[must_use]
    pub fn with_cache(mut self, read_per_mtok: Decimal, write_per_mtok: Decimal) -> Self {
        self.cached_input_per_mtok = Some(read_per_mtok);
        self.cache_write_per_mtok = Some(write_per_mtok);
        self
    }

    /// The cost of `usage`, exact: prompt tokens read from or written to the vendor's cache at
    /// their own prices, the rest at the input price.
    ///
    /// ```
    /// use rust_decimal::Decimal;
    /// use tradegraph_llm::budget::Price;
    /// use tradegraph_llm::Usage;
    ///
    /// // $3 in, $15 out, cache reads $0.30 and writes $3.75 per million (Anthropic's shape).
    /// let price = Price::new(Decimal::from(3), Decimal::from(15))
    ///     .with_cache(Decimal::new(30, 2), Decimal::new(375, 2));
    /// // 2,000 prompt tokens of which 1,500 read from the cache, 100 answer tokens.
    /// let usage = Usage::new(2_000, 100).with_cache(1_500, 0);
    /// assert_eq!(price.cost(usage), Decimal::new(3_450, 6)); // 0.0015 + 0.00045 + 0.0015
    /// ```
    pub fn cost(&self, usage: Usage) -> Decimal {
        let million = Decimal::from(1_000_000u32);
        let cached = usage.cached_input_tokens.min(usage.input_tokens);
        let written = usage
            .cache_write_tokens
            .min(usage.input_tokens.saturating_sub(cached));
        let plain = usage.input_tokens.saturating_sub(cached + written);
        let at = |tokens: u64, price: Decimal| Decimal::from(tokens).saturating_mul(price);
        // Saturating: token counts come from the wire and prices from configuration.
        at(plain, self.input_per_mtok)
            .saturating_add(at(
                cached,
                self.cached_input_per_mtok.unwrap_or(self.input_per_mtok),
            ))
            .saturating_add(at(
                written,
                self.cache_write_per_mtok.unwrap_or(self.input_per_mtok),
            ))
            .saturating_add(at(usage.output_tokens, self.output_per_mtok))
            / million
    }
}

/// Prices by model, from configuration (prices change; none are built in).
///
/// Keys are `provider/model` or just `model`. A lookup tries `provider/model`, then `model`,
/// then the longest key that is a prefix of the model (so `gpt-4.1-mini` prices the dated
/// `gpt-4.1-mini-2025-04-14` the API reports).
///
/// ```
/// use rust_decimal::Decimal;
/// use tradegraph_llm::budget::{Price, PriceTable};
/// use tradegraph_llm::Usage;
///
/// let mut table = PriceTable::new();
/// table.insert("gpt-4.1-mini", Price::new(Decimal::new(40, 2), Decimal::new(160, 2)));
/// let price = table.lookup("openai", "gpt-4.1-mini-2025-04-14").unwrap();
/// assert_eq!(price.cost(Usage::new(1_000_000, 500_000)), Decimal::new(120, 2)); // 0.40 + 0.80
/// assert!(table.lookup("openai", "gpt-4o").is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PriceTable {
    prices: BTreeMap<String, Price>,
}

impl PriceTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a price for `key` (`provider/model` or `model`).
    pub fn insert(&mut self, key: impl Into<String>, price: Price) -> &mut Self {
        self.prices.insert(key.into(), price);
        self
    }

    /// The price of `model` on `provider`.
    pub fn lookup(&self, provider: &str, model: &str) -> Option<Price> {
        if let Some(p) = self.prices.get(&format!("{provider}/{model}")) {
            return Some(*p);
        }
        if let Some(p) = self.prices.get(model) {
            return Some(*p);
        }
        let scoped = format!("{provider}/{model}");
        self.prices
            .iter()
            .filter(|(k, _)| scoped.starts_with(k.as_str()) || model.starts_with(k.as_str()))
            .max_by_key(|(k, _)| k.len())
            .map(|(_, p)| *p)
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.prices.is_empty()
    }
}
