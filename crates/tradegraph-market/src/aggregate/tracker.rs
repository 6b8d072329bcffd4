//! The aggregator: one open minute, one open candle per higher timeframe.

use super::{bucket_start, AggregatorPolicy, EmptyMinutes, JoinedCandles, TickOutcome};
use crate::MarketEvent;
use serde::Serialize;
use tradegraph_core::{Candle, Price, Quantity, Symbol, Timeframe, Timestamp, TradingSession};

/// At most this many empty minutes are filled in one go (a week); a longer silence is a gap.
const MAX_FILL: u32 = 7 * 24 * 60;
const HIGHER: [Timeframe; 4] = [Timeframe::M5, Timeframe::M15, Timeframe::H1, Timeframe::D1];

/// Counts of what the aggregator did, for health reporting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AggregatorStats {
    /// Ticks folded into a candle.
    pub accepted: u64,
    /// Ticks dropped as late.
    pub late: u64,
    /// Trades dropped as duplicates.
    pub duplicates: u64,
    /// Ticks dropped outside the session.
    pub out_of_session: u64,
    /// Flat candles made for minutes with no trades.
    pub filled_minutes: u64,
    /// Candles emitted, all timeframes.
    pub emitted: u64,
    /// Longer candles not emitted because they began before the first data
    /// ([`JoinedCandles::Drop`]).
    pub joined_dropped: u64,
}

#[derive(Debug, Clone)]
struct OpenMinute {
    candle: Candle,
    end: Timestamp,
    first_ts: Timestamp,
    last_ts: Timestamp,
}

#[derive(Debug, Clone)]
struct OpenCandle {
    candle: Candle,
    end: Timestamp,
    /// It began before the first minute the aggregator saw.
    joined: bool,
}

/// Builds 1m, 5m, 15m, 1h and daily candles from ticks, following the
/// [documented policy](crate::aggregate).
///
/// Closed candles are pushed to the `out` vector the caller passes (shortest timeframe first), so
/// the hot path allocates nothing.
///
/// ```
/// use tradegraph_core::{Instrument, Timeframe};
/// use tradegraph_market::aggregate::CandleAggregator;
/// let btc = Instrument::btc_usdt();
/// let mut agg = CandleAggregator::new(btc.symbol.clone(), btc.session.clone());
/// let mut closed = Vec::new();
/// agg.on_price("2024-01-01T10:00:05Z".parse()?, "42000.5".parse().unwrap(), "0.1".parse().unwrap(), None, &mut closed);
/// agg.on_price("2024-01-01T10:01:00Z".parse()?, "42001".parse().unwrap(), "0.2".parse().unwrap(), None, &mut closed);
/// assert_eq!(closed.len(), 1);
/// assert_eq!(closed[0].timeframe, Timeframe::M1);
/// # Ok::<(), tradegraph_core::CoreError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CandleAggregator {
    symbol: Symbol,
    session: TradingSession,
    policy: AggregatorPolicy,
    minute: Option<OpenMinute>,
    higher: [Option<OpenCandle>; 4],
    last_trade_id: Option<u64>,
    last_close: Option<Price>,
    /// A hole in the data since the last price ([`Self::data_gap`]): the next fill is skipped.
    gap: bool,
    closed_until: Option<Timestamp>,
    /// The first minute the aggregator saw (its data begins there).
    seen_from: Option<Timestamp>,
    stats: AggregatorStats,
}

impl CandleAggregator {
    /// An aggregator with the default policy.
    pub fn new(symbol: Symbol, session: TradingSession) -> Self {
        Self::with_policy(symbol, session, AggregatorPolicy::default())
    }

    /// An aggregator with a policy.
    pub fn with_policy(symbol: Symbol, session: TradingSession, policy: AggregatorPolicy) -> Self {
        Self {
            symbol,
            session,
            policy,
            minute: None,
            higher: [None, None, None, None],
            last_trade_id: None,
            last_close: None,
            gap: false,
            closed_until: None,
            seen_from: None,
            stats: AggregatorStats::default(),
        }
    }

