//! The local Kite venue's order book: checks an order form as Kite does, keeps the orders,
//! matches them when the test moves the price, and answers in Kite's JSON.

use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::str::FromStr;

/// A refusal in Kite's terms: HTTP status, `error_type` and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KiteFail {
    /// HTTP status.
    pub status: u16,
    /// `InputException`, `OrderException`, ...
    pub error_type: &'static str,
    /// The message.
    pub message: String,
}

impl KiteFail {
    pub(crate) fn input(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            error_type: "InputException",
            message: message.into(),
        }
    }

    /// The error body Kite sends.
    pub fn body(&self) -> Value {
        json!({"status": "error", "message": self.message, "data": null, "error_type": self.error_type})
    }
}

/// One order at the venue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueOrder {
    /// Kite's order id.
    pub order_id: String,
    /// The `tag` sent (our client order id).
    pub tag: Option<String>,
    /// The contract (`tradingsymbol`) ordered.
    pub tradingsymbol: String,
    /// `BUY` or `SELL`.
    pub side: String,
    /// `MARKET`, `LIMIT`, `SL`, `SL-M`.
    pub order_type: String,
    /// `MIS` or `NRML`.
    pub product: String,
    /// Ordered.
    pub quantity: Decimal,
    /// Filled.
    pub filled: Decimal,
    /// The limit (0 when none).
    pub price: Decimal,
    /// The trigger (0 when none).
    pub trigger_price: Decimal,
    /// The average fill price.
    pub average_price: Decimal,
    /// Kite's status text.
    pub status: String,
    /// Why rejected or cancelled.
    pub status_message: Option<String>,
    /// Its trades: (trade id, quantity, price).
    pub trades: Vec<(String, Decimal, Decimal)>,
    /// How many times it was modified (Kite allows [`MAX_MODIFICATIONS`]).
    pub modifications: u32,
}

/// Kite takes at most this many modifications of one order.
pub const MAX_MODIFICATIONS: u32 = 25;

impl VenueOrder {
    pub(crate) fn working(&self) -> bool {
        matches!(self.status.as_str(), "OPEN" | "TRIGGER PENDING")
    }

    /// The order as `GET /orders` and the WebSocket show it (in its own contract;
    /// `tradingsymbol` for an order placed without one).
    pub fn to_json(&self, exchange: &str, tradingsymbol: &str) -> Value {
        let tradingsymbol = if self.tradingsymbol.is_empty() {
            tradingsymbol
        } else {
            self.tradingsymbol.as_str()
        };
        json!({
            "order_id": self.order_id, "exchange_order_id": null, "status": self.status,
            "status_message": self.status_message, "tag": self.tag, "tags": self.tag.iter().collect::<Vec<_>>(),
            "exchange": exchange, "tradingsymbol": tradingsymbol, "transaction_type": self.side,
            "order_type": self.order_type, "product": self.product, "variety": "regular", "validity": "DAY",
            "quantity": number(self.quantity), "filled_quantity": number(self.filled),
            "pending_quantity": number(if self.working() { self.quantity - self.filled } else { Decimal::ZERO }),
            "price": number(self.price), "trigger_price": number(self.trigger_price),
            "average_price": number(self.average_price),
        })
    }
}

/// A decimal as a JSON number with its digits (Kite sends numbers).
pub fn number(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::Null)
}

/// The orders, the price and the instrument's rules.
#[derive(Debug)]
pub struct Book {
    /// Every order, in placement order.
    pub orders: Vec<VenueOrder>,
    /// The last price the test set.
    pub price: Option<Decimal>,
    /// Lot size of the instrument.
    pub lot_size: Decimal,
    /// Tick size of the instrument.
    pub tick_size: Decimal,
    /// When set, the next match fills only this much (then the rest on later prices).
    pub partial: Option<Decimal>,
    /// When set, the next order placed is accepted, then rejected with this message (Kite's
    /// margin and risk checks after taking a request).
    pub reject_next: Option<String>,
    /// While set, new trades are left out of `GET /orders/{id}/trades` (Kite's trade book
    /// lags its order status); they show once it is cleared.
    pub delay_trades: bool,
    /// The trades left out for now.
    pub hidden_trades: std::collections::HashSet<String>,
    /// Each trade's `fill_timestamp` (India's time).
    pub trade_times: HashMap<String, String>,
    next_order: u64,
    next_trade: u64,
}

fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> Result<&'a str, KiteFail> {
    form.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| KiteFail::input(format!("Missing `{name}`")))
}

