//! `tradegraph bot status` and `tradegraph bot confirm-reconciliation`: a running bot, from
//! another terminal, over its HTTP API.

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use clap::{Args, Subcommand};
use std::io::Write;
use std::time::Duration;
use tradegraph_core::Timestamp;

/// The environment variable holding the bot's control token.
const TOKEN_VAR: &str = "TRADEGRAPH_API_TOKEN";
/// How long a request may take.
const TIMEOUT: Duration = Duration::from_secs(70);

#[derive(Debug, Subcommand)]
pub(super) enum BotCommand {
    /// Print a running bot's status: trading state and why, kill switch, pause, feed, cycles,
    /// equity, and the last reconciliation with the broker (its discrepancies, and whether
    /// entries are held until a person confirms, with the command that confirms them).
    Status(Target),
    /// Confirm the discrepancies of the reconciliation report you read (`--at`, its time as
    /// `tradegraph bot status` or `GET /api/v1/reconciliation` shows it): the bot's `reducing`
    /// hold ends and entries are allowed again (recorded in the operator log). Refused when a
    /// newer reconciliation holds the bot: read it, then confirm that one. Needs the control
    /// token in TRADEGRAPH_API_TOKEN. Exit code 3 when the bot refuses or cannot be reached.
    ConfirmReconciliation(ConfirmArgs),
    /// Replay a stored decision from its audit trail: every report a model wrote, read again
    /// from the answer as recorded, through the agent's schema (no model is asked); with
    /// --ask, the recorded prompts are sent to the bot's model again, word for word (needs the
    /// control token in TRADEGRAPH_API_TOKEN; spends model calls). Prints, agent by agent, the
    /// call recorded and replayed. Exit code 1 when a report does not come out as recorded, 3
    /// when the bot refuses or cannot be reached.
    Replay(ReplayArgs),
}

/// Which bot and decision, and how to replay it.
#[derive(Debug, Args)]
pub(super) struct ReplayArgs {
    #[command(flatten)]
    target: Target,
    /// The decision's id (as `GET /api/v1/decisions` lists it).
    #[arg(long)]
    id: String,
    /// The run it belongs to (the bot's own run unless given).
    #[arg(long)]
    run: Option<String>,
    /// Ask the bot's model the recorded prompts again instead of reading the recorded answers.
    #[arg(long)]
    ask: bool,
}

/// Which bot.
#[derive(Debug, Args)]
pub(super) struct Target {
    /// The bot's address (as `tradegraph run` printed it).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8001")]
    pub(super) url: String,
}

/// Which bot, and which reconciliation report is confirmed.
#[derive(Debug, Args)]
pub(super) struct ConfirmArgs {
    #[command(flatten)]
    target: Target,
    /// The time of the reconciliation report read (its `at`, RFC 3339).
    #[arg(long, value_name = "TIME")]
    at: String,
}

pub(super) fn run(command: BotCommand, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "tradegraph: cannot start the async runtime: {e}");
            return EXIT_FAILED;
        }
    };
    let client = match client() {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "tradegraph: {e}");
            return EXIT_FAILED;
        }
    };
    match command {
        BotCommand::Status(target) => runtime.block_on(status(&client, &target, out, err)),
        BotCommand::Replay(args) => {
            let token = std::env::var(TOKEN_VAR).ok().filter(|t| !t.is_empty());
            if args.ask && token.is_none() {
                let _ = writeln!(
                    err,
                    "tradegraph: --ask sends the prompts to the bot's model: set {TOKEN_VAR} to \
                     the bot's control token"
                );
                return EXIT_USAGE;
            }
            runtime.block_on(replay(&client, &args, token.as_deref(), out, err))
        }
        BotCommand::ConfirmReconciliation(args) => {
            let at: Timestamp = match args.at.parse() {
                Ok(at) => at,
                Err(e) => {
                    let _ = writeln!(
                        err,
                        "tradegraph: --at {}: {e}; give the report's `at` as `tradegraph bot \
                         status` shows it",
                        args.at
                    );
                    return EXIT_USAGE;
                }
            };
            let Some(token) = std::env::var(TOKEN_VAR).ok().filter(|t| !t.is_empty()) else {
                let _ = writeln!(
                    err,
                    "tradegraph: set {TOKEN_VAR} to the bot's control token (the one `tradegraph run` \
                     was given, or printed at its start)"
                );
                return EXIT_USAGE;
            };
            runtime.block_on(confirm(&client, &args.target, at, &token, out, err))
        }
    }
}

