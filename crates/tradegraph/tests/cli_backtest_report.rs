//! `tradegraph backtest --out DIR` and `--split N` on the bundled data, as a user runs them:
//! every report file exists and parses, the CSVs agree with `summary.json`, one line of
//! `decisions.jsonl` per cycle, identical runs write identical summaries, walk-forward windows
//! cover the period without overlap, bad flags are usage errors; and `report.html` in headless
//! Chromium shows both plots (screenshot: target/backtest-report/report.png).
// Runs the `tradegraph` binary (or the service and venue brokers it turns on).
#![cfg(feature = "cli")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use serde_json::{json, Value};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use support::webdriver::{chromedriver, Browser};
use tradegraph::backtest::report::DecisionRecord;
use tradegraph::core::Timestamp;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A secret in the environment that the report must not show.
const CANARY: &str = "canary-token-0123456789";

/// Runs the binary in the repository's root (the bundled data is its default) with no keys
/// of the test's environment, and an API token the report must mask.
fn tradegraph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradegraph"))
        .args(args)
        .current_dir(root())
        .env_clear()
        .env("TRADEGRAPH_API_TOKEN", CANARY)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// `backtest --instrument btc --out DIR extra...`, asserting success; the folder.
fn backtest(name: &str, extra: &[&str]) -> (PathBuf, String) {
    let dir = support::temp_dir(name).join("report");
    let _ = std::fs::remove_dir_all(&dir);
    let mut args = vec![
        "backtest",
        "--instrument",
        "btc",
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = tradegraph(&args);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    (dir, stdout)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_file(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A decimal written as a JSON string.
fn dec(v: &Value) -> f64 {
    v.as_str()
        .unwrap_or_else(|| panic!("a decimal string: {v}"))
        .parse()
        .unwrap()
}

fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = read(path);
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[test]
fn the_report_files_exist_parse_and_agree_with_the_summary() {
    let (dir, stdout) = backtest("files", &[]);
    assert!(
        stdout.contains(&format!("report: {}", dir.join("report.html").display())),
        "{stdout}"
    );
    let summary = json_file(&dir.join("summary.json"));
    let results = &summary["results"];
    let metrics = &summary["metrics"];

    // The data's first and last bar are the file's.
    let data = read(&root().join("examples/data/btcusdt-1m.csv"));
    let bars: Vec<&str> = data.lines().skip(1).collect();
    assert_eq!(summary["data"]["bars"], json!(bars.len()));
    let first: Vec<&str> = bars[0].split(',').collect();
    let last: Vec<&str> = bars[bars.len() - 1].split(',').collect();
    assert_eq!(summary["data"]["first"]["ts"], json!(first[0]));
    assert_eq!(summary["data"]["first"]["open"], json!(first[1]));
    assert_eq!(summary["data"]["last"]["ts"], json!(last[0]));
    assert_eq!(summary["data"]["last"]["close"], json!(last[4]));

    // equity.csv: one row per point, ending at the final equity, its worst drawdown the summary's.
    let (header, equity) = csv_rows(&dir.join("equity.csv"));
    assert_eq!(header, ["timestamp", "equity", "drawdown_pct"]);
    assert_eq!(json!(equity.len()), metrics["points"]);
    assert_eq!(json!(equity[equity.len() - 1][1]), results["final_equity"]);
    let worst = equity
        .iter()
        .map(|r| r[2].parse::<f64>().unwrap())
        .fold(0.0, f64::max);
    let max_dd = results["max_drawdown_pct"].as_f64().unwrap();
    assert!(
        (worst - max_dd).abs() <= 1e-9 * max_dd.max(1.0),
        "{worst} vs {max_dd}"
    );
    assert!(
        (worst / 100.0 + metrics["max_drawdown"].as_f64().unwrap()).abs() < 1e-9,
        "the metrics' max drawdown is the CSV's"
    );

    // trades.csv: one row per closed trade, P&L summing to the realized P&L, fees within the run's.
    let (header, trades) = csv_rows(&dir.join("trades.csv"));
    assert_eq!(
        header.join(","),
        "trade_id,side,entry_time,entry_price,exit_time,exit_price,quantity,pnl,fees"
    );
    assert!(!trades.is_empty(), "the bundled run trades");
    assert_eq!(json!(trades.len()), results["trades"]);
    assert_eq!(json!(trades.len()), metrics["trades"]);
    let pnl: f64 = trades.iter().map(|r| r[7].parse::<f64>().unwrap()).sum();
    assert!(
        (pnl - dec(&results["realized_pnl"])).abs() < 1e-6,
        "{pnl} vs {}",
        results["realized_pnl"]
    );
    let fees: f64 = trades.iter().map(|r| r[8].parse::<f64>().unwrap()).sum();
    assert!(
        fees > 0.0 && fees <= dec(&metrics["fees_paid"]) + 1e-9,
        "{fees} vs {}",
        metrics["fees_paid"]
    );
    for t in &trades {
        assert!(t[2] <= t[4], "entry before exit: {t:?}");
        assert!(t[6].parse::<f64>().unwrap() > 0.0, "a quantity: {t:?}");
    }

    // decisions.jsonl: one typed line per cycle, in order.
    let lines: Vec<Value> = read(&dir.join("decisions.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(json!(lines.len()), results["cycles"]);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["cycle"], json!(i + 1));
        assert!(line["verdict"]["status"].is_string(), "{line}");
        assert!(line["technical"]["report"]["signal"].is_string(), "{line}");
    }
    assert_eq!(
        lines
            .iter()
            .map(|l| l["orders"].as_array().unwrap().len())
            .sum::<usize>() as u64,
        results["orders"].as_u64().unwrap()
    );
    // each line reads back as the typed record, with the price and the account of its cycle
    for (i, line) in read(&dir.join("decisions.jsonl")).lines().enumerate() {
        let record: DecisionRecord = serde_json::from_str(line).unwrap();
        assert_eq!(record.cycle, i as u64 + 1);
        assert!(record.price > tradegraph::core::Decimal::ZERO, "{line}");
        assert!(
            record.account.is_some(),
            "the account at the cycle's start: {line}"
        );
        assert_eq!(
            serde_json::to_value(&record.orders).unwrap(),
            lines[i]["orders"]
        );
    }

    // What the run was: the version, the period, the data's hash; the price change is not a
    // baseline (buy-and-hold, costs included, is).
    assert_eq!(
        summary["tradegraph_version"],
        json!(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(summary["period"], json!({ "from": null, "to": null }));
    assert_eq!(summary["window"], Value::Null);
    let digest = sha2::Sha256::digest(data.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(summary["data_sha256"], json!(hex));
    assert!(results["price_change_pct"].is_number(), "{results}");
    assert!(
        results.get("buy_and_hold_pct").is_none(),
        "one buy-and-hold figure: {results}"
    );
    assert_eq!(summary["baselines_error"], Value::Null);

    // What the summary states about the run.
    assert_eq!(summary["graph"]["sha256"].as_str().unwrap().len(), 64);
    assert!(
        summary["prompt_versions"]["technical"].is_string(),
        "{}",
        summary["prompt_versions"]
    );
    assert!(summary["costs"]["fills"].is_string());
    assert!(summary["costs"]["fees"].is_object());
    assert_eq!(summary["llm"], Value::Null, "rule mode: no model");
    assert!(summary["baselines"]["buy_and_hold"]["total_return"].is_number());
    assert_eq!(
        summary["configuration"]["settings"]["bot"]["api_token"]["value"],
        json!("***"),
        "the resolved settings, secrets masked"
    );
    for file in ["summary.json", "report.html", "decisions.jsonl"] {
        assert!(
            !read(&dir.join(file)).contains(CANARY),
            "{file} shows a secret"
        );
    }
    let technical = &summary["agents"]["technical"];
    assert_eq!(technical["reports"], results["cycles"]);
    assert_eq!(
        technical["buy"].as_u64().unwrap()
            + technical["sell"].as_u64().unwrap()
            + technical["hold"].as_u64().unwrap(),
        results["cycles"].as_u64().unwrap()
    );

    // The plots and the page.
    for plot in ["equity.svg", "drawdown.svg"] {
        let svg = read(&dir.join(plot));
        assert!(
            svg.starts_with("<svg") && svg.contains("<polyline"),
            "{plot}"
        );
    }
    let html = read(&dir.join("report.html"));
    for part in [
        "id=\"equity\"",
        "id=\"drawdown\"",
        "buy-and-hold",
        "rule mode",
        "hit rate",
        "<h2>Models</h2>",
        "id=\"fills\"",
    ] {
        assert!(html.contains(part), "report.html shows {part}");
    }
    assert_eq!(html.matches("<svg").count(), 2, "both plots inline");
    assert!(
        !html.contains("<script") && !html.contains("<link") && !html.contains("src="),
        "self-contained"
    );
    let urls: Vec<&str> = html
        .match_indices("http")
        .map(|(i, _)| &html[i..i + 30.min(html.len() - i)])
        .collect();
    assert!(
        urls.iter().all(|u| u.starts_with("http://www.w3.org/")),
        "no external URL: {urls:?}"
    );
    assert!(html.contains(&trades[0][0]), "the trades are listed");
}

#[test]
fn two_identical_runs_write_byte_identical_summaries() {
    let (a, _) = backtest("same-a", &[]);
    let (b, _) = backtest("same-b", &[]);
    for file in [
        "summary.json",
        "decisions.jsonl",
        "equity.csv",
        "trades.csv",
        "report.html",
    ] {
        assert!(
            read(&a.join(file)) == read(&b.join(file)),
            "{file} differs between identical runs"
        );
    }
    assert!(
        !read(&a.join("summary.json")).contains(a.to_str().unwrap()),
        "no run-specific path"
    );
}

/// The baselines run on a thread of their own while the command writes its output: a log line
/// from that thread (here every debug line) must not wait for the main thread's output (a
/// held stderr lock once hung the run for good while the main thread waited for the baselines).
#[test]
fn a_run_whose_baselines_log_finishes() {
    let dir = support::temp_dir("baselines-log").join("report");
    let _ = std::fs::remove_dir_all(&dir);
    let bot = support::process::Bot::spawn(
        &root(),
        &[
            "backtest",
            "--instrument",
            "btc",
            "--out",
            dir.to_str().unwrap(),
        ],
        &[("RUST_LOG", "debug".to_owned())],
    );
    let exited = bot.wait_exit(Duration::from_secs(60));
    assert_eq!(
        exited.status.code(),
        Some(0),
        "{}",
        exited.stderr.join("\n")
    );
    assert!(
        !exited.stderr.is_empty(),
        "RUST_LOG=debug logged nothing: the test would not exercise the baselines' logging"
    );
    let summary = json_file(&dir.join("summary.json"));
    assert!(
        summary["baselines"].is_object(),
        "the baselines ran: {}",
        summary["baselines"]
    );
}

#[test]
fn split_runs_windows_that_cover_the_period_without_overlap() {
    let (dir, stdout) = backtest("split", &["--split", "3"]);
    assert!(
        stdout.contains("--- walk-forward: 3 windows ---"),
        "{stdout}"
    );
    let overview = json_file(&dir.join("walk-forward.json"));
    let windows = overview["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 3);
    let mut bars = 0;
    let time = |v: &Value| -> Timestamp { v.as_str().unwrap().parse().unwrap() };
    let mut previous_last: Option<Timestamp> = None;
    for (i, w) in windows.iter().enumerate() {
        let name = format!("window-{:02}", i + 1);
        assert_eq!(w["dir"], json!(name));
        let summary = json_file(&dir.join(&name).join("summary.json"));
        for file in [
            "equity.csv",
            "trades.csv",
            "decisions.jsonl",
            "equity.svg",
            "drawdown.svg",
            "report.html",
        ] {
            assert!(dir.join(&name).join(file).is_file(), "{name}/{file}");
        }
        assert_eq!(summary["data"]["bars"], w["bars"], "{name}");
        assert_eq!(summary["window"]["index"], json!(i + 1), "{name}");
        assert_eq!(summary["period"]["from"], w["from"], "{name}");
        assert_eq!(summary["period"]["to"], w["to"], "{name}");
        assert_eq!(
            w["baselines"]["buy_and_hold"]["total_return"],
            summary["baselines"]["buy_and_hold"]["total_return"],
            "{name}: the overview shows the window's buy-and-hold baseline"
        );
        assert_eq!(
            w["metrics"]["total_return"], summary["metrics"]["total_return"],
            "{name}"
        );
        bars += summary["data"]["bars"].as_u64().unwrap();
        let first = time(&summary["data"]["first"]["ts"]);
        let last = time(&summary["data"]["last"]["ts"]);
        assert!(
            first >= time(&w["from"]) && last < time(&w["to"]),
            "{name} in its window: {first} to {last} in {} to {}",
            w["from"],
            w["to"]
        );
        if let Some(prev) = previous_last {
            assert!(prev < first, "windows do not overlap: {prev} then {first}");
            assert_eq!(windows[i - 1]["to"], w["from"], "consecutive");
        }
        previous_last = Some(last);
        assert!(
            stdout.contains(&format!("=== window {}/3", i + 1)),
            "{stdout}"
        );
    }
    assert_eq!(bars, 4320, "every bar of the bundled file in one window");
    let aggregate = &overview["aggregate"];
    assert_eq!(aggregate["compared"], json!(3), "{aggregate}");
    assert!(aggregate["beat_buy_and_hold"].as_u64().unwrap() <= 3);
    assert!(
        aggregate["worst_return"].as_f64().unwrap() <= aggregate["median_return"].as_f64().unwrap()
    );
    assert!(stdout.contains("all: beat buy-and-hold in "), "{stdout}");
    let html = read(&dir.join("report.html"));
    assert!(html.contains("href=\"window-02/report.html\""), "{html}");

    // Without --out: the table only, one line per window.
    let out = tradegraph(&["backtest", "--instrument", "btc", "--split", "2"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("--- walk-forward: 2 windows"))
        .collect();
    assert_eq!(
        table.len(),
        5,
        "a title, a header, two windows and the aggregate: {stdout}"
    );
    assert!(
        table[2].starts_with("1 ") && table[3].starts_with("2 "),
        "{stdout}"
    );
    assert!(
        table[4].starts_with("all: beat buy-and-hold in ") && table[4].contains("/2 windows"),
        "buy-and-hold runs with --split, --out or not: {stdout}"
    );
    assert!(!table[2].contains("n/a"), "every figure known: {stdout}");
}

/// A file of 15-minute bars (`data download --interval 15m`) cannot be backtested: the paper
/// broker fills and the equity curve are per one-minute bar, so it would run with no price
/// and report nothing. It is refused naming the file, the line, the interval and what to do,
/// with or without `--split`.
#[test]
fn a_file_of_bars_longer_than_a_minute_is_refused_saying_so() {
    let dir = support::temp_dir("long-bars");
    std::fs::create_dir_all(&dir).unwrap();
    let mut csv = String::from("timestamp,open,high,low,close,volume,timeframe\n");
    for i in 0..400i64 {
        let at = Timestamp::from_millis(1_733_097_600_000 + i * 900_000);
        let price = 95_000 + (i % 7) * 10;
        csv += &format!(
            "{at},{price},{},{},{price},12.5,15m\n",
            price + 20,
            price - 20
        );
    }
    let file = dir.join("btcusdt-15m.csv");
    std::fs::write(&file, csv).unwrap();
    let file = file.to_str().unwrap();
    for extra in [&[][..], &["--split", "2"][..]] {
        let mut args = vec!["backtest", "--instrument", "btc", "--data", file];
        args.extend_from_slice(extra);
        let out = tradegraph(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{file}: line 2: 15min bars"))
                && stderr.contains("--interval 1m"),
            "{extra:?}: {stderr}"
        );
    }
}

#[test]
fn bad_split_and_bad_out_are_usage_errors_that_say_why() {
    let usage = |args: &[&str], says: &str| {
        let out = tradegraph(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    };
    usage(
        &["backtest", "--instrument", "btc", "--split", "1"],
        "at least 2 windows",
    );
    usage(
        &["backtest", "--instrument", "btc", "--split", "500"],
        "fewer than the 150",
    );
    usage(
        &["backtest", "--instrument", "btc", "--split", "two"],
        "--split",
    );
    let dir = support::temp_dir("bad-out");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let file = file.to_str().unwrap();
    usage(
        &["backtest", "--instrument", "btc", "--out", file],
        &format!("{file}: creating the report folder failed"),
    );
    let inside = format!("{file}/report");
    usage(
        &[
            "backtest",
            "--instrument",
            "btc",
            "--out",
            &inside,
            "--split",
            "2",
        ],
        "creating the report folder failed",
    );
    // a folder holding a report already: a new run would mix its files with the old ones
    let (old, _) = backtest("old-report", &["--split", "2"]);
    let old = old.to_str().unwrap();
    usage(
        &["backtest", "--instrument", "btc", "--out", old],
        &format!("{old}: already holds a report (report.html)"),
    );
    usage(
        &[
            "backtest",
            "--instrument",
            "btc",
            "--out",
            old,
            "--split",
            "3",
        ],
        "already holds a report",
    );
    // /proc takes no new folders, even from root
    usage(
        &[
            "backtest",
            "--instrument",
            "btc",
            "--out",
            "/proc/tradegraph-report",
        ],
        "/proc/tradegraph-report: creating the report folder failed",
    );
}

/// Each plot's size on the page, its line's point count, the line's drawn width and height
/// (its longest polyline's bounding box), and whether the plot is what shows at its centre.
const PLOTS: &str = r"
return ['equity', 'drawdown'].map(id => {
  const svg = document.querySelector('#' + id + ' svg');
  if (!svg) return [id, 0, 0, 0, 0, 0, false];
  svg.scrollIntoView();
  const box = svg.getBoundingClientRect();
  const lines = [...svg.querySelectorAll('polyline')];
  const line = lines.reduce((a, p) => (!a || p.points.numberOfItems > a.points.numberOfItems) ? p : a, null);
  const points = line ? line.points.numberOfItems : 0;
  const bbox = line ? line.getBBox() : { width: 0, height: 0 };
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  return [id, box.width, box.height, points, bbox.width, bbox.height, !!hit && svg.contains(hit)];
});";

#[test]
fn the_report_opens_in_chromium_with_both_plots_visible() {
    let Some(driver) = chromedriver() else { return };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (dir, _) = backtest("browser", &[]);
    let page = std::fs::canonicalize(dir.join("report.html")).unwrap();
    let browser = Browser::start(&driver, 1280, 1600);
    browser.goto(&format!("file://{}", page.display()));
    browser.wait("the report's title", Duration::from_secs(30), |b| {
        b.script("return document.title;", json!([])) == json!("Backtest of BTCUSDT")
    });
    let plots = browser.script(PLOTS, json!([]));
    for plot in plots.as_array().unwrap() {
        assert!(
            plot[1].as_f64().unwrap() > 100.0 && plot[2].as_f64().unwrap() > 100.0,
            "visible: {plot}"
        );
        assert!(plot[3].as_u64().unwrap() > 100, "a line drawn: {plot}");
        assert!(
            plot[4].as_f64().unwrap() > 100.0,
            "the line spans the plot, not a dot off to one side: {plot}"
        );
        assert_eq!(
            plot[6],
            json!(true),
            "the plot is on top at its centre: {plot}"
        );
        if plot[0] == json!("equity") {
            assert!(
                plot[5].as_f64().unwrap() > 0.0,
                "equity moves, not a flat line: {plot}"
            );
        }
    }
    let rows = browser.script(
        "return document.querySelectorAll('table tr').length;",
        json!([]),
    );
    assert!(rows.as_u64().unwrap() > 20, "the tables: {rows}");
    let target = root().join("target/backtest-report/report.png");
    browser.screenshot(&target);
    assert!(
        std::fs::metadata(&target).unwrap().len() > 10_000,
        "a real screenshot"
    );
}

/// A backtest replays its data whatever live feed the bot's configuration runs on (`[bot]
/// feed`, TRADEGRAPH_FEED): it refused, blaming a `--feed` that was never given.
#[test]
fn a_backtest_replays_its_data_whatever_feed_the_bot_runs_on() {
    let dir = std::env::temp_dir().join(format!("tg-backtest-feed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("tradegraph.toml");
    std::fs::write(&config, "[bot]\nfeed = \"binance\"\n").unwrap();
    let config = config.to_str().unwrap();
    let window = [
        "--from",
        "2024-12-02T00:00:00Z",
        "--to",
        "2024-12-02T02:00:00Z",
    ];
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["backtest", "--instrument", "btc"];
        all.extend_from_slice(&window);
        all.extend_from_slice(args);
        Command::new(env!("CARGO_BIN_EXE_tradegraph"))
            .args(&all)
            .current_dir(root())
            .env_clear()
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    for (args, env) in [
        (vec!["--config", config], vec![]),
        (vec![], vec![("TRADEGRAPH_FEED", "binance")]),
    ] {
        let out = run(&args, &env);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?} {env:?}: {}",
            text(&out.stderr)
        );
    }
    // A --feed given to the backtest itself is still refused, saying so.
    let out = run(&["--feed", "binance"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--feed binance is for `tradegraph run`"));
    std::fs::remove_dir_all(&dir).unwrap();
}
