//! `[alerts]`: the alert rules' limits, the cool-down and the webhooks.

use super::Resolver;
use crate::config::ConfigError;
use crate::config::{AlertsConfig, WebhookConfig, WebhookFormat};
use std::time::Duration;
use tradegraph_llm::Secret;

impl Resolver<'_> {
    /// `[alerts]`, each key checked; `[[alerts.webhook]]` each with a URL (`url_env`: from that
    /// environment variable or `.env` entry; or `url`), https:// or http:// to loopback, never
    /// quoted in an error (it is a secret), and a `chat_id` for Telegram.
    pub(super) fn alerts(&mut self) -> Result<AlertsConfig, ConfigError> {
        let d = AlertsConfig::default();
        let section = self.doc().map(|doc| &doc.alerts);
        let get = |f: fn(&crate::config::file::AlertsSection) -> Option<f64>| section.and_then(f);
        let enabled = section.and_then(|s| s.enabled);
        let cooldown = section.and_then(|s| s.cooldown_secs);
        let sample = section.and_then(|s| s.sample_secs);
        let memory = section.and_then(|s| s.max_memory_mb);
        let errors = section.and_then(|s| s.max_errors_per_minute);
        let window = section.and_then(|s| s.window_trades);
        let (win, sharpe, drawdown) = (
            get(|s| s.min_win_rate),
            get(|s| s.min_sharpe),
            get(|s| s.max_drawdown_pct),
        );
        let never = |_: &str| Err::<u64, String>(String::new());
        let mut config = AlertsConfig {
            enabled: self.pick(
                "alerts.enabled",
                None,
                None,
                |_| Err(String::new()),
                enabled,
                || d.enabled,
            )?,
            cooldown: Duration::from_secs(self.pick(
                "alerts.cooldown_secs",
                None,
                None,
                never,
                cooldown,
                || d.cooldown.as_secs(),
            )?),
            sample_every: Duration::from_secs(self.pick(
                "alerts.sample_secs",
                None,
                None,
                never,
                sample,
                || d.sample_every.as_secs(),
            )?),
            max_memory_mb: self.pick("alerts.max_memory_mb", None, None, never, memory, || {
                d.max_memory_mb
            })?,
            max_errors_per_minute: self.pick(
                "alerts.max_errors_per_minute",
                None,
                None,
                never,
                errors,
                || d.max_errors_per_minute,
            )?,
            window_trades: self.pick(
                "alerts.window_trades",
                None,
                None,
                |_| Err(String::new()),
                window,
                || d.window_trades,
            )?,
            min_win_rate: self.pick(
                "alerts.min_win_rate",
                None,
                None,
                |_| Err(String::new()),
                win,
                || d.min_win_rate,
            )?,
            min_sharpe: self.pick(
                "alerts.min_sharpe",
                None,
                None,
                |_| Err(String::new()),
                sharpe,
                || d.min_sharpe,
            )?,
            max_drawdown_pct: self.pick(
                "alerts.max_drawdown_pct",
                None,
                None,
                |_| Err(String::new()),
                drawdown,
                || d.max_drawdown_pct,
            )?,
            webhooks: Vec::new(),
            unset_webhooks: Vec::new(),
        };
        (config.webhooks, config.unset_webhooks) = self.webhooks()?;
        if config.sample_every.is_zero() {
            return Err(self.invalid("alerts.sample_secs", "must be at least 1 (seconds)".into()));
        }
        self.period("alerts.sample_secs", config.sample_every)?;
        if config.window_trades == 0 {
            return Err(self.invalid("alerts.window_trades", "must be at least 1 (trades)".into()));
        }
        if !(0.0..=1.0).contains(&config.min_win_rate) {
            return Err(self.invalid(
                "alerts.min_win_rate",
                format!(
                    "{} is not a share: give a number from 0 to 1, like 0.3",
                    config.min_win_rate
                ),
            ));
        }
        if !config.min_sharpe.is_finite() {
            return Err(self.invalid(
                "alerts.min_sharpe",
                "must be a finite number, like 0".into(),
            ));
        }
        if !(config.max_drawdown_pct > 0.0 && config.max_drawdown_pct <= 100.0) {
            return Err(self.invalid(
                "alerts.max_drawdown_pct",
                "must be a percent above 0 and at most 100, like 10".into(),
            ));
        }
        Ok(config)
    }

    /// The webhooks, and the problems of those whose `url_env` is set nowhere (left out).
    fn webhooks(&mut self) -> Result<(Vec<WebhookConfig>, Vec<String>), ConfigError> {
        let Some(file) = self.file else {
            return Ok((Vec::new(), Vec::new()));
        };
        let (mut hooks, mut unset) = (Vec::new(), Vec::new());
        for (i, spec) in file.doc.alerts.webhook.iter().enumerate() {
            let at = spec.span().start;
            let spec = spec.get_ref();
            let n = i + 1;
            let (url, origin) = match (&spec.url, &spec.url_env) {
                (Some(url), None) => (url.trim().to_owned(), crate::config::Origin::File),
                (None, Some(var)) => match self.layers.get(var.trim()) {
                    Some((url, origin)) => (url.trim().to_owned(), origin),
                    None => {
                        unset.push(
                            file.error_at(
                                at,
                                format!(
                                    "[[alerts.webhook]] number {n}: url_env = \"{}\", but that \
                                     variable is set neither in the environment nor in .env; set \
                                     it to the receiver's URL",
                                    var.trim()
                                ),
                            )
                            .to_string(),
                        );
                        continue;
                    }
                },
                (Some(_), Some(_)) | (None, None) => {
                    return Err(file.error_at(
                        at,
                        format!(
                            "[[alerts.webhook]] number {n}: give either `url_env` (the name of \
                             the environment variable or .env entry holding the URL: the way for \
                             secrets) or `url`, exactly one"
                        ),
                    ))
                }
            };
            if let Err(why) = webhook_url_ok(&url) {
                // The URL is a secret (a hook's path, a bot token): not quoted.
                return Err(file.error_at(
                    at,
                    format!(
                        "[[alerts.webhook]] number {n}: `url` {why} (not shown: it is a secret)"
                    ),
                ));
            }
            let chat_id = spec.chat_id.as_ref().map(|c| c.trim().to_owned());
            match (spec.format, &chat_id) {
                (WebhookFormat::Telegram, None) => {
                    return Err(file.error_at(
                        at,
                        format!(
                            "[[alerts.webhook]] number {n}: format = \"telegram\" needs `chat_id` \
                             (the chat the bot writes to, like \"-1001234567890\")"
                        ),
                    ))
                }
                (WebhookFormat::Json | WebhookFormat::Slack, Some(_)) => {
                    return Err(file.error_at(
                        at,
                        format!(
                            "[[alerts.webhook]] number {n}: `chat_id` is for format = \
                             \"telegram\" only; remove it"
                        ),
                    ))
                }
                _ => {}
            }
            self.origins.set("alerts.webhook.url", origin);
            for key in ["alerts.webhook.format", "alerts.webhook.chat_id"] {
                self.origins.set(key, crate::config::Origin::File);
            }
            hooks.push(WebhookConfig {
                url: Secret::new(url),
                format: spec.format,
                chat_id,
            });
        }
        Ok((hooks, unset))
    }
}

