//! Where the agents' news and macro figures come from (issue 16, item 3): the bundled data by
//! default and in backtests, Finnhub, EODHD and FRED for a running bot with their keys, read
//! through the engine's `inputs_at` from local peers speaking their wire formats, as of the
//! cycle's time.

use super::support::{no_flags, resolve, scratch, t, write};
use tradegraph::config::{Flags, MacroProvider, NewsProvider};
use tradegraph::engine::{BotConfig, Mode};
use tradegraph::prelude::Brain;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn flags(instrument: &str) -> Flags {
    Flags {
        instrument: Some(instrument.to_owned()),
        ..no_flags()
    }
}

fn json(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/json")
}

/// A local FRED answering each `(series, units, value, period)` for the vintage of `day` (and
/// once), as FRED does: every observation's real-time period is the day asked for.
async fn fred_peer(day: &str, series: &[(&str, &str, &str, &str)]) -> MockServer {
    let fred = MockServer::start().await;
    for (id, units, value, period) in series {
        Mock::given(method("GET"))
            .and(path("/series/observations"))
            .and(query_param("series_id", *id))
            .and(query_param("units", *units))
            .and(query_param("realtime_start", day))
            .and(query_param("realtime_end", day))
            .and(query_param("api_key", "fred-key-1234567"))
            .respond_with(json(serde_json::json!({"observations": [
                {"realtime_start": day, "realtime_end": day, "date": period, "value": value}
            ]})))
            .expect(1)
            .mount(&fred)
            .await;
    }
    fred
}

#[test]
fn without_keys_the_bots_read_the_bundled_data() {
    let dir = scratch("inputs-default");
    let btc = resolve(&no_flags(), &[], &dir).unwrap();
    assert_eq!(btc.news.provider, NewsProvider::Fixture);
    assert_eq!(btc.macros.provider, MacroProvider::Fixture);
    let nifty = resolve(&flags("nifty"), &[], &dir).unwrap();
    assert_eq!(nifty.news.provider, NewsProvider::Fixture);
    assert_eq!(nifty.news.refresh.as_secs(), 300);
    assert_eq!(nifty.macros.refresh.as_secs(), 3_600);
}

#[test]
fn keys_pick_each_bots_provider() {
    let dir = scratch("inputs-keys");
    let vars = [
        ("FINNHUB_API_KEY", "fh-canary-1234567"),
        ("EODHD_API_KEY", "eod-canary-1234567"),
        ("FRED_API_KEY", "fred-canary-1234567"),
    ];
    let btc = resolve(&no_flags(), &vars, &dir).unwrap();
    assert!(
        matches!(&btc.news.provider, NewsProvider::Finnhub { category, .. } if category == "crypto"),
        "{:?}",
        btc.news.provider
    );
    assert!(
        matches!(&btc.macros.provider, MacroProvider::Fred { series, .. } if series.region == "US")
    );
    let bank = resolve(&flags("banknifty"), &vars, &dir).unwrap();
    assert!(
        matches!(&bank.news.provider, NewsProvider::Eodhd { symbol, .. } if symbol == "NSEBANK.INDX"),
        "{:?}",
        bank.news.provider
    );
    assert!(
        matches!(&bank.macros.provider, MacroProvider::Fred { series, .. } if series.region == "IN")
    );
    // Shown masked, with where each came from.
    let shown = bank.show(tradegraph::config::ShowFormat::Toml);
    assert!(
        shown.contains("[news]") && shown.contains("source = \"eodhd\""),
        "{shown}"
    );
    assert!(shown.contains("eodhd_api_key = \"***\"  # env"), "{shown}");
    assert!(
        shown.contains("[macro]") && shown.contains("source = \"fred\""),
        "{shown}"
    );
    assert!(!shown.contains("canary"), "{shown}");
    // A source asked for by name needs its key; a bad name is named.
    let err = resolve(&no_flags(), &[("TRADEGRAPH_NEWS", "finnhub")], &dir).unwrap_err();
    assert!(err.to_string().contains("FINNHUB_API_KEY"), "{err}");
    let err = resolve(&no_flags(), &[("TRADEGRAPH_MACRO", "rbi")], &dir).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("TRADEGRAPH_MACRO") && text.contains("`rbi`"),
        "{text}"
    );
    // `none` turns them off; a file of one's own is read.
    let file = write(
        &dir,
        "tradegraph.toml",
        "[news]\nsource = \"none\"\n[macro]\nfile = \"rbi.json\"\n",
    );
    let own = resolve(&no_flags(), &vars, &dir).unwrap();
    assert_eq!(own.news.provider, NewsProvider::None);
    assert_eq!(
        own.macros.provider,
        MacroProvider::File(dir.join("rbi.json"))
    );
    std::fs::remove_file(file).unwrap();
}

