//! The charge tables against worked examples, and their figures on any input.
//!
//! Zerodha's worked examples are the published rates with our rounding: the rates on Zerodha's
//! charges page (<https://zerodha.com/charges/>, "F&O - Futures") in force from 2026-04-01,
//! worked by hand step by step in the comments. They do not reproduce Zerodha's brokerage
//! calculator (<https://zerodha.com/brokerage-calculator/>), which computes in the browser and
//! could not be run here; they follow its method as public copies of its script show it (each
//! charge to the paisa, STT rounded to the rupee with `Math.round`, stamp duty to the paisa with
//! `toFixed(2)`: `cal_futures` in github.com/shiveshnavin/stocksmate `brokerage.js`; STT to the
//! rupee also on tradingqna.com/t/stt-tax-in-zerodha-brokerage-calculator/88483), exchange
//! charges, SEBI fees and GST on the trade's whole turnover.

use super::*;
use proptest::prelude::*;
use tradegraph_core::money::Bps;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn amount(charges: &[Charge], kind: ChargeKind) -> Decimal {
    charges
        .iter()
        .filter(|c| c.kind == kind)
        .map(|c| c.amount)
        .sum()
}

/// One worked example's figures: brokerage, STT, exchange transaction charges,
/// GST, SEBI fees, stamp duty, total.
struct Calculator {
    buy: &'static str,
    sell: &'static str,
    quantity: &'static str,
    turnover: &'static str,
    brokerage: &'static str,
    stt: &'static str,
    exchange: &'static str,
    gst: &'static str,
    sebi: &'static str,
    stamp: &'static str,
    total: &'static str,
}

const EXAMPLES: [Calculator; 3] = [
    // One Bank Nifty lot (30) bought at 52 000, sold at 52 200.
    // Buy value 1 560 000, sell value 1 566 000, turnover 3 126 000.
    // Brokerage: 0.03% of each is 468 and 469.80, both above ₹20: 20 + 20 = 40.
    // STT: 0.05% of 1 566 000 = 783.
    // Exchange: 0.00183% of 3 126 000 = 57.2058 → 57.21.
    // SEBI: ₹10 per crore of 3 126 000 = 3.126 → 3.13.
    // GST: 18% of (40 + 57.21 + 3.13 = 100.34) = 18.0612 → 18.06.
    // Stamp duty: 0.002% of 1 560 000 = 31.20.
    // Total: 40 + 783 + 57.21 + 18.06 + 3.13 + 31.20 = 932.60.
    Calculator {
        buy: "52000",
        sell: "52200",
        quantity: "30",
        turnover: "3126000",
        brokerage: "40",
        stt: "783",
        exchange: "57.21",
        gst: "18.06",
        sebi: "3.13",
        stamp: "31.20",
        total: "932.60",
    },
    // 75 Nifty 50 units (the lot was 75 until late 2025, 65 since) bought at 25 000, sold at
    // 24 900 (a loss).
    // Buy value 1 875 000, sell value 1 867 500, turnover 3 742 500.
    // Brokerage: 20 + 20 = 40. STT: 0.05% of 1 867 500 = 933.75 → 934.
    // Exchange: 0.00183% of 3 742 500 = 68.48775 → 68.49.
    // SEBI: 3.7425 → 3.74. GST: 18% of 112.23 = 20.2014 → 20.20.
    // Stamp duty: 0.002% of 1 875 000 = 37.50.
    // Total: 40 + 934 + 68.49 + 20.20 + 3.74 + 37.50 = 1 103.93.
    Calculator {
        buy: "25000",
        sell: "24900",
        quantity: "75",
        turnover: "3742500",
        brokerage: "40",
        stt: "934",
        exchange: "68.49",
        gst: "20.20",
        sebi: "3.74",
        stamp: "37.50",
        total: "1103.93",
    },
    // A small order, where 0.03% is below ₹20: one unit bought at 24 010.50, sold at 24 060.20.
    // Turnover 48 070.70. Brokerage: 7.20315 → 7.20 and 7.21806 → 7.22, 14.42 in all.
    // STT: 0.05% of 24 060.20 = 12.0301 → 12.03 → 12.
    // Exchange: 0.00183% of 48 070.70 = 0.8797 → 0.88. SEBI: 0.0481 → 0.05.
    // GST: 18% of (14.42 + 0.88 + 0.05 = 15.35) = 2.763 → 2.76.
    // Stamp duty: 0.002% of 24 010.50 = 0.48021 → 0.48 (to the paisa).
    // Total: 14.42 + 12 + 0.88 + 2.76 + 0.05 + 0.48 = 30.59.
    Calculator {
        buy: "24010.50",
        sell: "24060.20",
        quantity: "1",
        turnover: "48070.70",
        brokerage: "14.42",
        stt: "12",
        exchange: "0.88",
        gst: "2.76",
        sebi: "0.05",
        stamp: "0.48",
        total: "30.59",
    },
];

