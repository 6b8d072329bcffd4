//! `[paper]`: the cost table, the slippage model and the fill timing, their defaults, their
//! errors (naming the key and the file), and `config show`.

use super::support::*;
use tradegraph::backtest::execution::ExecutionSettings;
use tradegraph::broker::paper::{CostModel, FillTiming, SlippageModel, ZerodhaCharges};
use tradegraph::config::{ConfigError, Flags, Origin, ShowFormat};
use tradegraph::core::money::Bps;
use tradegraph::core::Decimal;

fn nifty() -> Flags {
    Flags {
        instrument: Some("nifty".into()),
        ..no_flags()
    }
}

#[test]
fn unset_it_is_the_venues_fees_two_bp_and_next_open_in_a_backtest() {
    let dir = scratch("paper-defaults");
    let s = resolve(&nifty(), &[], &dir).unwrap();
    // The bundled sample is replayed: bars.
    assert_eq!(
        s.execution,
        ExecutionSettings {
            replayed_bars: true,
            ..ExecutionSettings::default()
        }
    );
    assert_eq!(
        s.execution.fees_for(&s.instrument),
        CostModel::ZerodhaFutures(ZerodhaCharges::nse_futures())
    );
    let shown = s.show(ShowFormat::Toml);
    assert!(
        shown.contains("[paper]\nfill_timing = \"next_open\"  # default"),
        "{shown}"
    );
    assert!(
        shown.contains("model = \"zerodha_futures\"  # default"),
        "{shown}"
    );
    assert!(
        shown.contains("[paper.slippage]\nmodel = \"bps\"  # default\nbps = \"2\"  # default"),
        "{shown}"
    );
}

#[test]
fn every_rate_is_set_from_the_file_and_shown_with_its_origin() {
    let dir = scratch("paper-file");
    write(
        &dir,
        "tradegraph.toml",
        "[paper]\nfill_timing = \"immediate\"\n\n[paper.fees]\nmodel = \"zerodha_futures\"\nstt_sell = \"2\"\nexchange_transaction = \"0.173\"\n\n[paper.slippage]\nmodel = \"ticks\"\nticks = 3\n",
    );
    let s = resolve(&nifty(), &[], &dir).unwrap();
    // Edited rates without a date of their own are "configured", not "as of 2026-04-01".
    let want = ZerodhaCharges {
        stt_sell: Bps::whole(2),
        exchange_transaction: Bps::new(Decimal::new(173, 3)),
        rates_as_of: "configured".into(),
        ..ZerodhaCharges::nse_futures()
    };
    assert_eq!(s.execution.fees, Some(CostModel::ZerodhaFutures(want)));
    assert_eq!(s.execution.slippage, SlippageModel::Ticks { ticks: 3 });
    assert_eq!(s.execution.fill_timing, Some(FillTiming::Immediate));
    for key in ["paper.fill_timing", "paper.fees", "paper.slippage"] {
        assert_eq!(s.origins.get(key), Some(&Origin::File), "{key}");
    }
    let shown = s.show(ShowFormat::Toml);
    assert!(shown.contains("stt_sell = \"2\"  # file"), "{shown}");
    assert!(
        shown.contains("fill_timing = \"immediate\"  # file"),
        "{shown}"
    );
    let json: serde_json::Value = serde_json::from_str(&s.show(ShowFormat::Json)).unwrap();
    assert_eq!(json["settings"]["paper"]["slippage"]["ticks"]["value"], 3);
    // The environment wins over the file.
    let s = resolve(&nifty(), &[("TRADEGRAPH_FILL_TIMING", "next_open")], &dir).unwrap();
    assert_eq!(s.execution.fill_timing, Some(FillTiming::NextOpen));
    assert_eq!(s.origins.get("paper.fill_timing"), Some(&Origin::Env));
}

#[test]
fn a_wrong_key_or_value_names_the_key_and_the_file() {
    let cases = [
        ("[paper]\nfill_timming = \"immediate\"\n", "fill_timming"),
        ("[paper]\nfill_timing = \"tomorrow\"\n", "tomorrow"),
        (
            "[paper.fees]\nmodel = \"zerodha_futures\"\nstt_sel = 5\n",
            "stt_sel",
        ),
        ("[paper.fees]\nmodel = \"ibkr\"\n", "ibkr"),
        (
            "[paper.slippage]\nmodel = \"ticks\"\nticks = -1\n",
            "paper.slippage",
        ),
        (
            "[paper.slippage]\nmodel = \"volume\"\nimpact = \"10\"\ncapp = \"5\"\n",
            "capp",
        ),
    ];
    for (text, named) in cases {
        let dir = scratch("paper-wrong");
        let path = write(&dir, "tradegraph.toml", text);
        let err = resolve(&no_flags(), &[], &dir).unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("{}:", path.display())),
            "{named}: {shown}"
        );
        assert!(shown.contains(named), "{named}: {shown}");
        assert!(matches!(err, ConfigError::Toml { .. }), "{shown}");
    }
}

