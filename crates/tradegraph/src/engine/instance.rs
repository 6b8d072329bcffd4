//! One bot per instrument on a shared state server: the instance claim.
//!
//! A state file is locked by the operating system (one process at a time), but a Redis or
//! MongoDB server is shared: two processes of the same bot (a second host, a deploy that
//! starts the new one before the old one stopped) would both trade, and the second would not
//! see the first's kill switch. So a bot on such a server claims its instrument before it
//! loads anything, in its own versioned state part ([`StatePart::Instance`]) and with nothing
//! but the store's versioned save:
//!
//! - **Claim.** A claim released at the last clean stop (or none) is taken at once. One not
//!   released (a bot running, or one that died) is watched for a lease: renewed meanwhile, its
//!   holder is alive and this start is refused, naming it; unchanged, it is taken over. Two
//!   starts racing both offer the next version: the store keeps one, the other is refused.
//! - **Renewal.** The holder writes the claim's next version every third of the lease, in a
//!   task of its own (a long decision cycle does not hold it up). A write found stale means
//!   another instance took the claim over: this one stops, and sends nothing more.
//! - **Before an entry.** The order journal reads the claim right before an entry goes out,
//!   so that an instance cut off from the server, taken over meanwhile, opens nothing once it
//!   is back.
//! - **Release.** A clean stop writes the claim released, so that the next start does not
//!   wait.
//!
//! Clocks of different hosts are never compared: only versions are.

use super::EngineError;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tradegraph_core::{Symbol, Timestamp};
use tradegraph_store::{BotStateStore, Saved, StateDoc, StateKey, StatePart, StoreError};

/// The default lease of a claim ([`BotConfig::instance_lease`](super::BotConfig::instance_lease)).
pub const INSTANCE_LEASE: Duration = Duration::from_secs(30);

/// Who holds an instrument's claim: the document of [`StatePart::Instance`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceClaim {
    /// This process's own id (random at each start).
    pub instance: String,
    /// The host it runs on.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// When it started (its own clock: shown, never compared).
    pub started_at: Timestamp,
    /// Released at a clean stop: the next start takes it at once.
    #[serde(default)]
    pub released: bool,
}

impl InstanceClaim {
    fn ours(started_at: Timestamp) -> Self {
        Self {
            instance: tradegraph_store::RunId::new(started_at).to_string(),
            host: tradegraph_store::host_name().unwrap_or_else(|| "an unnamed host".into()),
            pid: std::process::id(),
            started_at,
            released: false,
        }
    }
}

impl std::fmt::Display for InstanceClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "process {} on {}, started {}",
            self.pid, self.host, self.started_at
        )
    }
}

/// What the claim's holder and its renewal task share.
struct Shared {
    store: Arc<dyn BotStateStore>,
    key: StateKey,
    claim: InstanceClaim,
    /// The version this instance wrote last.
    version: AtomicU64,
    /// Another instance took the claim over.
    lost: AtomicBool,
}

impl Shared {
    async fn write(&self, claim: &InstanceClaim) -> Result<Saved, StoreError> {
        let next = self.version.load(Ordering::Acquire) + 1;
        let doc = StateDoc::encode(self.key.clone(), next, claim.started_at, claim)?;
        let saved = self.store.save(&doc).await?;
        match saved {
            Saved::Written => self.version.store(next, Ordering::Release),
            Saved::Stale { .. } => self.lost.store(true, Ordering::Release),
        }
        Ok(saved)
    }
}

/// This instance's claim on its instrument, renewed until it is dropped or released.
pub(crate) struct InstanceLease {
    shared: Arc<Shared>,
    renewal: JoinHandle<()>,
}

impl std::fmt::Debug for InstanceLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceLease")
            .field("key", &self.shared.key)
            .field("claim", &self.shared.claim)
            .field("version", &self.shared.version)
            .field("lost", &self.shared.lost)
            .finish_non_exhaustive()
    }
}

impl Drop for InstanceLease {
    fn drop(&mut self) {
        self.renewal.abort();
    }
}

