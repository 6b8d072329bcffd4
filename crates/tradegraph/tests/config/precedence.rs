//! Each layer over the next one down (value and origin), and the defaults.

use super::support::*;
use tradegraph::config::{FeedKind, FeedSettings, Flags, Origin, Venue};

#[test]
fn a_flag_beats_the_environment() {
    let dir = scratch("flag-env");
    let flags = Flags {
        feed: Some(FeedKind::Synthetic),
        listen: Some("127.0.0.1:9100".parse().unwrap()),
        ..no_flags()
    };
    let vars = [
        ("TRADEGRAPH_FEED", "replay"),
        ("TRADEGRAPH_LISTEN", "127.0.0.1:9200"),
    ];
    let s = resolve(&flags, &vars, &dir).unwrap();
    assert_eq!(s.feed.kind(), FeedKind::Synthetic);
    assert_eq!(s.origins.get("bot.feed"), Some(&Origin::Flag));
    assert_eq!(s.listen.port(), 9100);
    assert_eq!(s.origins.get("bot.listen"), Some(&Origin::Flag));
    // and without the flag, the environment counts
    let s = resolve(&no_flags(), &vars, &dir).unwrap();
    assert_eq!(s.listen.port(), 9200);
    assert_eq!(s.origins.get("bot.listen"), Some(&Origin::Env));
}

#[test]
fn the_environment_beats_the_instrument_env_file() {
    let dir = scratch("env-dotenv-name");
    write(&dir, ".env.btc", "REDIS_URL=redis://from-btc-file:6379\n");
    let s = resolve(&no_flags(), &[("REDIS_URL", "redis://from-env:6379")], &dir).unwrap();
    assert_eq!(s.stores.redis_url.as_deref(), Some("redis://from-env:6379"));
    assert_eq!(s.origins.get("stores.redis_url"), Some(&Origin::Env));
}

#[test]
fn the_instrument_env_file_beats_the_env_file() {
    let dir = scratch("dotenv-name-dotenv");
    write(
        &dir,
        ".env.nifty",
        "REDIS_URL=redis://from-nifty-file:6379\n",
    );
    write(
        &dir,
        ".env",
        "REDIS_URL=redis://from-dotenv:6379\nTRADEGRAPH_INSTRUMENT=nifty\n",
    );
    let s = resolve(&no_flags(), &[], &dir).unwrap();
    assert_eq!(s.name, "nifty");
    assert_eq!(s.origins.get("bot.instrument"), Some(&Origin::EnvFile));
    assert_eq!(
        s.stores.redis_url.as_deref(),
        Some("redis://from-nifty-file:6379")
    );
    assert_eq!(
        s.origins.get("stores.redis_url"),
        Some(&Origin::InstrumentEnvFile("nifty".into()))
    );
    assert_eq!(
        s.origins.get("stores.redis_url").unwrap().to_string(),
        ".env.nifty"
    );
}

#[test]
fn the_env_file_beats_the_configuration_file() {
    let dir = scratch("dotenv-file");
    write(&dir, ".env", "REDIS_URL=redis://from-dotenv:6379\n");
    write(
        &dir,
        "tradegraph.toml",
        "[stores]\nredis_url = \"redis://from-toml:6379\"\n",
    );
    let s = resolve(&no_flags(), &[], &dir).unwrap();
    assert_eq!(
        s.stores.redis_url.as_deref(),
        Some("redis://from-dotenv:6379")
    );
    assert_eq!(s.origins.get("stores.redis_url"), Some(&Origin::EnvFile));
    assert_eq!(s.config_file, Some(dir.join("tradegraph.toml")));
}

#[test]
fn the_configuration_file_beats_the_defaults() {
    let dir = scratch("file-default");
    let config = write(
        &dir,
        "bot.toml",
        "[bot]\ncash = \"2500.50\"\ndecision_timeframe = \"1h\"\n[stores]\nredis_url = \"redis://from-toml:6379\"\n[risk]\nmax_position_pct = \"3\"\n",
    );
    let flags = Flags {
        config: Some(config),
        ..no_flags()
    };
    let s = resolve(&flags, &[], &dir).unwrap();
    assert_eq!(
        s.stores.redis_url.as_deref(),
        Some("redis://from-toml:6379")
    );
    assert_eq!(s.origins.get("stores.redis_url"), Some(&Origin::File));
    assert_eq!(s.cash.to_string(), "2500.50");
    assert_eq!(s.origins.get("bot.cash"), Some(&Origin::File));
    assert_eq!(s.decision_every, tradegraph::core::Timeframe::H1);
    assert_eq!(s.risk.max_position_pct.to_string(), "3");
    assert_eq!(s.origins.get("risk.max_position_pct"), Some(&Origin::File));
    // what the file leaves out keeps its default
    assert_eq!(s.risk.max_daily_loss_pct.to_string(), "2");
    assert_eq!(
        s.origins.get("risk.max_daily_loss_pct"),
        Some(&Origin::Default)
    );
    assert_eq!(s.keep_candles, 50);
    assert_eq!(s.origins.get("bot.keep_candles"), Some(&Origin::Default));
    assert_eq!(s.stores.database, "tradegraph");
    assert_eq!(s.origins.get("stores.database"), Some(&Origin::Default));
}

