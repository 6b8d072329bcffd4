//! The `[live]` section of `tradegraph config show`.

use super::{path, Section};
use crate::config::Settings;
use serde_json::json;

impl Settings {
    pub(super) fn live_section(&self) -> Section {
        let s = "live";
        let l = &self.live_trading;
        Section {
            name: s.into(),
            array: false,
            entries: vec![
                self.entry(
                    s,
                    "binance_reserved_base",
                    Some(json!(l.binance_reserved_base.to_string())),
                ),
                self.entry(s, "kite_product", Some(json!(l.kite_product.as_str()))),
                self.entry(s, "data_dir", Some(path(&l.data_dir))),
            ],
        }
    }
}
