//! The bot's scalar settings, its graph, stores, budget, live switch and address.

use super::{
    Resolver, CYCLE_DEADLINE_VAR, INSTANCE_LEASE_VAR, LISTEN_VAR, LIVE_VAR, LLM_BUDGET_VAR,
    PROMPTS_DIR_VAR,
};
use crate::config::instrument::Choice;
use crate::config::{ConfigError, Flags, GraphSource, Origin};
use crate::engine::Approval;
use rust_decimal::Decimal;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;
use tradegraph_core::instrument::parse_holidays;
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::{Currency, Instrument, Timeframe, TradingSession};
use tradegraph_store::url::redact_all;
use tradegraph_store::StoresConfig;

/// Where the default graph comes from, for messages.
const DEFAULT_GRAPH_ORIGIN: &str = "graphs/trading.yaml";

impl Resolver<'_> {
    pub(super) fn decision_every(&mut self) -> Result<Timeframe, ConfigError> {
        let file = self.doc().and_then(|d| d.bot.decision_timeframe);
        self.pick(
            "bot.decision_timeframe",
            None,
            None,
            |_| Err(String::new()),
            file,
            || Timeframe::M15,
        )
    }

    /// The instrument with `[bot] holidays_file`'s dates added to its exchange session (a 24/7
    /// instrument has none: the file is ignored with a notice).
    pub(super) fn with_holidays(
        &mut self,
        mut instrument: Instrument,
    ) -> Result<Instrument, ConfigError> {
        const KEY: &str = "bot.holidays_file";
        let list = self.doc().and_then(|d| d.bot.holidays_file.clone());
        let Some(path) = self.file_path(list.as_deref()) else {
            return Ok(instrument);
        };
        self.origins.set(KEY, Origin::File);
        let TradingSession::Exchange(session) = &instrument.session else {
            self.notices.push(format!(
                "{KEY} ignored: {} trades 24/7 and has no holidays",
                instrument.symbol
            ));
            return Ok(instrument);
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let dates = parse_holidays(&text)
            .map_err(|e| self.invalid(KEY, format!("{}: {e}", path.display())))?;
        instrument.session = TradingSession::Exchange(session.clone().with_holidays(dates));
        Ok(instrument)
    }

    pub(super) fn keep_candles(&mut self) -> Result<usize, ConfigError> {
        let file = self.doc().and_then(|d| d.bot.keep_candles);
        let n = self.pick(
            "bot.keep_candles",
            None,
            None,
            |_| Err(String::new()),
            file,
            || 50,
        )?;
        if n == 0 {
            return Err(self.invalid("bot.keep_candles", "must be at least 1".into()));
        }
        Ok(n)
    }

    pub(super) fn cash(&mut self, choice: &Choice) -> Result<Decimal, ConfigError> {
        let file = self.doc().and_then(|d| d.bot.cash);
        let cash = self.pick(
            "bot.cash",
            None,
            None,
            |_| Err(String::new()),
            file,
            || default_cash(choice.instrument.currency),
        )?;
        if cash <= Decimal::ZERO {
            return Err(self.invalid("bot.cash", format!("{cash} must be greater than 0")));
        }
        Ok(cash)
    }

    pub(super) fn risk(&mut self) -> Result<RiskLimits, ConfigError> {
        let limits = self.doc().and_then(|d| d.risk.clone()).unwrap_or_default();
        let set = self.file.map(|f| f.risk_keys.clone()).unwrap_or_default();
        for field in crate::config::file::risk_fields() {
            let origin = if set.contains(&field) {
                Origin::File
            } else {
                Origin::Default
            };
            self.origins.set(format!("risk.{field}"), origin);
        }
        limits.validate().map_err(|e| ConfigError::Invalid {
            key: "risk".into(),
            origin: if set.is_empty() {
                Origin::Default
            } else {
                Origin::File
            },
            message: e.to_string(),
        })?;
        Ok(limits)
    }

    pub(super) fn max_verdict_age(&mut self) -> Result<Duration, ConfigError> {
        let file = self.doc().and_then(|d| d.bot.max_verdict_age_secs);
        let secs = self.pick(
            "bot.max_verdict_age_secs",
            None,
            None,
            |_| Err(String::new()),
            file,
            || 60,
        )?;
        if secs == 0 {
            return Err(self.invalid("bot.max_verdict_age_secs", "must be at least 1".into()));
        }
        Ok(Duration::from_secs(secs))
    }

    /// The cycle's deadline, shorter than the decision timeframe `every` (a cycle must end
    /// before the next is due).
    pub(super) fn cycle_deadline(
        &mut self,
        every: tradegraph_core::Timeframe,
    ) -> Result<Duration, ConfigError> {
        const KEY: &str = "bot.cycle_deadline_secs";
        let file = self.doc().and_then(|d| d.bot.cycle_deadline_secs);
        let secs = self.seconds_to_an_hour(
            KEY,
            CYCLE_DEADLINE_VAR,
            file,
            tradegraph_agents::deadline::DEFAULT_CYCLE_DEADLINE,
        )?;
        if i64::try_from(secs.saturating_mul(1_000)).unwrap_or(i64::MAX) >= every.millis() {
            return Err(self.invalid(
                KEY,
                format!(
                    "{secs} s is not shorter than the decision timeframe ({}): a cycle could still \
                     be waiting for models when the next one is due",
                    every.key()
                ),
            ));
        }
        Ok(Duration::from_secs(secs))
    }

    /// The lease of the bot's claim on its instrument in a state server (30 s).
    pub(super) fn instance_lease(&mut self) -> Result<Duration, ConfigError> {
        let file = self.doc().and_then(|d| d.bot.instance_lease_secs);
        let secs = self.seconds_to_an_hour(
            "bot.instance_lease_secs",
            INSTANCE_LEASE_VAR,
            file,
            crate::engine::INSTANCE_LEASE,
        )?;
        Ok(Duration::from_secs(secs))
    }

    /// A whole number of seconds from 1 to 3600 at `key` (the file's `file`, or the variable
    /// `var`), `default` when neither sets it.
    fn seconds_to_an_hour(
        &mut self,
        key: &str,
        var: &'static str,
        file: Option<u64>,
        default: Duration,
    ) -> Result<u64, ConfigError> {
        let secs = self.pick(
            key,
            None,
            Some(var),
            |v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("`{v}` is not a whole number of seconds like 30"))
            },
            file,
            || default.as_secs(),
        )?;
        if secs == 0 || secs > 3_600 {
            return Err(self.invalid(key, format!("{secs} s: must be from 1 to 3600 seconds")));
        }
        Ok(secs)
    }

    pub(super) fn lesson_max_distance(&mut self) -> Result<f64, ConfigError> {
        const KEY: &str = "bot.lesson_max_distance";
        let file = self.doc().and_then(|d| d.bot.lesson_max_distance);
        let distance = self.pick(
            KEY,
            None,
            None,
            |_| Err(String::new()),
            file,
            || tradegraph_agents::learning::Recall::default().max_distance,
        )?;
        if distance.is_nan() || distance < 0.0 {
            return Err(self.invalid(
                KEY,
                format!("{distance}: must be a distance of 0 or more (inf: any lesson)"),
            ));
        }
        Ok(distance)
    }

    pub(super) fn refine_prompts(&mut self) -> Result<bool, ConfigError> {
        let file = self.doc().and_then(|d| d.bot.refine_prompts);
        self.pick(
            "bot.refine_prompts",
            None,
            None,
            |_| Err(String::new()),
            file,
            || true,
        )
    }

    pub(super) fn graph(&mut self) -> Result<GraphSource, ConfigError> {
        let file = self.file_path(self.doc().and_then(|d| d.graph.file.as_deref()));
        match file {
            Some(path) => {
                self.origins.set("graph.file", Origin::File);
                let yaml = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                tracing::debug!(path = %path.display(), "read graph file");
                Ok(GraphSource {
                    yaml,
                    origin: path.display().to_string(),
                })
            }
            None => {
                self.origins.set("graph.file", Origin::Default);
                Ok(GraphSource {
                    yaml: tradegraph_agents::node::DEFAULT_GRAPH.to_owned(),
                    origin: DEFAULT_GRAPH_ORIGIN.to_owned(),
                })
            }
        }
    }

    pub(super) fn prompts_dir(&mut self) -> Result<Option<PathBuf>, ConfigError> {
        let file = self.file_path(self.doc().and_then(|d| d.graph.prompts_dir.as_deref()));
        let cwd = self.cwd;
        self.pick_opt(
            "graph.prompts_dir",
            None,
            Some(PROMPTS_DIR_VAR),
            |v| Ok(cwd.join(v)),
            file,
        )
    }

    pub(super) fn stores(&mut self, name: &str) -> Result<StoresConfig, ConfigError> {
        let (redis, cluster, mongodb, database, spill, state) = match self.doc() {
            Some(d) => (
                d.stores.redis_url.clone(),
                d.stores.redis_cluster,
                d.stores.mongodb_uri.clone(),
                d.stores.database.clone(),
                self.file_path(d.stores.spill_file.as_deref()),
                self.file_path(d.stores.state_file.as_deref()),
            ),
            None => (None, None, None, None, None, None),
        };
        let text = |v: &str| Ok(v.to_owned());
        let redis = self.pick_opt("stores.redis_url", None, Some("REDIS_URL"), text, redis)?;
        let cluster = self.pick(
            "stores.redis_cluster",
            None,
            Some("REDIS_CLUSTER"),
            |v| match v {
                "1" | "true" => Ok(true),
                "0" | "false" => Ok(false),
                _ => Err(format!(
                    "`{v}`: set 1 when REDIS_URL names one node of a Redis Cluster, 0 or nothing \
                     otherwise (a list of several nodes is a cluster anyway)"
                )),
            },
            cluster,
            || false,
        )?;
        let mongodb = self.pick_opt(
            "stores.mongodb_uri",
            None,
            Some("MONGODB_URI"),
            text,
            mongodb,
        )?;
        let database = self.pick("stores.database", None, None, text, database, || {
            "tradegraph".to_owned()
        })?;
        let cwd = self.cwd;
        let spill = self.pick(
            "stores.spill_file",
            None,
            None,
            |_| Err(String::new()),
            spill,
            || cwd.join(format!(".tradegraph/spill-{name}.jsonl")),
        )?;
        let state = self.pick(
            "stores.state_file",
            None,
            None,
            |_| Err(String::new()),
            state,
            || cwd.join(format!(".tradegraph/state-{name}.json")),
        )?;
        Ok(StoresConfig::new()
            .redis(redis)
            .redis_cluster(cluster)
            .mongodb(mongodb, database)
            .spill_path(spill)
            .state_file(Some(state)))
    }

    pub(super) fn llm_budget(&mut self) -> Result<Option<Decimal>, ConfigError> {
        let file = self.file.and_then(|f| f.llm_budget_usd);
        let budget = self.pick_opt(
            "llm.budget_usd",
            None,
            Some(LLM_BUDGET_VAR),
            |v| {
                v.parse::<Decimal>()
                    .map_err(|_| format!("`{v}` is not an amount of US dollars like 5 or 2.50"))
            },
            file,
        )?;
        if let Some(b) = budget {
            if b < Decimal::ZERO {
                return Err(self.invalid("llm.budget_usd", format!("{b} must not be negative")));
            }
        } else {
            self.origins.set("llm.budget_usd", Origin::Default);
        }
        Ok(budget)
    }

    pub(super) fn live(&mut self) -> Result<bool, ConfigError> {
        // `TRADEGRAPH_LIVE=` for one run turns live trading off, as `0` does (empty values
        // count as unset elsewhere, which here would let `.env`'s `1` through).
        let lookup = if self.layers.emptied(LIVE_VAR) {
            None
        } else {
            self.layers.get(LIVE_VAR)
        };
        let var = match lookup {
            Some((v, origin)) => match v.as_str() {
                "1" => Some(origin),
                "0" => None,
                _ => {
                    return Err(ConfigError::Invalid {
                        key: LIVE_VAR.into(),
                        origin,
                        message: redact_all(&format!(
                            "`{v}`: set 1 to trade real money (with `live = true` in the \
                             configuration file), 0 or nothing for paper trading"
                        )),
                    })
                }
            },
            None => None,
        };
        let file = self.doc().and_then(|d| d.bot.live).unwrap_or(false);
        match (var, file) {
            (Some(origin), true) => {
                self.origins.set("bot.live", origin);
                Ok(true)
            }
            (Some(origin), false) => {
                self.origins.set("bot.live", Origin::Default);
                self.notices.push(format!(
                    "{LIVE_VAR}=1 (from {origin}) asks for live trading, but the configuration \
                     file does not say `live = true` in [bot]: paper trading"
                ));
                Ok(false)
            }
            (None, true) => {
                self.origins.set("bot.live", Origin::Default);
                self.notices.push(format!(
                    "the configuration file says `live = true`, but {LIVE_VAR}=1 is not set: \
                     paper trading"
                ));
                Ok(false)
            }
            (None, false) => {
                self.origins.set("bot.live", Origin::Default);
                Ok(false)
            }
        }
    }

    /// `[bot] approval` and `approval_timeout_secs` (at most the verdict age: an order approved
    /// later would be refused at execution as stale).
    pub(super) fn approval(&mut self, max_verdict_age: Duration) -> Result<Approval, ConfigError> {
        use crate::config::file::ApprovalSetting;
        let setting = self.doc().and_then(|d| d.bot.approval);
        let mode = self.pick(
            "bot.approval",
            None,
            None,
            |_| Err(String::new()),
            setting,
            || ApprovalSetting::None,
        )?;
        let file = self.doc().and_then(|d| d.bot.approval_timeout_secs);
        let default = max_verdict_age.as_secs();
        let secs = self.pick(
            "bot.approval_timeout_secs",
            None,
            None,
            |_| Err(String::new()),
            file,
            || default,
        )?;
        if mode == ApprovalSetting::None {
            return Ok(Approval::None);
        }
        if secs == 0 {
            return Err(self.invalid("bot.approval_timeout_secs", "must be at least 1".into()));
        }
        if secs > max_verdict_age.as_secs() {
            return Err(self.invalid(
                "bot.approval_timeout_secs",
                format!(
                    "{secs} s is longer than max_verdict_age_secs ({} s): an order approved after {} s would be refused at execution as stale; raise max_verdict_age_secs or lower the timeout",
                    max_verdict_age.as_secs(),
                    max_verdict_age.as_secs()
                ),
            ));
        }
        Ok(Approval::Required {
            timeout: Duration::from_secs(secs),
        })
    }

    pub(super) fn listen(
        &mut self,
        flags: &Flags,
        choice: &Choice,
    ) -> Result<SocketAddr, ConfigError> {
        let file = self.doc().and_then(|d| d.bot.listen);
        let port = choice.port;
        self.pick(
            "bot.listen",
            flags.listen,
            Some(LISTEN_VAR),
            // An address alone (`0.0.0.0`, as a container listens) takes the instrument's port.
            |v| {
                v.parse().or_else(|_| {
                    v.parse::<std::net::IpAddr>()
                        .map(|ip| SocketAddr::new(ip, port))
                        .map_err(|_| {
                            format!(
                                "`{v}` is not an address like 127.0.0.1:8001, or an IP alone \
                                 like 0.0.0.0 (on the instrument's port)"
                            )
                        })
                })
            },
            file,
            || SocketAddr::from((Ipv4Addr::LOCALHOST, choice.port)),
        )
    }
}

