//! The structural checks: one frame, every untrusted value inside it, the instructions around
//! it unchanged, nothing structural left inside.

use serde_json::Value;
use std::collections::BTreeSet;
use tradegraph_agents::prompt::RenderedPrompt;
use tradegraph_agents::AgentName;

/// Fields the templates may print without the `untrusted` filter: values our code formats
/// (times, decimals, enums, the schema). Any other string in the context must come back from
/// this test hostile, so a new field cannot escape either.
/// It must equal the renderer's own list, [`tradegraph_agents::prompt::TRUSTED_FIELDS`]
/// (checked by `injection_the_test_trusts_exactly_what_the_renderer_trusts`).
pub(crate) const TRUSTED: [&str; 46] = [
    "agent",
    "instrument.kind",
    "instrument.currency",
    "instrument.session",
    "instrument.lot_size",
    "as_of",
    "price",
    "timeframe",
    "indicators.*",
    "candles[].time",
    "candles[].ohlcv[]",
    "daily[].time",
    "daily[].ohlcv[]",
    "news[].published",
    "macro_snapshot.as_of",
    "technical.signal",
    "fundamental.signal",
    "macro_view.regime",
    "debate[].stance",
    "lessons[].timestamp",
    "schema",
    "flow.*",
    // Decimals, times and the risk guard's and the bot's own words about the book.
    "book.position.side",
    "book.position.quantity",
    "book.position.entry",
    "book.position.unrealized_pnl",
    "book.position.unrealized_pct",
    "book.position.opened_at",
    "book.position.held",
    "book.position.stop_loss",
    "book.position.take_profit",
    "book.position.trailing_stop",
    "book.equity",
    "book.cash",
    "book.day_pnl",
    "book.daily_loss_pct",
    "book.daily_loss_limit_pct",
    "book.daily_loss_left_pct",
    "book.position_limit_pct",
    "book.position_left_pct",
    "book.working[].side",
    "book.working[].kind",
    "book.working[].quantity",
    "book.working[].price",
    "book.working[].role",
    "book.entry_blocks[]",
];

/// Where each marked value came from: canary, field.
#[derive(Default)]
pub(crate) struct Marks(pub(crate) Vec<(String, String)>);

/// Every agent template in `prompts/`, with its source.
pub(crate) fn templates() -> Vec<(AgentName, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(crate::hostile::prompts_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let Some(stem) = name.strip_suffix(".j2") else {
            continue;
        };
        if stem.starts_with('_') {
            continue;
        }
        let agent: AgentName = stem.parse().unwrap_or_else(|_| {
            panic!("prompts/{name} names no agent: it would never be rendered nor checked")
        });
        out.push((agent, std::fs::read_to_string(&path).unwrap()));
    }
    let found: BTreeSet<AgentName> = out.iter().map(|(a, _)| *a).collect();
    let expected: BTreeSet<AgentName> = AgentName::ALL
        .into_iter()
        .filter(|a| *a != AgentName::Execution)
        .collect();
    assert_eq!(found, expected, "one template per agent that asks a model");
    out
}

/// Whether a field pattern (`news[].published`) is in [`TRUSTED`].
fn is_trusted(pattern: &str) -> bool {
    TRUSTED.iter().any(|t| match t.strip_suffix(".*") {
        Some(prefix) => pattern.starts_with(&format!("{prefix}.")),
        None => *t == pattern,
    })
}

