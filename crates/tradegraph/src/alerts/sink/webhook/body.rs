//! The webhook bodies, as documented in `alerts/webhooks.md`.

use crate::alerts::WebhookFormat;
use crate::engine::AlertEvent;
use serde_json::{json, Value};
use tradegraph_core::Symbol;

/// The headline of an alert: `[CRITICAL] BTCUSDT store_down:redis` (`[RECOVERED]` for a
/// recovery).
fn headline(instrument: &Symbol, alert: &AlertEvent) -> String {
    let level = if alert.recovered {
        "RECOVERED".to_owned()
    } else {
        alert.severity.as_str().to_ascii_uppercase()
    };
    format!("[{level}] {instrument} {}", alert.key)
}

/// Slack's mrkdwn and Telegram's HTML both take `&`, `<` and `>` as markup.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The longest message (counted escaped, in characters) a chat body carries: Slack refuses a
/// section over 3000 characters and Telegram a text over 4096 (HTTP 400, not retried), and
/// the headline and the time take the rest.
pub const CHAT_MESSAGE_MAX: usize = 2_500;

/// The characters an escaped `c` takes.
fn escaped_len(c: char) -> usize {
    match c {
        '&' => 5,
        '<' | '>' => 4,
        _ => 1,
    }
}

/// `message` whole when, escaped, it fits [`CHAT_MESSAGE_MAX`]; else its start (cut on a
/// character, before escaping, so no entity is cut) marked `…`.
fn clip(message: &str) -> std::borrow::Cow<'_, str> {
    if message.chars().map(escaped_len).sum::<usize>() <= CHAT_MESSAGE_MAX {
        return message.into();
    }
    let mut used = 1; // the mark
    let end = message
        .char_indices()
        .find(|(_, c)| {
            used += escaped_len(*c);
            used > CHAT_MESSAGE_MAX
        })
        .map_or(message.len(), |(i, _)| i);
    format!("{}…", &message[..end]).into()
}

/// The body of `alert` in `format` (`chat_id` for Telegram). Slack's and Telegram's carry at
/// most [`CHAT_MESSAGE_MAX`] characters of the message (the rest cut, marked `…`); the JSON
/// body carries it whole.
///
/// ```
/// use tradegraph::alerts::sink::webhook::body;
/// use tradegraph::alerts::WebhookFormat;
/// use tradegraph::engine::{AlertEvent, AlertKind, Severity};
/// let at = tradegraph::core::Timestamp::from_secs(1_704_103_200);
/// let alert = AlertEvent::new(AlertKind::StoreDown, "redis", Severity::Critical, "redis does not answer", at);
/// let slack = body(WebhookFormat::Slack, &"BTCUSDT".into(), &alert, None);
/// assert_eq!(slack["text"], "[CRITICAL] BTCUSDT store_down:redis: redis does not answer");
/// let telegram = body(WebhookFormat::Telegram, &"BTCUSDT".into(), &alert, Some("-1001"));
/// assert_eq!((telegram["chat_id"].as_str(), telegram["parse_mode"].as_str()), (Some("-1001"), Some("HTML")));
/// ```
pub fn body(
    format: WebhookFormat,
    instrument: &Symbol,
    alert: &AlertEvent,
    chat_id: Option<&str>,
) -> Value {
    match format {
        WebhookFormat::Json => json!({
            "instrument": instrument.as_str(),
            "kind": alert.kind,
            "key": alert.key,
            "severity": alert.severity,
            "message": alert.message,
            "recovered": alert.recovered,
            "at": alert.at,
        }),
        WebhookFormat::Slack => {
            let head = headline(instrument, alert);
            let message = clip(&alert.message);
            json!({
                // the notification's text is mrkdwn as well
                "text": escape(&format!("{head}: {message}")),
                "blocks": [{
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": format!("*{}*\n{}\n_{}_", escape(&head), escape(&message), alert.at),
                    },
                }],
            })
        }
        WebhookFormat::Telegram => json!({
            "chat_id": chat_id.unwrap_or_default(),
            "text": format!(
                "<b>{}</b>\n{}\n<i>{}</i>",
                escape(&headline(instrument, alert)),
                escape(&clip(&alert.message)),
                alert.at
            ),
            "parse_mode": "HTML",
        }),
    }
}