/// The shortest control-API token accepted (`TRADEGRAPH_API_TOKEN`).
#[cfg(feature = "service")]
pub(crate) const API_TOKEN_MIN_LEN: usize = 16;

/// Why `token` cannot be the control API's token (`TRADEGRAPH_API_TOKEN`), when it cannot;
/// the message never shows it. `tradegraph run` refuses such a token with its settings,
/// before anything starts; [`ApiToken::new`](crate::service::ApiToken::new) as well.
#[cfg(feature = "service")]
pub(crate) fn api_token_problem(token: &str) -> Option<String> {
    if token.trim() != token {
        // HTTP strips a header value's outer spaces: such a token could never be presented
        return Some(
            "TRADEGRAPH_API_TOKEN begins or ends with white space (a quoted value in a .env \
             file?); no request could present it: remove it"
                .into(),
        );
    }
    let chars = token.chars().count();
    (chars < API_TOKEN_MIN_LEN).then(|| {
        format!(
            "TRADEGRAPH_API_TOKEN has {chars} characters; use at least {API_TOKEN_MIN_LEN} \
             (`openssl rand -hex 32` makes one), or unset it and the bot generates one"
        )
    })
}

/// Paper capital when the file sets none (`bot.cash`): 100,000,000 rupees (10 crore) for an
/// instrument quoted in INR (the guard sizes by notional: one Bank Nifty lot is about ₹15 lakh
/// and one Nifty lot about ₹18 lakh, so a few percent of equity must cover a lot), 100,000 in
/// any other currency. The one source of the bot's default capital: examples and benches take
/// it from here too.
///
/// ```
/// use tradegraph::config::default_cash;
/// use tradegraph_core::{Decimal, Instrument};
///
/// assert_eq!(default_cash(Instrument::btc_usdt().currency), Decimal::from(100_000));
/// ```
pub fn default_cash(currency: Currency) -> Decimal {
    currency.default_paper_cash()
}

impl Resolver<'_> {
    /// A timer's period (`key`) of at most [`LONGEST_PERIOD`]: a longer one would overflow the
    /// timer as it starts, ending its task unseen.
    pub(super) fn period(&mut self, key: &str, period: Duration) -> Result<Duration, ConfigError> {
        if period > LONGEST_PERIOD {
            return Err(self.invalid(
                key,
                format!(
                    "{} s is too long: give at most {} (seconds: a day)",
                    period.as_secs(),
                    LONGEST_PERIOD.as_secs()
                ),
            ));
        }
        Ok(period)
    }
}

/// The longest period of a timer the configuration sets (the health rounds, the alerts'
/// sampling): a day.
const LONGEST_PERIOD: Duration = Duration::from_secs(86_400);
