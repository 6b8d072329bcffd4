//! `tradegraph record`, run as a user runs it, against local WebSocket servers speaking
//! Binance's combined-stream frames and Kite's binary packets; the file is replayed back.
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use futures::{SinkExt, StreamExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;
use tradegraph_core::{Side, Timeframe, Timestamp};
use tradegraph_market::feed::replay::{Replay, ReplayConfig};
use tradegraph_market::{FeedNotice, GapKind, MarketEvent};

const SECRET: &str = "s3cret-access-token";

fn tradegraph(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tradegraph"));
    command
        .args(args)
        .env_remove("KITE_API_KEY")
        .env_remove("KITE_ACCESS_TOKEN");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A fresh directory for one test's files.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tradegraph-cli-record-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Serves one WebSocket connection at a time, sending `frames` and then holding the
/// connection open; returns the URL and the request targets seen.
fn serve(runtime: &Runtime, frames: Vec<Message>) -> (String, Arc<Mutex<Vec<String>>>) {
    let targets = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&targets);
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    runtime.spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let seen = Arc::clone(&seen);
            #[allow(clippy::result_large_err)]
            let callback = move |request: &Request, response: Response| {
                seen.lock().unwrap().push(request.uri().to_string());
                Ok(response)
            };
            let mut ws = tokio_tungstenite::accept_hdr_async(tcp, callback)
                .await
                .unwrap();
            let frames = frames.clone();
            tokio::spawn(async move {
                for frame in frames {
                    if ws.send(frame).await.is_err() {
                        return;
                    }
                }
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    (url, targets)
}

fn replay(path: &Path) -> Vec<MarketEvent> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let replay = Replay::new(ReplayConfig::new(path, "UNUSED")).unwrap();
        let stats = replay.stats();
        let events: Vec<MarketEvent> = replay.stream().collect().await;
        assert_eq!(stats.malformed(), 0);
        events
    })
}

fn binance_trade(id: u64, maker: bool) -> Message {
    Message::text(format!(
        r#"{{"stream":"btcusdt@trade","data":{{"e":"trade","E":1735689600123,"s":"BTCUSDT","t":{id},"p":"93512.10","q":"0.00123000","T":1735689600122,"m":{maker},"M":true}}}}"#
    ))
}

const KLINE: &str = r#"{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1735689660001,"s":"BTCUSDT","k":{"t":1735689600000,"T":1735689659999,"s":"BTCUSDT","i":"1m","f":100,"L":200,"o":"93500.00","c":"93512.10","h":"93520.00","l":"93490.00","v":"12.5","n":101,"x":true,"q":"1168901.25","V":"6.1","Q":"570423.00","B":"0"}}}"#;
const DEPTH: &str = r#"{"stream":"btcusdt@depth5@100ms","data":{"lastUpdateId":160,"bids":[["93512.00","1.5"],["93511.90","0.2"]],"asks":[["93512.10","0.7"]]}}"#;

