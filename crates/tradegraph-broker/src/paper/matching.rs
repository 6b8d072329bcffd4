//! Price events: ticks, trades and candles become price points; at each point every working
//! order of the instrument is checked, protective stops first.

use super::engine::{Quote, Role};
use super::submit::market_price;
use super::PaperEngine;
use crate::{BrokerError, PriceEvent};
use tradegraph_core::order::{Fill, Liquidity, OrderKind, OrderSide, OrderStatus, TimeInForce};
use tradegraph_core::{
    Candle, Price, Quantity, Symbol, Tick, Timestamp, Trade, TradingSession, MAX_PRICE,
};

impl PaperEngine {
    /// Feeds a tick (its bid and ask, when present, price market and limit fills). Returns the
    /// fills it caused.
    ///
    /// # Errors
    ///
    /// [`BrokerError::ImplausiblePrice`] for a price, bid or ask at or below zero or above
    /// [`MAX_PRICE`] (nothing is filled or marked), [`BrokerError::UnknownInstrument`] for an
    /// instrument not configured.
    pub fn on_tick(&mut self, symbol: &Symbol, tick: &Tick) -> Result<Vec<Fill>, BrokerError> {
        plausible(symbol, "tick", tick.price)?;
        if let Some(bid) = tick.bid {
            plausible(symbol, "tick bid", bid)?;
        }
        if let Some(ask) = tick.ask {
            plausible(symbol, "tick ask", ask)?;
        }
        let quote = Quote {
            price: tick.price,
            bid: tick.bid,
            ask: tick.ask,
            ts: tick.ts,
            through: None,
        };
        self.on_points(symbol, tick.ts, &[quote], None)
    }

    /// Feeds a trade. Returns the fills it caused.
    ///
    /// # Errors
    ///
    /// [`BrokerError::ImplausiblePrice`] for a price at or below zero or above [`MAX_PRICE`]
    /// (nothing is filled or marked), [`BrokerError::UnknownInstrument`] for an instrument not configured.
    pub fn on_trade(&mut self, symbol: &Symbol, trade: &Trade) -> Result<Vec<Fill>, BrokerError> {
        plausible(symbol, "trade", trade.price)?;
        let quote = Quote {
            price: trade.price,
            bid: None,
            ask: None,
            ts: trade.ts,
            through: None,
        };
        self.on_points(symbol, trade.ts, &[quote], None)
    }

    /// Feeds a closed candle, walked as open, the extreme against the position, the other
    /// extreme, close (flat or long: O, L, H, C; short: O, H, L, C), all at the candle's last
    /// millisecond, so a stop is always hit before a take-profit touched in the same bar.
    /// Returns the fills it caused.
    ///
    /// # Errors
    ///
    /// [`BrokerError::ImplausiblePrice`] for an open, high, low or close at or below zero or
    /// above [`MAX_PRICE`] (nothing is filled or marked), [`BrokerError::UnknownInstrument`] for
    /// an instrument not configured.
    pub fn on_candle(
        &mut self,
        symbol: &Symbol,
        candle: &Candle,
    ) -> Result<Vec<Fill>, BrokerError> {
        for (event, price) in [
            ("candle open", candle.open),
            ("candle high", candle.high),
            ("candle low", candle.low),
            ("candle close", candle.close),
        ] {
            plausible(symbol, event, price)?;
        }
        let market = self
            .markets
            .get(symbol)
            .ok_or_else(|| BrokerError::UnknownInstrument(symbol.clone()))?;
        let mut end = candle
            .open_time
            .add_millis(candle.timeframe.millis().saturating_sub(1));
        if let TradingSession::Exchange(session) = &market.instrument.session {
            if let Some((_, close)) = session.session_at(candle.open_time) {
                end = end.min(close.add_millis(-1));
            }
        }
        let short = self.portfolio.quantity(symbol) < Quantity::ZERO;
        let (first, second) = if short {
            (candle.high, candle.low)
        } else {
            (candle.low, candle.high)
        };
        let point = |price, through| Quote {
            price,
            bid: None,
            ask: None,
            ts: end,
            through,
        };
        // The open may gap from the last price; after it the path is continuous. The open is
        // stamped at the candle's open time (a next-open fill there carries it), the rest at its
        // last millisecond.
        let open = Quote {
            ts: candle.open_time.min(end),
            ..point(candle.open, None)
        };
        let points = [
            open,
            point(first, Some(candle.open)),
            point(second, Some(first)),
            point(candle.close, Some(second)),
        ];
        self.on_points(symbol, end, &points, Some(candle.volume))
    }