/// The HTTP client: rustls with `ring` and the Mozilla roots (the bot may sit behind TLS), no
/// redirects (the token goes to the URL given, nowhere else), a time limit.
fn client() -> Result<reqwest::Client, String> {
    let shared = tradegraph_market::feed::tls::tls_config("bot API").map_err(|e| e.to_string())?;
    let mut tls = (*shared).clone();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| format!("the HTTP client cannot be built: {e}"))
}

/// One request to the bot at `target`, on a runtime of its own: `GET path`, or `POST path`
/// with `body` and the control token from TRADEGRAPH_API_TOKEN. The answer's JSON, and for a
/// `POST` the bot it reached ([`which_bot`]); otherwise the problem is written to `err` (naming
/// the bot for a `POST`) and the exit code returned (2 without the token, 3 when the bot
/// refuses or cannot be reached).
pub(super) fn call(
    target: &Target,
    path: &str,
    body: Option<serde_json::Value>,
    err: &mut dyn Write,
) -> Result<(serde_json::Value, Option<String>), u8> {
    let token = std::env::var(TOKEN_VAR).ok().filter(|t| !t.is_empty());
    if body.is_some() && token.is_none() {
        let _ = writeln!(
            err,
            "tradegraph: set {TOKEN_VAR} to the bot's control token"
        );
        return Err(EXIT_USAGE);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            let _ = writeln!(err, "tradegraph: cannot start the async runtime: {e}");
            EXIT_FAILED
        })?;
    let client = client().map_err(|e| {
        let _ = writeln!(err, "tradegraph: {e}");
        EXIT_FAILED
    })?;
    let url = endpoint(target, path);
    let (what, request, bot) = match (body, token) {
        (Some(body), Some(token)) => {
            // A command that changes a bot says which bot it reached (the address defaults to
            // the BTC bot's): its instrument, read first.
            let bot = runtime.block_on(which_bot(&client, target));
            (
                format!("{bot}: POST {url}"),
                client.post(&url).bearer_auth(token).json(&body),
                Some(bot),
            )
        }
        _ => (format!("GET {url}"), client.get(&url), None),
    };
    match runtime.block_on(send(&what, request)) {
        Ok(answer) => Ok((answer, bot)),
        Err(e) => {
            let _ = writeln!(err, "tradegraph: {e}");
            Err(EXIT_FAILED)
        }
    }
}

/// The bot at `target` as a command that changes it names it: its instrument (from
/// `GET /api/v1/status`) and address; the address alone when the status cannot be read.
pub(super) async fn which_bot(client: &reqwest::Client, target: &Target) -> String {
    let url = endpoint(target, "/api/v1/status");
    let instrument = match send(&format!("GET {url}"), client.get(&url)).await {
        Ok(status) => status["instrument"].as_str().map(str::to_owned),
        Err(_) => None,
    };
    // (an address with a password in it shows without)
    let address = tradegraph_store::url::redact(target.url.trim_end_matches('/'));
    match instrument {
        Some(instrument) => format!("the {instrument} bot at {address}"),
        None => format!("the bot at {address}"),
    }
}

/// What a bot said it did, naming the bot.
pub(super) fn acted(bot: &str, body: &serde_json::Value) -> String {
    format!("{bot}: {}", message(body))
}

fn endpoint(target: &Target, path: &str) -> String {
    format!("{}{path}", target.url.trim_end_matches('/'))
}

/// The longest part of a non-JSON answer quoted in an error.
const QUOTED_CHARS: usize = 300;

/// A bot's answer to `what` (`GET <url>`): its JSON when it succeeded; else an error with the
/// HTTP status and what the bot said (its JSON `error` or `message`, or the text itself).
fn answer(what: &str, code: reqwest::StatusCode, text: &str) -> Result<serde_json::Value, String> {
    let json = serde_json::from_str::<serde_json::Value>(text);
    if !code.is_success() {
        let said = match &json {
            Ok(body) => message(body),
            Err(_) if text.trim().is_empty() => "(no body)".to_owned(),
            Err(_) => text.trim().chars().take(QUOTED_CHARS).collect(),
        };
        return Err(format!("{what}: HTTP {code}: {said}"));
    }
    json.map_err(|e| format!("{what}: HTTP {code}, but the answer is not JSON ({e}); is this a tradegraph bot's address?"))
}

