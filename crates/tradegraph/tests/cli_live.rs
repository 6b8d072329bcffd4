//! Live trading's opt-in, as a user meets it: `TRADEGRAPH_LIVE=1` with `live = true` and
//! paper-only settings (a replayed feed) or without the venue's keys is refused before anything
//! connects, each refusal naming the setting, and no secret shows.
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::path::Path;
use std::process::{Command, Output};

/// A secret that must never show.
const CANARY: &str = "canary-secret-7f3a9c1e5b2d4f60";

fn tradegraph(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tradegraph"));
    command.args(args).current_dir(dir).env_clear();
    command.env("TRADEGRAPH_LISTEN", "127.0.0.1:0");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

fn live_dir(name: &str) -> std::path::PathBuf {
    let dir = support::temp_dir(name);
    std::fs::write(dir.join("bot.toml"), "[bot]\nlive = true\n").unwrap();
    std::fs::write(
        dir.join("bars.csv"),
        "timestamp,open,high,low,close,volume\n2024-03-04T00:00:00Z,100,101,99,100,10\n",
    )
    .unwrap();
    dir
}

#[test]
fn live_on_a_replayed_feed_is_refused_naming_the_feed() {
    let dir = live_dir("live-replay");
    let args = [
        "run",
        "--instrument",
        "btc",
        "--feed",
        "replay",
        "--data",
        "bars.csv",
        "--config",
        "bot.toml",
    ];
    let out = tradegraph(&dir, &args, &[("TRADEGRAPH_LIVE", "1")]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "live trading refused: the feed (`--feed`, TRADEGRAPH_FEED, `[bot] feed`) is replay"
        ),
        "{stderr}"
    );
    assert!(
        !String::from_utf8(out.stdout).unwrap().contains("BTCUSDT |"),
        "no cycle ran"
    );
    // Without TRADEGRAPH_LIVE the same settings trade on paper.
    let out = tradegraph(&dir, &args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A backtest always trades on the paper broker: a live configuration (both opt-ins given) is
/// no reason to refuse it, and it says the live settings are not used.
#[test]
fn a_backtest_with_a_live_configuration_runs_on_paper() {
    let dir = live_dir("live-backtest");
    let args = [
        "backtest",
        "--instrument",
        "btc",
        "--data",
        "bars.csv",
        "--config",
        "bot.toml",
    ];
    let out = tradegraph(&dir, &args, &[("TRADEGRAPH_LIVE", "1")]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("refused"), "{stderr}");
    assert!(
        stderr.contains("a backtest trades on the paper broker"),
        "{stderr}"
    );
}

/// Live settings with `--workers` are a refusal like the other live refusals (exit 2, naming
/// what to change), not a bot that stopped on an error (exit 3, which supervisors restart).
#[test]
fn live_with_workers_is_refused_as_a_setting() {
    let dir = live_dir("live-workers");
    let out = tradegraph(
        &dir,
        &[
            "run",
            "--instrument",
            "btc",
            "--feed",
            "binance",
            "--config",
            "bot.toml",
            "--workers",
            "redis",
        ],
        &[
            ("TRADEGRAPH_LIVE", "1"),
            ("BINANCE_API_KEY", "key-0123456789"),
            ("BINANCE_API_SECRET", CANARY),
            ("REDIS_URL", "redis://127.0.0.1:1"),
            ("BINANCE_WS_URL", "ws://127.0.0.1:9/ws"),
            ("BINANCE_API_URL", "http://127.0.0.1:9"),
            ("BINANCE_WS_API_URL", "ws://127.0.0.1:9/ws-api/v3"),
        ],
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("live trading refused: live trading runs in one process"),
        "{stderr}"
    );
    assert!(!stderr.contains(CANARY), "{stderr}");
}

#[test]
fn live_without_the_venues_keys_is_refused_and_no_secret_shows() {
    let dir = live_dir("live-keys");
    let args = [
        "run",
        "--instrument",
        "btc",
        "--feed",
        "binance",
        "--config",
        "bot.toml",
    ];
    let out = tradegraph(
        &dir,
        &args,
        &[
            ("TRADEGRAPH_LIVE", "1"),
            ("BINANCE_API_SECRET", CANARY),
            // nothing is reached: the refusal comes before any connection
            ("BINANCE_WS_URL", "ws://127.0.0.1:9/ws"),
            ("BINANCE_API_URL", "http://127.0.0.1:9"),
        ],
    );
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("live trading refused: BINANCE_API_KEY is not set"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("BINANCE_API_SECRET is not set"),
        "it is set: {stderr}"
    );
    assert!(
        !stderr.contains(CANARY) && !stdout.contains(CANARY),
        "{stderr}"
    );
}

#[test]
fn live_on_another_binance_endpoint_needs_its_websocket_api_named() {
    let dir = live_dir("live-ws-api");
    let args = [
        "run",
        "--instrument",
        "btc",
        "--feed",
        "binance",
        "--config",
        "bot.toml",
    ];
    let env = [
        ("TRADEGRAPH_LIVE", "1"),
        ("BINANCE_API_KEY", CANARY),
        ("BINANCE_API_SECRET", CANARY),
        ("BINANCE_WS_URL", "ws://127.0.0.1:9/ws"),
        ("BINANCE_API_URL", "http://127.0.0.1:9"),
    ];
    let out = tradegraph(&dir, &args, &env);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("live trading refused: BINANCE_API_URL is http://127.0.0.1:9")
            && stderr.contains("set BINANCE_WS_API_URL"),
        "{stderr}"
    );
    assert!(!stderr.contains(CANARY), "{stderr}");
}

fn config_show(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut all = vec!["config", "show"];
    all.extend_from_slice(args);
    let out = tradegraph(dir, &all, env);
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_live_section_is_read_shown_and_checked() {
    let dir = support::temp_dir("live-section");
    std::fs::write(
        dir.join("bot.toml"),
        "[live]\nbinance_reserved_base = \"0.25\"\nkite_product = \"NRML\"\n",
    )
    .unwrap();
    let (code, out, err) = config_show(&dir, &["--config", "bot.toml"], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("[live]"), "{out}");
    assert!(
        out.contains("binance_reserved_base = \"0.25\"  # file"),
        "{out}"
    );
    assert!(out.contains("kite_product = \"NRML\"  # file"), "{out}");
    assert!(out.contains("data_dir = "), "{out}");
    // The environment comes first.
    let (_, out, _) = config_show(
        &dir,
        &["--config", "bot.toml"],
        &[("KITE_PRODUCT", "mis"), ("BINANCE_RESERVED_BASE", "1.5")],
    );
    assert!(out.contains("kite_product = \"MIS\"  # env"), "{out}");
    assert!(
        out.contains("binance_reserved_base = \"1.5\"  # env"),
        "{out}"
    );
    // Unknown keys and bad values are refused, naming them.
    std::fs::write(dir.join("bad.toml"), "[live]\nreserved = 1\n").unwrap();
    let (code, _, err) = config_show(&dir, &["--config", "bad.toml"], &[]);
    assert_ne!(code, Some(0));
    assert!(err.contains("reserved"), "{err}");
    let (code, _, err) = config_show(&dir, &[], &[("KITE_PRODUCT", "CNC")]);
    assert_ne!(code, Some(0));
    assert!(err.contains("KITE_PRODUCT") && err.contains("CNC"), "{err}");
    // a value from the environment is named by its variable
    let (code, _, err) = config_show(&dir, &[], &[("BINANCE_RESERVED_BASE", "-1")]);
    assert_ne!(code, Some(0));
    assert!(
        err.contains("BINANCE_RESERVED_BASE (from env)") && err.contains("-1"),
        "{err}"
    );
}

#[test]
fn the_kite_day_token_is_read_from_the_live_data_dir() {
    use tradegraph_broker::live::kite::{ist_today, save_token};
    let dir = support::temp_dir("live-kite-token");
    std::fs::write(dir.join("bot.toml"), "[live]\ndata_dir = \"tokens\"\n").unwrap();
    let args = [
        "--instrument",
        "banknifty",
        "--feed",
        "kite",
        "--config",
        "bot.toml",
    ];
    let env = [("KITE_API_KEY", "kite-key-0001")];
    let (code, _, err) = config_show(&dir, &args, &env);
    assert_ne!(code, Some(0), "no token yet");
    assert!(err.contains("tokens"), "names where it looked: {err}");
    // A token kept in `./data` is not the one read: the configured directory is.
    let secret = tradegraph_core::redact::Secret::new(CANARY);
    save_token(&dir.join("data"), &secret, &ist_today()).unwrap();
    let (code, _, _) = config_show(&dir, &args, &env);
    assert_ne!(code, Some(0), "./data is not the configured directory");
    save_token(&dir.join("tokens"), &secret, &ist_today()).unwrap();
    let (code, out, err) = config_show(&dir, &args, &env);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("access_token = \"***\""), "{out}");
    assert!(!out.contains(CANARY) && !err.contains(CANARY), "{out}");
}

/// A saved Kite token of another day is refused saying so, naming only what is missing (the
/// message named both variables and dropped the reason).
#[test]
fn a_kite_token_of_another_day_is_refused_saying_so() {
    use tradegraph_broker::live::kite::save_token;
    let dir = support::temp_dir("live-kite-old-token");
    let secret = tradegraph_core::redact::Secret::new(CANARY);
    save_token(&dir.join("data"), &secret, "2020-01-01").unwrap();
    let args = ["--instrument", "banknifty", "--feed", "kite"];
    let (code, _, err) = config_show(&dir, &args, &[("KITE_API_KEY", "kite-key-0001")]);
    assert_ne!(code, Some(0));
    assert!(err.contains("is for 2020-01-01"), "{err}");
    assert!(err.contains("kite login"), "{err}");
    assert!(
        err.contains("KITE_ACCESS_TOKEN") && !err.contains("KITE_API_KEY"),
        "{err}"
    );
    assert!(!err.contains(CANARY), "{err}");
}

#[test]
fn live_with_a_lot_size_off_the_venues_step_is_refused_naming_the_setting() {
    use tradegraph_testkit::venue::binance::{BinanceVenue, Rules};
    const KEY: &str = "grid-test-api-key-0123456789";
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The venue takes quantities in steps of 0.001; the btc preset's lot size is 0.00001.
    let rules = Rules {
        step: rust_decimal::Decimal::new(1, 3),
        ..Rules::default()
    };
    let venue = runtime
        .block_on(BinanceVenue::start_with(KEY, CANARY, rules))
        .unwrap();
    let dir = live_dir("live-grid");
    let args = [
        "run",
        "--instrument",
        "btc",
        "--feed",
        "binance",
        "--config",
        "bot.toml",
    ];
    let (url, ws_api) = (venue.url(), venue.ws_url());
    let out = tradegraph(
        &dir,
        &args,
        &[
            ("TRADEGRAPH_LIVE", "1"),
            ("BINANCE_API_KEY", KEY),
            ("BINANCE_API_SECRET", CANARY),
            ("BINANCE_API_URL", &url),
            ("BINANCE_WS_API_URL", &ws_api),
            ("BINANCE_WS_URL", "ws://127.0.0.1:9/ws"),
        ],
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    // A refusal of the settings (2, as the other live refusals), not a bot that stopped on an
    // error (3, which a supervisor restarts: it would log in to the venue again and again).
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("live trading refused: the instrument's `lot_size` is 0.00001 but Binance's quantity step for BTCUSDT is 0.001"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("LIVE TRADING: real orders"),
        "no banner: {stderr}"
    );
    assert!(!stderr.contains(CANARY), "{stderr}");
    // Nothing was ordered.
    assert!(
        !venue
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.path == "/api/v3/order"),
        "no order"
    );
}
