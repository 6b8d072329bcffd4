//! `config show`, secrets, and the annotated example file.

use super::support::*;
use std::path::{Path, PathBuf};
use tradegraph::config::{FeedKind, FeedSettings, Flags, Origin, Settings, ShowFormat};

const CANARY: &str = "canary-5ecret-77";

#[test]
fn secrets_are_masked_everywhere() {
    let dir = scratch("secrets");
    write(
        &dir,
        "tradegraph.toml",
        &format!(
            "[[llm.providers]]\nkind = \"compatible\"\nname = \"vllm\"\nbase_url = \"http://user:{CANARY}@gpu:8000/v1\"\napi_key = \"{CANARY}-file\"\n[[llm.providers]]\nkind = \"openai\"\n"
        ),
    );
    write(
        &dir,
        ".env.banknifty",
        &format!("KITE_API_KEY={CANARY}-kite\nKITE_ACCESS_TOKEN={CANARY}-token\n"),
    );
    let redis = format!("redis://app:{CANARY}@cache:6379/0");
    let mongo = format!("mongodb://admin:{CANARY}@db:27017");
    let key = format!("sk-{CANARY}");
    let token = format!("{CANARY}-api");
    let binance = format!("{CANARY}-binance");
    let vars = [
        ("OPENAI_API_KEY", key.as_str()),
        ("TRADEGRAPH_API_TOKEN", token.as_str()),
        ("REDIS_URL", redis.as_str()),
        ("MONGODB_URI", mongo.as_str()),
        ("BINANCE_API_KEY", binance.as_str()),
        ("BINANCE_API_SECRET", binance.as_str()),
    ];
    let kite = Flags {
        instrument: Some("banknifty".into()),
        feed: Some(FeedKind::Kite),
        ..no_flags()
    };
    let binance_flags = Flags {
        feed: Some(FeedKind::Binance),
        ..no_flags()
    };
    for flags in [kite, binance_flags] {
        let s = resolve(&flags, &vars, &dir).unwrap();
        let text = s.show(ShowFormat::Toml);
        let json = s.show(ShowFormat::Json);
        let debug = format!("{s:?} {s:#?}");
        for shown in [&text, &json, &debug] {
            assert!(!shown.contains(CANARY), "{shown}");
        }
        assert!(
            text.contains("redis_url = \"redis://***@cache:6379/0\"  # env"),
            "{text}"
        );
        assert!(text.contains("api_token = \"***\"  # env"), "{text}");
        assert!(
            text.contains("base_url = \"http://***@gpu:8000/v1\"  # file"),
            "{text}"
        );
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        let providers = &doc["settings"]["llm"]["providers"];
        assert_eq!(providers[0]["api_key"]["value"], "***");
        assert_eq!(providers[0]["api_key"]["origin"], "file");
        assert_eq!(providers[1]["api_key"]["value"], "***");
        assert_eq!(providers[1]["api_key"]["origin"], "env");
        assert_eq!(doc["settings"]["bot"]["api_token"]["value"], "***");
        match s.feed {
            FeedSettings::Kite { .. } => {
                assert_eq!(
                    doc["settings"]["feeds"]["kite"]["access_token"]["value"],
                    "***"
                );
                assert_eq!(
                    doc["settings"]["feeds"]["kite"]["access_token"]["origin"],
                    ".env.banknifty"
                );
            }
            _ => assert_eq!(
                doc["settings"]["feeds"]["binance"]["api_secret"]["value"],
                "***"
            ),
        }
    }
}

