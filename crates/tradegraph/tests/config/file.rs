//! The TOML file: unknown keys, wrong values, missing files; the `.env` files.

use super::support::*;
use tradegraph::config::{ConfigError, Flags, Origin};

#[test]
fn an_unknown_key_in_any_section_names_the_key_the_file_and_the_line() {
    let cases = [
        ("botx = 1\n", "botx", 1),
        ("[bot]\ncash = \"5\"\ncahs = \"5\"\n", "cahs", 3),
        ("[risk]\nmax_position_pct = \"4\"\nmax_posiiton_pct = \"4\"\n", "max_posiiton_pct", 3),
        ("[graph]\nfiles = \"g.yaml\"\n", "files", 2),
        ("[stores]\nredis = \"redis://x\"\n", "redis", 2),
        ("[llm]\nbudget_usd = \"1\"\nselektion = \"weighted\"\n", "selektion", 3),
        ("[[llm.providers]]\nkind = \"openai\"\napikey = \"sk-canary-1234\"\n", "apikey", 3),
        ("[feeds]\n[feeds.coinbase]\nws_url = \"x\"\n", "coinbase", 2),
        ("[feeds.binance]\nwsurl = \"x\"\n", "wsurl", 2),
        ("[feeds.kite]\ntoken = 1\n", "token", 2),
        ("[feeds.kite.tokens]\nfinnifty = 257801\n", "finnifty", 2),
        (
            "[[instruments]]\nname = \"x\"\nsymbol = \"X\"\nvenue = \"binance\"\ncurrency = \"USDT\"\ntick_size = \"1\"\nlot_size = \"1\"\nsession = \"24x7\"\ncolour = \"red\"\n",
            "colour",
            9,
        ),
        (
            "[[instruments]]\nname = \"x\"\nsymbol = \"X\"\nvenue = \"binance\"\ncurrency = \"USDT\"\ntick_size = \"1\"\nlot_size = \"1\"\n\n[instruments.session]\ntimezone_offset_minutes = 0\nopen = \"09:00\"\nclose = \"17:00\"\nhoildays = []\n",
            "hoildays",
            13,
        ),
    ];
    for (text, key, line) in cases {
        let dir = scratch("unknown");
        let path = write(&dir, "tradegraph.toml", text);
        let err = resolve(&no_flags(), &[], &dir).unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("{}:{line}:", path.display())),
            "{key}: {shown}"
        );
        assert!(shown.contains(&format!("`{key}`")), "{key}: {shown}");
        assert!(!shown.contains("canary"), "{shown}");
        assert!(matches!(err, ConfigError::Toml { .. }), "{shown}");
    }
}

#[test]
fn a_wrong_value_names_its_line_and_column() {
    let dir = scratch("wrong-value");
    let path = write(
        &dir,
        "tradegraph.toml",
        "[bot]\nkeep_candles = 50\ndecision_timeframe = \"7m\"\n",
    );
    let err = resolve(&no_flags(), &[], &dir).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}:3:22:", path.display())),
        "{err}"
    );
    assert!(err.contains("7m"), "{err}");
}

#[test]
fn a_missing_named_file_is_unreadable_and_a_missing_env_file_is_fine() {
    let dir = scratch("missing");
    let flags = Flags {
        config: Some("nope.toml".into()),
        ..no_flags()
    };
    let err = resolve(&flags, &[], &dir).unwrap_err();
    assert!(err.is_unreadable(), "{err}");
    assert!(err.to_string().contains("nope.toml"), "{err}");
    let err = resolve(&no_flags(), &[("TRADEGRAPH_CONFIG", "gone.toml")], &dir).unwrap_err();
    assert!(err.to_string().contains("gone.toml"), "{err}");
    assert!(resolve(&no_flags(), &[], &dir).is_ok());
}

#[test]
fn an_empty_value_with_a_comment_is_unset_not_the_comment() {
    let dir = scratch("comment");
    write(
        &dir,
        ".env",
        "REDIS_URL=   # a local Redis, later\nTRADEGRAPH_API_TOKEN=     # none yet\nMONGODB_URI=mongodb://db:27017 # the shared one\n",
    );
    write(
        &dir,
        "tradegraph.toml",
        "[stores]\nredis_url = \"redis://from-toml:6379\"\n",
    );
    let s = resolve(&no_flags(), &[], &dir).unwrap();
    assert_eq!(
        s.stores.redis_url.as_deref(),
        Some("redis://from-toml:6379")
    );
    assert_eq!(s.origins.get("stores.redis_url"), Some(&Origin::File));
    assert!(s.api_token.is_none());
    assert_eq!(s.stores.mongodb_uri.as_deref(), Some("mongodb://db:27017"));
}

#[test]
fn a_malformed_env_line_names_the_file_and_line() {
    let dir = scratch("malformed");
    write(
        &dir,
        ".env.btc",
        "A=1\n# ok\nthis is not an assignment sk-canary-999\n",
    );
    let err = resolve(&no_flags(), &[], &dir).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "{}:3: not KEY=VALUE",
            dir.join(".env.btc").display()
        )),
        "{err}"
    );
    assert!(!err.contains("canary"), "{err}");
}

#[test]
fn the_instrument_file_cannot_choose_the_instrument() {
    let dir = scratch("choose");
    write(&dir, ".env.btc", "TRADEGRAPH_INSTRUMENT=nifty\n");
    let s = resolve(&no_flags(), &[], &dir).unwrap();
    assert_eq!(s.name, "btc");
    assert!(
        s.notices
            .iter()
            .any(|n| n.contains(".env.btc sets TRADEGRAPH_INSTRUMENT")),
        "{:?}",
        s.notices
    );
}

/// Timer periods past a day are refused naming the key: a huge one would panic the timer of
/// the alerts' sampling or of the health rounds when it starts (a task that dies unseen).
#[test]
fn a_timer_period_past_a_day_is_refused_naming_its_key() {
    for (text, key) in [
        (
            "[alerts]\nsample_secs = 9223372036854775807\n",
            "alerts.sample_secs",
        ),
        (
            "[health]\nevery_secs = 9223372036854775807\n",
            "health.every_secs",
        ),
        (
            "[health]\nllm_every_secs = 86401\n",
            "health.llm_every_secs",
        ),
    ] {
        let dir = scratch("timer-period");
        write(&dir, "tradegraph.toml", text);
        let err = resolve(&no_flags(), &[], &dir).unwrap_err().to_string();
        assert!(err.contains(key), "{key}: {err}");
        assert!(err.contains("at most 86400"), "{key}: {err}");
    }
    let dir = scratch("timer-period-ok");
    write(
        &dir,
        "tradegraph.toml",
        "[alerts]\nsample_secs = 86400\n[health]\nevery_secs = 86400\n",
    );
    resolve(&no_flags(), &[], &dir).unwrap();
}