    /// Feeds any price event (dispatches to [`on_tick`](Self::on_tick),
    /// [`on_trade`](Self::on_trade) or [`on_candle`](Self::on_candle)). Returns the fills it
    /// caused.
    pub fn on_market(
        &mut self,
        symbol: &Symbol,
        event: PriceEvent<'_>,
    ) -> Result<Vec<Fill>, BrokerError> {
        match event {
            PriceEvent::Tick(tick) => self.on_tick(symbol, tick),
            PriceEvent::Trade(trade) => self.on_trade(symbol, trade),
            PriceEvent::Candle(candle) => self.on_candle(symbol, candle),
        }
    }

    fn on_points(
        &mut self,
        symbol: &Symbol,
        ts: Timestamp,
        points: &[Quote],
        candle_volume: Option<Quantity>,
    ) -> Result<Vec<Fill>, BrokerError> {
        let market = self
            .markets
            .get_mut(symbol)
            .ok_or_else(|| BrokerError::UnknownInstrument(symbol.clone()))?;
        // Older than the latest price, or a bar whose last millisecond the market has reached
        // (the same bar again: a restarted bot replays its feed from the start). Trades and
        // ticks may share a millisecond: after a restore, as many as were taken at the latest
        // one are the same events again.
        let bar = candle_volume.is_some();
        let at_last = market.last.is_some_and(|q| ts == q.ts);
        if market.last.is_some_and(|q| ts < q.ts) || (at_last && (bar || market.replaying > 0)) {
            if at_last && !bar {
                market.replaying -= 1;
            }
            self.stale_events += 1;
            return Ok(Vec::new());
        }
        // Only trades and ticks are counted: a bar at the latest millisecond is stale anyway.
        if at_last {
            market.taken_at_last = market.taken_at_last.saturating_add(1);
        } else {
            market.taken_at_last = u32::from(!bar);
            market.replaying = 0;
        }
        market.closed_volume = market.bar_volume.or(market.closed_volume);
        market.bar_volume = candle_volume;
        let first_fill = self.fills.len();
        self.now = self.now.max(ts);
        self.event += 1;
        self.in_candle = candle_volume.is_some();
        self.roll_day(ts);
        self.expire(symbol, ts)?;
        for quote in points {
            self.at_point(symbol, *quote)?;
        }
        self.in_candle = false;
        self.square_off(symbol, ts)?;
        Ok(self.fills[first_fill..].to_vec())
    }

    /// Starts a new trading day for the daily P&L when `ts` is past the current one.
    fn roll_day(&mut self, ts: Timestamp) {
        if self.day.is_some_and(|(start, end)| start <= ts && ts < end) {
            return;
        }
        if let Some((start, end)) = self.trading_day.day_at(ts) {
            self.day = Some((start, end));
            self.portfolio.start_day(start);
        }
    }