    /// Gives back the closed one-minute candles seen before a restart (from a store, oldest
    /// first), so that the longer candles in progress come out whole: they are folded in as by
    /// [`on_minute_candle`](Self::on_minute_candle), nothing is emitted (those that closed were
    /// emitted before), and the statistics start afresh. The time between the last of them and
    /// the next data is a hole ([`data_gap`](Self::data_gap)): the bot was not watching, so
    /// those minutes are not filled as quiet ones.
    ///
    /// ```
    /// use tradegraph_core::{Candle, Instrument, Timeframe, Timestamp};
    /// use tradegraph_market::aggregate::{AggregatorPolicy, CandleAggregator, JoinedCandles};
    /// let btc = Instrument::btc_usdt();
    /// let policy = AggregatorPolicy { joined: JoinedCandles::Drop, ..AggregatorPolicy::default() };
    /// let mut agg = CandleAggregator::with_policy(btc.symbol.clone(), btc.session.clone(), policy);
    /// // Restarted at 10:07 with 10:00-10:06 stored: the 10:00 quarter-hour comes out whole.
    /// let start: Timestamp = "2024-01-01T10:00:00Z".parse()?;
    /// let stored: Vec<Candle> = (0..7)
    ///     .map(|m| Candle::opening(start.add_millis(m * 60_000), Timeframe::M1, (100 + m).into(), 1.into()))
    ///     .collect();
    /// agg.resume(&stored);
    /// let mut closed = Vec::new();
    /// agg.on_price(start.add_millis(7 * 60_000 + 500), 90.into(), 1.into(), None, &mut closed);
    /// agg.advance(start.add_millis(15 * 60_000), &mut closed);
    /// let quarter = closed.iter().find(|c| c.timeframe == Timeframe::M15).unwrap();
    /// assert_eq!((quarter.open, quarter.high, quarter.low), (100.into(), 106.into(), 90.into()));
    /// # Ok::<(), tradegraph_core::CoreError>(())
    /// ```
    pub fn resume(&mut self, minutes: &[Candle]) {
        let mut discarded = Vec::new();
        for candle in minutes {
            self.on_minute_candle(candle, &mut discarded);
            discarded.clear();
        }
        self.stats = AggregatorStats::default();
        if !minutes.is_empty() {
            self.data_gap();
        }
    }

    /// The instrument.
    pub fn symbol(&self) -> &Symbol {
        &self.symbol
    }

    /// The trading session candles align to.
    pub fn session(&self) -> &TradingSession {
        &self.session
    }

    /// What happened so far.
    pub fn stats(&self) -> AggregatorStats {
        self.stats
    }

    /// Folds one price in. `trade_id` (when the exchange gives one) lets duplicates be dropped.
    #[inline]
    pub fn on_price(
        &mut self,
        ts: Timestamp,
        price: Price,
        volume: Quantity,
        trade_id: Option<u64>,
        out: &mut Vec<Candle>,
    ) -> TickOutcome {
        if let (Some(id), Some(last)) = (trade_id, self.last_trade_id) {
            if id <= last {
                self.stats.duplicates += 1;
                return TickOutcome::Duplicate;
            }
        }
        if let Some(m) = &mut self.minute {
            if ts >= m.candle.open_time && ts < m.end {
                fold(m, ts, price, volume);
                return self.accepted(trade_id);
            }
        }
        if self.closed_until.is_some_and(|until| ts < until)
            || self
                .minute
                .as_ref()
                .is_some_and(|m| ts < m.candle.open_time)
        {
            self.stats.late += 1;
            return TickOutcome::Late;
        }
        let Some((start, end)) = bucket_start(&self.session, Timeframe::M1, ts) else {
            self.stats.out_of_session += 1;
            // Past the session (packets after the close): it shows the session's last
            // candles over, as any later tick does.
            self.advance(ts, out);
            return TickOutcome::OutOfSession;
        };
        self.close_minute(out);
        self.fill_before(start, out);
        self.data_again(start, out);
        self.minute = Some(OpenMinute {
            candle: Candle::opening(start, Timeframe::M1, price, volume),
            end,
            first_ts: ts,
            last_ts: ts,
        });
        self.accepted(trade_id)
    }

    fn accepted(&mut self, trade_id: Option<u64>) -> TickOutcome {
        if trade_id.is_some() {
            self.last_trade_id = trade_id;
        }
        self.stats.accepted += 1;
        TickOutcome::Accepted
    }

