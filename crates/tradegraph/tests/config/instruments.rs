//! Custom instruments: 24/7 and exchange hours with holidays, checked field by field.

use super::support::*;
use tradegraph::config::{ConfigError, FeedKind, FeedSettings, Flags, Origin, Venue};
use tradegraph::core::{Currency, Exchange, Segment, TradingSession};

const CUSTOM: &str = r#"
[feeds.kite.tokens]
acme = 12345

[[instruments]]
name = "sol"
symbol = "SOLUSDT"
venue = "binance"
currency = "USDT"
tick_size = "0.01"
lot_size = "0.001"
session = "24x7"

[[instruments]]
name = "acme"
symbol = "ACME"
venue = "kite"
segment = "equity"
currency = "INR"
tick_size = "0.05"
lot_size = "1"
session = { timezone_offset_minutes = 330, open = "09:15", close = 15:30:00, holidays = ["2026-01-26", 2026-03-03], holidays_file = "extra.txt" }
"#;

#[test]
fn a_custom_24x7_instrument_resolves() {
    let dir = scratch("custom-247");
    write(&dir, "tradegraph.toml", CUSTOM);
    write(&dir, "extra.txt", "2026-04-14 Ambedkar Jayanti\n");
    let flags = Flags {
        instrument: Some("sol".into()),
        ..no_flags()
    };
    let s = resolve(&flags, &[], &dir).unwrap();
    assert_eq!(s.name, "sol");
    assert_eq!(s.venue, Venue::Binance);
    let i = &s.instrument;
    assert_eq!(i.symbol.as_str(), "SOLUSDT");
    assert_eq!(
        (i.exchange, i.segment, i.currency),
        (Exchange::Binance, Segment::Spot, Currency::Usdt)
    );
    assert_eq!(
        (i.tick_size.to_string(), i.lot_size.to_string()),
        ("0.01".into(), "0.001".into())
    );
    assert_eq!(i.session, TradingSession::AlwaysOpen);
    assert!(i.session.is_open(t("2026-01-31T23:59:00Z")));
    assert_eq!(s.listen.port(), 8010);
    assert_eq!(s.origins.get("instrument"), Some(&Origin::File));
    // no bundled sample: synthetic data unless a file is given
    assert_eq!(
        s.feed,
        FeedSettings::Synthetic {
            seed: 1,
            speed: 1.0
        }
    );
    assert_eq!(s.stores.spill_path, dir.join(".tradegraph/spill-sol.jsonl"));
}

#[test]
fn the_synthetic_feeds_speed_comes_from_the_file_or_the_environment_and_is_checked() {
    let dir = scratch("synthetic-speed");
    write(
        &dir,
        "tradegraph.toml",
        "[bot]\nfeed = \"synthetic\"\nseed = 7\nspeed = 60.0\n",
    );
    let flags = Flags::default();
    let s = resolve(&flags, &[], &dir).unwrap();
    assert_eq!(
        s.feed,
        FeedSettings::Synthetic {
            seed: 7,
            speed: 60.0
        }
    );
    assert_eq!(s.origins.get("bot.speed"), Some(&Origin::File));
    let s = resolve(&flags, &[("TRADEGRAPH_SPEED", "2.5")], &dir).unwrap();
    assert_eq!(
        s.feed,
        FeedSettings::Synthetic {
            seed: 7,
            speed: 2.5
        }
    );
    assert_eq!(s.origins.get("bot.speed"), Some(&Origin::Env));
    let e = resolve(&flags, &[("TRADEGRAPH_SPEED", "fast")], &dir)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("TRADEGRAPH_SPEED") && e.contains("`fast` is not a number"),
        "{e}"
    );
    write(
        &dir,
        "tradegraph.toml",
        "[bot]\nfeed = \"synthetic\"\nspeed = 0.0\n",
    );
    let e = resolve(&flags, &[], &dir).unwrap_err().to_string();
    assert!(
        e.contains("bot.speed") && e.contains("positive multiple of real time"),
        "{e}"
    );
}

#[test]
fn a_custom_exchange_hours_instrument_with_holidays_resolves() {
    let dir = scratch("custom-hours");
    write(&dir, "tradegraph.toml", CUSTOM);
    write(&dir, "extra.txt", "# more\n2026-04-14 Ambedkar Jayanti\n");
    write(
        &dir,
        ".env.acme",
        "KITE_API_KEY=key-acme\nKITE_ACCESS_TOKEN=token-acme\n",
    );
    let flags = Flags {
        instrument: Some("acme".into()),
        feed: Some(FeedKind::Kite),
        ..no_flags()
    };
    let s = resolve(&flags, &[], &dir).unwrap();
    let i = &s.instrument;
    assert_eq!(
        (i.exchange, i.segment, i.currency),
        (Exchange::Nse, Segment::Equity, Currency::Inr)
    );
    assert_eq!(s.listen.port(), 8011);
    let session = i.session.exchange().unwrap();
    assert_eq!(session.time_zone, "UTC+05:30");
    // 09:15-15:30 at +05:30 is 03:45-10:00 UTC; 2026-01-27 is a Tuesday
    assert!(!i.session.is_open(t("2026-01-27T03:44:59Z")));
    assert!(i.session.is_open(t("2026-01-27T03:45:00Z")));
    assert!(i.session.is_open(t("2026-01-27T09:59:59Z")));
    assert!(!i.session.is_open(t("2026-01-27T10:00:00Z")));
    // holidays from the list (string and TOML date) and from the file; a Saturday
    assert!(!i.session.is_open(t("2026-01-26T05:00:00Z")));
    assert!(!i.session.is_open(t("2026-03-03T05:00:00Z")));
    assert!(!i.session.is_open(t("2026-04-14T05:00:00Z")));
    assert!(i.session.is_open(t("2026-04-15T05:00:00Z")));
    assert!(!i.session.is_open(t("2026-01-31T05:00:00Z")));
    let FeedSettings::Kite { tokens, .. } = &s.feed else {
        panic!("{:?}", s.feed)
    };
    assert_eq!(tokens, &[(12_345, "ACME".into())]);
    assert_eq!(s.origins.get("feeds.kite.tokens"), Some(&Origin::File));
}