fn dec(form: &HashMap<String, String>, name: &str) -> Result<Decimal, KiteFail> {
    let text = field(form, name)?;
    Decimal::from_str(text).map_err(|_| KiteFail::input(format!("Invalid `{name}`.")))
}

impl Book {
    /// An empty book for an instrument with these rules.
    pub fn new(lot_size: u32, tick_size: Decimal) -> Self {
        Self {
            orders: Vec::new(),
            price: None,
            lot_size: Decimal::from(lot_size),
            tick_size,
            partial: None,
            reject_next: None,
            delay_trades: false,
            hidden_trades: std::collections::HashSet::new(),
            trade_times: HashMap::new(),
            next_order: 250_101_000_000_001,
            next_trade: 1,
        }
    }

    fn on_grid(&self, what: &str, price: Decimal) -> Result<Decimal, KiteFail> {
        if price <= Decimal::ZERO || !(price % self.tick_size).is_zero() {
            return Err(KiteFail::input(format!(
                "{what} {price} is not a multiple of tick size {}",
                self.tick_size
            )));
        }
        Ok(price)
    }

    /// `POST /orders/regular`: checks the form as Kite does and keeps the order; returns its
    /// id. A refused order that Kite would still record (margins) is kept as `REJECTED`.
    ///
    /// # Errors
    /// Kite's refusal for an invalid form.
    pub fn place(&mut self, form: &HashMap<String, String>) -> Result<String, KiteFail> {
        let side = field(form, "transaction_type")?;
        if side != "BUY" && side != "SELL" {
            return Err(KiteFail::input("Invalid `transaction_type`."));
        }
        let product = field(form, "product")?;
        if product != "MIS" && product != "NRML" {
            return Err(KiteFail::input("Invalid `product`."));
        }
        let quantity = dec(form, "quantity")?;
        if quantity <= Decimal::ZERO || !(quantity % self.lot_size).is_zero() {
            return Err(KiteFail::input(format!(
                "Quantity should be a multiple of lot size {}",
                self.lot_size
            )));
        }
        let order_type = field(form, "order_type")?.to_owned();
        let (mut price, mut trigger) = (Decimal::ZERO, Decimal::ZERO);
        match order_type.as_str() {
            "MARKET" | "SL-M" => match form.get("market_protection").map(String::as_str) {
                Some("-1") => {}
                Some(p) if Decimal::from_str(p).is_ok_and(|p| p > Decimal::ZERO && p <= Decimal::ONE_HUNDRED) => {}
                _ => {
                    return Err(KiteFail::input(
                        "Market orders without market protection are not allowed via API. Please set market protection or use a Limit order.",
                    ))
                }
            },
            "LIMIT" | "SL" => price = self.on_grid("Price", dec(form, "price")?)?,
            _ => return Err(KiteFail::input("Invalid `order_type`.")),
        }
        if order_type.starts_with("SL") {
            trigger = self.on_grid("Trigger price", dec(form, "trigger_price")?)?;
        }
        let tag = form.get("tag").filter(|t| !t.is_empty()).cloned();
        if let Some(tag) = &tag {
            if tag.len() > 20 {
                return Err(KiteFail::input("`tag` should be max 20 characters"));
            }
        }
        let order_id = self.next_order.to_string();
        self.next_order += 1;
        let status = if trigger > Decimal::ZERO {
            "TRIGGER PENDING"
        } else {
            "OPEN"
        };
        self.orders.push(VenueOrder {
            order_id: order_id.clone(),
            tag,
            tradingsymbol: form.get("tradingsymbol").cloned().unwrap_or_default(),
            side: side.to_owned(),
            order_type,
            product: product.to_owned(),
            quantity,
            filled: Decimal::ZERO,
            price,
            trigger_price: trigger,
            average_price: Decimal::ZERO,
            status: status.to_owned(),
            status_message: None,
            trades: Vec::new(),
            modifications: 0,
        });
        if let Some(message) = self.reject_next.take() {
            self.reject(&order_id, &message);
            return Ok(order_id);
        }
        if let Some(price) = self.price {
            self.match_at(price);
        }
        Ok(order_id)
    }

    /// Marks the order rejected (as Kite does after accepting a request, e.g. for margins).
    pub fn reject(&mut self, order_id: &str, message: &str) {
        if let Some(o) = self.orders.iter_mut().find(|o| o.order_id == order_id) {
            o.status = "REJECTED".into();
            o.status_message = Some(message.to_owned());
        }
    }