    /// Expires DAY orders of `symbol` whose day is over.
    fn expire(&mut self, symbol: &Symbol, ts: Timestamp) -> Result<(), BrokerError> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend(self.working.iter().copied().filter(|i| {
            self.meta
                .get(*i)
                .and_then(|m| m.expires_at)
                .is_some_and(|e| ts >= e)
                && self
                    .orders
                    .get(*i)
                    .is_some_and(|o| &o.request.symbol == symbol)
        }));
        for &index in &scratch {
            self.end(
                index,
                OrderStatus::Expired,
                "day order expired at the end of the trading day",
            )?;
        }
        self.scratch = scratch;
        Ok(())
    }

    /// Marks the position and checks every working order of `symbol` at one price.
    fn at_point(&mut self, symbol: &Symbol, quote: Quote) -> Result<(), BrokerError> {
        if let Some(market) = self.markets.get_mut(symbol) {
            market.last = Some(quote);
        }
        self.portfolio.mark(symbol, quote.price, quote.ts)?;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend(self.working.iter().copied().filter(|i| {
            self.orders
                .get(*i)
                .is_some_and(|o| &o.request.symbol == symbol)
        }));
        scratch.sort_unstable_by_key(|i| (self.meta.get(*i).map_or(Role::Plain, |m| m.role), *i));
        let result = scratch
            .iter()
            .try_for_each(|&index| self.check(symbol, index, &quote));
        self.scratch = scratch;
        result
    }

    /// Fills one working order if `quote` reaches it.
    fn check(&mut self, symbol: &Symbol, index: usize, quote: &Quote) -> Result<(), BrokerError> {
        let (Some(order), Some(meta)) = (self.orders.get(index), self.meta.get(index)) else {
            return Ok(());
        };
        if !order.status.is_working() {
            return Ok(());
        }
        let side = order.request.side;
        let quantity = order.remaining();
        if meta.deferred {
            return self.first_check(index, quote);
        }
        let fill: Option<(Price, Liquidity)> = match order.request.kind {
            OrderKind::Limit { price: limit } => {
                let armed = meta.role != Role::TakeProfit || self.event > meta.armed_after;
                let touched = match side {
                    OrderSide::Buy => quote.buy_price() <= limit,
                    OrderSide::Sell => quote.sell_price() >= limit,
                };
                (armed && touched).then_some((limit, Liquidity::Maker))
            }
            OrderKind::Stop { trigger } => {
                self.stop_fill(symbol, side, trigger, quantity, quote)?
            }
            OrderKind::TrailingStop { distance } => {
                let best = meta.best.unwrap_or(quote.price);
                let best = match side {
                    OrderSide::Sell => best.max(quote.price),
                    OrderSide::Buy => best.min(quote.price),
                };
                let trigger = match side {
                    OrderSide::Sell => best.checked_sub(distance),
                    OrderSide::Buy => best.checked_add(distance),
                };
                if let Some(meta) = self.meta.get_mut(index) {
                    meta.best = Some(best);
                }
                if let Some(order) = self.orders.get_mut(index) {
                    order.trigger_price = trigger;
                }
                match trigger {
                    Some(trigger) => self.stop_fill(symbol, side, trigger, quantity, quote)?,
                    None => None,
                }
            }
            OrderKind::Market => Some((
                self.slip(symbol, side, market_price(side, quote), quantity, quote)?,
                Liquidity::Taker,
            )),
            _ => None,
        };
        if let Some((price, liquidity)) = fill {
            self.execute(index, price, liquidity)?;
        }
        Ok(())
    }

    /// The first price an order placed for next-open fills meets: a market order fills there,
    /// a limit order marketable there fills as a taker (never past its limit); one that is not
    /// rests from now on, or is cancelled if IOC/FOK.
    fn first_check(&mut self, index: usize, quote: &Quote) -> Result<(), BrokerError> {
        if let Some(meta) = self.meta.get_mut(index) {
            meta.deferred = false;
        }
        let order = self.order_at(index)?;
        let request = &order.request;
        // The volume known at this first price: the last closed bar's, not the one it fills in.
        let volume = self
            .markets
            .get(&request.symbol)
            .and_then(|m| m.closed_volume);
        let price = match request.kind {
            OrderKind::Market => Some(self.slip_with(
                &request.symbol,
                request.side,
                market_price(request.side, quote),
                order.remaining(),
                quote,
                volume,
            )?),
            OrderKind::Limit { price: limit } => {
                self.marketable_fill(request, limit, quote, volume)?
            }
            _ => None,
        };
        match price {
            Some(price) => self.execute_at(index, price, Liquidity::Taker, quote.ts),
            None if matches!(request.time_in_force, TimeInForce::Ioc | TimeInForce::Fok) => self
                .end(
                    index,
                    OrderStatus::Cancelled,
                    "IOC/FOK limit not marketable at the next price",
                ),
            None => Ok(()),
        }
    }

    /// A stop-market order's fill at `quote`, if it triggers: at the trigger when the market
    /// moved through it continuously (inside a candle, from the safe side of it: a stop that
    /// started working beyond its trigger, on an entry filled at a gap, was not passed
    /// through), else the worse of the trigger and the market (a gap); then slippage.
    fn stop_fill(
        &self,
        symbol: &Symbol,
        side: OrderSide,
        trigger: Price,
        quantity: Quantity,
        quote: &Quote,
    ) -> Result<Option<(Price, Liquidity)>, BrokerError> {
        let (fires, gap) = match side {
            OrderSide::Buy => (quote.price >= trigger, trigger.max(quote.buy_price())),
            OrderSide::Sell => (quote.price <= trigger, trigger.min(quote.sell_price())),
        };
        let crossed = quote.through.is_some_and(|from| match side {
            OrderSide::Buy => from < trigger,
            OrderSide::Sell => from > trigger,
        });
        let base = if crossed { trigger } else { gap };
        if !fires {
            return Ok(None);
        }
        Ok(Some((
            self.slip(symbol, side, base, quantity, quote)?,
            Liquidity::Taker,
        )))
    }
}

/// Refuses a price at or below zero or above [`MAX_PRICE`]: no real market trades there. Acting
/// on a price at zero would fire every stop and mark the position to nothing; a position marked
/// at an absurdly large price cannot be valued exactly, so the equity would no longer reconcile.
fn plausible(symbol: &Symbol, event: &'static str, price: Price) -> Result<(), BrokerError> {
    if price > Price::ZERO && price <= MAX_PRICE {
        Ok(())
    } else {
        Err(BrokerError::ImplausiblePrice {
            symbol: symbol.clone(),
            event,
            price,
        })
    }
}
