//! `tradegraph data download`, run as a user runs it, against the local Binance and Kite
//! venues (BINANCE_API_URL, KITE_API_URL).
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::process::{Command, Output};
use tradegraph_testkit::venue::binance::BinanceVenue;
use tradegraph_testkit::venue::kite::KiteVenue;
use tradegraph_testkit::venue::walk;

/// 2024-12-02T00:00:00Z.
const T0: i64 = 1_733_097_600_000;
const MINUTE: i64 = 60_000;

/// Runs the binary in a directory of its own with only `env` (no keys or servers of the test's
/// environment).
async fn tradegraph(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = std::env::temp_dir().join(format!("tg-cli-dl-{}", std::process::id()));
    tradegraph_in(dir, args, env).await
}

/// [`tradegraph`] in `dir` (a test's own, for the files it puts there).
async fn tradegraph_in(dir: PathBuf, args: &[&str], env: &[(&str, &str)]) -> Output {
    std::fs::create_dir_all(&dir).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_tradegraph"));
    command.args(args).current_dir(&dir).env_clear();
    command.env("TRADEGRAPH_DATA_DIR", dir.join("no-such-data-dir"));
    command.envs(env.iter().copied());
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// An empty directory of this test run's, `name`d.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tg-cli-dl-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn temp(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("tg-cli-dl-{}-{name}.csv", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(meta(&path));
    path
}

