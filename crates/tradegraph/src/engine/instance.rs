//! One bot per instrument on a shared state server: the instance claim.
//!
//! A state file is locked by the operating system (one process at a time), but a Redis or
//! MongoDB server is shared: two processes of the same bot (a second host, a deploy that
//! starts the new one before the old one stopped) would both trade, and the second would not
//! see the first's kill switch. So a bot on such a server claims its instrument before it
//! loads anything, in its own versioned state part ([`StatePart::Instance`]) and with nothing
//! but the store's versioned save:
//!
//! - **Claim.** A claim released at the last clean stop (or none) is taken at once, and so is
//!   one whose process is known to be gone (it ran on this host, in this boot and process-id
//!   namespace, and its process id is no live process: a bot killed and started again in place
//!   does not wait; a container started again does). Any other claim not released (a bot
//!   running, or one that died elsewhere) is watched for a lease (the longer of the holder's
//!   and this start's): renewed
//!   meanwhile, its holder is alive and this start is refused, naming it; unchanged (or
//!   released), it is taken over. Two starts racing both offer the next version: the store
//!   keeps one, the other is refused.
//! - **Renewal.** The holder writes the claim's next version every third of the lease, in a
//!   task of its own (a long decision cycle does not hold it up). A write found stale is this
//!   instance's own when the stored claim carries its id (a write that landed although its
//!   answer was an error); another instance's means the claim was taken over: this one stops,
//!   saves nothing more of the bot's state, and touches no order.
//! - **Before an order.** The order journal reads the claim before any order's intent is
//!   written (a stale intent of this instance's would refuse the holder's order of the same
//!   client id), and refuses cancels and amendments once the claim is known lost, so that an instance cut
//!   off from the server and taken over meanwhile opens or changes nothing once it is back.
//!   While it is cut off it cannot tell: a venue broker's own work (Kite moving a trailing
//!   stop, exits placed after a fill) goes on until it reaches the server again.
//! - **Release.** A clean stop writes the claim released, so that the next start does not
//!   wait: the engine releases a claim it took itself; a claim handed to it is released by
//!   whoever took it, after its own last writes ([`InstanceLease::release`]; one whose write
//!   failed is tried again by the next call).
//!
//! [`Engine::start`](super::Engine::start) claims with
//! [`InstanceClaiming::AtStart`]. A bot whose broker acts at
//! the venue as it connects (a venue broker resumes its book: exits found owed are placed,
//! legs cancelled by mistake restored) claims first, with [`InstanceLease::claim`], connects
//! the broker only once it holds the claim, and hands the claim to the engine
//! ([`InstanceClaiming::Held`]); `tradegraph run` does so
//! before it connects anything at the venue or reads the model usage.
//!
//! Clocks of different hosts are never compared: only versions and the claim's id are.

use super::EngineError;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tradegraph_core::{Symbol, Timestamp};
use tradegraph_store::{BotStateStore, Saved, StateDoc, StateKey, StatePart, StoreError};

/// The default lease of a claim (`[bot] instance_lease_secs`).
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
    /// The host's boot (Linux's `boot_id`; empty elsewhere): with the host's name, whether a
    /// later start runs on the same system and can tell whether the process is gone.
    #[serde(default)]
    pub boot: String,
    /// Its process-id namespace (Linux's `/proc/self/ns/pid`; empty elsewhere): a process id
    /// means the same process only within one (a container has its own).
    #[serde(default)]
    pub pid_namespace: String,
    /// Its lease, in seconds: a later start watches the claim for the longer of this and its
    /// own.
    #[serde(default)]
    pub lease_secs: u64,
    /// Released at a clean stop: the next start takes it at once.
    #[serde(default)]
    pub released: bool,
}