    /// Folds a complete 1-minute candle in (a replayed candle file, an exchange's final
    /// kline), building the higher timeframes from it. The final candle of the minute still
    /// open replaces what the trades built of it and closes it. Candles of other timeframes
    /// are refused as late-or-foreign and counted as late.
    pub fn on_minute_candle(&mut self, candle: &Candle, out: &mut Vec<Candle>) -> TickOutcome {
        if candle.timeframe != Timeframe::M1 {
            self.stats.late += 1;
            return TickOutcome::Late;
        }
        let Some((start, end)) = bucket_start(&self.session, Timeframe::M1, candle.open_time)
        else {
            self.stats.out_of_session += 1;
            return TickOutcome::OutOfSession;
        };
        let open_start = self.minute.as_ref().map(|m| m.candle.open_time);
        if self.closed_until.is_some_and(|until| start < until)
            || open_start.is_some_and(|s| start < s)
        {
            self.stats.late += 1;
            return TickOutcome::Late;
        }
        if open_start == Some(start) {
            // The exchange's final candle of the minute still open (no later trade came
            // first): it is the complete minute, and it closes it now.
            self.minute = None;
        }
        self.close_minute(out);
        self.fill_before(start, out);
        self.data_again(start, out);
        let mut candle = candle.clone();
        candle.open_time = start;
        self.minute = Some(OpenMinute {
            first_ts: start,
            last_ts: start,
            candle,
            end,
        });
        self.stats.accepted += 1;
        self.close_minute(out);
        TickOutcome::Accepted
    }

    /// Folds trades, ticks and closed one-minute candles in; a notice of a hole in the data
    /// ([`FeedNotice::is_hole`](crate::FeedNotice::is_hole)) marks one
    /// ([`data_gap`](Self::data_gap)); other events are ignored (returns `None`).
    pub fn on_event(&mut self, event: &MarketEvent, out: &mut Vec<Candle>) -> Option<TickOutcome> {
        match event {
            MarketEvent::Notice { notice, .. } => {
                if notice.is_hole() {
                    self.data_gap();
                }
                None
            }
            MarketEvent::Trade { trade, .. } => Some(self.on_price(
                trade.ts,
                trade.price,
                trade.quantity,
                Some(trade.trade_id),
                out,
            )),
            MarketEvent::Tick { tick, .. } => {
                Some(self.on_price(tick.ts, tick.price, tick.volume, None, out))
            }
            MarketEvent::Candle {
                candle,
                closed: true,
                ..
            } if candle.timeframe == Timeframe::M1 => Some(self.on_minute_candle(candle, out)),
            _ => None,
        }
    }

    /// Moves time to `now`: closes every candle that has ended by then and, with
    /// [`EmptyMinutes::Fill`], fills the quiet minutes before it. Call it on a timer (live) or
    /// with the simulated clock (replay), and at the end of a replay.
    pub fn advance(&mut self, now: Timestamp, out: &mut Vec<Candle>) {
        if self.minute.as_ref().is_some_and(|m| m.end <= now) {
            self.close_minute(out);
        }
        let target = match bucket_start(&self.session, Timeframe::M1, now) {
            Some((start, _)) => start,
            None => now,
        };
        self.fill_before(target, out);
        // Time has moved on: every minute before `target` is over, filled or not (a silence
        // longer than the fill limit is a gap), so no later data reopens what closes below.
        if let Some(until) = &mut self.closed_until {
            *until = (*until).max(target);
        }
        self.emit_higher_ended_by(now, out);
    }

    /// Data at `start` (the start of its minute): a hole in the data ends here, and the longer
    /// candles over by then are emitted (a price past them shows them over, as
    /// [`advance`](Self::advance) would).
    fn data_again(&mut self, start: Timestamp, out: &mut Vec<Candle>) {
        self.gap = false;
        self.emit_higher_ended_by(start, out);
    }

    /// Emits the longer candles that ended by `at`, shortest first.
    fn emit_higher_ended_by(&mut self, at: Timestamp, out: &mut Vec<Candle>) {
        for slot in &mut self.higher {
            if slot.as_ref().is_some_and(|h| h.end <= at) {
                if let Some(h) = slot.take() {
                    emit(h, self.policy.joined, &mut self.stats, out);
                }
            }
        }
    }

    /// The candle in progress for `timeframe` (the open minute merged in), if any.
    pub fn current(&self, timeframe: Timeframe) -> Option<Candle> {
        let minute = self.minute.as_ref().map(|m| &m.candle);
        if timeframe == Timeframe::M1 {
            return minute.cloned();
        }
        let slot = HIGHER.iter().position(|&tf| tf == timeframe)?;
        let open = self.higher[slot].as_ref().map(|h| &h.candle);
        match (open, minute) {
            (Some(h), Some(m))
                if m.open_time >= h.open_time
                    && m.open_time < h.open_time.add_millis(timeframe.millis()) =>
            {
                let mut merged = h.clone();
                merged.absorb(m);
                Some(merged)
            }
            (Some(h), _) => Some(h.clone()),
            (None, Some(m)) => {
                let (start, _) = bucket_start(&self.session, timeframe, m.open_time)?;
                Some(Candle {
                    open_time: start,
                    timeframe,
                    ..m.clone()
                })
            }
            (None, None) => None,
        }
    }

