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
}

impl Price {
    /// A price.
    pub fn new(input_per_mtok: Decimal, output_per_mtok: Decimal) -> Self {
        Self {
            input_per_mtok,
            output_per_mtok,
        }
    }

    /// The cost of `usage`, exact.
    pub fn cost(&self, usage: Usage) -> Decimal {
        let million = Decimal::from(1_000_000u32);
        // Saturating: token counts come from the wire and prices from configuration.
        Decimal::from(usage.input_tokens)
            .saturating_mul(self.input_per_mtok)
            .saturating_add(Decimal::from(usage.output_tokens).saturating_mul(self.output_per_mtok))
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
