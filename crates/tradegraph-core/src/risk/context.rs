//! What the guard knows besides the proposal: instrument, account, price, time, volatility.

use super::number::opt_num;
use crate::money::Bps;
use crate::order::OrderSide;
use crate::position::Account;
use crate::{Candle, Decimal, Instrument, Price, Timestamp};
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

/// Recent volatility, for the circuit breaker and the default stop-loss. `f64` analytics; any
/// figure may be missing.
///
/// ```
/// use tradegraph_core::risk::Volatility;
/// use tradegraph_core::{Candle, Decimal, Timeframe, Timestamp};
/// let bar = |c: i64, h: i64, l: i64| Candle {
///     open_time: Timestamp::EPOCH, timeframe: Timeframe::M15, open: Decimal::from(c),
///     high: Decimal::from(h), low: Decimal::from(l), close: Decimal::from(c),
///     volume: Decimal::ONE, trades: 1,
///     quote_volume: None, taker_buy_volume: None, taker_buy_quote_volume: None,
/// };
/// let v = Volatility::from_candles(&[bar(100, 101, 99), bar(102, 103, 100), bar(101, 104, 98)], 14);
/// assert!((v.bar_range_pct.unwrap() - 5.940_594).abs() < 1e-5); // (104 − 98) / 101
/// assert!(v.atr.unwrap() > 0.0 && v.realized_pct.unwrap() > 0.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Volatility {
    /// Standard deviation of recent bar-to-bar returns, in percent.
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    pub realized_pct: Option<f64>,
    /// The last bar's range, `(high − low) / close`, in percent.
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    pub bar_range_pct: Option<f64>,
    /// Average true range, in price units.
    #[serde(default, with = "opt_num", skip_serializing_if = "Option::is_none")]
    pub atr: Option<f64>,
}

impl Volatility {
    /// The three figures over the last `lookback` bars of `candles` (oldest first): the sample
    /// standard deviation of close-to-close returns, the last bar's range, and the simple mean of
    /// the true range. Figures that need more bars than there are stay `None`.
    pub fn from_candles(candles: &[Candle], lookback: usize) -> Self {
        let lookback = lookback.max(2);
        let start = candles.len().saturating_sub(lookback + 1);
        let window = &candles[start..];
        let f = |d: Price| d.to_f64().unwrap_or(f64::NAN);
        // each price converted once (a decimal's conversion is most of this function's cost)
        let bars: Vec<[f64; 3]> = window
            .iter()
            .map(|c| [f(c.high), f(c.low), f(c.close)])
            .collect();
        let bar_range_pct = bars
            .last()
            .and_then(|&[high, low, close]| (close > 0.0).then(|| (high - low) / close * 100.0));
        let returns: Vec<f64> = bars
            .windows(2)
            .filter_map(|w| {
                let (a, b) = (w[0][2], w[1][2]);
                (a > 0.0).then(|| (b - a) / a)
            })
            .collect();
        let realized_pct = (returns.len() >= 2).then(|| {
            #[allow(clippy::cast_precision_loss)]
            let n = returns.len() as f64;
            let mean = returns.iter().sum::<f64>() / n;
            let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
            var.sqrt() * 100.0
        });
        let ranges: Vec<f64> = bars
            .windows(2)
            .map(|w| {
                let prev = w[0][2];
                let (h, l) = (w[1][0], w[1][1]);
                (h - l).max((h - prev).abs()).max((l - prev).abs())
            })
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let atr = (!ranges.is_empty()).then(|| ranges.iter().sum::<f64>() / ranges.len() as f64);
        Self {
            realized_pct,
            bar_range_pct,
            atr,
        }
    }
}

/// Everything the guard reads besides the proposal.
///
/// ```
/// use tradegraph_core::position::Account;
/// use tradegraph_core::risk::{RiskContext, Volatility};
/// use tradegraph_core::{Currency, Decimal, Instrument, Timestamp};
/// let btc = Instrument::btc_usdt();
/// let now: Timestamp = "2024-01-01T10:15:00Z".parse()?;
/// let account = Account::flat(Currency::Usdt, Decimal::from(100_000), now);
/// let ctx = RiskContext::new(&btc, &account, Decimal::from(42_000), now)
///     .with_volatility(Volatility { atr: Some(350.0), ..Volatility::default() });
/// assert_eq!(ctx.price, Decimal::from(42_000));
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RiskContext<'a> {
    /// The instrument traded (lot and tick sizes, session, segment).
    pub instrument: &'a Instrument,
    /// The account (equity, cash, the day's starting equity, open positions).
    pub account: &'a Account,
    /// The current price, which sizes the order and anchors its stops.
    pub price: Price,
    /// The decision's time (market time in a backtest).
    pub now: Timestamp,
    /// Recent volatility.
    pub volatility: Volatility,
    /// The best bid and ask, when known (`None`: only the reference price is known).
    pub quote: Option<(Price, Price)>,
    /// Expected fee on the entry, charged on its notional. Default
    /// [`DEFAULT_FEE`](Self::DEFAULT_FEE); a negative figure counts as zero.
    pub fee: Bps,
    /// Expected slippage of a market order past the ask (buy) or bid (sell). Default
    /// [`DEFAULT_SLIPPAGE`](Self::DEFAULT_SLIPPAGE); a negative figure counts as zero.
    pub slippage: Bps,
}