#[test]
fn records_binance_until_max_events_and_the_file_replays() {
    let runtime = Runtime::new().unwrap();
    let frames = vec![
        binance_trade(1, true),
        Message::text(KLINE),
        Message::text(DEPTH),
        binance_trade(2, false),
        binance_trade(5, false),
        binance_trade(6, false),
    ];
    let (url, targets) = serve(&runtime, frames);
    let dir = temp_dir("binance");
    let out_path = dir.join("btc.jsonl");
    let out_arg = out_path.display().to_string();
    let args = [
        "record",
        "--feed",
        "binance",
        "--url",
        &url,
        "--symbol",
        "BTCUSDT",
        "--out",
        &out_arg,
        "--max-events",
        "7",
        "--seconds",
        "30",
    ];
    let out = tradegraph(&args, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!(
            "recorded 7 events (3 trades, 0 ticks, 1 book, 1 candle, 2 notices) to {out_arg} in "
        )),
        "{stdout}"
    );
    assert!(stdout.ends_with(" s: max events reached\n"), "{stdout}");
    assert_eq!(stdout.lines().count(), 1);
    let streams = "/stream?streams=btcusdt@trade/btcusdt@kline_1m/btcusdt@depth5@100ms";
    assert_eq!(
        targets.lock().unwrap().first().map(String::as_str),
        Some(streams)
    );
    assert_eq!(
        stderr,
        format!(
            "binance: connected to {url}{streams}\nbinance: BTCUSDT: trade ids 3..=4 missing\n"
        )
    );

    let events = replay(&out_path);
    assert_eq!(events.len(), 7, "{events:#?}");
    assert!(matches!(
        &events[0],
        MarketEvent::Notice { feed, notice: FeedNotice::Connected { url: connected }, .. }
            if feed == "binance" && connected == &format!("{url}{streams}")
    ));
    let MarketEvent::Trade { symbol, trade } = &events[1] else {
        panic!("{:?}", events[1])
    };
    assert_eq!(symbol.as_str(), "BTCUSDT");
    assert_eq!(
        (
            trade.trade_id,
            trade.aggressor,
            trade.price.to_string(),
            trade.quantity.to_string()
        ),
        (1, Side::Sell, "93512.10".into(), "0.00123000".into())
    );
    assert_eq!(trade.ts, Timestamp::from_millis(1_735_689_600_122));
    let MarketEvent::Candle { candle, closed, .. } = &events[2] else {
        panic!("{:?}", events[2])
    };
    assert!(*closed);
    assert_eq!(
        (candle.timeframe, candle.close.to_string()),
        (Timeframe::M1, "93512.10".into())
    );
    let MarketEvent::Book { book, .. } = &events[3] else {
        panic!("{:?}", events[3])
    };
    assert_eq!(
        (book.update_id, book.bids.len(), book.asks.len()),
        (Some(160), 2, 1)
    );
    assert!(matches!(&events[4], MarketEvent::Trade { trade, .. } if trade.trade_id == 2));
    assert!(matches!(
        &events[5],
        MarketEvent::Notice {
            notice: FeedNotice::Gap {
                kind: GapKind::TradeIds {
                    first_missing: 3,
                    last_missing: 4
                },
                ..
            },
            ..
        }
    ));
    assert!(matches!(&events[6], MarketEvent::Trade { trade, .. } if trade.trade_id == 5));
    std::fs::remove_dir_all(dir).unwrap();
}

/// A Kite binary message of one LTP packet: token and price in paise, big-endian.
fn kite_ltp(token: u32, paise: u32) -> Message {
    let mut bytes = vec![0, 1, 0, 8];
    bytes.extend_from_slice(&token.to_be_bytes());
    bytes.extend_from_slice(&paise.to_be_bytes());
    Message::binary(bytes)
}