impl InstanceClaim {
    fn ours(started_at: Timestamp, lease: Duration) -> Self {
        Self {
            instance: tradegraph_store::RunId::new(started_at).to_string(),
            host: tradegraph_store::host_name().unwrap_or_else(|| "an unnamed host".into()),
            pid: std::process::id(),
            started_at,
            boot: boot_id(),
            pid_namespace: pid_namespace(),
            lease_secs: lease.as_secs(),
            released: false,
        }
    }

    /// Whether this claim's process is known to be gone: it ran on this system (same host
    /// name and boot) and its process id is no live process here. `false` whenever that
    /// cannot be told (another host, another system, no `/proc`).
    fn holder_gone(&self, ours: &InstanceClaim) -> bool {
        !self.boot.is_empty()
            && !self.pid_namespace.is_empty()
            && self.boot == ours.boot
            && self.pid_namespace == ours.pid_namespace
            && self.host == ours.host
            && self.pid != ours.pid
            && !process_alive(self.pid)
    }
}

/// Linux's id of this boot of the system (empty when unknown).
fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|id| id.trim().to_owned())
        .unwrap_or_default()
}

/// Linux's id of this process's process-id namespace (empty when unknown).
fn pid_namespace() -> String {
    std::fs::read_link("/proc/self/ns/pid")
        .map(|ns| ns.display().to_string())
        .unwrap_or_default()
}

/// Whether `pid` is a live process here (a zombie, killed and not yet reaped, is not).
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `pid (name) S ...`: the state follows the name's closing parenthesis.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_none_or(|state| !matches!(state, 'Z' | 'X' | 'x')),
        Err(e) => e.kind() != std::io::ErrorKind::NotFound,
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

/// Whether and how a bot claims its instrument in its state store
/// ([`BotConfig::instance`](super::BotConfig::instance)); only a service makes a claim.
#[derive(Clone, Debug, Default)]
pub enum InstanceClaiming {
    /// No claim (the default): a state file is locked by the operating system, memory is one
    /// process's.
    #[default]
    Off,
    /// [`Engine::start`](super::Engine::start) claims the instrument, with this lease, before
    /// it loads anything: enough when the broker did nothing at the venue as it was built.
    AtStart(Duration),
    /// The claim was taken before the broker connected ([`InstanceLease::claim`]): the engine
    /// checks it is still held at start and keeps it (stopping once it is lost); whoever took
    /// it releases it ([`InstanceLease::release`]) after its own last writes, once the engine
    /// stopped. It must be the bot's instrument's, in the bot's state store.
    Held(Arc<InstanceLease>),
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
    /// Whether `doc` is this instance's claim (by its id: a version alone could be this
    /// instance's own write, applied although its answer was an error, or sent twice).
    fn is_ours(&self, doc: &StateDoc) -> bool {
        doc.body.get("instance").and_then(serde_json::Value::as_str)
            == Some(self.claim.instance.as_str())
    }

    /// Writes `claim` as the next version. Found stale, the stored claim decides: this
    /// instance's own (an earlier write of it landed after all) is written over once more;
    /// another instance's means the claim was taken over.
    async fn write(&self, claim: &InstanceClaim) -> Result<Saved, StoreError> {
        for _ in 0..2 {
            let next = self.version.load(Ordering::Acquire) + 1;
            let doc = StateDoc::encode(self.key.clone(), next, claim.started_at, claim)?;
            match self.store.save(&doc).await? {
                Saved::Written => {
                    self.version.store(next, Ordering::Release);
                    return Ok(Saved::Written);
                }
                Saved::Stale { stored } => match self.store.load(&self.key).await? {
                    Some(doc) if self.is_ours(&doc) => {
                        self.version.fetch_max(doc.version, Ordering::AcqRel);
                    }
                    _ => {
                        self.lost.store(true, Ordering::Release);
                        return Ok(Saved::Stale { stored });
                    }
                },
            }
        }
        // Our own claim twice over: written, as far as anyone else can tell.
        Ok(Saved::Written)
    }
}