    fn close_minute(&mut self, out: &mut Vec<Candle>) {
        let Some(m) = self.minute.take() else { return };
        self.closed_until = Some(m.end);
        self.last_close = Some(m.candle.close);
        self.emit_minute(m.candle, m.end, out);
    }

    fn emit_minute(&mut self, candle: Candle, end: Timestamp, out: &mut Vec<Candle>) {
        let seen_from = *self.seen_from.get_or_insert(candle.open_time);
        for (slot, tf) in HIGHER.iter().enumerate() {
            let Some((start, bucket_end)) = bucket_start(&self.session, *tf, candle.open_time)
            else {
                continue;
            };
            match &mut self.higher[slot] {
                Some(h) if h.candle.open_time == start => h.candle.absorb(&candle),
                other => {
                    if let Some(done) = other.take() {
                        emit(done, self.policy.joined, &mut self.stats, out);
                    }
                    *other = Some(OpenCandle {
                        candle: Candle {
                            open_time: start,
                            timeframe: *tf,
                            ..candle.clone()
                        },
                        end: bucket_end,
                        joined: seen_from > start,
                    });
                }
            }
        }
        out.push(candle);
        self.stats.emitted += 1;
        // Emit higher candles that this minute completed, after the minute itself.
        self.emit_higher_ended_by(end, out);
    }

    /// The data has a hole from here (the feed lost its connection): the minutes until the
    /// next price are unknown, not quiet, and are not filled with flat candles (those after
    /// it are, as usual), however often [`advance`](Self::advance) is called meanwhile. The
    /// open minute stays open until a later price shows it over.
    pub fn data_gap(&mut self) {
        self.gap = true;
    }

    /// Flat candles for the quiet minutes between the last closed minute and `target`
    /// (exclusive), up to the end of that minute's session; none across a hole in the data
    /// ([`data_gap`](Self::data_gap)).
    fn fill_before(&mut self, target: Timestamp, out: &mut Vec<Candle>) {
        if self.policy.empty_minutes == EmptyMinutes::Skip || self.minute.is_some() {
            return;
        }
        if self.gap {
            // until the next price (`data_again`)
            return;
        }
        let (Some(close), Some(mut at)) = (self.last_close, self.closed_until) else {
            return;
        };
        let mut filled = 0;
        while at < target && filled < MAX_FILL {
            match bucket_start(&self.session, Timeframe::M1, at) {
                Some((start, end)) => {
                    let mut flat = Candle::opening(start, Timeframe::M1, close, Quantity::ZERO);
                    flat.trades = 0;
                    self.emit_minute(flat, end, out);
                    self.closed_until = Some(end);
                    self.stats.filled_minutes += 1;
                    filled += 1;
                    at = end;
                }
                // The session is over: the next one starts with its own first trade, not with
                // yesterday's close.
                None => break,
            }
        }
        if filled == MAX_FILL && at < target {
            // The rest of a longer silence is a gap, over for good: nothing fills it later
            // (the minute at `target` replaced by the exchange's final candle of it would
            // fill from here again, inside the candles just emitted).
            self.closed_until = Some(target);
        }
    }
}

/// A longer candle that is over: out, unless it began before the first data and `joined` says
/// to drop such candles.
fn emit(
    done: OpenCandle,
    joined: JoinedCandles,
    stats: &mut AggregatorStats,
    out: &mut Vec<Candle>,
) {
    if done.joined && joined == JoinedCandles::Drop {
        stats.joined_dropped += 1;
        return;
    }
    out.push(done.candle);
    stats.emitted += 1;
}

fn fold(m: &mut OpenMinute, ts: Timestamp, price: Price, volume: Quantity) {
    let c = &mut m.candle;
    if price > c.high {
        c.high = price;
    }
    if price < c.low {
        c.low = price;
    }
    if ts < m.first_ts {
        c.open = price;
        m.first_ts = ts;
    }
    if ts >= m.last_ts {
        c.close = price;
        m.last_ts = ts;
    }
    // Saturating: volumes come from the wire, and a decimal overflow would panic.
    c.volume = c.volume.saturating_add(volume);
    c.trades += 1;
}
