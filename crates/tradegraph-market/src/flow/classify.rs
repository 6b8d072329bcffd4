//! Inferring the aggressor of a trade the exchange did not label (Kite ticks).

use tradegraph_core::{Price, Side};

/// The quote rule, then the tick rule (Lee and Ready's method).
///
/// ```
/// use tradegraph_core::Side;
/// use tradegraph_market::flow::TradeClassifier;
/// let p = |s: &str| s.parse().unwrap();
/// let mut c = TradeClassifier::default();
/// assert_eq!(c.classify(p("100.5"), Some(p("100")), Some(p("100.5"))), Some(Side::Buy)); // at the ask
/// assert_eq!(c.classify(p("100.2"), None, None), Some(Side::Sell)); // down-tick
/// assert_eq!(c.classify(p("100.2"), None, None), Some(Side::Sell)); // zero-tick repeats
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TradeClassifier {
    last_price: Option<Price>,
    last_side: Option<Side>,
}

impl TradeClassifier {
    /// The aggressor of a trade at `price` given the best bid and ask before it, or `None` when
    /// nothing tells (the first trade, on the mid, with no earlier price).
    pub fn classify(
        &mut self,
        price: Price,
        bid: Option<Price>,
        ask: Option<Price>,
    ) -> Option<Side> {
        let side = quote_rule(price, bid, ask).or_else(|| self.tick_rule(price));
        self.last_price = Some(price);
        if side.is_some() {
            self.last_side = side;
        }
        side
    }

    /// Forgets the last price (a new session starts from scratch).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    fn tick_rule(&self, price: Price) -> Option<Side> {
        match self.last_price {
            Some(last) if price > last => Some(Side::Buy),
            Some(last) if price < last => Some(Side::Sell),
            Some(_) => self.last_side,
            None => None,
        }
    }
}

fn quote_rule(price: Price, bid: Option<Price>, ask: Option<Price>) -> Option<Side> {
    match (bid, ask) {
        (_, Some(ask)) if price >= ask => Some(Side::Buy),
        (Some(bid), _) if price <= bid => Some(Side::Sell),
        (Some(bid), Some(ask)) if bid < ask => {
            // Checked: prices come from the wire.
            let doubled = price.checked_add(price)?;
            let spread_mid_doubled = bid.checked_add(ask)?;
            if doubled > spread_mid_doubled {
                Some(Side::Buy)
            } else if doubled < spread_mid_doubled {
                Some(Side::Sell)
            } else {
                None
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn p(s: &str) -> Price {
        s.parse().unwrap()
    }

    #[test]
    fn quote_rule_goes_by_the_side_of_the_mid() {
        let mut c = TradeClassifier::default();
        let (bid, ask) = (Some(p("100")), Some(p("101")));
        assert_eq!(c.classify(p("101.5"), bid, ask), Some(Side::Buy));
        assert_eq!(c.classify(p("99"), bid, ask), Some(Side::Sell));
        assert_eq!(c.classify(p("100.75"), bid, ask), Some(Side::Buy));
        assert_eq!(c.classify(p("100.25"), bid, ask), Some(Side::Sell));
    }

    #[test]
    fn on_the_mid_the_tick_rule_decides() {
        let mut c = TradeClassifier::default();
        let (bid, ask) = (Some(p("100")), Some(p("101")));
        assert_eq!(
            c.classify(p("100.5"), bid, ask),
            None,
            "first trade, on the mid"
        );
        assert_eq!(c.classify(p("100.4"), None, None), Some(Side::Sell));
        assert_eq!(
            c.classify(p("100.5"), bid, ask),
            Some(Side::Buy),
            "up from 100.4"
        );
        assert_eq!(
            c.classify(p("100.5"), bid, ask),
            Some(Side::Buy),
            "zero tick"
        );
        c.reset();
        assert_eq!(c.classify(p("100.5"), None, None), None);
    }

    #[test]
    fn a_crossed_quote_is_not_trusted_for_the_mid() {
        let mut c = TradeClassifier::default();
        // bid above ask (a stale quote): only the hard edges apply, then the tick rule.
        assert_eq!(
            c.classify(p("100.5"), Some(p("101")), Some(p("100"))),
            Some(Side::Buy)
        );
    }
}