#[test]
fn custom_instruments_are_checked_field_by_field() {
    let base =
        "[[instruments]]\nname = \"x\"\nsymbol = \"X\"\nvenue = \"binance\"\ncurrency = \"USDT\"\n";
    let cases = [
        (format!("{base}tick_size = \"0\"\nlot_size = \"1\"\nsession = \"24x7\"\n"), "tick_size"),
        (format!("{base}tick_size = \"1\"\nlot_size = \"-1\"\nsession = \"24x7\"\n"), "lot_size"),
        (
            format!("{base}tick_size = \"1\"\nlot_size = \"1\"\nsession = {{ timezone_offset_minutes = 0, open = \"16:00\", close = \"09:00\" }}\n"),
            "session.open",
        ),
        (
            "[[instruments]]\nname = \"btc\"\nsymbol = \"X\"\nvenue = \"binance\"\ncurrency = \"USDT\"\ntick_size = \"1\"\nlot_size = \"1\"\nsession = \"24x7\"\n".to_owned(),
            "name",
        ),
        (
            "[[instruments]]\nname = \"x\"\nsymbol = \"X\"\nvenue = \"kite\"\ncurrency = \"INR\"\ntick_size = \"1\"\nlot_size = \"1\"\nsession = \"nse\"\n".to_owned(),
            "segment",
        ),
    ];
    for (text, field) in cases {
        let dir = scratch("checked");
        let path = write(&dir, "tradegraph.toml", &text);
        let err = resolve(&no_flags(), &[], &dir).unwrap_err();
        let shown = err.to_string();
        assert!(matches!(err, ConfigError::Instrument { .. }), "{shown}");
        assert!(
            shown.starts_with(&format!("{}:1: instrument `", path.display())),
            "{shown}"
        );
        assert!(shown.contains(&format!("`, {field}: ")), "{field}: {shown}");
    }
    let dir = scratch("bad-session");
    write(
        &dir,
        "tradegraph.toml",
        &format!(
            "{}tick_size = \"1\"\nlot_size = \"1\"\nsession = \"sometimes\"\n",
            base
        ),
    );
    let err = resolve(&no_flags(), &[], &dir).unwrap_err().to_string();
    assert!(err.contains(":8:") && err.contains("\"24x7\""), "{err}");
}

#[test]
fn an_unknown_instrument_lists_the_known_ones() {
    let dir = scratch("unknown-instrument");
    write(&dir, "tradegraph.toml", CUSTOM);
    write(&dir, "extra.txt", "");
    let flags = Flags {
        instrument: Some("doge".into()),
        ..no_flags()
    };
    let err = resolve(&flags, &[], &dir).unwrap_err().to_string();
    assert!(
        err.starts_with(
            "instrument `doge` (from flag) is unknown: use btc, banknifty, nifty, sol, acme"
        ),
        "{err}"
    );
}

#[test]
fn bot_holidays_file_extends_a_built_in_exchange_session() {
    let dir = scratch("bot-holidays");
    write(
        &dir,
        "tradegraph.toml",
        "[bot]\nholidays_file = \"nse-2027.txt\"\n",
    );
    write(
        &dir,
        "nse-2027.txt",
        "# next year's circular\n2027-01-26 Republic Day\n",
    );
    let flags = Flags {
        instrument: Some("banknifty".into()),
        ..no_flags()
    };
    let s = resolve(&flags, &[], &dir).unwrap();
    let session = s.instrument.session.exchange().unwrap();
    let republic_day = chrono::NaiveDate::from_ymd_opt(2027, 1, 26).unwrap();
    assert!(!session.is_trading_day(republic_day));
    assert_eq!(session.holidays_known_through(), Some(2027));
    // The bundled list is still there.
    assert!(!session.is_trading_day(chrono::NaiveDate::from_ymd_opt(2026, 1, 26).unwrap()));

    // A 24/7 instrument has no holidays: the file is ignored, with a notice saying so.
    let flags = Flags {
        instrument: Some("btc".into()),
        ..no_flags()
    };
    let s = resolve(&flags, &[], &dir).unwrap();
    assert_eq!(s.instrument.session, TradingSession::AlwaysOpen);
    assert!(
        s.notices
            .iter()
            .any(|n| n.contains("bot.holidays_file") && n.contains("24/7")),
        "{:?}",
        s.notices
    );

    // A bad line names the file and the line.
    write(&dir, "nse-2027.txt", "2027-01-26\n26/01/2027\n");
    let flags = Flags {
        instrument: Some("nifty".into()),
        ..no_flags()
    };
    let err = resolve(&flags, &[], &dir).unwrap_err().to_string();
    assert!(
        err.contains("bot.holidays_file") && err.contains("nse-2027.txt") && err.contains("line 2"),
        "{err}"
    );
}
