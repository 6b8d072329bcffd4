//! The dashboard in a real browser: headless Chromium (Debian's, through chromedriver) loads
//! the page from a running bot, draws the chart (candles and the indicator lines) and shows
//! the latest decision, shows a new decision within 2 s of its event's arrival (measured by the
//! page), engages the kill switch through the button (a wrong token first: the 401 is shown
//! and nothing changes), and asks before releasing it (dismissed: nothing changes). Saves
//! target/dashboard/dashboard.png (the README's docs/dashboard.png).

use crate::harness::{Served, TOKEN};
use crate::support::webdriver::{chromedriver, Browser};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// The candles drawn: the page's count, and whether the chart's canvas has more than a
/// background's worth of colours.
const CANVAS_DRAWN: &str = r"
const canvases = [...document.querySelectorAll('#chart canvas')];
let colours = 0;
for (const c of canvases) {
  if (!c.width || !c.height) continue;
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const seen = new Set();
  for (let i = 0; i < data.length; i += 64) seen.add(`${data[i]},${data[i + 1]},${data[i + 2]},${data[i + 3]}`);
  colours = Math.max(colours, seen.size);
}
return colours;";

/// Minutes of the script played before the page loads.
const PLAYED: usize = 32;

/// The number of points each indicator line of the chart has.
const LINE_POINTS: &str = r"
const d = document.getElementById('dashboard').dataset;
return [d.emaPoints ?? '0', d.smaPoints ?? '0'];";

#[test]
fn the_dashboard_in_chromium_follows_the_bot_and_engages_the_kill_switch() {
    let Some(driver) = chromedriver() else { return };
    // 32 minutes of a 40-minute script played: enough candles for the 20-period EMA and SMA
    // to draw their lines on the 1-minute chart.
    let mut bot = Served::start_scripted("dash-browser", "", "", PLAYED, Vec::new(), 40);
    let played_last = bot.decision_id(PLAYED as i64 - 1);
    bot.wait("the last decision of the played minutes", |s| {
        s.status()["last_decision_id"].as_str() >= Some(played_last.as_str())
    });
    let browser = Browser::start(&driver, 1440, 2000);
    browser.goto(&format!("{}/?timeframe=1m", bot.base));
    let live = |b: &Browser| b.data("#dashboard", "stream") == json!("live");
    browser.wait("the event stream to open", Duration::from_secs(30), live);
    browser.wait(
        "the chart and the latest decision",
        Duration::from_secs(30),
        |b| {
            let candles: u64 = b
                .data("#dashboard", "candles")
                .as_str()
                .unwrap_or("0")
                .parse()
                .unwrap_or(0);
            // The bot's newest decision (it may decide again as the clock closes a quiet
            // minute).
            let newest = bot.status()["last_decision_id"].clone();
            candles >= PLAYED as u64 && b.data("#dashboard", "decision") == newest
        },
    );
    let last = browser.data("#dashboard", "decision");
    let last = last.as_str().unwrap().to_owned();
    let points = browser.script(LINE_POINTS, json!([]));
    let count = |i: usize| points[i].as_str().unwrap().parse::<u64>().unwrap();
    assert!(
        count(0) >= 3 && count(1) >= 3,
        "EMA and SMA drawn: {points}"
    );
    browser.wait("the chart's canvas drawn", Duration::from_secs(10), |b| {
        b.script(CANVAS_DRAWN, json!([])).as_u64().unwrap_or(0) > 8
    });
    // The graph's 13 nodes, with start and end.
    browser.wait("the agent graph", Duration::from_secs(10), |b| {
        b.script(
            "return document.querySelectorAll('#graph g.node').length;",
            json!([]),
        ) == json!(15)
    });
    let shown = browser.script(
        "return document.getElementById('decision').textContent;",
        json!([]),
    );
    assert!(
        shown.as_str().unwrap().contains("technical"),
        "every agent shown: {shown}"
    );
    assert!(
        browser
            .data("#dashboard", "markers")
            .as_str()
            .unwrap_or("0")
            != "0",
        "the entry is marked"
    );

    // A new decision: on the page within 2 s of its event's arrival, as the page measures it
    // (from the EventSource message to the decision shown); the outer bound is loose, for a
    // loaded machine.
    let mut stream = bot.events("?types=decision", None);
    bot.play(PLAYED + 1);
    let event = bot
        .runtime
        .block_on(stream.next(Duration::from_secs(30)))
        .expect("a decision event");
    let id = event.data["decision_id"].as_str().unwrap().to_owned();
    assert_ne!(id, last);
    browser.wait(
        "the new decision on the page",
        Duration::from_secs(15),
        |b| b.data("#dashboard", "decisionShownFor") == json!(id),
    );
    let shown_ms: u64 = browser
        .data("#dashboard", "decisionShownMs")
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        shown_ms < 2_000,
        "shown {shown_ms} ms after its event arrived"
    );
    assert_eq!(browser.data("#dashboard", "decision"), json!(id));
    browser.wait("the node of the cycle lit", Duration::from_secs(5), |b| {
        b.script(
            "return document.querySelectorAll('#graph g.node.done').length;",
            json!([]),
        )
        .as_u64()
        .unwrap_or(0)
            >= 8
    });
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/dashboard/dashboard.png");
    browser.screenshot(&target);
    assert_eq!(
        browser.data("#dashboard", "cspViolations"),
        json!("0"),
        "nothing blocked by the policy: {}",
        browser.data("#dashboard", "cspBlocked")
    );

    // The kill switch: a wrong token first (401 shown, nothing changed), then the right one.
    browser.click("#kill-switch");
    browser.type_into("#token-input", "not-the-token-0123456789");
    browser.click("#token-ok");
    browser.wait("the 401 shown", Duration::from_secs(10), |b| {
        b.data("#control-result", "status") == json!("401")
    });
    assert_eq!(bot.status()["kill_switch"], false);
    browser.click("#kill-switch");
    browser.type_into("#token-input", TOKEN);
    browser.click("#token-ok");
    browser.wait("the kill switch's answer", Duration::from_secs(30), |b| {
        b.data("#control-result", "status") == json!("200")
    });
    bot.wait("the kill switch engaged", |s| {
        s.status()["kill_switch"] == true
    });
    browser.wait("the page showing it", Duration::from_secs(10), |b| {
        b.data("#dashboard", "killSwitch") == json!("true")
    });
    // Releasing it asks first; dismissed, nothing is sent.
    browser.click("#kill-switch");
    let question = browser.prompt_text(Duration::from_secs(10));
    assert!(question.contains("Release the kill switch"), "{question}");
    browser.answer_prompt(false);
    browser.wait("the cancel shown", Duration::from_secs(10), |b| {
        b.data("#control-result", "status") == json!("cancelled")
    });
    assert_eq!(bot.status()["kill_switch"], true, "still engaged");
    let token_in_url = browser.script("return location.href;", json!([]));
    assert!(
        !token_in_url.as_str().unwrap().contains(TOKEN),
        "{token_in_url}"
    );
    drop(browser);
}