async fn send(what: &str, request: reqwest::RequestBuilder) -> Result<serde_json::Value, String> {
    let response = request
        .send()
        .await
        .map_err(|e| format!("{what}: {e}; is the bot running there?"))?;
    let code = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| format!("{what}: HTTP {code}, the answer cannot be read: {e}"))?;
    answer(what, code, &text)
}

pub(super) fn message(body: &serde_json::Value) -> String {
    body["error"]
        .as_str()
        .or_else(|| body["message"].as_str())
        .map_or_else(|| body.to_string(), str::to_owned)
}

async fn status(
    client: &reqwest::Client,
    target: &Target,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let url = endpoint(target, "/api/v1/status");
    let status = match send(&format!("GET {url}"), client.get(&url)).await {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "tradegraph: {e}");
            return EXIT_FAILED;
        }
    };
    for line in status_lines(&status, &target.url) {
        let _ = writeln!(out, "{line}");
    }
    EXIT_OK
}

/// The status as lines of text (`url`: the bot's, for the commands it prints).
fn status_lines(status: &serde_json::Value, url: &str) -> Vec<String> {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    if status["role"] == "ingest" {
        // `tradegraph run --workers`: the feed and the queue; the engine runs on the workers.
        return vec![
            format!("instrument    {}", text(&status["instrument"])),
            "role          ingest: decision cycles run on `tradegraph worker` (GET /api/v1/workers)".to_owned(),
            format!("feed          {}", text(&status["feed"])),
            format!("last event    {}", text(&status["last_event_at"])),
            format!("published    {} cycles, the newest at {}", text(&status["published"]), text(&status["last_published_at"])),
            format!("unpublished   {}", text(&status["unpublished"])),
        ];
    }
    let mut lines = vec![
        format!("instrument    {}", text(&status["instrument"])),
        format!("mode          {}", text(&status["mode"])),
        format!("trading       {}", text(&status["trading"])),
    ];
    if !status["trading_reason"].is_null() {
        lines.push(format!("  why         {}", text(&status["trading_reason"])));
    }
    lines.push(format!("kill switch   {}", text(&status["kill_switch"])));
    lines.push(format!("paused        {}", text(&status["entries_paused"])));
    lines.push(format!("feed          {}", text(&status["feed"]["state"])));
    lines.push(format!("cycles        {}", text(&status["cycles"])));
    lines.push(format!("equity        {}", text(&status["equity"])));
    let rec = &status["reconciliation"];
    let held = rec["held"].as_bool() == Some(true);
    lines.push(format!(
        "reconciliation {}",
        if held {
            "HELD: entries are refused until a person confirms"
        } else {
            "ok"
        }
    ));
    let last = rec.get("last").filter(|l| !l.is_null());
    if let Some(last) = last {
        lines.push(format!(
            "  last        {} ({})",
            text(&last["at"]),
            text(&last["trigger"])
        ));
    }
    for d in rec["holding_for"].as_array().into_iter().flatten() {
        lines.push(format!("  - {}: {}", text(&d["kind"]), d));
    }
    if let (true, Some(last)) = (held, last) {
        lines.push(format!(
            "  confirm     tradegraph bot confirm-reconciliation --url {url} --at {}",
            text(&last["at"])
        ));
    }
    lines
}

async fn replay(
    client: &reqwest::Client,
    args: &ReplayArgs,
    token: Option<&str>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let mut url = endpoint(
        &args.target,
        &format!("/api/v1/decisions/{}/replay", args.id),
    );
    if let Some(run) = &args.run {
        url = format!("{url}?run={run}");
    }
    let (what, request) = match (args.ask, token) {
        (true, Some(token)) => (format!("POST {url}"), client.post(&url).bearer_auth(token)),
        _ => (format!("GET {url}"), client.get(&url)),
    };
    let replayed = match send(&what, request).await {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "tradegraph: {e}");
            return EXIT_FAILED;
        }
    };
    for line in replay_lines(&replayed) {
        let _ = writeln!(out, "{line}");
    }
    if replayed["same"].as_bool() == Some(true) {
        EXIT_OK
    } else {
        super::EXIT_INVALID
    }
}

