//! The `[paper]` sections of `tradegraph config show`: fill timing, the cost table with every
//! rate, the slippage model.

use super::{Entry, Section};
use crate::config::Settings;
use serde_json::{json, Value};

impl Settings {
    pub(super) fn paper_sections(&self) -> Vec<Section> {
        let execution = &self.execution;
        // Unset, what `run` does with this feed: next open on replayed bars (as every
        // backtest), at once on a tick or trade feed.
        let timing = execution.timing_for(crate::engine::Mode::Service);
        let mut out = vec![Section {
            name: "paper".into(),
            array: false,
            entries: vec![self.entry("paper", "fill_timing", Some(json!(timing.as_str())))],
        }];
        let fees = serde_json::to_value(execution.fees_for(&self.instrument));
        let slippage = serde_json::to_value(&execution.slippage);
        for (name, value) in [("paper.fees", fees), ("paper.slippage", slippage)] {
            let origin = self.origin_of(name);
            let entries = match value {
                Ok(Value::Object(fields)) => fields
                    .into_iter()
                    .map(|(key, value)| Entry {
                        key,
                        value: Some(value),
                        origin: origin.clone(),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            out.push(Section {
                name: name.into(),
                array: false,
                entries,
            });
        }
        out
    }
}