/// A running Bitcoin bot with Finnhub and FRED keys reads both from their (local) servers, as of
/// each cycle's time; a backtest of the same settings reads the bundled data.
#[tokio::test]
async fn a_running_bot_reads_live_news_and_macro_as_of_the_cycle() {
    let finnhub = MockServer::start().await;
    let cycle = t("2024-12-12T10:00:00Z");
    let secs = cycle.secs();
    Mock::given(method("GET"))
        .and(path("/news"))
        .and(query_param("category", "crypto"))
        .and(query_param("token", "fh-key-1234567"))
        .respond_with(json(serde_json::json!([
            {"category": "crypto", "datetime": secs - 60, "headline": "Bitcoin ETF inflows hit a record",
             "id": 11, "image": "", "related": "BTC", "source": "Wire", "summary": "s", "url": "https://n.example/11"},
            {"category": "crypto", "datetime": secs - 30, "headline": "Bitcoin ETF Inflows Hit A Record",
             "id": 12, "image": "", "related": "BTC", "source": "Other", "summary": "s", "url": "https://n.example/12"},
            {"category": "crypto", "datetime": secs + 60, "headline": "After the cycle",
             "id": 13, "image": "", "related": "BTC", "source": "Wire", "summary": "s", "url": "https://n.example/13"},
        ])))
        .expect(1)
        .mount(&finnhub)
        .await;
    let fred = fred_peer(
        "2024-12-11",
        &[
            ("DFEDTARU", "lin", "4.75", "2024-12-11"),
            ("CPIAUCSL", "pc1", "2.6", "2024-10-01"),
            ("DTWEXBGS", "lin", "127.1", "2024-12-06"),
            ("DGS10", "lin", "4.26", "2024-12-10"),
        ],
    )
    .await;
    let dir = scratch("inputs-live");
    let (finnhub_url, fred_url) = (finnhub.uri(), fred.uri());
    let vars = [
        ("FINNHUB_API_KEY", "fh-key-1234567"),
        ("FINNHUB_BASE_URL", finnhub_url.as_str()),
        ("FRED_API_KEY", "fred-key-1234567"),
        ("FRED_BASE_URL", fred_url.as_str()),
    ];
    let settings = resolve(&no_flags(), &vars, &dir).unwrap();
    let instrument = settings.instrument.clone();
    let mut config = BotConfig::new(
        instrument.clone(),
        Brain::rules_only().unwrap(),
        settings.cash,
        Mode::Service,
    );
    let news = settings.news.open(instrument.currency, true).unwrap();
    assert!(
        news.description.contains("Finnhub (crypto)"),
        "{}",
        news.description
    );
    config.news = news.source.unwrap();
    let macros = settings
        .macros
        .open(instrument.currency, true)
        .await
        .unwrap();
    assert!(
        macros.description.contains("FRED (US"),
        "{}",
        macros.description
    );
    config.macros = macros.source;

    for _ in 0..3 {
        let inputs = config.inputs_at(cycle).await;
        let ids: Vec<_> = inputs.news.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["finnhub:11"], "deduplicated, nothing after the cycle");
        let m = inputs.macro_snapshot.expect("FRED's figures");
        assert_eq!((m.policy_rate_pct, m.cpi_inflation_yoy_pct), (4.75, 2.6));
        assert_eq!(m.us_fed_funds_pct, Some(4.75));
        assert_eq!(m.extra["usd_broad_index"], 127.1);
        assert!(m.as_of <= cycle);
    }
    // The servers' `expect(1)`: each asked once for the three cycles (checked on drop).

    // A backtest of the same settings reads the bundled stories, and no figures for crypto.
    let news = settings.news.open(instrument.currency, false).unwrap();
    assert!(
        news.description.contains("bundled crypto"),
        "{}",
        news.description
    );
    config.news = news.source.unwrap();
    let from_fixture = config.inputs_at(t("2024-12-04T12:00:00Z")).await;
    assert!(!from_fixture.news.is_empty());
    assert!(from_fixture
        .news
        .iter()
        .all(|n| !n.id.starts_with("finnhub:")));
    let macros = settings
        .macros
        .open(instrument.currency, false)
        .await
        .unwrap();
    assert!(macros.source.is_none(), "{}", macros.description);
}