#[test]
fn a_negative_rate_is_refused_at_its_table_naming_the_field() {
    let dir = scratch("paper-negative");
    let path = write(
        &dir,
        "tradegraph.toml",
        "[bot]\ncash = \"5000000\"\n\n[paper.fees]\nmodel = \"zerodha_futures\"\ngst_pct = \"-18\"\n",
    );
    let shown = resolve(&nifty(), &[], &dir).unwrap_err().to_string();
    assert!(
        shown.starts_with(&format!("{}:", path.display())),
        "{shown}"
    );
    assert!(
        shown.contains("paper.fees: zerodha_futures: gst_pct -18 cannot be negative"),
        "{shown}"
    );
    let path = write(
        &dir,
        "tradegraph.toml",
        "[paper.slippage]\nmodel = \"spread\"\nshare = \"-1\"\nfallback_spread = \"2\"\n",
    );
    let shown = resolve(&no_flags(), &[], &dir).unwrap_err().to_string();
    assert!(
        shown.starts_with(&format!("{}:", path.display())),
        "{shown}"
    );
    assert!(
        shown.contains("paper.slippage: spread slippage: share -1"),
        "{shown}"
    );
}

#[test]
fn unset_the_fill_timing_follows_the_feed_not_the_mode() {
    use tradegraph::config::FeedKind;
    use tradegraph::engine::Mode;
    // `run` on the bundled bars (a replay): next open, as a backtest; shown so.
    let dir = scratch("paper-timing-replay");
    let s = resolve(&nifty(), &[], &dir).unwrap();
    assert_eq!(s.feed.kind(), FeedKind::Replay);
    assert_eq!(s.execution.timing_for(Mode::Service), FillTiming::NextOpen);
    assert_eq!(s.execution.timing_for(Mode::Backtest), FillTiming::NextOpen);
    let shown = s.show(ShowFormat::Toml);
    assert!(
        shown.contains("[paper]\nfill_timing = \"next_open\"  # default"),
        "{shown}"
    );
    // The paper bot on a tick feed: at once; shown so.
    let synthetic = Flags {
        feed: Some(FeedKind::Synthetic),
        ..nifty()
    };
    let s = resolve(&synthetic, &[], &dir).unwrap();
    assert!(!s.execution.replayed_bars);
    assert_eq!(s.execution.timing_for(Mode::Service), FillTiming::Immediate);
    assert_eq!(s.execution.timing_for(Mode::Backtest), FillTiming::NextOpen);
    let shown = s.show(ShowFormat::Toml);
    assert!(
        shown.contains("[paper]\nfill_timing = \"immediate\"  # default"),
        "{shown}"
    );
}

