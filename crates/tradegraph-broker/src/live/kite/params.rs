//! The forms Kite's order endpoints take: `POST /orders/regular`, `PUT
//! /orders/regular/{id}` and `POST /gtt/triggers` (a two-leg OCO for stop and target).

use super::rules::{tag_of, KiteRules};
use super::KiteConfig;
use crate::live::VenueReason;
use rust_decimal::Decimal;
use tradegraph_core::order::{OrderKind, OrderRequest, OrderSide, TimeInForce};

/// A form: field names and values, in order.
pub type Form = Vec<(&'static str, String)>;

/// `BUY` or `SELL`.
pub fn side_of(side: OrderSide) -> &'static str {
    match side {
        OrderSide::Buy => "BUY",
        OrderSide::Sell => "SELL",
    }
}

/// The limit of a stop-limit (`SL`) order: `ticks` ticks past the trigger, in the direction
/// the stop trades (below for a sell, above for a buy).
pub fn stop_limit(rules: &KiteRules, side: OrderSide, trigger: Decimal, ticks: u32) -> Decimal {
    let offset = rules.tick_size * Decimal::from(ticks);
    match side {
        OrderSide::Sell => (trigger - offset).max(rules.tick_size),
        OrderSide::Buy => trigger + offset,
    }
}

/// The limit of a GTT's stop leg (a LIMIT order placed when the stop triggers): past the
/// trigger by the protection band `config.gtt_stop_band_bps` of it (basis points, on the
/// grid), or by `stop_limit_ticks` ticks when that is further, so that a gap through the
/// trigger still fills it. The broker watches a triggered stop leg and moves its limit with
/// the price if it rests unfilled all the same.
///
/// ```
/// use tradegraph_broker::live::kite::{gtt_stop_limit, KiteConfig, KiteRules};
/// use tradegraph_core::order::OrderSide;
/// use tradegraph_core::redact::Secret;
/// use tradegraph_core::Decimal;
/// let config = KiteConfig::new(Secret::new("k"), Secret::new("t"), "NFO", "BANKNIFTY25JANFUT");
/// let rules = KiteRules { lot_size: 30, tick_size: Decimal::new(5, 2) };
/// // 0.5 % below a sell stop at 48 000: 240 points.
/// assert_eq!(gtt_stop_limit(&config, &rules, OrderSide::Sell, Decimal::from(48000)), Decimal::from(47760));
/// ```
pub fn gtt_stop_limit(
    config: &KiteConfig,
    rules: &KiteRules,
    side: OrderSide,
    trigger: Decimal,
) -> Decimal {
    let band = rules.to_grid(
        trigger * Decimal::from(config.gtt_stop_band_bps) / Decimal::from(10_000),
        true,
    );
    let ticks = rules.tick_size * Decimal::from(config.stop_limit_ticks.unwrap_or(1));
    let offset = band.max(ticks);
    match side {
        OrderSide::Sell => (trigger - offset).max(rules.tick_size),
        OrderSide::Buy => trigger + offset,
    }
}

/// The form of `POST /orders/regular` for a request (after [`KiteRules::check`]). A trailing
/// stop goes out as a stop at `trigger` (the broker computes it from the price).
///
/// ```
/// use tradegraph_broker::live::kite::{place_form, KiteConfig, KiteRules};
/// use tradegraph_core::order::{ClientOrderId, OrderRequest, OrderSide};
/// use tradegraph_core::redact::Secret;
/// use tradegraph_core::{Decimal, Symbol};
/// let config = KiteConfig::new(Secret::new("k"), Secret::new("t"), "NFO", "BANKNIFTY25JANFUT");
/// let rules = KiteRules { lot_size: 30, tick_size: Decimal::new(5, 2) };
/// let id = ClientOrderId::new("tg0123456789abcdef").unwrap();
/// let req = OrderRequest::market(id, Symbol::new("BANKNIFTY"), OrderSide::Buy, Decimal::from(30));
/// let form = place_form(&config, &rules, &req, None).unwrap();
/// assert!(form.contains(&("order_type", "MARKET".to_owned())));
/// assert!(form.contains(&("market_protection", "-1".to_owned())));
/// assert!(form.contains(&("tag", "tg0123456789abcdef".to_owned())));
/// ```
///
/// # Errors
/// The rule the request breaks.
pub fn place_form(
    config: &KiteConfig,
    rules: &KiteRules,
    request: &OrderRequest,
    trailing_trigger: Option<Decimal>,
) -> Result<Form, VenueReason> {
    rules.check_quantity(request.quantity)?;
    let mut form: Form = vec![
        ("exchange", config.exchange.clone()),
        ("tradingsymbol", config.tradingsymbol.clone()),
        ("transaction_type", side_of(request.side).to_owned()),
        ("quantity", request.quantity.normalize().to_string()),
        ("product", config.product.as_str().to_owned()),
        (
            "validity",
            match request.time_in_force {
                TimeInForce::Ioc => "IOC",
                // Kite has no good-till-cancelled regular order: it works until the close.
                TimeInForce::Day | TimeInForce::Gtc => "DAY",
                // Fill-or-kill (and anything else): not to be sent as an order that rests.
                other => {
                    let what = match other {
                        TimeInForce::Fok => "fill-or-kill".to_owned(),
                        other => format!("{other:?}"),
                    };
                    return Err(VenueReason::FilterFailed {
                        filter: "validity".into(),
                        detail: format!("Kite has no {what} validity (it takes DAY, IOC or TTL): send IOC, which may fill in part, or DAY"),
                    });
                }
            }
            .to_owned(),
        ),
        ("tag", tag_of(&request.client_id)?),
    ];
    let stop = |trigger: Decimal, form: &mut Form| -> Result<(), VenueReason> {
        rules.check_price("stop trigger", trigger)?;
        stop_fields(config, rules, request.side, trigger, form);
        Ok(())
    };
    match request.kind {
        OrderKind::Market => {
            form.push(("order_type", "MARKET".into()));
            form.push(("market_protection", "-1".into()));
        }
        OrderKind::Limit { price } => {
            rules.check_price("limit price", price)?;
            form.push(("order_type", "LIMIT".into()));
            form.push(("price", price.normalize().to_string()));
        }
        OrderKind::Stop { trigger } => stop(trigger, &mut form)?,
        OrderKind::TrailingStop { distance } => match trailing_trigger {
            Some(trigger) => stop(trigger, &mut form)?,
            None => {
                return Err(VenueReason::FilterFailed {
                    filter: "trailing stop".into(),
                    detail: format!(
                        "a trailing stop {distance} away needs a last price to start from: wait for a tick"
                    ),
                })
            }
        },
        _ => {
            return Err(VenueReason::Other {
                code: "unsupported".into(),
                message: format!("Kite orders cannot be {}", request.kind),
            })
        }
    }
    Ok(form)
}