#[test]
fn defaults_follow_the_instrument() {
    let dir = scratch("defaults");
    let s = resolve(&no_flags(), &[], &dir).unwrap();
    assert_eq!(
        (s.name.as_str(), s.instrument.symbol.as_str()),
        ("btc", "BTCUSDT")
    );
    assert_eq!(s.cash.to_string(), "100000");
    assert_eq!(s.listen.to_string(), "127.0.0.1:8001");
    assert_eq!(s.max_verdict_age.as_secs(), 60);
    assert_eq!(s.graph.origin, "graphs/trading.yaml");
    assert_eq!(s.graph.yaml, tradegraph::agents::node::DEFAULT_GRAPH);
    assert_eq!(s.stores.spill_path, dir.join(".tradegraph/spill-btc.jsonl"));
    assert_eq!(
        s.stores.state_file.as_deref(),
        Some(dir.join(".tradegraph/state-btc.json").as_path())
    );
    assert_eq!(
        s.feed,
        FeedSettings::Replay {
            path: dir.join("examples/data/btcusdt-1m.csv")
        }
    );
    assert!(s.llm.providers.is_empty() && s.llm_budget_usd.is_none() && !s.live);
    let flags = Flags {
        instrument: Some("banknifty".into()),
        ..no_flags()
    };
    let s = resolve(&flags, &[], &dir).unwrap();
    assert_eq!(s.cash.to_string(), "100000000");
    assert_eq!(s.listen.port(), 8002);
    assert_eq!(s.venue, Venue::Kite);
}

#[test]
fn kite_and_binance_feeds_take_their_variables() {
    let dir = scratch("feeds");
    let flags = Flags {
        instrument: Some("banknifty".into()),
        feed: Some(FeedKind::Kite),
        ..no_flags()
    };
    let err = resolve(&flags, &[], &dir).unwrap_err().to_string();
    assert!(
        err.contains("KITE_API_KEY") && err.contains(".env.banknifty"),
        "{err}"
    );
    write(
        &dir,
        ".env.banknifty",
        "KITE_API_KEY=k-123456\nKITE_ACCESS_TOKEN=t-123456\n",
    );
    let s = resolve(&flags, &[("KITE_WS_URL", "ws://127.0.0.1:9")], &dir).unwrap();
    let FeedSettings::Kite {
        ws_url,
        api_url,
        api_key,
        tokens,
        ..
    } = &s.feed
    else {
        panic!("{:?}", s.feed)
    };
    assert_eq!(ws_url, "ws://127.0.0.1:9");
    assert_eq!(api_url, "https://api.kite.trade");
    assert_eq!(api_key.expose(), "k-123456");
    assert_eq!(tokens, &[(260_105, "BANKNIFTY".into())]);
    assert_eq!(
        s.origins.get("feeds.kite.api_key"),
        Some(&Origin::InstrumentEnvFile("banknifty".into()))
    );
    // a Binance instrument cannot ride the Kite feed
    let flags = Flags {
        feed: Some(FeedKind::Kite),
        ..no_flags()
    };
    let err = resolve(&flags, &[], &dir).unwrap_err().to_string();
    assert!(
        err.starts_with("bot.feed (from flag): instrument `btc` is not on kite"),
        "{err}"
    );
    let flags = Flags {
        feed: Some(FeedKind::Binance),
        ..no_flags()
    };
    let s = resolve(&flags, &[], &dir).unwrap();
    assert!(
        matches!(&s.feed, FeedSettings::Binance { ws_url, .. } if ws_url == "wss://stream.binance.com:9443")
    );
}

#[test]
fn redis_cluster_comes_from_the_environment_or_the_file_and_is_checked() {
    let dir = scratch("redis-cluster");
    let s = resolve(&no_flags(), &[], &dir).unwrap();
    assert!(!s.stores.redis_cluster);
    assert_eq!(
        s.origins.get("stores.redis_cluster"),
        Some(&Origin::Default)
    );
    write(&dir, "tradegraph.toml", "[stores]\nredis_cluster = true\n");
    let s = resolve(&no_flags(), &[], &dir).unwrap();
    assert!(s.stores.redis_cluster);
    let s = resolve(&no_flags(), &[("REDIS_CLUSTER", "0")], &dir).unwrap();
    assert!(!s.stores.redis_cluster);
    assert_eq!(s.origins.get("stores.redis_cluster"), Some(&Origin::Env));
    let e = resolve(&no_flags(), &[("REDIS_CLUSTER", "yes please")], &dir)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("REDIS_CLUSTER") && e.contains("yes please") && e.contains("one node"),
        "{e}"
    );
}

#[test]
fn an_ip_alone_in_tradegraph_listen_takes_the_instruments_port() {
    let dir = scratch("listen-ip");
    for (instrument, port) in [("btc", 8001), ("banknifty", 8002), ("nifty", 8003)] {
        let s = resolve(
            &no_flags(),
            &[
                ("TRADEGRAPH_LISTEN", "0.0.0.0"),
                ("TRADEGRAPH_INSTRUMENT", instrument),
            ],
            &dir,
        )
        .unwrap();
        assert_eq!(s.listen, format!("0.0.0.0:{port}").parse().unwrap());
    }
    let s = resolve(&no_flags(), &[("TRADEGRAPH_LISTEN", "0.0.0.0:9000")], &dir).unwrap();
    assert_eq!(s.listen.port(), 9000);
    let e = resolve(&no_flags(), &[("TRADEGRAPH_LISTEN", "everywhere")], &dir)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("everywhere") && e.contains("IP alone"), "{e}");
}