#[test]
fn edited_zerodha_rates_are_described_as_configured_unless_dated() {
    let dir = scratch("paper-configured");
    write(
        &dir,
        "tradegraph.toml",
        "[paper.fees]\nmodel = \"zerodha_futures\"\nstt_sell = \"2\"\n",
    );
    let s = resolve(&nifty(), &[], &dir).unwrap();
    let config = s.execution.paper_config(
        s.instrument.clone(),
        Decimal::from(5_000_000),
        tradegraph::engine::Mode::Backtest,
    );
    let said = config.describe().to_string();
    assert!(
        said.starts_with("fees zerodha_futures (configured rates)"),
        "{said}"
    );
    // A date given with the edits is kept.
    write(
        &dir,
        "tradegraph.toml",
        "[paper.fees]\nmodel = \"zerodha_futures\"\nstt_sell = \"2\"\nrates_as_of = \"2027-04-01\"\n",
    );
    let s = resolve(&nifty(), &[], &dir).unwrap();
    let Some(CostModel::ZerodhaFutures(z)) = &s.execution.fees else {
        panic!("{:?}", s.execution.fees)
    };
    assert_eq!(z.rates_as_of, "2027-04-01");
    // The configured STT is charged on a sell of any date (June 2024 had its own published
    // rate, 0.0125%).
    let Some(CostModel::ZerodhaFutures(z)) = s.execution.fees.clone() else {
        panic!("{:?}", s.execution.fees)
    };
    let at = "2024-06-03T05:00:00Z".parse().unwrap();
    assert_eq!(z.stt_sell_at(at), Bps::whole(2));
    // A history given with it is the file's, whatever it holds: with the published one, a
    // sell of February 2025 pays 2025's 0.02%, not the configured 0.1%.
    write(
        &dir,
        "tradegraph.toml",
        "[paper.fees]\nmodel = \"zerodha_futures\"\nstt_sell = \"10\"\nstt_sell_before = [{ until = \"2024-10-01\", rate = \"1.25\" }, { until = \"2026-04-01\", rate = \"2\" }]\n",
    );
    let s = resolve(&nifty(), &[], &dir).unwrap();
    let Some(CostModel::ZerodhaFutures(z)) = s.execution.fees.clone() else {
        panic!("{:?}", s.execution.fees)
    };
    assert_eq!(
        z.stt_sell_at("2025-02-10T05:00:00Z".parse().unwrap()),
        Bps::whole(2)
    );
    assert_eq!(
        z.stt_sell_at("2026-12-07T05:00:00Z".parse().unwrap()),
        Bps::whole(10)
    );
    // The defaults restated in the file keep their date.
    write(
        &dir,
        "tradegraph.toml",
        "[paper.fees]\nmodel = \"zerodha_futures\"\nstt_sell = \"5\"\n",
    );
    let s = resolve(&nifty(), &[], &dir).unwrap();
    assert_eq!(
        s.execution.fees,
        Some(CostModel::ZerodhaFutures(ZerodhaCharges::nse_futures()))
    );
}

#[test]
fn a_wrong_fill_timing_in_the_environment_names_the_variable() {
    let dir = scratch("paper-env");
    let err = resolve(&no_flags(), &[("TRADEGRAPH_FILL_TIMING", "later")], &dir).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("TRADEGRAPH_FILL_TIMING"), "{shown}");
    assert!(
        shown.contains("`later` is not one of next_open, immediate"),
        "{shown}"
    );
}

mod parse {
    use super::*;
    use proptest::prelude::*;

    /// A `[paper]` file of mostly plausible keys and values, some broken.
    fn paper_toml() -> impl Strategy<Value = String> {
        let model = prop_oneof![
            Just("zerodha_futures"),
            Just("binance_spot"),
            Just("bps"),
            Just("ticks"),
            Just("spread"),
            Just("volume"),
            Just("nope"),
        ];
        let key = prop_oneof![
            prop::sample::select(vec![
                "stt_sell",
                "maker",
                "taker",
                "ticks",
                "share",
                "impact",
                "cap",
                "gst_pct",
                "pay_in_bnb",
            ])
            .prop_map(str::to_owned),
            "[a-z_]{1,12}",
        ];
        let value = prop_oneof![
            "-?[0-9]{1,30}(\\.[0-9]{1,30})?".prop_map(|v| format!("\"{v}\"")),
            "-?[0-9]{1,12}",
            Just("true".to_owned()),
            "\"[a-z ]{0,10}\"",
        ];
        let table = prop_oneof![Just("paper.fees"), Just("paper.slippage"), Just("paper")];
        (table, model, prop::collection::vec((key, value), 0..4)).prop_map(|(table, model, kvs)| {
            let mut text = format!("[{table}]\n");
            if table != "paper" {
                text += &format!("model = \"{model}\"\n");
            }
            for (k, v) in kvs {
                text += &format!("{k} = {v}\n");
            }
            text
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Any such file resolves or fails naming the file and a `paper` key; never panics.
        #[test]
        fn any_paper_section_resolves_or_names_the_key_and_file(text in paper_toml()) {
            let dir = scratch("paper-prop");
            let path = write(&dir, "tradegraph.toml", &text);
            if let Err(err) = resolve(&nifty(), &[], &dir) {
                let shown = err.to_string();
                prop_assert!(shown.starts_with(&format!("{}:", path.display())), "{}\n{}", text, shown);
                prop_assert!(shown.contains("paper"), "{}\n{}", text, shown);
            }
            std::fs::remove_dir_all(&dir).ok();
        }
    }
}