/// `SL` (with the configured limit offset) or `SL-M` fields of a stop at `trigger`.
fn stop_fields(
    config: &KiteConfig,
    rules: &KiteRules,
    side: OrderSide,
    trigger: Decimal,
    form: &mut Form,
) {
    form.push(("trigger_price", trigger.normalize().to_string()));
    match config.stop_limit_ticks {
        Some(ticks) => {
            form.push(("order_type", "SL".into()));
            form.push((
                "price",
                stop_limit(rules, side, trigger, ticks)
                    .normalize()
                    .to_string(),
            ));
        }
        None => {
            form.push(("order_type", "SL-M".into()));
            form.push(("market_protection", "-1".into()));
        }
    }
}

/// The form of `PUT /orders/regular/{id}` moving a stop to `trigger` (a trailing stop).
pub fn modify_stop_form(
    config: &KiteConfig,
    rules: &KiteRules,
    side: OrderSide,
    quantity: Decimal,
    trigger: Decimal,
) -> Form {
    let mut form: Form = vec![("quantity", quantity.normalize().to_string())];
    stop_fields(config, rules, side, trigger, &mut form);
    form.retain(|(k, _)| *k != "market_protection");
    form
}

/// The form of `PUT /orders/regular/{id}` changing a limit order's price and quantity.
pub fn modify_limit_form(quantity: Decimal, price: Decimal) -> Form {
    vec![
        ("order_type", "LIMIT".into()),
        ("quantity", quantity.normalize().to_string()),
        ("price", price.normalize().to_string()),
    ]
}

/// The form of `POST /gtt/triggers` for a stop and a target closing a filled entry: a
/// `two-leg` (OCO) GTT whose legs are LIMIT orders (the only kind a GTT places), the stop's
/// limit past its trigger by the protection band (see [`gtt_stop_limit`]). Kite documents
/// GTTs for the CNC and NRML products: the broker uses them for NRML only.
///
/// # Errors
/// A price off the grid, or a stop and target on the wrong sides of the last price.
#[allow(clippy::too_many_arguments)]
pub fn gtt_oco_form(
    config: &KiteConfig,
    rules: &KiteRules,
    exit_side: OrderSide,
    quantity: Decimal,
    stop: Decimal,
    target: Decimal,
    last_price: Decimal,
) -> Result<Form, VenueReason> {
    rules.check_price("stop-loss", stop)?;
    rules.check_price("take-profit", target)?;
    let (low, high) = match exit_side {
        OrderSide::Sell => (stop, target),
        OrderSide::Buy => (target, stop),
    };
    if !(low < last_price && last_price < high) {
        return Err(VenueReason::FilterFailed {
            filter: "gtt trigger".into(),
            detail: format!(
                "stop-loss {} and take-profit {} must be on either side of the last price {}",
                stop.normalize(),
                target.normalize(),
                last_price.normalize()
            ),
        });
    }
    let stop_price = gtt_stop_limit(config, rules, exit_side, stop);
    let leg = |price: Decimal| {
        serde_json::json!({
            "exchange": config.exchange,
            "tradingsymbol": config.tradingsymbol,
            "transaction_type": side_of(exit_side),
            "quantity": number(quantity),
            "order_type": "LIMIT",
            "product": config.product.as_str(),
            "price": number(price),
        })
    };
    let (low_leg, high_leg) = match exit_side {
        OrderSide::Sell => (leg(stop_price), leg(target)),
        OrderSide::Buy => (leg(target), leg(stop_price)),
    };
    let condition = serde_json::json!({
        "exchange": config.exchange,
        "tradingsymbol": config.tradingsymbol,
        "trigger_values": [number(low), number(high)],
        "last_price": number(last_price),
    });
    Ok(vec![
        ("type", "two-leg".into()),
        ("condition", condition.to_string()),
        (
            "orders",
            serde_json::Value::Array(vec![low_leg, high_leg]).to_string(),
        ),
    ])
}