/// A replayed decision as lines of text.
fn replay_lines(r: &serde_json::Value) -> Vec<String> {
    let text = |v: &serde_json::Value| v.as_str().map_or_else(|| "-".to_owned(), str::to_owned);
    let how = if r["mode"] == "asked" {
        "its prompts asked again"
    } else {
        "its answers read again as recorded"
    };
    let verdict = if r["same"].as_bool() == Some(true) {
        "every report as recorded"
    } else {
        "NOT as recorded"
    };
    let mut lines = vec![format!(
        "decision {} (run {}), {how}: {verdict}",
        text(&r["decision_id"]),
        text(&r["run_id"])
    )];
    for report in r["reports"].as_array().into_iter().flatten() {
        let mut who = text(&report["agent"]);
        if let Some(round) = report["round"].as_u64() {
            who = format!("{who} round {round}");
        }
        let outcome = match report["error"].as_str() {
            Some(e) => format!("no report: {e}"),
            None => format!(
                "{} -> {}",
                text(&report["recorded_call"]),
                text(&report["call"])
            ),
        };
        let same = if report["same"].as_bool() == Some(true) {
            "same"
        } else {
            "DIFFERS"
        };
        lines.push(format!(
            "  {who:<26} {same:<8} ({} then) {outcome}",
            text(&report["recorded_by"])
        ));
    }
    let rules: Vec<String> = r["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    if !rules.is_empty() {
        lines.push(format!("  rules (no model asked): {}", rules.join(", ")));
    }
    lines
}

async fn confirm(
    client: &reqwest::Client,
    target: &Target,
    at: Timestamp,
    token: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let url = endpoint(target, "/api/v1/reconciliation/confirm");
    let bot = which_bot(client, target).await;
    let request = client
        .post(&url)
        .bearer_auth(token)
        .json(&serde_json::json!({ "at": at }));
    match send(&format!("{bot}: POST {url}"), request).await {
        Ok(body) => {
            let _ = writeln!(out, "{}", acted(&bot, &body));
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(err, "tradegraph: {e}");
            EXIT_FAILED
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn an_error_says_the_status_and_what_the_bot_said_json_or_not() {
        let e = answer("GET x", StatusCode::BAD_GATEWAY, "upstream went away\n").unwrap_err();
        assert_eq!(e, "GET x: HTTP 502 Bad Gateway: upstream went away");
        let e = answer("GET x", StatusCode::CONFLICT, r#"{"error":"changed"}"#).unwrap_err();
        assert_eq!(e, "GET x: HTTP 409 Conflict: changed");
        let e = answer("GET x", StatusCode::NOT_FOUND, "").unwrap_err();
        assert_eq!(e, "GET x: HTTP 404 Not Found: (no body)");
        let long = "y".repeat(1_000);
        let e = answer("GET x", StatusCode::INTERNAL_SERVER_ERROR, &long).unwrap_err();
        assert!(e.len() < 400, "{e}");
        let e = answer("GET x", StatusCode::OK, "<html>").unwrap_err();
        assert!(e.contains("HTTP 200 OK") && e.contains("not JSON"), "{e}");
        assert_eq!(
            answer("GET x", StatusCode::OK, r#"{"ok":true}"#).unwrap()["ok"],
            true
        );
    }

    #[test]
    fn a_held_status_names_the_report_and_how_to_confirm_it() {
        let status = serde_json::json!({
            "instrument": "BTCUSDT",
            "trading": "reducing",
            "reconciliation": {
                "held": true,
                "last": {"at": "2026-12-05T01:02:03.004Z", "trigger": "start"},
                "holding_for": [{"kind": "unknown_order", "client_id": "m-1", "order_id": "7"}],
            },
        });
        // the bot asked (not the BTC bot on the default port)
        let text = status_lines(&status, "http://127.0.0.1:8002").join("\n");
        assert!(text.contains("HELD"), "{text}");
        assert!(text.contains("unknown_order"), "{text}");
        assert!(
            text.contains(
                "tradegraph bot confirm-reconciliation --url http://127.0.0.1:8002 --at 2026-12-05T01:02:03.004Z"
            ),
            "{text}"
        );
    }

    #[test]
    fn the_client_builds_without_an_installed_crypto_provider() {
        assert!(client().is_ok());
    }
}