/// What the page's chart module makes of NSE's hourly bars (they open at :15 IST, :45 UTC) in
/// a browser in India: a trade is marked on the bar it happened in, and the time axis shows
/// the browser's time, as the rest of the page does.
const NSE_HOURS: &str = r"
const base = document.querySelector('script[type=module]').src.replace(/app\.js.*$/, '');
window.__zone = null;
Promise.all([import(base + 'panels/chart.js'), import(base + 'dom.js')]).then(([chart, dom]) => {
  const bars = [1736135100, 1736138700, 1736142300]; // 2025-01-06 09:15, 10:15, 11:15 IST
  window.__zone = {
    entry: chart.barAt(bars, 1736140200), // 10:40 IST: the 10:15 bar
    before: chart.barAt(bars, 1736130000),
    last: chart.barAt(bars, 1736150000),
    axis: dom.tickLabel(1736135100, 3),
    crosshair: dom.timeLabel(1736135100),
    offset: new Date(0).getTimezoneOffset(),
  };
}, (e) => { window.__zone = { error: String(e) }; });
return true;";

#[test]
fn the_chart_marks_nse_hours_on_their_bars_and_shows_the_browsers_time() {
    let Some(driver) = chromedriver() else { return };
    let bot = Served::start("dash-zone", "", 0);
    let browser = Browser::start_in(&driver, 1200, 900, Some("Asia/Kolkata"));
    browser.goto(&format!("{}/?timeframe=1h", bot.base));
    browser.wait("the page's modules", Duration::from_secs(30), |b| {
        b.script(
            "return document.getElementById('dashboard')?.dataset.stream ?? null;",
            json!([]),
        ) != serde_json::Value::Null
    });
    browser.script(NSE_HOURS, json!([]));
    browser.wait("the chart module's answers", Duration::from_secs(10), |b| {
        b.script("return window.__zone;", json!([])) != serde_json::Value::Null
    });
    let zone = browser.script("return window.__zone;", json!([]));
    assert_eq!(zone["offset"], -330, "the browser is in India: {zone}");
    assert_eq!(zone["entry"], 1_736_138_700, "{zone}");
    assert_eq!(zone["before"], serde_json::Value::Null, "{zone}");
    assert_eq!(zone["last"], 1_736_142_300, "{zone}");
    assert!(
        zone["axis"].as_str().unwrap_or_default().contains("09:15"),
        "{zone}"
    );
    assert!(
        zone["crosshair"]
            .as_str()
            .unwrap_or_default()
            .contains("09:15"),
        "{zone}"
    );
    drop(browser);
}