/// Every string the templates can see is trusted or was written hostile by this test.
pub(crate) fn every_untrusted_string_is_marked(
    value: &Value,
    pattern: &str,
    out: &mut Vec<String>,
) {
    match value {
        Value::String(s) if !is_trusted(pattern) && !s.contains("CANARY") => {
            out.push(format!(
                "context field `{pattern}` carries text the test did not write hostile ({s:.40}): \
                 make it hostile here, or add it to TRUSTED if code formats it"
            ));
        }
        Value::Array(items) => {
            for item in items {
                every_untrusted_string_is_marked(item, &format!("{pattern}[]"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let child = if pattern.is_empty() {
                    key.clone()
                } else {
                    format!("{pattern}.{key}")
                };
                if pattern == "macro_snapshot.extra" && !key.contains("CANARY") {
                    out.push(format!("a key of `{pattern}` is not hostile: {key}"));
                }
                every_untrusted_string_is_marked(item, &child, out);
            }
        }
        _ => {}
    }
}

const ROLES: [&str; 8] = [
    "system",
    "assistant",
    "user",
    "human",
    "developer",
    "tool",
    "instructions",
    "instruction",
];

/// What must not survive inside the frame: tags in any spelling, fences, role markers,
/// headings, invisible characters.
fn frame_hygiene(agent: AgentName, body: &str, out: &mut Vec<String>) {
    let lower = body.to_lowercase();
    for c in [
        '<', '>', '＜', '＞', '﹤', '﹥', '〈', '〉', '⟨', '⟩', '〈', '〉',
    ] {
        if body.contains(c) {
            out.push(format!("{agent}: `{c}` survives inside the frame"));
        }
    }
    for s in [
        "&lt", "&gt", "&#60", "&#62", "&#x3c", "&#x3e", "\\u003c", "\\u003e", "\\x3c", "\\x3e",
        "%3c", "%3e", "```", "###",
    ] {
        if lower.contains(s) {
            out.push(format!("{agent}: `{s}` survives inside the frame"));
        }
    }
    if let Some(c) = body.chars().find(|c| {
        matches!(*c as u32, 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2069 | 0xFEFF | 0xE0000..=0xE007F)
    }) {
        out.push(format!("{agent}: invisible U+{:04X} survives inside the frame", c as u32));
    }
    for role in ROLES {
        for (at, _) in lower.match_indices(role) {
            let before = lower[..at].chars().next_back();
            let after = lower[at + role.len()..].trim_start_matches([' ', '*', '_']);
            if before.is_none_or(|c| !c.is_alphanumeric()) && after.starts_with(':') {
                let end = (at + 30).min(body.len());
                let end = (end..=body.len())
                    .find(|i| body.is_char_boundary(*i))
                    .unwrap();
                out.push(format!(
                    "{agent}: role marker in the frame: {}",
                    &body[at..end]
                ));
            }
        }
    }
    for line in body.lines() {
        let start = line.trim_start().trim_start_matches("- ").trim_start();
        if start.starts_with('#') {
            out.push(format!(
                "{agent}: a frame line reads as a heading: {line:.60}"
            ));
        }
    }
}

/// The structural checks of one agent's prompt, hostile against benign.
pub(crate) fn check(
    agent: AgentName,
    hostile: &RenderedPrompt,
    benign: &RenderedPrompt,
    marks: &Marks,
    out: &mut Vec<String>,
) -> BTreeSet<String> {
    let mut shown = BTreeSet::new();
    if hostile.system != benign.system {
        out.push(format!(
            "{agent}: the system message changes with untrusted values"
        ));
    }
    let user = &hostile.user;
    let (opens, closes) = (
        user.matches("<data>").count(),
        user.matches("</data>").count(),
    );
    if (opens, closes) != (1, 1) {
        out.push(format!(
            "{agent}: the user message has {opens} `<data>` and {closes} `</data>`, not one frame"
        ));
        return shown;
    }
    let open = user.find("<data>").unwrap();
    let close = user.find("</data>").unwrap();
    if close < open {
        out.push(format!("{agent}: `</data>` comes before `<data>`"));
        return shown;
    }
    let body = &user[open + "<data>".len()..close];
    let outside = format!("{}{}", &user[..open], &user[close..]);
    match (benign.user.find("<data>"), benign.user.find("</data>")) {
        (Some(o), Some(c)) if o < c => {
            let benign_outside = format!("{}{}", &benign.user[..o], &benign.user[c..]);
            if outside != benign_outside {
                out.push(format!(
                    "{agent}: the instructions outside the frame change with untrusted values:\n\
                     --- benign ---\n{benign_outside}\n--- hostile ---\n{outside}"
                ));
            }
        }
        _ => out.push(format!("{agent}: the benign prompt has no frame")),
    }
    for (canary, field) in &marks.0 {
        if hostile.system.contains(canary.as_str()) {
            out.push(format!("{agent}: `{field}` is in the system message"));
        }
        if outside.contains(canary.as_str()) {
            out.push(format!("{agent}: `{field}` is outside the data frame"));
        }
        if body.contains(canary.as_str()) {
            shown.insert(field.clone());
        }
    }
    frame_hygiene(agent, body, out);
    shown
}
