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
/// then the longest key the model is a version of: a dated snapshot (so `gpt-4.1-mini` prices
/// the `gpt-4.1-mini-2025-04-14` the API reports), the `-latest` alias or a tag
/// (`llama3.2:3b`). Another model whose name starts alike (`o3-pro` and `o3`) is not priced by
/// it: its cost is unknown, which the bot reports, rather than counted at a tenth.
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
            .filter(|(k, _)| {
                crate::cutoff::is_version_of(&scoped, k) || crate::cutoff::is_version_of(model, k)
            })
            .max_by_key(|(k, _)| k.len())
            .map(|(_, p)| *p)
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.prices.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(keys: &[&str]) -> PriceTable {
        let mut table = PriceTable::new();
        for (i, key) in keys.iter().enumerate() {
            table.insert(*key, Price::new(Decimal::from(i + 1), Decimal::from(i + 1)));
        }
        table
    }

    #[test]
    fn a_price_covers_its_models_snapshots_and_tags_not_its_relatives() {
        let t = table(&["o3", "openai/gpt-5", "llama3.2"]);
        // snapshots and tags of the model priced
        assert!(t.lookup("openai", "o3").is_some());
        assert!(t.lookup("openai", "o3-2025-04-16").is_some());
        assert!(t.lookup("openai", "gpt-5-2025-08-07").is_some());
        assert!(t.lookup("ollama", "llama3.2:3b").is_some());
        assert!(t.lookup("together", "llama3.2@q4").is_some());
        // other models whose names start alike (a tenth of their price otherwise)
        assert_eq!(t.lookup("openai", "o3-pro"), None);
        assert_eq!(t.lookup("openai", "o3-mini"), None);
        assert_eq!(t.lookup("openai", "gpt-5-pro"), None);
        assert_eq!(t.lookup("openai", "gpt-5-mini-2025-08-07"), None);
        // the longest key wins among those that match
        let t = table(&["gpt-4.1", "gpt-4.1-mini"]);
        assert_eq!(
            t.lookup("openai", "gpt-4.1-mini-2025-04-14"),
            Some(Price::new(Decimal::from(2), Decimal::from(2)))
        );
        assert_eq!(
            t.lookup("openai", "gpt-4.1-2025-04-14"),
            Some(Price::new(Decimal::from(1), Decimal::from(1)))
        );
    }
}