#[test]
fn records_kite_with_credentials_from_the_environment_and_never_shows_them() {
    let runtime = Runtime::new().unwrap();
    let (url, targets) = serve(&runtime, vec![kite_ltp(256_265, 2_404_525)]);
    let dir = temp_dir("kite");
    let out_path = dir.join("nifty.jsonl");
    let out_arg = out_path.display().to_string();
    let args = [
        "record",
        "--feed",
        "kite",
        "--url",
        &url,
        "--token",
        "256265",
        "--symbol",
        "NIFTY50",
        "--mode",
        "ltp",
        "--out",
        &out_arg,
        "--max-events",
        "2",
        "--seconds",
        "30",
    ];
    let out = tradegraph(
        &args,
        &[("KITE_API_KEY", "kite_key"), ("KITE_ACCESS_TOKEN", SECRET)],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("recorded 2 events (0 trades, 1 tick, 0 books, 0 candles, 1 notice)"),
        "{stdout}"
    );
    assert_eq!(
        targets.lock().unwrap().first().map(String::as_str),
        Some(format!("/?api_key=kite_key&access_token={SECRET}").as_str())
    );
    let recorded = std::fs::read_to_string(&out_path).unwrap();
    for shown in [&stdout, &stderr, &recorded] {
        assert!(
            !shown.contains(SECRET) && !shown.contains("kite_key"),
            "{shown}"
        );
    }
    assert!(
        stderr.contains("kite: connected to ws://127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("api_key=***&access_token=***"), "{stderr}");

    let events = replay(&out_path);
    assert_eq!(events.len(), 2);
    let MarketEvent::Tick { symbol, tick } = &events[1] else {
        panic!("{:?}", events[1])
    };
    assert_eq!(
        (symbol.as_str(), tick.price.to_string()),
        ("NIFTY50", "24045.25".into())
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Arguments after `record`, environment, and what stderr must say.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn usage_mistakes_exit_2_with_a_clear_message() {
    let dir = temp_dir("usage");
    let out_arg = dir.join("out.jsonl").display().to_string();
    let creds = [("KITE_API_KEY", "kite_key"), ("KITE_ACCESS_TOKEN", SECRET)];
    let cases: [Case<'_>; 8] = [
        (
            &["--feed", "kite", "--out", &out_arg],
            &creds,
            "--feed kite needs at least one --token",
        ),
        (
            &["--feed", "kite", "--token", "256265", "--out", &out_arg],
            &[],
            "--feed kite needs --api-key or the environment variable KITE_API_KEY",
        ),
        (
            &["--feed", "kite", "--token", "256265", "--out", &out_arg],
            &[("KITE_API_KEY", "kite_key")],
            "--feed kite needs --access-token or the environment variable KITE_ACCESS_TOKEN",
        ),
        (
            &["--feed", "kite", "--token", "NIFTY", "--out", &out_arg],
            &creds,
            "--token NIFTY: give an instrument token number",
        ),
        (
            &[
                "--feed",
                "kite",
                "--token",
                "256265",
                "--url",
                "https://x",
                "--out",
                &out_arg,
            ],
            &creds,
            "kite: url must start with wss:// or ws://",
        ),
        (
            &["--feed", "binance", "--out", &out_arg],
            &[],
            "--feed binance needs --symbol",
        ),
        (
            &[
                "--feed",
                "binance",
                "--symbol",
                "BTCUSDT",
                "--out",
                "/nonexistent/dir/out.jsonl",
            ],
            &[],
            "cannot create /nonexistent/dir/out.jsonl: ",
        ),
        (
            &[
                "--feed",
                "binance",
                "--symbol",
                "BTCUSDT",
                "--seconds",
                "0",
                "--out",
                &out_arg,
            ],
            &[],
            "--seconds 0: give a positive number of seconds",
        ),
    ];
    for (args, env, expected) in cases {
        let mut full = vec!["record"];
        full.extend_from_slice(args);
        let out = tradegraph(&full, env);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("tradegraph record: "),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains(SECRET), "{stderr}");
        assert_eq!(text(&out.stdout), "");
    }
    assert!(
        !dir.join("out.jsonl").exists(),
        "nothing is created before the command is valid"
    );
    let out = tradegraph(&["record", "--feed", "bitstamp", "--out", &out_arg], &[]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(dir).unwrap();
}

/// `-v` and `--log-format json` work on `record` as on every command: its log comes on top of
/// the notices it prints itself (and only when asked for, so the notices are not said twice).
#[test]
fn record_honours_the_log_flags() {
    let runtime = Runtime::new().unwrap();
    let frames = vec![binance_trade(1, true), binance_trade(2, false)];
    let (url, _) = serve(&runtime, frames);
    let dir = temp_dir("binance-log");
    let out_arg = dir.join("btc.jsonl").display().to_string();
    let args = |extra: &'static [&'static str]| {
        let mut args = vec![
            "record",
            "--feed",
            "binance",
            "--url",
            url.as_str(),
            "--symbol",
            "BTCUSDT",
            "--out",
            out_arg.as_str(),
            "--max-events",
            "3",
            "--seconds",
            "30",
        ];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let plain: Vec<String> = args(&[]);
    let plain: Vec<&str> = plain.iter().map(String::as_str).collect();
    let quiet = text(&tradegraph(&plain, &[]).stderr);
    assert!(!quiet.contains("\"level\""), "{quiet}");
    let _ = std::fs::remove_file(&out_arg);
    let logged: Vec<String> = args(&["-vv", "--log-format", "json"]);
    let logged: Vec<&str> = logged.iter().map(String::as_str).collect();
    let out = tradegraph(&logged, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with('{') && l.contains("\"level\"")),
        "{stderr}"
    );
}