impl InstanceLease {
    /// Claims `symbol` in `store` (see the module's documentation), waiting up to `lease` to
    /// see whether a holder that did not release it is alive.
    ///
    /// # Errors
    /// [`EngineError::AnotherInstance`] when another instance holds it; the store's error.
    pub(crate) async fn claim(
        store: Arc<dyn BotStateStore>,
        symbol: &Symbol,
        lease: Duration,
        started_at: Timestamp,
    ) -> Result<Self, EngineError> {
        let key = StateKey::new(symbol.clone(), StatePart::Instance);
        let refused = |holder: String| EngineError::AnotherInstance {
            instrument: symbol.to_string(),
            holder,
        };
        let seen = store.load(&key).await?;
        if let Some(doc) = &seen {
            let holder: Option<InstanceClaim> = serde_json::from_value(doc.body.clone()).ok();
            if !holder.as_ref().is_some_and(|h| h.released) {
                let shown =
                    holder.map_or_else(|| "an unreadable claim".to_owned(), |h| h.to_string());
                tracing::warn!(%symbol, holder = %shown, lease_s = lease.as_secs_f64(), "the last instance of this bot did not release its claim (it died, or runs still): watching the claim for a lease before taking it over");
                tokio::time::sleep(lease).await;
                let now = store.load(&key).await?;
                if now.as_ref().map(|d| d.version) != Some(doc.version) {
                    return Err(refused(describe(now.as_ref())));
                }
                tracing::warn!(%symbol, holder = %shown, "the claim was not renewed for a lease: taken over");
            }
        }
        let shared = Arc::new(Shared {
            store,
            key,
            claim: InstanceClaim::ours(started_at),
            version: AtomicU64::new(seen.as_ref().map_or(0, |d| d.version)),
            lost: AtomicBool::new(false),
        });
        if let Saved::Stale { .. } = shared.write(&shared.claim).await? {
            // Another start took it in between.
            let now = shared.store.load(&shared.key).await?;
            return Err(refused(describe(now.as_ref())));
        }
        tracing::info!(%symbol, claim = %shared.claim, "this instance holds the bot's claim on its instrument");
        let renewal = tokio::spawn(renew(shared.clone(), lease / 3));
        Ok(Self { shared, renewal })
    }

    /// Whether another instance took the claim over (found at a renewal).
    pub(crate) fn is_lost(&self) -> bool {
        self.shared.lost.load(Ordering::Acquire)
    }

    /// Whether this instance still holds the claim, read from the store now (before an entry
    /// goes out): `Ok(false)` once another instance wrote it.
    ///
    /// # Errors
    /// The store's: whether it is held is unknown.
    pub(crate) async fn held(&self) -> Result<bool, StoreError> {
        if self.is_lost() {
            return Ok(false);
        }
        let stored = self.shared.store.load(&self.shared.key).await?;
        let ours = self.shared.version.load(Ordering::Acquire);
        let held = stored.is_some_and(|d| d.version == ours);
        if !held {
            self.shared.lost.store(true, Ordering::Release);
        }
        Ok(held)
    }

    /// The instance holding the claim now, for an error's text.
    pub(crate) async fn holder(&self) -> String {
        match self.shared.store.load(&self.shared.key).await {
            Ok(doc) => describe(doc.as_ref()),
            Err(e) => format!("unknown (the store: {e})"),
        }
    }

    /// Writes the claim released (a clean stop), unless another instance holds it.
    pub(crate) async fn release(&self) {
        self.renewal.abort();
        if self.is_lost() {
            return;
        }
        let released = InstanceClaim {
            released: true,
            ..self.shared.claim.clone()
        };
        match self.shared.write(&released).await {
            Ok(Saved::Written) => {
                tracing::info!(symbol = %self.shared.key.instrument, "the bot's claim on its instrument is released");
            }
            Ok(Saved::Stale { .. }) => {}
            Err(e) => {
                tracing::warn!(symbol = %self.shared.key.instrument, error = %e, "the bot's claim was not released: the next start waits a lease before taking it over");
            }
        }
    }
}

/// Writes the claim's next version every `every` until a write is stale (taken over).
async fn renew(shared: Arc<Shared>, every: Duration) {
    let mut timer = tokio::time::interval(every);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    timer.tick().await;
    loop {
        timer.tick().await;
        match shared.write(&shared.claim).await {
            Ok(Saved::Written) => {}
            Ok(Saved::Stale { stored }) => {
                tracing::error!(symbol = %shared.key.instrument, stored, "another instance took over this bot's claim on its instrument: this one stops and sends nothing more");
                return;
            }
            Err(e) => {
                tracing::warn!(symbol = %shared.key.instrument, error = %e, "the bot's claim on its instrument was not renewed; trying again");
            }
        }
    }
}

fn describe(doc: Option<&StateDoc>) -> String {
    match doc.map(|d| serde_json::from_value::<InstanceClaim>(d.body.clone())) {
        Some(Ok(claim)) => claim.to_string(),
        Some(Err(_)) => "an instance whose claim cannot be read".to_owned(),
        None => "an instance that released it since".to_owned(),
    }
}