#[test]
fn zerodha_round_trips_at_the_published_rates_with_our_rounding() {
    let sheet = ZerodhaCharges::nse_futures();
    for ex in &EXAMPLES {
        let trip = sheet
            .round_trip(d(ex.buy), d(ex.sell), d(ex.quantity))
            .unwrap();
        let got = [
            trip.turnover,
            trip.brokerage,
            trip.stt,
            trip.exchange_transaction,
            trip.gst,
            trip.sebi_fee,
            trip.stamp_duty,
            trip.total,
        ];
        let want = [
            ex.turnover,
            ex.brokerage,
            ex.stt,
            ex.exchange,
            ex.gst,
            ex.sebi,
            ex.stamp,
            ex.total,
        ]
        .map(d);
        assert_eq!(got, want, "{} → {} × {}", ex.buy, ex.sell, ex.quantity);
    }
}

#[test]
fn zerodha_per_order_charges_add_up_to_the_round_trip_within_a_paisa_per_rounded_charge() {
    let model = CostModel::ZerodhaFutures(ZerodhaCharges::nse_futures());
    for ex in &EXAMPLES {
        let q = d(ex.quantity);
        let buy = model
            .charges(OrderSide::Buy, d(ex.buy) * q, Liquidity::Taker)
            .unwrap();
        let sell = model
            .charges(OrderSide::Sell, d(ex.sell) * q, Liquidity::Taker)
            .unwrap();
        // Brokerage, STT and stamp duty are per order: exact.
        let both = |kind| amount(&buy, kind) + amount(&sell, kind);
        assert_eq!(both(ChargeKind::Brokerage), d(ex.brokerage));
        assert_eq!(both(ChargeKind::Stt), d(ex.stt));
        assert_eq!(both(ChargeKind::StampDuty), d(ex.stamp));
        assert_eq!(
            amount(&buy, ChargeKind::Stt),
            Decimal::ZERO,
            "no STT on a buy"
        );
        assert_eq!(
            amount(&sell, ChargeKind::StampDuty),
            Decimal::ZERO,
            "no stamp on a sell"
        );
        // Exchange charges, SEBI fees and GST are rounded per order: a paisa each at most.
        for (kind, want) in [
            (ChargeKind::ExchangeTransaction, ex.exchange),
            (ChargeKind::SebiFee, ex.sebi),
            (ChargeKind::Gst, ex.gst),
        ] {
            let gap = (both(kind) - d(want)).abs();
            assert!(gap <= d("0.01"), "{kind}: {} vs {want}", both(kind));
        }
    }
}

#[test]
fn zerodha_first_example_order_by_order() {
    let sheet = ZerodhaCharges::nse_futures();
    // Buy 1 560 000: brokerage 20, exchange 28.548 → 28.55, SEBI 1.56, stamp 31.20,
    // GST 18% of 50.11 = 9.0198 → 9.02; 90.33 in all.
    let buy = sheet.order_charges(OrderSide::Buy, d("1560000")).unwrap();
    assert_eq!(total(&buy), Some(d("90.33")));
    assert_eq!(amount(&buy, ChargeKind::StampDuty), d("31.20"));
    // Sell 1 566 000: brokerage 20, STT 783, exchange 28.6578 → 28.66, SEBI 1.566 → 1.57,
    // GST 18% of 50.23 = 9.0414 → 9.04; 842.27 in all.
    let sell = sheet.order_charges(OrderSide::Sell, d("1566000")).unwrap();
    assert_eq!(total(&sell), Some(d("842.27")));
    assert_eq!(amount(&sell, ChargeKind::Gst), d("9.04"));
}

#[test]
fn binance_vip0_charges_a_tenth_of_a_percent_and_a_quarter_less_in_bnb() {
    // Binance's fee schedule (binance.com/en/fee/schedule), regular user: 0.1000% maker and
    // taker; 0.0750% paying with BNB (25% off).
    let vip0 = CostModel::BinanceSpot(BinanceSpotFees::vip0());
    let (fee, charges) = vip0
        .fee(OrderSide::Buy, d("30000"), Liquidity::Taker)
        .unwrap();
    assert_eq!(fee, d("30"));
    assert_eq!(charges, vec![Charge::new(ChargeKind::Commission, d("30"))]);
    let bnb = CostModel::BinanceSpot(BinanceSpotFees {
        pay_in_bnb: true,
        ..BinanceSpotFees::vip0()
    });
    assert_eq!(
        bnb.fee(OrderSide::Sell, d("30000"), Liquidity::Maker)
            .unwrap()
            .0,
        d("22.5")
    );
    // Rounded up to 8 places: 0.1% of 0.123456789 is 0.000123456789 → 0.00012346.
    assert_eq!(
        vip0.fee(OrderSide::Buy, d("0.123456789"), Liquidity::Taker)
            .unwrap()
            .0,
        d("0.00012346")
    );
}

