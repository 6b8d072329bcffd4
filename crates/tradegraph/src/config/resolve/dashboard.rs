//! `[dashboard]`: the bots the overview page lists.

use super::Resolver;
use crate::config::ConfigError;

/// The overview page's bots, as `host:port` separated by commas (`[dashboard] peers`).
pub const DASHBOARD_PEERS_VAR: &str = "TRADEGRAPH_DASHBOARD_PEERS";

/// The three standard bots (btc, banknifty, nifty), when no peers are set.
pub const DEFAULT_DASHBOARD_PEERS: [&str; 3] =
    ["127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"];

/// `peer` when it is `host:port` (a name or an address, `[v6]:port` for IPv6), else why not.
pub(crate) fn check_peer(peer: &str) -> Result<String, String> {
    let peer = peer.trim();
    let bad = || {
        format!(
            "`{peer}` is not a bot's address: give host:port, like 127.0.0.1:8002 (no scheme, no path)"
        )
    };
    let (host, port) = peer.rsplit_once(':').ok_or_else(bad)?;
    let host_ok = !host.is_empty()
        && !host.contains(['/', '?', '#', '@', ' '])
        && (host.starts_with('[') == host.ends_with(']'));
    match port.parse::<u16>() {
        Ok(p) if p > 0 && host_ok => Ok(peer.to_owned()),
        _ => Err(bad()),
    }
}

impl Resolver<'_> {
    /// `[dashboard] peers` (`TRADEGRAPH_DASHBOARD_PEERS`), each checked; the three standard
    /// bots unless set.
    pub(super) fn dashboard_peers(&mut self) -> Result<Vec<String>, ConfigError> {
        const KEY: &str = "dashboard.peers";
        let file = self.doc().and_then(|d| d.dashboard.peers.clone());
        let from_file = file.is_some();
        let peers = self.pick(
            KEY,
            None,
            Some(DASHBOARD_PEERS_VAR),
            |v| {
                v.split(',')
                    .filter(|p| !p.trim().is_empty())
                    .map(check_peer)
                    .collect::<Result<Vec<_>, _>>()
            },
            file,
            || {
                DEFAULT_DASHBOARD_PEERS
                    .iter()
                    .map(|p| (*p).to_owned())
                    .collect()
            },
        )?;
        if from_file {
            for peer in &peers {
                check_peer(peer).map_err(|message| self.invalid(KEY, message))?;
            }
        }
        let peers: Vec<String> = peers.iter().map(|p| p.trim().to_owned()).collect();
        if peers.is_empty() {
            return Err(self.invalid(KEY, "give at least one bot's host:port".into()));
        }
        Ok(peers)
    }
}

#[cfg(test)]
mod tests {
    use super::check_peer;

    #[test]
    fn a_peer_is_host_and_port() {
        assert_eq!(check_peer(" 127.0.0.1:8002 "), Ok("127.0.0.1:8002".into()));
        assert_eq!(check_peer("bot-nifty:8003"), Ok("bot-nifty:8003".into()));
        assert_eq!(check_peer("[::1]:8001"), Ok("[::1]:8001".into()));
        for bad in [
            "127.0.0.1",
            "http://127.0.0.1:8001",
            ":8001",
            "host:0",
            "host:99999",
            "a/b:1",
        ] {
            let message = check_peer(bad).unwrap_err();
            assert!(message.contains("host:port"), "{bad}: {message}");
        }
    }

    #[test]
    fn peers_come_from_the_environment_then_the_file_then_the_defaults() {
        use crate::config::{Flags, Origin, Settings};
        let dir = std::env::temp_dir().join(format!("tradegraph-peers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let none = |_: &str| None;
        let settings = Settings::resolve(&Flags::default(), &none, &dir).unwrap();
        assert_eq!(settings.dashboard_peers, super::DEFAULT_DASHBOARD_PEERS);
        std::fs::write(
            dir.join("tradegraph.toml"),
            "[dashboard]\npeers = [\"10.0.0.5:8001\"]\n",
        )
        .unwrap();
        let settings = Settings::resolve(&Flags::default(), &none, &dir).unwrap();
        assert_eq!(settings.dashboard_peers, ["10.0.0.5:8001"]);
        assert_eq!(settings.origins.get("dashboard.peers"), Some(&Origin::File));
        let env = |k: &str| (k == super::DASHBOARD_PEERS_VAR).then(|| "a:1, b:2".to_owned());
        let settings = Settings::resolve(&Flags::default(), &env, &dir).unwrap();
        assert_eq!(settings.dashboard_peers, ["a:1", "b:2"]);
        assert!(settings
            .show(crate::config::ShowFormat::Toml)
            .contains("[dashboard]"));
        std::fs::write(
            dir.join("tradegraph.toml"),
            "[dashboard]\npeers = [\"http://x:1\"]\n",
        )
        .unwrap();
        let error = Settings::resolve(&Flags::default(), &none, &dir)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("dashboard.peers") && error.contains("host:port"),
            "{error}"
        );
        std::fs::write(dir.join("tradegraph.toml"), "[dashboard]\npeer = []\n").unwrap();
        let error = Settings::resolve(&Flags::default(), &none, &dir)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("unknown field `peer`") && error.contains("toml:2:1"),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
