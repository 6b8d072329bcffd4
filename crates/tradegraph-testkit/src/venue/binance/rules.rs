//! The symbol's rules at the venue: what `exchangeInfo` says and what every order is checked
//! against (Binance's filter definitions).

use super::state::{refusal, Refusal};
use rust_decimal::Decimal;
use serde_json::json;

/// The rules of the one symbol the venue trades.
#[derive(Debug, Clone)]
pub struct Rules {
    /// `BTCUSDT`.
    pub symbol: String,
    /// `BTC`.
    pub base: String,
    /// `USDT`.
    pub quote: String,
    /// `PRICE_FILTER` tick size (min 0.01, max 1000000).
    pub tick: Decimal,
    /// `LOT_SIZE` step and min quantity (max 9000).
    pub step: Decimal,
    /// `NOTIONAL` minimum (applied to market orders too).
    pub min_notional: Decimal,
    /// `PERCENT_PRICE_BY_SIDE` multipliers (up, down), both sides.
    pub percent: (Decimal, Decimal),
    /// `TRAILING_DELTA` in BIPS: (`minTrailingAboveDelta`, `maxTrailingAboveDelta`,
    /// `minTrailingBelowDelta`, `maxTrailingBelowDelta`).
    pub trailing_delta: (u32, u32, u32, u32),
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            symbol: "BTCUSDT".into(),
            base: "BTC".into(),
            quote: "USDT".into(),
            tick: Decimal::new(1, 2),
            step: Decimal::new(1, 5),
            min_notional: Decimal::from(5),
            percent: (Decimal::from(5), Decimal::new(2, 1)),
            trailing_delta: (10, 2000, 10, 2000),
        }
    }
}

fn f8(d: Decimal) -> String {
    format!("{d:.8}")
}

impl Rules {
    /// The `exchangeInfo` answer.
    pub(crate) fn exchange_info(&self) -> serde_json::Value {
        json!({
            "timezone": "UTC",
            "serverTime": 0,
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100}
            ],
            "exchangeFilters": [],
            "symbols": [{
                "symbol": self.symbol,
                "status": "TRADING",
                "baseAsset": self.base,
                "baseAssetPrecision": 8,
                "quoteAsset": self.quote,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
                "icebergAllowed": true,
                "ocoAllowed": true,
                "otoAllowed": true,
                "quoteOrderQtyMarketAllowed": true,
                "allowTrailingStop": true,
                "cancelReplaceAllowed": true,
                "isSpotTradingAllowed": true,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": f8(self.tick), "maxPrice": "1000000.00000000", "tickSize": f8(self.tick)},
                    {"filterType": "LOT_SIZE", "minQty": f8(self.step), "maxQty": "9000.00000000", "stepSize": f8(self.step)},
                    {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "100.00000000", "stepSize": "0.00000000"},
                    {"filterType": "NOTIONAL", "minNotional": f8(self.min_notional), "applyMinToMarket": true, "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5},
                    {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": f8(self.percent.0), "bidMultiplierDown": f8(self.percent.1), "askMultiplierUp": f8(self.percent.0), "askMultiplierDown": f8(self.percent.1), "avgPriceMins": 5},
                    {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": self.trailing_delta.0, "maxTrailingAboveDelta": self.trailing_delta.1, "minTrailingBelowDelta": self.trailing_delta.2, "maxTrailingBelowDelta": self.trailing_delta.3}
                ],
                "permissions": [],
                "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"]
            }]
        })
    }

    fn fail(filter: &str) -> Refusal {
        refusal(-1013, &format!("Filter failure: {filter}"))
    }

    /// Checks an order as the venue does: `-1013 Filter failure: <FILTER>`.
    pub(crate) fn check(
        &self,
        market: bool,
        qty: Decimal,
        price: Option<Decimal>,
        stop: Option<Decimal>,
        last: Decimal,
    ) -> Result<(), Refusal> {
        let max_qty = if market {
            Decimal::from(100)
        } else {
            Decimal::from(9000)
        };
        let on_step = (qty - self.step)
            .checked_rem(self.step)
            .is_some_and(|r| r.is_zero());
        if market && qty > max_qty {
            return Err(Self::fail("MARKET_LOT_SIZE"));
        }
        if qty < self.step || qty > Decimal::from(9000) || !on_step {
            return Err(Self::fail("LOT_SIZE"));
        }
        for p in price.iter().chain(stop.iter()) {
            let on_tick = (*p - self.tick)
                .checked_rem(self.tick)
                .is_some_and(|r| r.is_zero());
            if *p < self.tick || *p > Decimal::from(1_000_000) || !on_tick {
                return Err(Self::fail("PRICE_FILTER"));
            }
        }
        let at = price.or(stop).unwrap_or(last);
        if qty * at < self.min_notional {
            return Err(Self::fail("NOTIONAL"));
        }
        if let Some(p) = price {
            if p > last * self.percent.0 || p < last * self.percent.1 {
                return Err(Self::fail("PERCENT_PRICE_BY_SIDE"));
            }
        }
        Ok(())
    }

    /// `TRAILING_DELTA`: the "above" bounds for `STOP_LOSS*` BUY and `TAKE_PROFIT*` SELL, the
    /// "below" bounds for `STOP_LOSS*` SELL and `TAKE_PROFIT*` BUY (0: not a trailing order).
    pub(crate) fn check_trailing(
        &self,
        buy: bool,
        kind: &str,
        trailing: u32,
    ) -> Result<(), Refusal> {
        if trailing == 0 {
            return Ok(());
        }
        let (min_above, max_above, min_below, max_below) = self.trailing_delta;
        let above = buy == kind.starts_with("STOP_LOSS");
        let (min, max) = if above {
            (min_above, max_above)
        } else {
            (min_below, max_below)
        };
        if trailing < min || trailing > max {
            return Err(Self::fail("TRAILING_DELTA"));
        }
        Ok(())
    }
}