    fn working_mut(&mut self, order_id: &str) -> Result<&mut VenueOrder, KiteFail> {
        let order = self
            .orders
            .iter_mut()
            .find(|o| o.order_id == order_id)
            .ok_or(KiteFail {
                status: 400,
                error_type: "OrderException",
                message: "Couldn't find that order.".into(),
            })?;
        if !order.working() {
            return Err(KiteFail {
                status: 400,
                error_type: "OrderException",
                message: format!(
                    "Order cannot be modified or cancelled as it is {}",
                    order.status
                ),
            });
        }
        Ok(order)
    }

    /// `PUT /orders/regular/{id}`: new quantity, price or trigger.
    ///
    /// # Errors
    /// Kite's refusal.
    pub fn modify(
        &mut self,
        order_id: &str,
        form: &HashMap<String, String>,
    ) -> Result<(), KiteFail> {
        let price = form.get("price").map(|_| dec(form, "price")).transpose()?;
        let trigger = form
            .get("trigger_price")
            .map(|_| dec(form, "trigger_price"))
            .transpose()?;
        let quantity = form
            .get("quantity")
            .map(|_| dec(form, "quantity"))
            .transpose()?;
        if let Some(p) = price.filter(|p| !p.is_zero()) {
            self.on_grid("Price", p)?;
        }
        if let Some(t) = trigger {
            self.on_grid("Trigger price", t)?;
        }
        let lot = self.lot_size;
        let order = self.working_mut(order_id)?;
        if order.modifications >= MAX_MODIFICATIONS {
            return Err(KiteFail {
                status: 400,
                error_type: "OrderException",
                message: format!(
                    "Maximum allowed order modifications ({MAX_MODIFICATIONS}) exceeded."
                ),
            });
        }
        if let Some(q) = quantity {
            if q <= order.filled || !(q % lot).is_zero() {
                return Err(KiteFail::input(format!(
                    "Quantity should be a multiple of lot size {lot}"
                )));
            }
            order.quantity = q;
        }
        if let Some(p) = price {
            order.price = p;
        }
        if let Some(t) = trigger {
            order.trigger_price = t;
        }
        order.modifications += 1;
        if let Some(price) = self.price {
            self.match_at(price);
        }
        Ok(())
    }

    /// `DELETE /orders/regular/{id}`.
    ///
    /// # Errors
    /// Kite's refusal for an unknown or finished order.
    pub fn cancel(&mut self, order_id: &str) -> Result<(), KiteFail> {
        let order = self.working_mut(order_id)?;
        order.status = "CANCELLED".into();
        Ok(())
    }

    /// Moves the price and fills what it reaches; returns the ids of the orders that changed.
    pub fn set_price(&mut self, price: Decimal) -> Vec<String> {
        self.price = Some(price);
        self.match_at(price)
    }

    fn match_at(&mut self, last: Decimal) -> Vec<String> {
        let mut changed = Vec::new();
        for i in 0..self.orders.len() {
            let o = &mut self.orders[i];
            if !o.working() {
                continue;
            }
            let buy = o.side == "BUY";
            if o.status == "TRIGGER PENDING" {
                let hit = if buy {
                    last >= o.trigger_price
                } else {
                    last <= o.trigger_price
                };
                if !hit {
                    continue;
                }
                o.status = "OPEN".into();
                changed.push(o.order_id.clone());
            }
            let limit_ok =
                o.price.is_zero() || (buy && last <= o.price) || (!buy && last >= o.price);
            if !limit_ok {
                continue;
            }
            let rest = o.quantity - o.filled;
            let qty = self.partial.take().map_or(rest, |p| p.min(rest));
            let value = o.average_price * o.filled + last * qty;
            o.filled += qty;
            o.average_price = value / o.filled;
            let trade_id = format!("T{:08}", self.next_trade);
            self.next_trade += 1;
            self.trade_times
                .insert(trade_id.clone(), super::clock::ist_now());
            if self.delay_trades {
                self.hidden_trades.insert(trade_id.clone());
            }
            o.trades.push((trade_id, qty, last));
            if o.filled == o.quantity {
                o.status = "COMPLETE".into();
            }
            if changed.last() != Some(&o.order_id) {
                changed.push(o.order_id.clone());
            }
        }
        changed
    }

    /// The net position: signed quantity and average price of what filled.
    pub fn net(&self) -> (Decimal, Decimal) {
        self.net_in(None)
    }