#[test]
fn one_rule_picks_the_venues_table_for_an_instrument() {
    use tradegraph_core::{Currency, Instrument};
    let zerodha = CostModel::ZerodhaFutures(ZerodhaCharges::nse_futures());
    let binance = CostModel::BinanceSpot(BinanceSpotFees::vip0());
    assert_eq!(
        CostModel::for_instrument(&Instrument::bank_nifty()),
        zerodha
    );
    assert_eq!(CostModel::for_instrument(&Instrument::btc_usdt()), binance);
    // Quoted in rupees on another exchange, or on NSE in another currency: still the
    // futures sheet (the one rule covers both the exchange and the currency).
    let rupees = Instrument {
        exchange: Exchange::Binance,
        currency: Currency::Inr,
        ..Instrument::btc_usdt()
    };
    assert_eq!(CostModel::for_instrument(&rupees), zerodha);
    let nse = Instrument {
        currency: Currency::Usdt,
        ..Instrument::bank_nifty()
    };
    assert_eq!(CostModel::for_instrument(&nse), zerodha);
    // The paper broker's own default follows the same rule.
    let config = crate::PaperConfig::new(rupees.clone(), d("1000000"));
    assert_eq!(config.fees, CostModel::for_instrument(&rupees));
}

#[test]
fn a_bps_fee_is_commission_plus_flat_brokerage() {
    let model = CostModel::from(FeeModel::bps(Bps::whole(10), Bps::whole(2)).with_flat(d("20")));
    let (fee, charges) = model
        .fee(OrderSide::Buy, d("1000000"), Liquidity::Taker)
        .unwrap();
    assert_eq!(fee, d("1020"));
    assert_eq!(amount(&charges, ChargeKind::Commission), d("1000"));
    assert_eq!(amount(&charges, ChargeKind::Brokerage), d("20"));
}

#[test]
fn bad_tables_are_named() {
    let negative = ZerodhaCharges {
        stt_sell: Bps::new(d("-1")),
        ..ZerodhaCharges::nse_futures()
    };
    let problem = CostModel::from(negative).problem().unwrap();
    assert!(problem.contains("stt_sell -1"), "{problem}");
    let discount = BinanceSpotFees {
        bnb_discount_pct: d("120"),
        ..BinanceSpotFees::vip0()
    };
    assert!(CostModel::from(discount)
        .problem()
        .unwrap()
        .contains("bnb_discount_pct 120"));
    assert_eq!(CostModel::for_exchange(Exchange::Nse).problem(), None);
}

#[test]
fn a_bps_table_needs_both_rates_and_defaults_the_rest() {
    let half =
        serde_json::from_value::<CostModel>(serde_json::json!({"model": "bps", "taker": "5"}))
            .unwrap_err()
            .to_string();
    assert!(half.contains("maker"), "{half}");
    let both: CostModel =
        serde_json::from_value(serde_json::json!({"model": "bps", "taker": "5", "maker": "2"}))
            .unwrap();
    assert_eq!(
        both,
        CostModel::from(FeeModel::bps(Bps::whole(5), Bps::whole(2)))
    );
}

#[test]
fn the_tables_round_trip_through_serde_with_their_model_named() {
    for model in [
        CostModel::for_exchange(Exchange::Nse),
        CostModel::for_exchange(Exchange::Binance),
        CostModel::from(FeeModel::zerodha_futures()),
    ] {
        let json = serde_json::to_value(&model).unwrap();
        assert_eq!(json["model"], model.name());
        let back: CostModel = serde_json::from_value(json).unwrap();
        assert_eq!(back, model);
    }
}

fn decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (0i64..i64::MAX, 0u32..28).prop_map(|(m, s)| Decimal::new(m, s)),
        Just(Decimal::MAX),
        Just(Decimal::MIN),
        Just(Decimal::ZERO),
        (i64::MIN..0, 0u32..28).prop_map(|(m, s)| Decimal::new(m, s)),
    ]
}

fn any_model() -> impl Strategy<Value = CostModel> {
    prop_oneof![
        Just(CostModel::for_exchange(Exchange::Nse)),
        Just(CostModel::for_exchange(Exchange::Binance)),
        Just(CostModel::from(BinanceSpotFees {
            pay_in_bnb: true,
            ..BinanceSpotFees::vip0()
        })),
        Just(CostModel::from(FeeModel::zerodha_futures())),
        (0u32..10_000, 0u32..10_000)
            .prop_map(|(t, m)| CostModel::from(FeeModel::bps(Bps::whole(t), Bps::whole(m)))),
    ]
}