impl<'a> RiskContext<'a> {
    /// A context without volatility figures.
    pub fn new(
        instrument: &'a Instrument,
        account: &'a Account,
        price: Price,
        now: Timestamp,
    ) -> Self {
        Self {
            instrument,
            account,
            price,
            now,
            volatility: Volatility::default(),
            quote: None,
            fee: Self::DEFAULT_FEE,
            slippage: Self::DEFAULT_SLIPPAGE,
        }
    }

    /// The fee assumed when none is given: 10 bp, Binance spot's taker rate and above the
    /// paper broker's NSE approximation (2 bp plus ₹20 a fill) for any order of one lot or more.
    pub const DEFAULT_FEE: Bps = Bps::new(Decimal::TEN);

    /// The slippage assumed when none is given: 2 bp, the paper broker's default.
    pub const DEFAULT_SLIPPAGE: Bps = Bps::new(Decimal::TWO);

    /// Sets the expected fee and slippage, in basis points of the notional.
    ///
    /// ```
    /// use tradegraph_core::money::Bps;
    /// use tradegraph_core::order::OrderSide;
    /// use tradegraph_core::position::Account;
    /// use tradegraph_core::risk::RiskContext;
    /// use tradegraph_core::{Currency, Decimal, Instrument, Timestamp};
    /// let btc = Instrument::btc_usdt();
    /// let account = Account::flat(Currency::Usdt, Decimal::from(100_000), Timestamp::EPOCH);
    /// let ctx = RiskContext::new(&btc, &account, Decimal::from(40_000), Timestamp::EPOCH)
    ///     .with_costs(Bps::whole(10), Bps::whole(5));
    /// assert_eq!(ctx.worst_fill(OrderSide::Buy), Some(Decimal::from(40_020)));
    /// ```
    pub fn with_costs(mut self, fee: Bps, slippage: Bps) -> Self {
        self.fee = fee;
        self.slippage = slippage;
        self
    }

    /// Sets the best bid and ask: buys are sized at the ask (sells at the bid), plus slippage.
    pub fn with_quote(mut self, bid: Price, ask: Price) -> Self {
        self.quote = Some((bid, ask));
        self
    }

    /// The worst price an entry on `side` is expected to fill at: for a buy, the higher of the
    /// price and the ask, plus the slippage; for a sell, the lower of the price and the bid, less
    /// the slippage (never below zero). `None` on overflow.
    pub fn worst_fill(&self, side: OrderSide) -> Option<Price> {
        let slip = self.slippage.value().max(Decimal::ZERO);
        let slip = Bps::new(slip).fraction();
        match side {
            OrderSide::Buy => {
                let ask = self
                    .quote
                    .map_or(self.price, |(_, ask)| ask.max(self.price));
                ask.checked_mul(Decimal::ONE.checked_add(slip)?)
            }
            OrderSide::Sell => {
                let bid = self
                    .quote
                    .map_or(self.price, |(bid, _)| bid.min(self.price));
                let p = bid.checked_mul(Decimal::ONE.checked_sub(slip)?)?;
                Some(p.max(Decimal::ZERO))
            }
        }
    }

    /// The fee as a fraction of the notional (10 bp: 0.001), never negative.
    pub fn fee_fraction(&self) -> Decimal {
        self.fee.fraction().max(Decimal::ZERO)
    }

    /// What one unit of an entry on `side` counts for against the position limit and the cash,
    /// as the guard sizes it: the higher of the price and the worst expected fill
    /// ([`worst_fill`](Self::worst_fill)), plus the fee. `None` on overflow.
    ///
    /// ```
    /// use rust_decimal::Decimal;
    /// use tradegraph_core::risk::RiskContext;
    /// use tradegraph_core::{Account, Currency, Instrument, OrderSide, Timestamp};
    ///
    /// let account = Account::flat(Currency::Inr, Decimal::from(1_000_000), Timestamp::from_millis(0));
    /// let nifty = Instrument::nifty_50();
    /// let ctx = RiskContext::new(&nifty, &account, Decimal::from(25_000), Timestamp::from_millis(0));
    /// // 2 bp of slippage, then 10 bp of fees
    /// assert_eq!(ctx.unit_cost(OrderSide::Buy), Some(Decimal::new(2_503_000_500, 5)));
    /// assert_eq!(ctx.unit_cost(OrderSide::Sell), Some(Decimal::from(25_025)));
    /// ```
    pub fn unit_cost(&self, side: OrderSide) -> Option<Price> {
        let fill = self.worst_fill(side)?.max(self.price);
        fill.checked_mul(Decimal::ONE.checked_add(self.fee_fraction())?)
    }

    /// Sets the volatility figures.
    pub fn with_volatility(mut self, volatility: Volatility) -> Self {
        self.volatility = volatility;
        self
    }
}
