//! Server processes owned by one test, on a free port, so that stopping them disturbs no one.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn find(env: &str, candidates: &[PathBuf]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(env) {
        return Some(PathBuf::from(path)).filter(|p| p.exists());
    }
    candidates.iter().find(|p| p.exists()).cloned()
}

fn wait_for(port: u16, up: bool) {
    for _ in 0..300 {
        let open = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        if open == up {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "port {port} did not become {}",
        if up { "open" } else { "closed" }
    );
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(super::unique(name));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// A private `redis-server`, without persistence (a restart comes back empty) unless started
/// with [`PrivateRedis::start_durable`].
pub struct PrivateRedis {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    child: Option<Child>,
    durable: bool,
}

impl PrivateRedis {
    /// Starts one, or `None` (skip) when `redis-server` is not installed.
    pub fn start() -> Option<Self> {
        Self::start_with(false)
    }

    /// Starts one with an append-only file synced on every write (`appendonly yes`,
    /// `appendfsync always`), kept across restarts.
    pub fn start_durable() -> Option<Self> {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> Option<Self> {
        let Some(bin) = find(
            "TRADEGRAPH_REDIS_SERVER",
            &[
                "/usr/bin/redis-server".into(),
                "/usr/local/bin/redis-server".into(),
            ],
        ) else {
            return super::unavailable("redis-server is not installed");
        };
        let mut redis = Self {
            bin,
            dir: scratch("redis"),
            port: free_port(),
            child: None,
            durable,
        };
        redis.resume();
        Some(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops the server (SIGKILL: an abrupt loss).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        wait_for(self.port, false);
    }

    /// Starts it again on the same port.
    pub fn resume(&mut self) {
        let persistence: &[&str] = if self.durable {
            &["--appendonly", "yes", "--appendfsync", "always"]
        } else {
            &["--appendonly", "no"]
        };
        let child = Command::new(&self.bin)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", ""])
            .args(persistence)
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        wait_for(self.port, true);
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A private `mongod` (standalone, or a single-node replica set with the test commands, its own
/// data directory, kept across restarts).
pub struct PrivateMongo {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    child: Option<Child>,
    replica_set: bool,
}

impl PrivateMongo {
    /// Starts one, or `None` (skip) when mongod is not in `.services/bin` (run
    /// `scripts/services.sh start` once) or `TRADEGRAPH_MONGOD`.
    pub fn start() -> Option<Self> {
        Self::start_with(false)
    }

    /// Starts a single-node replica set `rs0` (not initiated yet: see
    /// `support::mongo::initiate`) with `enableTestCommands=1`, for the failpoints and stepdowns
    /// of a primary.
    pub fn start_replica_set() -> Option<Self> {
        Self::start_with(true)
    }

    fn start_with(replica_set: bool) -> Option<Self> {
        let Some(bin) = find(
            "TRADEGRAPH_MONGOD",
            &[workspace_root().join(".services/bin/mongod")],
        ) else {
            return super::unavailable("mongod is not in .services/bin");
        };
        let mut mongo = Self {
            bin,
            dir: scratch("mongod"),
            port: free_port(),
            child: None,
            replica_set,
        };
        mongo.resume();
        Some(mongo)
    }

    /// The URI; a direct connection for a replica set, so that it is used while secondary too.
    pub fn uri(&self) -> String {
        if self.replica_set {
            format!("mongodb://127.0.0.1:{}/?directConnection=true", self.port)
        } else {
            format!("mongodb://127.0.0.1:{}", self.port)
        }
    }

    /// Stops the server (SIGKILL: an abrupt loss; the journal keeps acknowledged writes).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        wait_for(self.port, false);
    }

    /// Starts it again on the same port and data directory.
    pub fn resume(&mut self) {
        let child = Command::new(&self.bin)
            .args(["--bind_ip", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--dbpath")
            .arg(&self.dir)
            .args(["--wiredTigerCacheSizeGB", "0.25", "--quiet"])
            .args(if self.replica_set {
                &["--replSet", "rs0", "--setParameter", "enableTestCommands=1"][..]
            } else {
                &[]
            })
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mongod starts");
        self.child = Some(child);
        wait_for(self.port, true);
    }
}

impl Drop for PrivateMongo {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