proptest! {
    /// On any notional, huge, tiny or negative (its size counts), fees never panic, are never
    /// negative, and the charges add up to the fee.
    #[test]
    fn fees_are_never_negative_and_add_up(
        model in any_model(),
        notional in decimal(),
        sell in any::<bool>(),
        maker in any::<bool>(),
    ) {
        let side = if sell { OrderSide::Sell } else { OrderSide::Buy };
        let liquidity = if maker { Liquidity::Maker } else { Liquidity::Taker };
        if let Some((fee, charges)) = model.fee(side, notional, liquidity) {
            prop_assert!(fee >= Decimal::ZERO, "fee {fee} on {notional}");
            prop_assert!(charges.iter().all(|c| c.amount > Decimal::ZERO));
            prop_assert_eq!(total(&charges), Some(fee));
        }
    }

    /// Zerodha's brokerage never passes its cap, and STT only ever falls on sells.
    #[test]
    fn zerodha_brokerage_is_capped_and_stt_is_on_sells(value in 0i64..1_000_000_000_000i64, sell in any::<bool>()) {
        let sheet = ZerodhaCharges::nse_futures();
        let side = if sell { OrderSide::Sell } else { OrderSide::Buy };
        let charges = sheet.order_charges(side, Decimal::new(value, 2)).unwrap();
        prop_assert!(amount(&charges, ChargeKind::Brokerage) <= Decimal::from(20));
        let stt = amount(&charges, ChargeKind::Stt);
        if !sell {
            prop_assert!(stt.is_zero(), "STT {stt} on a buy");
        } else if value >= 100_000 {
            // ₹1 000 or more: 0.05% is at least 50 paise, a rupee once rounded.
            prop_assert!(stt >= Decimal::ONE, "STT {stt} on a sell of {value} paise");
        }
    }
}

/// STT on futures sells is the rate in force on the trade's day in India: 0.0125% before
/// 2024-10-01, 0.02% until 2026-04-01, 0.05% since, so a backtest of 2025 pays 2025's tax.
#[test]
fn zerodha_stt_is_the_rate_in_force_on_the_trades_day() {
    let sheet = ZerodhaCharges::nse_futures();
    let at = |s: &str| s.parse::<tradegraph_core::Timestamp>().unwrap();
    let bp = |s: &str| tradegraph_core::money::Bps::new(d(s));
    // Midnight in India is 18:30 UTC the day before.
    assert_eq!(sheet.stt_sell_at(at("2024-09-30T18:29:59Z")), bp("1.25"));
    assert_eq!(sheet.stt_sell_at(at("2024-09-30T18:30:00Z")), bp("2"));
    assert_eq!(sheet.stt_sell_at(at("2026-03-31T09:00:00Z")), bp("2"));
    assert_eq!(sheet.stt_sell_at(at("2026-04-01T04:00:00Z")), bp("5"));
    // One Bank Nifty lot (30) sold at 51 400 on 2025-02-10: 0.02% of 1 542 000 is 308.40,
    // ₹308 to the rupee; at today's rate it is ₹771.
    let stt = |model: &CostModel, when: &str| {
        model
            .charges_at(OrderSide::Sell, d("1542000"), Liquidity::Taker, at(when))
            .unwrap()
            .into_iter()
            .find(|c| c.kind == ChargeKind::Stt)
            .map(|c| c.amount)
    };
    let model = CostModel::ZerodhaFutures(sheet.clone());
    assert_eq!(stt(&model, "2025-02-10T05:00:00Z"), Some(d("308")));
    assert_eq!(stt(&model, "2026-12-07T05:00:00Z"), Some(d("771")));
    let (fee_2025, _) = model
        .fee_at(
            OrderSide::Sell,
            d("1542000"),
            Liquidity::Taker,
            at("2025-02-10T05:00:00Z"),
        )
        .unwrap();
    let (fee_now, _) = model
        .fee_at(
            OrderSide::Sell,
            d("1542000"),
            Liquidity::Taker,
            at("2026-12-07T05:00:00Z"),
        )
        .unwrap();
    assert_eq!(fee_now - fee_2025, d("463"));
    // A history out of order, or with a day that is not one, is refused naming it.
    let mut bad = sheet.clone();
    let mut history = ZerodhaCharges::published_stt_history();
    history.swap(0, 1);
    bad.stt_sell_before = Some(history);
    assert!(
        bad.problem()
            .unwrap()
            .contains("stt_sell_before[1].until 2024-10-01"),
        "{:?}",
        bad.problem()
    );
    let mut bad = sheet;
    let mut history = ZerodhaCharges::published_stt_history();
    history[0].until = "2024-13-01".into();
    bad.stt_sell_before = Some(history);
    assert!(
        bad.problem().unwrap().contains("stt_sell_before[0].until"),
        "{:?}",
        bad.problem()
    );
}
