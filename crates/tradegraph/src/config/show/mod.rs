//! `tradegraph config show`: the effective settings, each with its origin, secrets masked.

mod alerts;
mod health;
mod inputs;
mod live;
mod paper;
mod render;

use super::{FeedSettings, Origin, Settings};
use clap::ValueEnum;
use serde_json::{json, Map, Value};
use tradegraph_core::TradingSession;
use tradegraph_llm::config::Selection;
use tradegraph_llm::Secret;
use tradegraph_store::url::redact;

/// How [`Settings::show`] writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    /// Annotated TOML: `key = value  # origin`, in the configuration file's sections.
    #[default]
    Toml,
    /// `{"settings": {"bot": {"cash": {"value": ..., "origin": ...}}}, ...}`.
    Json,
}

/// A setting as shown.
struct Entry {
    key: String,
    /// `None`: unset.
    value: Option<Value>,
    origin: Origin,
}

/// A table of settings; `array` for an entry of an array of tables (`[[llm.providers]]`).
struct Section {
    name: String,
    array: bool,
    entries: Vec<Entry>,
}

impl Settings {
    /// Every setting with where it came from, in `format`. Keys and tokens show as `***`, URLs
    /// without their password.
    ///
    /// ```
    /// use tradegraph::config::{Flags, Settings, ShowFormat};
    ///
    /// let env = |k: &str| (k == "OPENAI_API_KEY").then(|| "sk-canary-0123456789".to_owned());
    /// let dir = std::env::temp_dir().join("tradegraph-doc-show");
    /// std::fs::create_dir_all(&dir)?;
    /// let settings = Settings::resolve(&Flags::default(), &env, &dir)?;
    /// let text = settings.show(ShowFormat::Toml);
    /// assert!(text.contains("api_key = \"***\"  # env"));
    /// assert!(!text.contains("canary"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn show(&self, format: ShowFormat) -> String {
        let sections = self.sections();
        match format {
            ShowFormat::Toml => self.toml(&sections),
            ShowFormat::Json => self.json(&sections),
        }
    }

    fn origin_of(&self, key: &str) -> Origin {
        self.origins.get(key).cloned().unwrap_or(Origin::Default)
    }

    fn entry(&self, section: &str, key: &str, value: Option<Value>) -> Entry {
        Entry {
            key: key.to_owned(),
            value,
            origin: self.origin_of(&format!("{section}.{key}")),
        }
    }

    fn sections(&self) -> Vec<Section> {
        let mut out = vec![self.bot(), self.instrument_section()];
        out.push(Section {
            name: "risk".into(),
            array: false,
            entries: match serde_json::to_value(&self.risk) {
                Ok(Value::Object(fields)) => fields
                    .into_iter()
                    .map(|(k, v)| self.entry("risk", &k, Some(v)))
                    .collect(),
                _ => Vec::new(),
            },
        });
        out.push(Section {
            name: "graph".into(),
            array: false,
            entries: vec![
                self.entry("graph", "file", Some(json!(self.graph.origin))),
                self.entry("graph", "prompts_dir", self.prompts_dir.as_ref().map(path)),
            ],
        });
        out.push(self.stores_section());
        out.extend(self.llm_sections());
        out.extend(self.feed_section());
        out.push(self.live_section());
        out.extend(self.paper_sections());
        out.push(self.health_section());
        out.push(self.news_section());
        out.push(self.macro_section());
        out.extend(self.alerts_sections());
        out.push(Section {
            name: "dashboard".into(),
            array: false,
            entries: vec![self.entry("dashboard", "peers", Some(json!(self.dashboard_peers)))],
        });
        out
    }

    fn bot(&self) -> Section {
        let s = "bot";
        let mut entries = vec![
            self.entry(s, "instrument", Some(json!(self.name))),
            self.entry(s, "feed", Some(json!(self.feed.kind().as_str()))),
        ];
        match &self.feed {
            FeedSettings::Replay { path: p } => entries.push(self.entry(s, "data", Some(path(p)))),
            FeedSettings::Synthetic { seed, speed } => {
                entries.push(self.entry(s, "seed", Some(json!(seed))));
                entries.push(self.entry(s, "speed", Some(json!(speed))));
            }
            _ => {}
        }
        entries.extend([
            self.entry(
                s,
                "decision_timeframe",
                Some(json!(self.decision_every.key())),
            ),
            self.entry(s, "keep_candles", Some(json!(self.keep_candles))),
            self.entry(s, "cash", Some(json!(self.cash.to_string()))),
            self.entry(
                s,
                "max_verdict_age_secs",
                Some(json!(self.max_verdict_age.as_secs())),
            ),
            self.entry(
                s,
                "cycle_deadline_secs",
                Some(json!(self.cycle_deadline.as_secs())),
            ),
            self.entry(
                s,
                "instance_lease_secs",
                Some(json!(self.instance_lease.as_secs())),
            ),
            self.entry(
                s,
                "lesson_max_distance",
                // JSON has no infinity: shown as TOML writes it.
                Some(if self.lesson_max_distance.is_infinite() {
                    json!("inf")
                } else {
                    json!(self.lesson_max_distance)
                }),
            ),
            self.entry(s, "refine_prompts", Some(json!(self.refine_prompts))),
            self.entry(
                s,
                "approval",
                Some(json!(if self.approval.is_required() {
                    "required"
                } else {
                    "none"
                })),
            ),
            self.entry(
                s,
                "approval_timeout_secs",
                Some(json!(match self.approval {
                    crate::engine::Approval::Required { timeout } => timeout.as_secs(),
                    crate::engine::Approval::None => self.max_verdict_age.as_secs(),
                })),
            ),
            self.entry(s, "live", Some(json!(self.live))),
            self.entry(s, "listen", Some(json!(self.listen.to_string()))),
            self.entry(s, "api_token", masked(self.api_token.as_ref())),
        ]);
        Section {
            name: s.into(),
            array: false,
            entries,
        }
    }

    fn instrument_section(&self) -> Section {
        let i = &self.instrument;
        let origin = self.origin_of("instrument");
        let session = match &i.session {
            TradingSession::AlwaysOpen => json!("24x7"),
            TradingSession::Exchange(e) => json!({
                "time_zone": e.time_zone,
                "timezone_offset_minutes": e.utc_offset_minutes,
                "open": e.open.format("%H:%M").to_string(),
                "close": e.close.format("%H:%M").to_string(),
                "holidays": e.holidays.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            }),
        };
        let fields = [
            ("name", json!(self.name)),
            ("symbol", json!(i.symbol.as_str())),
            ("venue", json!(self.venue.as_str())),
            (
                "exchange",
                serde_json::to_value(i.exchange).unwrap_or(Value::Null),
            ),
            (
                "segment",
                serde_json::to_value(i.segment).unwrap_or(Value::Null),
            ),
            (
                "currency",
                serde_json::to_value(i.currency).unwrap_or(Value::Null),
            ),
            ("tick_size", json!(i.tick_size.to_string())),
            ("lot_size", json!(i.lot_size.to_string())),
            ("session", session),
        ];
        Section {
            name: "instrument".into(),
            array: false,
            entries: fields
                .into_iter()
                .map(|(key, value)| Entry {
                    key: key.into(),
                    value: Some(value),
                    origin: origin.clone(),
                })
                .collect(),
        }
    }

    fn stores_section(&self) -> Section {
        let s = "stores";
        let st = &self.stores;
        let url = |u: &Option<String>| u.as_deref().map(|u| json!(redact(u)));
        Section {
            name: s.into(),
            array: false,
            entries: vec![
                self.entry(s, "redis_url", url(&st.redis_url)),
                self.entry(s, "redis_cluster", Some(json!(st.redis_cluster))),
                self.entry(s, "mongodb_uri", url(&st.mongodb_uri)),
                self.entry(s, "database", Some(json!(st.database))),
                self.entry(s, "spill_file", Some(path(&st.spill_path))),
                self.entry(s, "state_file", st.state_file.as_ref().map(path)),
            ],
        }
    }

    fn llm_sections(&self) -> Vec<Section> {
        let s = "llm";
        let l = &self.llm;
        let selection = match l.selection {
            Selection::Priority => "priority",
            Selection::Weighted => "weighted",
        };
        let chain: Vec<&str> = l.providers.iter().map(|p| p.name()).collect();
        let cache = json!({
            "mode": serde_json::to_value(l.cache.mode).unwrap_or(Value::Null),
            "path": l.cache.path.as_ref().map(path),
        });
        let mut out = vec![Section {
            name: s.into(),
            array: false,
            entries: vec![
                Entry {
                    key: "chain".into(),
                    value: Some(json!(chain)),
                    origin: self.origin_of("llm.providers"),
                },
                self.entry(
                    s,
                    "budget_usd",
                    self.llm_budget_usd.map(|b| json!(b.to_string())),
                ),
                self.entry(s, "selection", Some(json!(selection))),
                self.entry(s, "repair_turns", Some(json!(l.repair_turns))),
                self.entry(
                    s,
                    "max_queue_wait",
                    Some(json!(l.max_queue_wait.as_secs_f64())),
                ),
                self.entry(s, "breaker", serde_json::to_value(l.breaker).ok()),
                self.entry(s, "cache", Some(cache)),
                self.entry(s, "budget", serde_json::to_value(l.budget).ok()),
                self.entry(s, "cycle_budget", serde_json::to_value(l.cycle_budget).ok()),
                self.entry(s, "day_budget", serde_json::to_value(l.day_budget).ok()),
                self.entry(s, "prices", serde_json::to_value(&l.prices).ok()),
            ],
        }];
        for p in &l.providers {
            let id = format!("llm.providers.{}", p.name());
            let fixed = self.origin_of("llm.providers");
            let plain = |key: &str, value: Option<Value>| Entry {
                key: key.into(),
                value,
                origin: fixed.clone(),
            };
            let entries = vec![
                plain("name", Some(json!(p.name()))),
                plain("kind", Some(json!(p.kind.as_str()))),
                self.entry(&id, "model", p.model.as_ref().map(|m| json!(m))),
                self.entry(
                    &id,
                    "base_url",
                    p.base_url.as_deref().map(|u| json!(redact(u))),
                ),
                self.entry(&id, "api_key", masked(p.api_key.as_ref())),
                plain("api_key_env", p.api_key_env.as_ref().map(|v| json!(v))),
                plain("timeout", p.timeout.map(|t| json!(t.as_secs_f64()))),
                plain("schema_mode", serde_json::to_value(p.schema_mode).ok()),
                plain("weight", Some(json!(p.weight))),
                plain("limits", serde_json::to_value(p.limits).ok()),
            ];
            out.push(Section {
                name: "llm.providers".into(),
                array: true,
                entries,
            });
        }
        out
    }

    fn feed_section(&self) -> Option<Section> {
        let (s, entries) = match &self.feed {
            FeedSettings::Binance {
                ws_url,
                api_url,
                ws_api_url,
                api_key,
                api_secret,
            } => {
                let s = "feeds.binance";
                (
                    s,
                    vec![
                        self.entry(s, "ws_url", Some(json!(redact(ws_url)))),
                        self.entry(s, "api_url", Some(json!(redact(api_url)))),
                        self.entry(
                            s,
                            "ws_api_url",
                            ws_api_url.as_deref().map(|u| json!(redact(u))),
                        ),
                        self.entry(s, "api_key", masked(api_key.as_ref())),
                        self.entry(s, "api_secret", masked(api_secret.as_ref())),
                    ],
                )
            }
            FeedSettings::Kite {
                ws_url,
                api_url,
                api_key,
                access_token,
                tokens,
            } => {
                let s = "feeds.kite";
                let tokens: Map<String, Value> = tokens
                    .iter()
                    .map(|(token, symbol)| (symbol.to_string(), json!(token)))
                    .collect();
                (
                    s,
                    vec![
                        self.entry(s, "ws_url", Some(json!(redact(ws_url)))),
                        self.entry(s, "api_url", Some(json!(redact(api_url)))),
                        self.entry(s, "api_key", masked(Some(api_key))),
                        self.entry(s, "access_token", masked(Some(access_token))),
                        self.entry(s, "tokens", Some(Value::Object(tokens))),
                    ],
                )
            }
            _ => return None,
        };
        Some(Section {
            name: s.into(),
            array: false,
            entries,
        })
    }
}

fn path(p: impl AsRef<std::path::Path>) -> Value {
    let p = p.as_ref();
    json!(p.display().to_string())
}

fn masked(secret: Option<&Secret>) -> Option<Value> {
    secret.filter(|s| !s.is_empty()).map(|_| json!("***"))
}