/// A running Bank Nifty bot with EODHD and FRED keys: EODHD's news about `NSEBANK.INDX` and
/// the RBI's policy rate and India's CPI from FRED, as of the cycle.
#[tokio::test]
async fn a_running_indian_bot_reads_eodhd_news_and_the_rbi_figures() {
    let eodhd = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/news"))
        .and(query_param("s", "NSEBANK.INDX"))
        .and(query_param("api_token", "eod-key-1234567"))
        .and(query_param("fmt", "json"))
        .respond_with(json(serde_json::json!([
            {"date": "2025-02-07T04:45:00+00:00", "title": "RBI cuts repo rate by 25 bps to 6.25%",
             "content": "The Monetary Policy Committee voted unanimously for the cut.",
             "link": "https://www.arthik.example.com/rbi-cut", "symbols": ["NSEBANK.INDX"],
             "tags": ["RBI"], "sentiment": {"polarity": 0.55, "neg": 0.02, "neu": 0.88, "pos": 0.1}},
            {"date": "2025-02-07T11:00:00+00:00", "title": "Banks rally after the policy",
             "content": "After the cycle.", "link": "https://www.arthik.example.com/later",
             "symbols": ["NSEBANK.INDX"], "tags": [], "sentiment": {"polarity": 0.3}},
        ])))
        .expect(1)
        .mount(&eodhd)
        .await;
    let fred = fred_peer(
        "2025-02-06",
        &[
            ("IRSTCB01INM156N", "lin", "6.5", "2024-11-01"),
            ("INDCPIALLMINMEI", "pc1", "5.22", "2024-12-01"),
            ("DFEDTARU", "lin", "4.5", "2025-02-06"),
            ("DEXINUS", "lin", "87.4", "2025-01-31"),
        ],
    )
    .await;
    let dir = scratch("inputs-live-india");
    let (eodhd_url, fred_url) = (eodhd.uri(), fred.uri());
    let vars = [
        ("EODHD_API_KEY", "eod-key-1234567"),
        ("EODHD_BASE_URL", eodhd_url.as_str()),
        ("FRED_API_KEY", "fred-key-1234567"),
        ("FRED_BASE_URL", fred_url.as_str()),
    ];
    let settings = resolve(&flags("banknifty"), &vars, &dir).unwrap();
    let instrument = settings.instrument.clone();
    let mut config = BotConfig::new(
        instrument.clone(),
        Brain::rules_only().unwrap(),
        settings.cash,
        Mode::Service,
    );
    config.news = settings
        .news
        .open(instrument.currency, true)
        .unwrap()
        .source
        .unwrap();
    config.macros = settings
        .macros
        .open(instrument.currency, true)
        .await
        .unwrap()
        .source;
    let cycle = t("2025-02-07T09:15:00Z");
    for _ in 0..2 {
        let inputs = config.inputs_at(cycle).await;
        let headlines: Vec<_> = inputs.news.iter().map(|n| n.headline.as_str()).collect();
        assert_eq!(headlines, ["RBI cuts repo rate by 25 bps to 6.25%"]);
        let m = inputs.macro_snapshot.expect("FRED's Indian figures");
        assert_eq!(m.region, "IN");
        assert_eq!((m.policy_rate_pct, m.cpi_inflation_yoy_pct), (6.5, 5.22));
        assert_eq!(m.extra["usd_inr"], 87.4);
        assert!(m.source.contains("FRED IRSTCB01INM156N"), "{}", m.source);
    }
}