#[test]
fn show_lists_every_section_with_origins() {
    let dir = scratch("show");
    write(&dir, "tradegraph.toml", "[bot]\nkeep_candles = 80\n");
    let flags = Flags {
        feed: Some(FeedKind::Synthetic),
        ..no_flags()
    };
    let s = resolve(&flags, &[("REDIS_URL", "redis://127.0.0.1:6379")], &dir).unwrap();
    let text = s.show(ShowFormat::Toml);
    for line in [
        "feed = \"synthetic\"  # flag",
        "seed = 1  # default",
        "keep_candles = 80  # file",
        "redis_url = \"redis://127.0.0.1:6379\"  # env",
        "session = \"24x7\"  # default",
        "max_position_pct = \"5\"  # default",
        "# mongodb_uri is unset  # default",
        "[llm]",
    ] {
        assert!(text.lines().any(|l| l == line), "{line}\n{text}");
    }
    let doc: serde_json::Value = serde_json::from_str(&s.show(ShowFormat::Json)).unwrap();
    assert_eq!(doc["settings"]["bot"]["keep_candles"]["value"], 80);
    assert_eq!(doc["settings"]["bot"]["keep_candles"]["origin"], "file");
    assert_eq!(
        doc["settings"]["stores"]["mongodb_uri"]["value"],
        serde_json::Value::Null
    );
    assert_eq!(doc["name"], "btc");
}

/// The repository root (the example's directory).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `show` as JSON without origins and the file's name: the values only.
fn values(s: &Settings) -> serde_json::Value {
    fn strip(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(map) if map.contains_key("origin") => map["value"].clone(),
            serde_json::Value::Object(map) => {
                serde_json::Value::Object(map.iter().map(|(k, v)| (k.clone(), strip(v))).collect())
            }
            serde_json::Value::Array(items) => items.iter().map(strip).collect(),
            other => other.clone(),
        }
    }
    let doc: serde_json::Value = serde_json::from_str(&s.show(ShowFormat::Json)).unwrap();
    strip(&doc["settings"])
}

/// The file users copy says what `live = true` does: with TRADEGRAPH_LIVE=1 (set in a .env
/// file as well as in the environment) and the venue's keys, real orders.
#[test]
fn the_example_file_says_live_trades_real_money() {
    let text = std::fs::read_to_string(root().join("tradegraph.example.toml")).unwrap();
    // The comment lines right above the setting.
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| *l == "live = false").unwrap();
    let first = lines[..at]
        .iter()
        .rposition(|l| !l.starts_with('#'))
        .map_or(0, |i| i + 1);
    let comment = lines[first..at].join(" ");
    for claim in ["no venue broker", "refuses to start."] {
        assert!(!comment.contains(claim), "{comment}");
    }
    for fact in ["REAL MONEY", ".env", "TRADEGRAPH_LIVE=1"] {
        assert!(comment.contains(fact), "{fact}: {comment}");
    }
}

#[test]
fn the_example_file_parses_and_its_values_are_the_defaults() {
    let example = root().join("tradegraph.example.toml");
    for name in ["btc", "banknifty", "nifty"] {
        let with = Flags {
            instrument: Some(name.into()),
            config: Some(example.clone()),
            ..no_flags()
        };
        let without = Flags {
            instrument: Some(name.into()),
            ..no_flags()
        };
        let a = resolve(&with, &[], &root()).unwrap();
        let b = resolve(&without, &[], &root()).unwrap();
        assert_eq!(values(&a), values(&b), "{name}");
        assert!(a.notices.is_empty(), "{:?}", a.notices);
        assert_eq!(a.origins.get("risk.max_position_pct"), Some(&Origin::File));
    }
    let flags = Flags {
        instrument: Some("acme".into()),
        config: Some(example.clone()),
        ..no_flags()
    };
    let s = resolve(&flags, &[], &root()).unwrap();
    assert_eq!(s.instrument.symbol.as_str(), "ACME");
    assert_eq!(
        s.instrument.session.exchange().unwrap().time_zone,
        "Asia/Kolkata"
    );
    assert!(!s.instrument.session.is_open(t("2026-01-26T05:00:00Z")));
    let flags = Flags {
        instrument: Some("eth".into()),
        config: Some(example),
        ..no_flags()
    };
    assert_eq!(resolve(&flags, &[], &root()).unwrap().listen.port(), 8010);
}