    /// The net position in one contract (`None`: every order).
    pub fn net_in(&self, tradingsymbol: Option<&str>) -> (Decimal, Decimal) {
        self.net_of(tradingsymbol, None)
    }

    /// The net position in one contract and product (`MIS`, `NRML`; `None`: any).
    pub fn net_of(&self, tradingsymbol: Option<&str>, product: Option<&str>) -> (Decimal, Decimal) {
        let (mut qty, mut buy_value, mut buy_qty) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        let orders = self.orders.iter().filter(|o| {
            tradingsymbol.is_none_or(|s| o.tradingsymbol == s)
                && product.is_none_or(|p| o.product == p)
        });
        for o in orders {
            for (_, q, p) in &o.trades {
                if o.side == "BUY" {
                    qty += q;
                    buy_value += q * p;
                    buy_qty += q;
                } else {
                    qty -= q;
                }
            }
        }
        let avg = if buy_qty.is_zero() {
            Decimal::ZERO
        } else {
            buy_value / buy_qty
        };
        (qty, avg)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn base(extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut f = form(&[
            ("exchange", "NFO"),
            ("tradingsymbol", "BANKNIFTY25JANFUT"),
            ("transaction_type", "BUY"),
            ("quantity", "60"),
            ("product", "MIS"),
            ("tag", "tg0123456789abcdef"),
        ]);
        f.extend(form(extra));
        f
    }

    #[test]
    fn orders_are_checked_kept_and_matched_like_kite() {
        let mut book = Book::new(30, Decimal::new(5, 2));
        let no_protection = book.place(&base(&[("order_type", "MARKET")])).unwrap_err();
        assert!(no_protection.message.contains("market protection"));
        assert!(book
            .place(&base(&[("order_type", "LIMIT"), ("price", "100.02")]))
            .unwrap_err()
            .message
            .contains("tick size"));
        assert!(book
            .place(&base(&[
                ("order_type", "LIMIT"),
                ("price", "100"),
                ("quantity", "45")
            ]))
            .unwrap_err()
            .message
            .contains("lot size 30"));
        let limit = book
            .place(&base(&[("order_type", "LIMIT"), ("price", "100")]))
            .unwrap();
        book.partial = Some(Decimal::from(30));
        assert_eq!(book.set_price(Decimal::from(101)), Vec::<String>::new());
        assert_eq!(book.set_price(Decimal::new(9995, 2)), vec![limit.clone()]);
        assert_eq!(
            (book.orders[0].filled, book.orders[0].status.as_str()),
            (Decimal::from(30), "OPEN")
        );
        book.set_price(Decimal::from(99));
        assert_eq!(book.orders[0].status, "COMPLETE");
        assert_eq!(book.orders[0].average_price, Decimal::new(99475, 3));
        assert_eq!(book.orders[0].trades.len(), 2);
        let mut stop = base(&[
            ("order_type", "SL-M"),
            ("trigger_price", "95"),
            ("market_protection", "-1"),
        ]);
        stop.insert("transaction_type".into(), "SELL".into());
        let stop = book.place(&stop).unwrap();
        assert_eq!(book.orders[1].status, "TRIGGER PENDING");
        book.modify(&stop, &form(&[("trigger_price", "97")]))
            .unwrap();
        assert!(book.set_price(Decimal::new(9705, 2)).is_empty());
        assert_eq!(book.set_price(Decimal::from(97)), vec![stop.clone()]);
        assert_eq!(book.orders[1].status, "COMPLETE");
        assert_eq!(book.net().0, Decimal::ZERO);
        assert_eq!(book.cancel(&stop).unwrap_err().error_type, "OrderException");
        let json = book.orders[1].to_json("NFO", "BANKNIFTY25JANFUT");
        let resting = book
            .place(&base(&[("order_type", "LIMIT"), ("price", "90")]))
            .unwrap();
        for i in 0..MAX_MODIFICATIONS {
            let price = (Decimal::from(80) + Decimal::from(i) / Decimal::from(10)).to_string();
            book.modify(&resting, &form(&[("price", &price)])).unwrap();
        }
        let capped = book
            .modify(&resting, &form(&[("price", "85")]))
            .unwrap_err();
        assert_eq!(capped.error_type, "OrderException");
        assert!(capped.message.contains("modifications"), "{capped:?}");
        assert_eq!(json["average_price"], json!(97));
        assert_eq!(json["tag"], "tg0123456789abcdef");
    }
}