/// A decimal as a JSON number with its exact digits (Kite reads JSON numbers).
fn number(d: Decimal) -> serde_json::Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tradegraph_core::order::ClientOrderId;
    use tradegraph_core::redact::Secret;
    use tradegraph_core::Symbol;

    fn setup() -> (KiteConfig, KiteRules, OrderRequest) {
        let config = KiteConfig::new(
            Secret::new("k"),
            Secret::new("t"),
            "NFO",
            "BANKNIFTY25JANFUT",
        );
        let rules = KiteRules {
            lot_size: 30,
            tick_size: Decimal::new(5, 2),
        };
        let id = ClientOrderId::new("tg0123456789abcdef").unwrap();
        let req = OrderRequest::stop(
            id,
            Symbol::new("BANKNIFTY"),
            OrderSide::Sell,
            Decimal::from(30),
            Decimal::new(4790005, 2),
        );
        (config, rules, req)
    }

    /// Kite's validities are DAY, IOC and TTL: a fill-or-kill order is refused, never sent
    /// as an order that rests for the day (nor as IOC, which may fill in part).
    #[test]
    fn fill_or_kill_is_refused_not_sent_as_a_day_order() {
        let (config, rules, _) = setup();
        let id = ClientOrderId::new("tg0123456789abcde0").unwrap();
        let limit = |tif: TimeInForce| {
            OrderRequest::limit(
                id.clone(),
                Symbol::new("BANKNIFTY"),
                OrderSide::Buy,
                Decimal::from(30),
                Decimal::from(48_000),
            )
            .time_in_force(tif)
        };
        let refused = place_form(&config, &rules, &limit(TimeInForce::Fok), None).unwrap_err();
        assert!(
            matches!(&refused, VenueReason::FilterFailed { filter, .. } if filter == "validity"),
            "{refused:?}"
        );
        assert!(refused.to_string().contains("fill-or-kill"), "{refused}");
        let validity = |tif| {
            place_form(&config, &rules, &limit(tif), None)
                .unwrap()
                .into_iter()
                .find(|(k, _)| *k == "validity")
                .map(|(_, v)| v)
        };
        assert_eq!(validity(TimeInForce::Ioc).as_deref(), Some("IOC"));
        assert_eq!(validity(TimeInForce::Day).as_deref(), Some("DAY"));
        // Kite has no good-till-cancelled regular order: it works until the session ends.
        assert_eq!(validity(TimeInForce::Gtc).as_deref(), Some("DAY"));
    }

    #[test]
    fn stops_are_sl_m_or_sl_with_a_limit_past_the_trigger() {
        let (mut config, rules, req) = setup();
        let form = place_form(&config, &rules, &req, None).unwrap();
        assert!(form.contains(&("order_type", "SL-M".into())));
        assert!(form.contains(&("trigger_price", "47900.05".into())));
        config.stop_limit_ticks = Some(4);
        let form = place_form(&config, &rules, &req, None).unwrap();
        assert!(form.contains(&("order_type", "SL".into())));
        assert!(form.contains(&("price", "47899.85".into())));
        let moved = modify_stop_form(
            &config,
            &rules,
            OrderSide::Sell,
            Decimal::from(30),
            Decimal::new(4800000, 2),
        );
        assert!(
            moved.contains(&("trigger_price", "48000".into())),
            "{moved:?}"
        );
    }

    #[test]
    fn the_gtt_is_a_two_leg_oco_of_limit_orders() {
        let (config, rules, _) = setup();
        let form = gtt_oco_form(
            &config,
            &rules,
            OrderSide::Sell,
            Decimal::from(30),
            Decimal::from(47900),
            Decimal::from(48500),
            Decimal::from(48200),
        )
        .unwrap();
        assert_eq!(form[0], ("type", "two-leg".into()));
        let condition: serde_json::Value = serde_json::from_str(&form[1].1).unwrap();
        assert_eq!(
            condition["trigger_values"],
            serde_json::json!([47900, 48500])
        );
        let orders: serde_json::Value = serde_json::from_str(&form[2].1).unwrap();
        // 0.5 % of 47 900 (239.5) below the trigger.
        assert_eq!(orders[0]["price"], serde_json::json!(47660.5));
        assert_eq!(orders[1]["order_type"], "LIMIT");
        let wrong = gtt_oco_form(
            &config,
            &rules,
            OrderSide::Sell,
            Decimal::from(30),
            Decimal::from(48300),
            Decimal::from(48500),
            Decimal::from(48200),
        );
        assert!(wrong
            .unwrap_err()
            .to_string()
            .contains("either side of the last price 48200"));
    }
}
