//! The instrument's rules from the instruments dump: whole lots and the tick grid, checked
//! before anything is sent, and Kite's `tag` rule for our client order ids.

use crate::live::VenueReason;
use rust_decimal::Decimal;
use tradegraph_core::order::{ClientOrderId, OrderKind, OrderRequest};

/// Kite's longest `tag`.
pub const MAX_TAG_CHARS: usize = 20;

/// Lot and tick size of the traded instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KiteRules {
    /// Quantities are whole multiples of it.
    pub lot_size: u32,
    /// Prices are multiples of it.
    pub tick_size: Decimal,
}

fn filter(name: &str, detail: String) -> VenueReason {
    VenueReason::FilterFailed {
        filter: name.to_owned(),
        detail,
    }
}

impl KiteRules {
    /// Checks a quantity: positive whole lots.
    ///
    /// ```
    /// use tradegraph_broker::live::kite::KiteRules;
    /// use tradegraph_core::Decimal;
    /// let rules = KiteRules { lot_size: 30, tick_size: Decimal::new(5, 2) };
    /// assert!(rules.check_quantity(Decimal::from(60)).is_ok());
    /// let refused = rules.check_quantity(Decimal::from(45)).unwrap_err();
    /// assert_eq!(refused.to_string(), "filter lot size failed: quantity 45 is not a whole number of lots of 30");
    /// ```
    ///
    /// # Errors
    /// [`VenueReason::FilterFailed`] naming `lot size` and the numbers.
    pub fn check_quantity(&self, quantity: Decimal) -> Result<(), VenueReason> {
        let lot = Decimal::from(self.lot_size);
        if self.lot_size == 0
            || quantity <= Decimal::ZERO
            || !quantity.fract().is_zero()
            || !(quantity % lot).is_zero()
        {
            return Err(filter(
                "lot size",
                format!(
                    "quantity {} is not a whole number of lots of {}",
                    quantity.normalize(),
                    self.lot_size
                ),
            ));
        }
        Ok(())
    }

    /// Checks a price: positive and on the tick grid.
    ///
    /// # Errors
    /// [`VenueReason::FilterFailed`] naming `tick size` and the numbers.
    pub fn check_price(&self, what: &str, price: Decimal) -> Result<(), VenueReason> {
        if price <= Decimal::ZERO
            || (!self.tick_size.is_zero() && !(price % self.tick_size).is_zero())
        {
            return Err(filter(
                "tick size",
                format!(
                    "{what} {} is not a positive multiple of the tick size {}",
                    price.normalize(),
                    self.tick_size.normalize()
                ),
            ));
        }
        Ok(())
    }

    /// The nearest price on the grid at or below (`down`) or at or above `price`.
    pub fn to_grid(&self, price: Decimal, down: bool) -> Decimal {
        if self.tick_size.is_zero() {
            return price;
        }
        let Some(ticks) = price.checked_div(self.tick_size) else {
            return price;
        };
        let whole = if down { ticks.floor() } else { ticks.ceil() };
        whole.checked_mul(self.tick_size).unwrap_or(price)
    }

    /// Checks everything of a request: quantity, its prices and its exits' prices.
    ///
    /// # Errors
    /// The first rule that fails.
    pub fn check(&self, request: &OrderRequest) -> Result<(), VenueReason> {
        self.check_quantity(request.quantity)?;
        match request.kind {
            OrderKind::Limit { price } => self.check_price("limit price", price)?,
            OrderKind::Stop { trigger } => self.check_price("stop trigger", trigger)?,
            OrderKind::TrailingStop { distance } => {
                self.check_price("trailing distance", distance)?
            }
            _ => {}
        }
        if let Some(exits) = &request.exits {
            if let Some(stop) = exits.stop_loss {
                self.check_price("stop-loss", stop)?;
            }
            if let Some(target) = exits.take_profit {
                self.check_price("take-profit", target)?;
            }
            if let Some(distance) = exits.trailing_distance {
                self.check_price("trailing distance", distance)?;
            }
        }
        Ok(())
    }
}

/// Our client order id as Kite's `tag`: alphanumeric, at most 20 characters (derived ids,
/// `tg` + 16 hex, always fit).
///
/// # Errors
/// [`VenueReason::FilterFailed`] naming `tag` and what does not fit.
pub fn tag_of(client_id: &ClientOrderId) -> Result<String, VenueReason> {
    let id = client_id.as_str();
    if id.len() > MAX_TAG_CHARS || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(filter(
            "tag",
            format!(
                "client order id {id} cannot be Kite's tag (alphanumeric, at most {MAX_TAG_CHARS} characters): use derived ids (tg + 16 hex)"
            ),
        ));
    }
    Ok(id.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tradegraph_core::order::{Exits, OrderSide};
    use tradegraph_core::Symbol;

    const RULES: KiteRules = KiteRules {
        lot_size: 30,
        tick_size: Decimal::from_parts(5, 0, 0, false, 2),
    };

    #[test]
    fn lots_ticks_and_tags_are_refused_by_name() {
        let id = ClientOrderId::new("tg0123456789abcdef").unwrap();
        let sym = Symbol::new("BANKNIFTY25JANFUT");
        let ok = OrderRequest::market(id.clone(), sym.clone(), OrderSide::Buy, Decimal::from(60))
            .with_exits(
                Exits::stop(Decimal::new(4790005, 2)).with_take_profit(Decimal::new(48500, 0)),
            );
        assert!(RULES.check(&ok).is_ok());
        let off_grid = ok.clone().with_exits(Exits::stop(Decimal::new(4790002, 2)));
        let e = RULES.check(&off_grid).unwrap_err().to_string();
        assert_eq!(e, "filter tick size failed: stop-loss 47900.02 is not a positive multiple of the tick size 0.05");
        let odd = OrderRequest::market(id.clone(), sym, OrderSide::Buy, Decimal::new(305, 1));
        assert!(RULES
            .check(&odd)
            .unwrap_err()
            .to_string()
            .contains("quantity 30.5 is not a whole number of lots of 30"));
        assert_eq!(tag_of(&id).unwrap(), "tg0123456789abcdef");
        let long = ClientOrderId::new("tg0123456789abcdef012").unwrap();
        assert!(tag_of(&long)
            .unwrap_err()
            .to_string()
            .contains("filter tag failed"));
        assert!(tag_of(&ClientOrderId::new("my-order").unwrap()).is_err());
        assert_eq!(
            RULES.to_grid(Decimal::new(10003, 2), true),
            Decimal::new(10000, 2)
        );
        assert_eq!(
            RULES.to_grid(Decimal::new(10003, 2), false),
            Decimal::new(10005, 2)
        );
    }
}