/// Whether `url` may receive alerts: `https://` with a host, or `http://` to this machine only
/// (a local relay; anywhere else the hook's token would cross the network in clear). The
/// reason, never quoting the URL, when not.
fn webhook_url_ok(url: &str) -> Result<(), &'static str> {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Err("is not a URL; give the receiver's full https:// URL");
    };
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
        return Err("has no host; give the receiver's full https:// URL");
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(
            "is http:// to another machine: the hook's token would cross the network \
                       in clear; use https:// (http:// is accepted for 127.0.0.1, ::1 and \
                       localhost only)",
        ),
        _ => Err("is not an https:// URL; give the receiver's full https:// URL"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::config::WebhookFormat;
    use crate::config::{ConfigError, Flags, Settings, ShowFormat};

    fn resolve(toml: &str) -> Result<Settings, ConfigError> {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "tradegraph-alerts-config-{}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("tradegraph.toml"), toml).unwrap();
        let settings = Settings::resolve(&Flags::default(), &|_: &str| None, &dir);
        let _ = std::fs::remove_dir_all(&dir);
        settings
    }

    #[test]
    fn a_webhook_url_comes_from_the_environment_and_http_only_to_loopback() {
        let dir =
            std::env::temp_dir().join(format!("tradegraph-alerts-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("tradegraph.toml"),
            "[[alerts.webhook]]\nurl_env = \"ALERT_HOOK\"\nformat = \"slack\"\n\n[[alerts.webhook]]\nurl = \"http://127.0.0.1:9/relay\"\nformat = \"json\"\n",
        )
        .unwrap();
        let env = |k: &str| (k == "ALERT_HOOK").then(|| HOOK.to_owned());
        let settings = Settings::resolve(&Flags::default(), &env, &dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let hooks = &settings.alerts.webhooks;
        assert_eq!(hooks[0].url.expose(), HOOK);
        assert_eq!(hooks[1].url.expose(), "http://127.0.0.1:9/relay");
        assert!(!settings.show(ShowFormat::Toml).contains("sekret"));
    }

    const HOOK: &str = "https://hooks.example.com/services/T0/B0/sekret-path-0123456789";

    #[test]
    fn alerts_are_on_by_default_and_read_from_the_file_with_webhooks_masked() {
        let defaults = resolve("").unwrap().alerts;
        assert!(defaults.enabled && defaults.webhooks.is_empty());
        let settings = resolve(&format!(
            "[alerts]\ncooldown_secs = 60\nmin_win_rate = 0.45\n\n[[alerts.webhook]]\nurl = \"{HOOK}\"\nformat = \"slack\"\n\n[[alerts.webhook]]\nurl = \"https://api.telegram.org/bot1:tok-0123456789/sendMessage\"\nformat = \"telegram\"\nchat_id = \"-100\"\n"
        ))
        .unwrap();
        let a = &settings.alerts;
        assert_eq!((a.cooldown.as_secs(), a.min_win_rate), (60, 0.45));
        assert_eq!(a.webhooks[0].format, WebhookFormat::Slack);
        assert_eq!(a.webhooks[1].chat_id.as_deref(), Some("-100"));
        for text in [
            settings.show(ShowFormat::Toml),
            settings.show(ShowFormat::Json),
            format!("{settings:?}"),
        ] {
            assert!(
                !text.contains("sekret") && !text.contains("tok-0123456789"),
                "{text}"
            );
        }
        let shown = settings.show(ShowFormat::Toml);
        assert!(
            shown.contains("[alerts]") && shown.contains("cooldown_secs = 60"),
            "{shown}"
        );
        assert!(
            shown.contains("[[alerts.webhook]]") && shown.contains("url = \"***\""),
            "{shown}"
        );
    }

    #[test]
    fn bad_alert_settings_are_refused_with_the_line_and_never_the_url() {
        let unknown = resolve("\n[alerts]\ncooldown = 5\n")
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("cooldown") && unknown.contains(":3"),
            "{unknown}"
        );
        let telegram = resolve(&format!(
            "[alerts]\n[[alerts.webhook]]\nurl = \"{HOOK}\"\nformat = \"telegram\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            telegram.contains("chat_id") && !telegram.contains("sekret"),
            "{telegram}"
        );
        let not_http = resolve(
            "[[alerts.webhook]]\nurl = \"ftp://x/sekret-path-0123456789\"\nformat = \"json\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            not_http.contains("https://") && !not_http.contains("sekret"),
            "{not_http}"
        );
        let remote_http = resolve(
            "[[alerts.webhook]]\nurl = \"http://hooks.example.com/sekret-path-0123456789\"\nformat = \"json\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            remote_http.contains("https://") && !remote_http.contains("sekret"),
            "{remote_http}"
        );
        let both = resolve(&format!(
            "[[alerts.webhook]]\nurl = \"{HOOK}\"\nurl_env = \"HOOK\"\nformat = \"json\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            both.contains("exactly one") && !both.contains("sekret"),
            "{both}"
        );
        // an unset variable leaves its webhook out, saying where (the commands that deliver
        // alerts refuse it: `cli_bot.rs`)
        let unset = resolve("[[alerts.webhook]]\nurl_env = \"NO_SUCH_HOOK\"\nformat = \"json\"\n")
            .unwrap()
            .alerts;
        assert!(unset.webhooks.is_empty());
        assert!(
            matches!(&unset.unset_webhooks[..], [why] if why.contains("NO_SUCH_HOOK") && why.contains("tradegraph.toml:1")),
            "{:?}",
            unset.unset_webhooks
        );
        let share = resolve("[alerts]\nmin_win_rate = 45\n")
            .unwrap_err()
            .to_string();
        assert!(share.contains("min_win_rate"), "{share}");
    }
}
