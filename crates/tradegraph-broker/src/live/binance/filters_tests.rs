#![allow(clippy::unwrap_used)]
use super::*;
use proptest::prelude::*;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub(crate) fn btc() -> SymbolRules {
    SymbolRules {
        symbol: "BTCUSDT".into(),
        base_asset: "BTC".into(),
        quote_asset: "USDT".into(),
        price: Some(PriceFilter {
            min: d("0.01"),
            max: d("1000000"),
            tick: d("0.01"),
        }),
        lot: Some(LotFilter {
            min: d("0.00001"),
            max: d("9000"),
            step: d("0.00001"),
        }),
        market_lot: Some(LotFilter {
            min: d("0"),
            max: d("100"),
            step: d("0"),
        }),
        notional: Some(NotionalFilter {
            min: d("5"),
            max: Some(d("9000000")),
            min_to_market: true,
            max_to_market: false,
            name: "NOTIONAL",
        }),
        percent_price: Some(PercentPriceBySide {
            bid_up: d("5"),
            bid_down: d("0.2"),
            ask_up: d("5"),
            ask_down: d("0.2"),
        }),
        ..SymbolRules::default()
    }
}

fn limit(side: OrderSide, quantity: &str, price: &str) -> Candidate {
    Candidate {
        side,
        market: false,
        quantity: d(quantity),
        price: Some(d(price)),
        stop_price: None,
        reference: Some(d("40000")),
    }
}

#[test]
fn each_filter_names_itself_with_the_numbers() {
    let rules = btc();
    let dust = rules
        .check(&limit(OrderSide::Buy, "0.000001", "40000"))
        .unwrap_err();
    assert_eq!(dust.filter, "LOT_SIZE");
    assert!(dust.detail.contains("minQty 0.00001"), "{dust}");
    let small = rules
        .check(&limit(OrderSide::Buy, "0.0001", "40000"))
        .unwrap_err();
    assert_eq!(small.filter, "NOTIONAL");
    assert!(
        small.detail.contains("= 4.0000") && small.detail.contains("minNotional 5"),
        "{small}"
    );
    let far = rules
        .check(&limit(OrderSide::Buy, "0.001", "300000"))
        .unwrap_err();
    assert_eq!(far.filter, "PERCENT_PRICE_BY_SIDE");
    let huge = rules
        .check(&limit(OrderSide::Sell, "1", "2000000"))
        .unwrap_err();
    assert_eq!(huge.filter, "PRICE_FILTER");
    let too_many = rules
        .check(&limit(OrderSide::Sell, "9001", "40000"))
        .unwrap_err();
    assert_eq!(too_many.filter, "LOT_SIZE");
    let market = Candidate {
        market: true,
        price: None,
        ..limit(OrderSide::Buy, "101", "1")
    };
    assert_eq!(rules.check(&market).unwrap_err().filter, "MARKET_LOT_SIZE");
}

#[test]
fn rounding_goes_to_the_safe_side() {
    let rules = btc();
    let buy = rules
        .check(&limit(OrderSide::Buy, "0.0012345", "40000.129"))
        .unwrap();
    assert_eq!(
        (buy.quantity, buy.price),
        (d("0.00123"), Some(d("40000.12")))
    );
    let sell = rules
        .check(&limit(OrderSide::Sell, "0.0012345", "40000.121"))
        .unwrap();
    assert_eq!(
        (sell.quantity, sell.price),
        (d("0.00123"), Some(d("40000.13")))
    );
    let stop = Candidate {
        stop_price: Some(d("39000.001")),
        price: None,
        ..limit(OrderSide::Sell, "0.001", "1")
    };
    assert_eq!(rules.check(&stop).unwrap().stop_price, Some(d("39000.01")));
    // A market order uses LOT_SIZE's step when MARKET_LOT_SIZE's is 0.
    let market = Candidate {
        market: true,
        price: None,
        ..limit(OrderSide::Buy, "0.0012345", "1")
    };
    assert_eq!(rules.check(&market).unwrap().quantity, d("0.00123"));
}

