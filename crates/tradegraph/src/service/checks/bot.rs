//! The checks of a bot run by `tradegraph run`.

use super::{Checker, HealthConfig, LlmProbe, MongoProbe, RedisProbe};
use crate::service::HealthBoard;
use tradegraph_llm::Llm;
use tradegraph_store::{Stores, StoresConfig};

impl Checker {
    /// The checker of the bot of `instrument`: `redis` and `mongodb` when `configured` says
    /// so, `llm` (its key check at most every [`HealthConfig::llm_every`]) always, recording on
    /// `board`. Give it the event hub with [`publish_to`](Checker::publish_to) and
    /// [`start`](Checker::start) it.
    ///
    /// ```
    /// use tradegraph::engine::CheckId;
    /// use tradegraph::service::checks::{Checker, HealthConfig};
    /// use tradegraph::service::HealthBoard;
    /// use tradegraph::store::{Stores, StoresConfig};
    /// let configured = StoresConfig::new().redis(Some("redis://127.0.0.1:6379".into()));
    /// let checker = Checker::for_bot(HealthBoard::new(), HealthConfig::default(), &configured, &Stores::memory(), None, "BTCUSDT");
    /// assert_eq!(checker.ids(), [CheckId::Redis, CheckId::Llm]);
    /// ```
    pub fn for_bot(
        board: HealthBoard,
        config: HealthConfig,
        configured: &StoresConfig,
        stores: &Stores,
        llm: Option<Llm>,
        instrument: &str,
    ) -> Self {
        let mut checker = Self::new(board, config).for_instrument(instrument);
        if configured.redis_url.is_some() {
            checker = checker.probe(RedisProbe::new(stores.clone()));
        }
        if configured.mongodb_uri.is_some() {
            checker = checker.probe(MongoProbe::new(stores.clone()));
        }
        // Each provider's key check within most of the checker's limit, so its result is in
        // before the checker gives up on the probe.
        let key_limit = config.timeout.mul_f64(0.8);
        checker.probe(LlmProbe::new(llm, config.llm_every).key_limit(key_limit))
    }
}