/// The sidecar that records a file's source.
fn meta(path: &std::path::Path) -> PathBuf {
    PathBuf::from(format!("{}.meta", path.display()))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binance_bars_download_into_a_file_backtest_reads() {
    let venue = BinanceVenue::start("k", "s").await.unwrap();
    let mut bars = walk(T0, MINUTE, 1_440, 95_000.into(), 11);
    bars.retain(|b| b.open_time_ms != T0 + 700 * MINUTE);
    venue.set_klines("1m", bars);
    let out = temp("binance");
    let output = tradegraph(
        &[
            "data",
            "download",
            "--venue",
            "binance",
            "--symbol",
            "btcusdt",
            "--interval",
            "1m",
            "--from",
            "2024-12-02",
            "--to",
            "2024-12-03",
            "--out",
            out.to_str().unwrap(),
        ],
        &[("BINANCE_API_URL", &venue.url())],
    )
    .await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("1439 bars written (2024-12-02T00:00:00Z .. 2024-12-02T23:59:00Z)"),
        "{stdout}"
    );
    assert!(stdout.contains("1 gap"), "{stdout}");
    assert!(
        stderr.contains("warning: no bars from 2024-12-02T11:40:00Z to 2024-12-02T11:41:00Z"),
        "{stderr}"
    );
    // Said once: the library leaves the gaps to the command.
    assert_eq!(stderr.matches("11:40:00Z").count(), 1, "{stderr}");
    let file = std::fs::read_to_string(&out).unwrap();
    assert_eq!(file.lines().count(), 1_440);
    assert!(
        file.starts_with("timestamp,open,high,low,close,volume,timeframe\n2024-12-02T00:00:00Z,")
    );

    // The file is what `backtest` replays.
    let backtest = tradegraph(
        &[
            "backtest",
            "--instrument",
            "btc",
            "--data",
            out.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert_eq!(
        backtest.status.code(),
        Some(0),
        "{}",
        text(&backtest.stderr)
    );
    assert!(
        !text(&backtest.stderr).contains("malformed"),
        "{}",
        text(&backtest.stderr)
    );
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

/// Kite's local venue with ten minutes of NIFTY 50 from 2024-01-01T09:15+05:30.
async fn kite_venue() -> KiteVenue {
    let venue = KiteVenue::start("api-key", "secret", "access-9")
        .await
        .unwrap();
    venue.set_candles(
        256_265,
        "minute",
        walk(1_704_080_700_000, MINUTE, 10, 24_000.into(), 3),
    );
    venue
}

/// The download of 2024-01-01's NIFTY 50 minutes from Kite into `out`.
fn kite_args(out: &std::path::Path) -> [&str; 12] {
    [
        "data",
        "download",
        "--venue",
        "kite",
        "--token",
        "256265",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-02",
        "--out",
        out.to_str().unwrap(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kite_needs_its_credentials_and_sends_them() {
    let venue = kite_venue().await;
    let out = temp("kite");
    let args = kite_args(&out);
    let output = tradegraph(&args, &[("KITE_API_URL", &venue.url())]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("--venue kite needs KITE_API_KEY and KITE_ACCESS_TOKEN"),
        "{}",
        text(&output.stderr)
    );
    let output = tradegraph(
        &args,
        &[
            ("KITE_API_URL", &venue.url()),
            ("KITE_API_KEY", "api-key"),
            ("KITE_ACCESS_TOKEN", "access-9"),
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout)
        .contains("10 bars written (2024-01-01T03:45:00Z .. 2024-01-01T03:54:00Z)"));
    let request = venue
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/instruments/historical/"))
        .unwrap();
    // A date is midnight in India for Kite.
    assert_eq!(
        request.query,
        "from=2024-01-01+00:00:00&to=2024-01-01+23:59:59"
    );
    assert_eq!(
        request.authorization.as_deref(),
        Some("token api-key:access-9")
    );
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
}

/// The credentials in `.env`, where the bots read them, serve the download too (it read the
/// process environment only and said KITE_API_KEY was not set).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kite_credentials_in_the_env_file_are_read() {
    let venue = kite_venue().await;
    let dir = fresh_dir("dotenv");
    std::fs::write(
        dir.join(".env"),
        format!(
            "KITE_API_KEY=api-key\nKITE_ACCESS_TOKEN=access-9\nKITE_API_URL={}\n",
            venue.url()
        ),
    )
    .unwrap();
    let out = temp("kite-dotenv");
    let args = kite_args(&out);
    let output = tradegraph_in(dir.clone(), &args, &[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("10 bars written"));
    let request = venue
        .requests()
        .into_iter()
        .find(|r| r.path.starts_with("/instruments/historical/"))
        .unwrap();
    assert_eq!(
        request.authorization.as_deref(),
        Some("token api-key:access-9")
    );
    // The process environment comes first, as for the bots.
    let output = tradegraph_in(dir.clone(), &args, &[("KITE_ACCESS_TOKEN", "other-token")]).await;
    assert_ne!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // A `.env` that cannot be read is an error naming its line, not a silent skip.
    std::fs::write(dir.join(".env"), "KITE_API_KEY=api-key\nnot a line\n").unwrap();
    let output = tradegraph_in(dir.clone(), &args, &[]).await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains(" .env:2: not KEY=VALUE"),
        "{}",
        text(&output.stderr)
    );
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A saved day token of another day is refused saying so (it was dropped and the download
/// said only that both were needed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kite_token_of_another_day_is_refused_saying_so() {
    let data = temp("kite-old-token");
    let _ = std::fs::remove_dir_all(&data);
    let secret = tradegraph_core::redact::Secret::new("old-token-0001");
    tradegraph_broker::live::kite::save_token(&data, &secret, "2020-01-01").unwrap();
    let output = tradegraph(
        &[
            "data",
            "download",
            "--venue",
            "kite",
            "--token",
            "256265",
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-02",
            "--out",
            "never.csv",
        ],
        &[
            ("KITE_API_KEY", "api-key"),
            ("TRADEGRAPH_DATA_DIR", data.to_str().unwrap()),
        ],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("is for 2020-01-01") && stderr.contains("kite login"),
        "{stderr}"
    );
    assert!(!stderr.contains("old-token-0001"), "{stderr}");
    let _ = std::fs::remove_dir_all(&data);
}

/// The day's token is read where `tradegraph kite login` saved it: `[live] data_dir` of the
/// configuration (it was looked for in ./data alone), or `--data-dir`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kite_token_is_read_from_the_configured_data_dir() {
    let venue = kite_venue().await;
    let dir = fresh_dir("live-dir");
    std::fs::write(
        dir.join("tradegraph.toml"),
        "[live]\ndata_dir = \"state\"\n",
    )
    .unwrap();
    let token = tradegraph_core::redact::Secret::new("access-9");
    let day = tradegraph_broker::live::kite::ist_today();
    tradegraph_broker::live::kite::save_token(&dir.join("state"), &token, &day).unwrap();
    let out = temp("kite-live-dir");
    let download = |extra: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tradegraph"));
        command
            .args(kite_args(&out))
            .args(extra)
            .current_dir(&dir)
            .env_clear()
            .env("KITE_API_KEY", "api-key")
            .env("KITE_API_URL", venue.url());
        command
    };
    let mut configured = download(&[]);
    let output = tokio::task::spawn_blocking(move || configured.output().unwrap())
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("10 bars written"));
    // --data-dir names it outright: another directory has no token.
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
    let elsewhere = dir.join("elsewhere");
    let mut named = download(&["--data-dir", elsewhere.to_str().unwrap()]);
    let output = tokio::task::spawn_blocking(move || named.output().unwrap())
        .await
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("elsewhere"), "{stderr}");
    assert!(!stderr.contains("access-9"), "{stderr}");
    let _ = std::fs::remove_file(meta(&out));
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_options_say_what_to_give() {
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "--venue",
                "kite",
                "--token",
                "256265",
                "--symbol",
                "NIFTY",
                "--from",
                "2024-01-01",
                "--to",
                "2024-01-02",
            ],
            "--symbol is for --venue binance; Kite takes --token",
        ),
        (
            &[
                "--venue",
                "binance",
                "--symbol",
                "BTCUSDT",
                "--token",
                "256265",
                "--from",
                "2024-01-01",
                "--to",
                "2024-01-02",
            ],
            "--token is for --venue kite; Binance takes --symbol",
        ),
        (
            &[
                "--venue",
                "binance",
                "--from",
                "2024-01-01",
                "--to",
                "2024-01-02",
            ],
            "needs --symbol",
        ),
        (
            &[
                "--venue",
                "kite",
                "--from",
                "2024-01-01",
                "--to",
                "2024-01-02",
            ],
            "needs --token",
        ),
        (
            &[
                "--venue",
                "binance",
                "--symbol",
                "BTCUSDT",
                "--from",
                "yesterday",
                "--to",
                "2024-01-02",
            ],
            "--from yesterday: give an RFC 3339 time",
        ),
        (
            &[
                "--venue",
                "binance",
                "--symbol",
                "BTCUSDT",
                "--interval",
                "2m",
                "--from",
                "2024-01-01",
                "--to",
                "2024-01-02",
            ],
            "`2m` is not an interval",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["data", "download"];
        all.extend_from_slice(args);
        let output = tradegraph(&all, &[]).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            text(&output.stderr).contains(expected),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symbol_the_venue_refuses_leaves_no_file() {
    let venue = BinanceVenue::start("k", "s").await.unwrap();
    venue.set_klines("1m", walk(T0, MINUTE, 10, 95_000.into(), 12));
    let out = temp("refused");
    let output = tradegraph(
        &[
            "data",
            "download",
            "--venue",
            "binance",
            "--symbol",
            "NOSUCHCOIN",
            "--from",
            "2024-12-02",
            "--to",
            "2024-12-03",
            "--out",
            out.to_str().unwrap(),
        ],
        &[("BINANCE_API_URL", &venue.url())],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("HTTP 400") && stderr.contains("Invalid symbol"),
        "{stderr}"
    );
    assert!(!out.exists() && !meta(&out).exists());
}