proptest! {
    #[test]
    fn accepted_orders_are_on_the_grid_and_never_grow(
        qty in 1u64..100_000_000_000,
        price in 1u64..100_000_000_000,
        sell in any::<bool>(),
    ) {
        let rules = btc();
        let side = if sell { OrderSide::Sell } else { OrderSide::Buy };
        let order = Candidate {
            side,
            market: false,
            quantity: Decimal::new(qty as i64, 8),
            price: Some(Decimal::new(price as i64, 3)),
            stop_price: None,
            reference: Some(Decimal::new(price as i64, 3)),
        };
        match rules.check(&order) {
            Ok(c) => {
                prop_assert!(c.quantity <= order.quantity);
                prop_assert!(order.quantity - c.quantity < d("0.00001"));
                prop_assert!(is_multiple_of(c.quantity - d("0.00001"), d("0.00001")));
                let p = c.price.unwrap();
                prop_assert!(is_multiple_of(p - d("0.01"), d("0.01")));
                prop_assert!((p - order.price.unwrap()).abs() < d("0.01"));
                if sell { prop_assert!(p >= order.price.unwrap()) } else { prop_assert!(p <= order.price.unwrap()) }
                prop_assert!(c.quantity * p >= d("5"));
                // Checking the result again changes nothing.
                let again = rules.check(&Candidate { quantity: c.quantity, price: c.price, ..order }).unwrap();
                prop_assert_eq!(again, c);
            }
            Err(refusal) => {
                prop_assert!(["LOT_SIZE", "NOTIONAL", "PRICE_FILTER"].contains(&refusal.filter), "{}", refusal);
            }
        }
    }
}

fn trailing_filter() -> TrailingDeltaFilter {
    TrailingDeltaFilter {
        min_above: 10,
        max_above: 2000,
        min_below: 20,
        max_below: 1500,
    }
}

#[test]
fn trailing_delta_uses_the_above_bounds_for_buy_stops_and_sell_targets() {
    let f = trailing_filter();
    // 1800 BIPS: inside the "above" bounds (10..=2000), outside the "below" ones (20..=1500).
    assert!(f.check(OrderSide::Buy, true, 1800).is_ok());
    assert!(f.check(OrderSide::Sell, false, 1800).is_ok());
    let sell_stop = f.check(OrderSide::Sell, true, 1800).unwrap_err();
    assert_eq!(sell_stop.filter, "TRAILING_DELTA");
    assert_eq!(
        sell_stop.detail,
        "trailingDelta 1800 BIPS is above maxTrailingBelowDelta 1500"
    );
    let buy_target = f.check(OrderSide::Buy, false, 15).unwrap_err();
    assert_eq!(
        buy_target.detail,
        "trailingDelta 15 BIPS is below minTrailingBelowDelta 20"
    );
    assert_eq!(
        f.check(OrderSide::Buy, true, 5).unwrap_err().detail,
        "trailingDelta 5 BIPS is below minTrailingAboveDelta 10"
    );
    // A symbol without the filter takes any delta.
    assert!(SymbolRules::default()
        .check_trailing(OrderSide::Sell, true, 1_000_000)
        .is_ok());
}

proptest! {
    #[test]
    fn trailing_delta_passes_exactly_inside_its_bounds(
        bips in 0u32..5_000,
        bounds in (0u32..3_000, 0u32..3_000, 0u32..3_000, 0u32..3_000),
        buy in any::<bool>(),
        stop_loss in any::<bool>(),
    ) {
        let f = TrailingDeltaFilter {
            min_above: bounds.0.min(bounds.1),
            max_above: bounds.0.max(bounds.1),
            min_below: bounds.2.min(bounds.3),
            max_below: bounds.2.max(bounds.3),
        };
        let side = if buy { OrderSide::Buy } else { OrderSide::Sell };
        // Binance: STOP_LOSS* BUY and TAKE_PROFIT* SELL trigger above the market.
        let above = (buy && stop_loss) || (!buy && !stop_loss);
        let (min, max) = if above { (f.min_above, f.max_above) } else { (f.min_below, f.max_below) };
        let rules = SymbolRules { trailing_delta: Some(f), ..btc() };
        match rules.check_trailing(side, stop_loss, bips) {
            Ok(()) => prop_assert!(min <= bips && bips <= max),
            Err(refusal) => {
                prop_assert!(bips < min || bips > max);
                prop_assert_eq!(refusal.filter, "TRAILING_DELTA");
                let which = if above { "Above" } else { "Below" };
                let bound = if bips < min {
                    format!("below minTrailing{which}Delta {min}")
                } else {
                    format!("above maxTrailing{which}Delta {max}")
                };
                prop_assert!(refusal.detail.contains(&bound), "{}", refusal);
                prop_assert!(refusal.detail.contains(&format!("trailingDelta {bips} BIPS")), "{}", refusal);
            }
        }
    }
}