/// This instance's claim on its instrument, renewed (in a task on the tokio runtime it was
/// claimed on) until it is dropped or released. Dropped without
/// [`release`](Self::release), the claim stays in the store until its lease runs out (or,
/// from this host, until the process is gone).
pub struct InstanceLease {
    shared: Arc<Shared>,
    renewal: JoinHandle<()>,
    released: AtomicBool,
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
    pub async fn claim(
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
        let ours = InstanceClaim::ours(started_at, lease);
        let mut seen = store.load(&key).await?;
        if let Some(doc) = seen.clone() {
            let holder = claim_of(&doc);
            if let Some(gone) = holder
                .as_ref()
                .filter(|h| !h.released && h.holder_gone(&ours))
            {
                tracing::warn!(%symbol, holder = %gone, "the last instance of this bot died on this host without releasing its claim: taken over");
            } else if !holder.as_ref().is_some_and(|h| h.released) {
                let shown = holder
                    .as_ref()
                    .map_or_else(|| "an unreadable claim".to_owned(), ToString::to_string);
                // The holder renews within its own lease: watched for the longer of the two.
                let theirs = holder.as_ref().map_or(0, |h| h.lease_secs);
                let watch = lease.max(Duration::from_secs(theirs));
                tracing::warn!(%symbol, holder = %shown, watch_s = watch.as_secs_f64(), "the last instance of this bot did not release its claim (it died, or runs still): watching the claim for a lease before taking it over");
                tokio::time::sleep(watch).await;
                let now = store.load(&key).await?;
                let released = now.as_ref().and_then(claim_of).is_some_and(|h| h.released);
                if now.as_ref().map(|d| d.version) != Some(doc.version) && !released {
                    return Err(refused(describe(now.as_ref())));
                }
                tracing::warn!(%symbol, holder = %shown, "the claim was released or not renewed for a lease: taken over");
                seen = now;
            }
        }
        let shared = Arc::new(Shared {
            store,
            key,
            claim: ours,
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
        Ok(Self {
            shared,
            renewal,
            released: AtomicBool::new(false),
        })
    }

    /// The instrument claimed.
    pub fn instrument(&self) -> &Symbol {
        &self.shared.key.instrument
    }

    /// Whether another instance took the claim over (found at a renewal, or when the claim was
    /// read before an order).
    pub fn is_lost(&self) -> bool {
        self.shared.lost.load(Ordering::Acquire)
    }

    /// Whether this instance still holds the claim, read from the store now (before an order
    /// goes out): `Ok(false)` once the stored claim is another instance's.
    ///
    /// # Errors
    /// The store's: whether it is held is unknown.
    pub(crate) async fn held(&self) -> Result<bool, StoreError> {
        if self.is_lost() {
            return Ok(false);
        }
        let stored = self.shared.store.load(&self.shared.key).await?;
        let held = stored.as_ref().is_some_and(|d| self.shared.is_ours(d));
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

    /// Writes the claim released (a clean stop), unless another instance holds it; once
    /// written, a second call does nothing (one whose write failed tries again).
    pub async fn release(&self) {
        self.renewal.abort();
        if self.is_lost() || self.released.load(Ordering::Acquire) {
            return;
        }
        let released = InstanceClaim {
            released: true,
            ..self.shared.claim.clone()
        };
        match self.shared.write(&released).await {
            Ok(Saved::Written) => {
                self.released.store(true, Ordering::Release);
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

/// The claim a stored document holds (`None`: unreadable).
fn claim_of(doc: &StateDoc) -> Option<InstanceClaim> {
    serde_json::from_value(doc.body.clone()).ok()
}

fn describe(doc: Option<&StateDoc>) -> String {
    match doc.map(claim_of) {
        Some(Some(claim)) => claim.to_string(),
        Some(None) => "an instance whose claim cannot be read".to_owned(),
        None => "an instance that released it since".to_owned(),
    }
}
