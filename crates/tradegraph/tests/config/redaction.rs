//! Configuration errors never echo credentials (issue 12, item 15): a URL's `user:password@` and
//! key-carrying query parameters are redacted wherever a value is quoted, while the host and the
//! setting stay named; a short secret's letters are not cut out of unrelated words.

use super::support::*;
use tradegraph::config::ConfigError;

const PASSWORD: &str = "pa55w0rd-canary";
const QUERY_KEY: &str = "qk-canary-31337";
const API_KEY: &str = "sk-canary-Q7f3a9c2e1b0d4e5f6a7b8c9";

fn assert_redacted(err: &impl std::fmt::Debug, text: &str, host: &str, field: &str) {
    for shown in [text.to_owned(), format!("{err:?}")] {
        for secret in [PASSWORD, QUERY_KEY, API_KEY] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
    }
    assert!(text.contains(host) && text.contains(field), "{text}");
}

#[test]
fn config_errors_echo_url_credentials_from_the_environment() {
    let dir = scratch("redact-env");
    let listen = format!("http://admin:{PASSWORD}@bot.example.com:8001/?token={QUERY_KEY}");
    let err = resolve(&no_flags(), &[("TRADEGRAPH_LISTEN", &listen)], &dir).unwrap_err();
    assert!(matches!(err, ConfigError::Invalid { .. }), "{err:?}");
    assert_redacted(
        &err,
        &err.to_string(),
        "bot.example.com",
        "TRADEGRAPH_LISTEN",
    );
    // The same from `.env`.
    write(&dir, ".env", &format!("TRADEGRAPH_LISTEN={listen}\n"));
    let err = resolve(&no_flags(), &[], &dir).unwrap_err();
    assert_redacted(
        &err,
        &err.to_string(),
        "bot.example.com",
        "TRADEGRAPH_LISTEN",
    );
}

#[test]
fn config_file_errors_echo_url_query_keys() {
    let dir = scratch("redact-file");
    for url in [
        format!("wss://stream.example.com/ws?token={QUERY_KEY}"),
        format!("wss://user:{PASSWORD}@stream.example.com/ws?api_key={QUERY_KEY}"),
    ] {
        let file = write(&dir, "bot.toml", &format!("[bot]\nfeed = \"{url}\"\n"));
        let flags = tradegraph::config::Flags {
            config: Some(file),
            ..no_flags()
        };
        let err = resolve(&flags, &[], &dir).unwrap_err();
        assert!(matches!(err, ConfigError::Toml { .. }), "{err:?}");
        assert_redacted(&err, &err.to_string(), "stream.example.com", "bot.feed");
    }
}

#[test]
fn llm_base_url_errors_echo_credentials() {
    let dir = scratch("redact-llm");
    let base = format!("ftp://user:{PASSWORD}@llm.example.com/v1?api_key={QUERY_KEY}");
    let vars = [
        ("OPENAI_API_KEY", API_KEY),
        ("OPENAI_BASE_URL", base.as_str()),
    ];
    let settings = resolve(&no_flags(), &vars, &dir).unwrap();
    assert!(!format!("{settings:?}").contains(PASSWORD));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let err = runtime.block_on(settings.llm.build()).err().unwrap();
    let err = ConfigError::from(err);
    assert_redacted(&err, &err.to_string(), "llm.example.com", "base URL");
}

#[test]
fn toml_error_redaction_of_a_short_secret_mangles_unrelated_text() {
    let dir = scratch("redact-short");
    let file = write(
        &dir,
        "bot.toml",
        "[[llm.providers]]\nkind = \"openai\"\napi_key = \"ring\"\ntimeout = \"x\"\n",
    );
    let flags = tradegraph::config::Flags {
        config: Some(file),
        ..no_flags()
    };
    let err = resolve(&flags, &[], &dir).unwrap_err().to_string();
    assert!(err.contains("invalid type: string"), "{err}");
}
