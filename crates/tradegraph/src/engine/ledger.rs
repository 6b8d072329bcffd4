//! The trade ledger: trades from the broker's fills, once.
//!
//! A trade runs from flat to flat. The first fill off flat opens it (its order's client id is
//! the trade id); fills on the same side add to it (the average entry follows); fills on the
//! other side reduce it; the fill that brings the position back to zero closes it, with the
//! average exit price and the net P&L (every fill's cash flow, fees of both sides included). A
//! fill that goes through zero closes the trade and opens the next with the rest. Every kind of
//! close (a stop, a target, a trailing stop, a CLOSE, a forced close, a square-off) is a fill
//! like any other, so every trade ends `Closed` with the P&L the fills give.
//!
//! The ledger is the one record of trades: the trade log, the learner's outcomes and the
//! summary all read it. It is saved with the bot's state (with the cursor of the last fill it
//! read) and caught up from the broker at start.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use tradegraph_agents::learning::{PromptRef, Situation, TradeOutcome};
use tradegraph_agents::reports::Signal;
use tradegraph_agents::AgentName;
use tradegraph_core::order::{ClientOrderId, Fill};
use tradegraph_core::position::Position;
use tradegraph_core::{Price, Quantity, Side, Symbol, Timestamp};
use tradegraph_store::{AgentDecision, TradeRecord, TradeStatus};

/// What the agents knew when an order that may open a trade was sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntryContext {
    /// The decision that sent it.
    pub decision_id: String,
    /// Each analyst's signal.
    pub signals: BTreeMap<AgentName, Signal>,
    /// The market situation.
    pub situation: Situation,
    /// The prompt each analyst made its call with.
    #[serde(default)]
    pub prompts: BTreeMap<AgentName, PromptRef>,
    /// The portfolio manager's confidence.
    pub confidence: f64,
    /// Every agent's view, as the decision log holds it.
    pub agent_decisions: BTreeMap<String, AgentDecision>,
    /// The stop-loss and take-profit set by the guard.
    pub stop_loss: Option<Price>,
    /// The take-profit.
    pub take_profit: Option<Price>,
    /// Equity when the order was sent (for the trade's return).
    pub equity: Decimal,
}

/// A trade being built from fills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct OpenTrade {
    trade_id: String,
    side: Side,
    opened_at: Timestamp,
    /// Signed position.
    position: Decimal,
    entry_quantity: Decimal,
    entry_value: Decimal,
    exit_quantity: Decimal,
    exit_value: Decimal,
    /// Sum over fills of `-signed quantity * price`.
    cash_flow: Decimal,
    fees: Decimal,
    fills: u32,
    context: Option<EntryContext>,
}

/// What a fill did to the ledger.
#[derive(Debug, Clone, PartialEq)]
pub enum LedgerEvent {
    /// A trade opened, or changed size: its record as the trade log holds it now.
    Open(TradeRecord),
    /// A trade closed: its final record, and its outcome for the learner.
    Closed(TradeRecord, Box<TradeOutcome>),
}

/// The trade ledger: trades from the broker's fills, once.
///
/// A trade runs from flat to flat. The first fill off flat opens it (its order's client id is
/// the trade id); fills on the same side add to it (the average entry follows); fills on the
/// other side reduce it; the fill that brings the position back to zero closes it, with the
/// average exit price and the net P&L (every fill's cash flow, fees of both sides included). A
/// fill that goes through zero closes the trade and opens the next with the rest. Every kind of
/// close (a stop, a target, a trailing stop, a CLOSE, a forced close, a square-off) is a fill
/// like any other, so every trade ends `Closed` with the P&L the fills give.
///
/// The ledger is the one record of trades: the trade log, the learner's outcomes and the
/// summary all read it. It is saved with the bot's state (with the cursor of the last fill it
/// read) and caught up from the broker at start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeLedger {
    instrument: Symbol,
    /// The `seq` of the last fill read.
    cursor: u64,
    open: Option<OpenTrade>,
    /// Contexts of orders sent lately, by client id (a bounded window).
    contexts: VecDeque<(ClientOrderId, EntryContext)>,
    /// Outcomes not yet handed to the learner.
    unlearned: Vec<TradeOutcome>,
    /// Trades closed so far, and those that made money.
    closed: u64,
    wins: u64,
    /// Net P&L of the closed trades.
    realized: Decimal,
    /// The instrument's lot: what is left of a trade below it the venue cannot trade (a fee
    /// taken in the asset bought leaves such a remainder), and the trade closes without it.
    #[serde(skip)]
    lot: Quantity,
}

impl TradeLedger {
    /// How many recent order contexts are kept for fills still to come.
    const CONTEXTS: usize = 8;

    /// An empty ledger for `instrument`.
    pub fn new(instrument: Symbol) -> Self {
        Self {
            instrument,
            cursor: 0,
            open: None,
            contexts: VecDeque::new(),
            unlearned: Vec::new(),
            closed: 0,
            wins: 0,
            realized: Decimal::ZERO,
            lot: Quantity::ZERO,
        }
    }

    /// Trades of an instrument traded by `lot`: a remainder below one lot, which the venue
    /// cannot trade (a fee taken in the asset bought leaves one), does not keep a trade open.
    #[must_use]
    pub fn with_lot(mut self, lot: Quantity) -> Self {
        self.lot = lot;
        self
    }

    /// The `seq` of the last fill read: ask the broker for the fills after it.
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Trades closed so far.
    pub fn closed_trades(&self) -> u64 {
        self.closed
    }

    /// Closed trades that made money (net of fees).
    pub fn winning_trades(&self) -> u64 {
        self.wins
    }

    /// Net P&L of the closed trades.
    pub fn realized(&self) -> Decimal {
        self.realized
    }

    /// The open trade's record, if one is open.
    pub fn open_trade(&self) -> Option<TradeRecord> {
        self.open.as_ref().map(|t| self.record(t))
    }

    /// `position` (the broker's) as the bot's open trade knows it, when the position is the
    /// trade's (the same side, and the trade's quantity less at most 1%: Binance takes a buy's
    /// fee in the asset bought): its average entry and opening time, which venues do not
    /// always keep (Binance values a holding at the last price and gives no opening time; Kite
    /// gives none either). Another position stays as the broker says.
    pub fn describe(&self, position: &mut Position) {
        let Some(trade) = &self.open else {
            return;
        };
        let (held, traded) = (position.quantity, trade.position);
        let same_side = held.is_sign_negative() == traded.is_sign_negative();
        let fees_off = traded.abs() - held.abs();
        if position.symbol != self.instrument
            || held.is_zero()
            || !same_side
            || fees_off.is_sign_negative()
            || fees_off > traded.abs() / Decimal::ONE_HUNDRED
        {
            return;
        }
        if let Some(basis) = average(trade.entry_value, trade.entry_quantity)
            .and_then(|entry| position.quantity.checked_mul(entry))
        {
            position.cost_basis = basis;
        }
        position.opened_at = Some(trade.opened_at);
    }

    /// The open trade's position, signed (negative short); zero when no trade is open.
    pub fn open_position(&self) -> Decimal {
        self.open.as_ref().map_or(Decimal::ZERO, |t| t.position)
    }

    /// Remembers what the agents knew when `client_id` was sent, for the trade it may open.
    pub fn expect(&mut self, client_id: ClientOrderId, context: EntryContext) {
        self.contexts.retain(|(id, _)| *id != client_id);
        self.contexts.push_back((client_id, context));
        while self.contexts.len() > Self::CONTEXTS {
            self.contexts.pop_front();
        }
    }

    /// Outcomes of closed trades not yet learned, oldest first (kept in the saved state until
    /// [`learned`](Self::learned), so a restart loses none).
    pub fn unlearned(&self) -> &[TradeOutcome] {
        &self.unlearned
    }

    /// The first `n` unlearned outcomes were learned (and the learner saved).
    pub fn learned(&mut self, n: usize) {
        let n = n.min(self.unlearned.len());
        self.unlearned.drain(..n);
    }

    /// Reads on after `seq` from now (fills up to it are taken as read).
    pub fn skip_to(&mut self, seq: u64) {
        self.cursor = seq;
    }

    /// Reads one fill of this instrument (fills of others, and fills already read, are
    /// skipped). Returns what changed.
    pub fn on_fill(&mut self, fill: &Fill) -> Vec<LedgerEvent> {
        if fill.seq <= self.cursor {
            return Vec::new();
        }
        self.cursor = fill.seq;
        if fill.symbol != self.instrument || fill.quantity <= Decimal::ZERO {
            return Vec::new();
        }
        let mut events = Vec::new();
        let signed = fill.signed_quantity();
        let Some(trade) = self.open.as_mut() else {
            self.open_with(fill, fill.quantity, fill.fee, &mut events);
            return events;
        };
        if signed.is_sign_positive() == trade.position.is_sign_positive() {
            // Adding to the position.
            trade.position = trade.position.saturating_add(signed);
            trade.entry_quantity = trade.entry_quantity.saturating_add(fill.quantity);
            trade.entry_value = trade
                .entry_value
                .saturating_add(fill.quantity.saturating_mul(fill.price));
            trade.cash_flow = trade
                .cash_flow
                .saturating_sub(signed.saturating_mul(fill.price));
            trade.fees = trade.fees.saturating_add(fill.fee);
            trade.fills += 1;
            let record = self.open.as_ref().map(|t| self.record(t));
            events.extend(record.map(LedgerEvent::Open));
            return events;
        }
        // Reducing, closing, or going through zero.
        let held = trade.position.abs();
        let closing = fill.quantity.min(held);
        let fee_closing = if closing == fill.quantity {
            fill.fee
        } else {
            fill.fee
                .saturating_mul(closing)
                .checked_div(fill.quantity)
                .unwrap_or(fill.fee)
                .round_dp(8)
        };
        let moved = fill.side.sign().saturating_mul(closing);
        trade.position = trade.position.saturating_add(moved);
        trade.exit_quantity = trade.exit_quantity.saturating_add(closing);
        trade.exit_value = trade
            .exit_value
            .saturating_add(closing.saturating_mul(fill.price));
        trade.cash_flow = trade
            .cash_flow
            .saturating_sub(moved.saturating_mul(fill.price));
        trade.fees = trade.fees.saturating_add(fee_closing);
        trade.fills += 1;
        if !trade.position.is_zero() && trade.position.abs() < self.lot {
            // Less than one lot is left: the venue cannot trade it (a fee taken in the asset
            // bought left it), so no exit or close will: the trade is closed.
            trade.position = Decimal::ZERO;
        }
        if !trade.position.is_zero() {
            let record = self.open.as_ref().map(|t| self.record(t));
            events.extend(record.map(LedgerEvent::Open));
            return events;
        }
        if let Some(done) = self.open.take() {
            events.push(self.close(done, fill.ts));
        }
        let rest = fill.quantity.saturating_sub(closing);
        if rest > Decimal::ZERO {
            self.open_with(
                fill,
                rest,
                fill.fee.saturating_sub(fee_closing),
                &mut events,
            );
        }
        events
    }

    fn open_with(
        &mut self,
        fill: &Fill,
        quantity: Decimal,
        fee: Decimal,
        out: &mut Vec<LedgerEvent>,
    ) {
        let context = self
            .contexts
            .iter()
            .position(|(id, _)| *id == fill.client_id)
            .and_then(|i| self.contexts.remove(i))
            .map(|(_, c)| c);
        let signed = fill.side.sign().saturating_mul(quantity);
        let trade = OpenTrade {
            trade_id: fill.client_id.as_str().to_owned(),
            side: fill.side,
            opened_at: fill.ts,
            position: signed,
            entry_quantity: quantity,
            entry_value: quantity.saturating_mul(fill.price),
            exit_quantity: Decimal::ZERO,
            exit_value: Decimal::ZERO,
            cash_flow: Decimal::ZERO.saturating_sub(signed.saturating_mul(fill.price)),
            fees: fee,
            fills: 1,
            context,
        };
        out.push(LedgerEvent::Open(self.record(&trade)));
        self.open = Some(trade);
    }

    fn close(&mut self, trade: OpenTrade, at: Timestamp) -> LedgerEvent {
        let pnl = trade.cash_flow.saturating_sub(trade.fees);
        let mut record = self.record(&trade);
        record.status = TradeStatus::Closed;
        record.exit_timestamp = Some(at);
        record.exit_price = average(trade.exit_value, trade.exit_quantity);
        record.realized_pnl = Some(pnl);
        let context = trade.context.clone().unwrap_or_default();
        let equity = context.equity;
        let return_pct = if equity > Decimal::ZERO {
            pnl.checked_div(equity)
                .and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED))
                .and_then(|r| r.to_f64())
                .unwrap_or(0.0)
        } else {
            0.0
        };
        let outcome = TradeOutcome {
            trade_id: trade.trade_id.clone(),
            instrument: self.instrument.clone(),
            side: trade.side,
            opened_at: trade.opened_at,
            closed_at: at,
            entry_price: record.entry_price,
            exit_price: record.exit_price.unwrap_or(record.entry_price),
            pnl,
            quantity: trade.entry_quantity,
            fees: trade.fees,
            return_pct,
            signals: context.signals,
            situation: context.situation,
            prompts: context.prompts,
        };
        self.closed += 1;
        if pnl > Decimal::ZERO {
            self.wins += 1;
        }
        self.realized = self.realized.saturating_add(pnl);
        self.unlearned.push(outcome.clone());
        LedgerEvent::Closed(record, Box::new(outcome))
    }

    fn record(&self, trade: &OpenTrade) -> TradeRecord {
        let entry = average(trade.entry_value, trade.entry_quantity).unwrap_or(Decimal::ZERO);
        let mut record = TradeRecord::new(
            trade.trade_id.clone(),
            self.instrument.clone(),
            trade.side,
            trade.opened_at,
            entry,
            trade.entry_quantity,
        );
        record.extra.insert(
            "open_quantity".into(),
            serde_json::json!(trade.position.abs()),
        );
        record
            .extra
            .insert("fees".into(), serde_json::json!(trade.fees));
        record
            .extra
            .insert("fills".into(), serde_json::json!(trade.fills));
        if let Some(c) = &trade.context {
            record.decision_id = Some(c.decision_id.clone());
            record.confidence = c.confidence;
            record.agent_decisions = c.agent_decisions.clone();
            record.stop_loss = c.stop_loss;
            record.take_profit = c.take_profit;
        }
        record
    }
}

fn average(value: Decimal, quantity: Decimal) -> Option<Decimal> {
    (!quantity.is_zero()).then(|| value.checked_div(quantity).unwrap_or(Decimal::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradegraph_core::order::{Liquidity, OrderId};

    fn fill(seq: u64, id: &str, side: Side, qty: &str, price: &str, fee: &str) -> Fill {
        Fill {
            seq,
            order_id: OrderId::new(format!("o{seq}")),
            client_id: ClientOrderId::new(id).unwrap(),
            symbol: Symbol::new("BTCUSDT"),
            side,
            quantity: qty.parse().unwrap(),
            price: price.parse().unwrap(),
            fee: fee.parse().unwrap(),
            charges: Vec::new(),
            liquidity: Liquidity::Taker,
            ts: Timestamp::from_millis(seq as i64 * 60_000),
        }
    }

    fn closed(events: &[LedgerEvent]) -> Vec<&TradeRecord> {
        events
            .iter()
            .filter_map(|e| match e {
                LedgerEvent::Closed(r, _) => Some(r),
                LedgerEvent::Open(_) => None,
            })
            .collect()
    }

    /// A buy whose fee Binance took in the asset bought leaves less than one lot after the
    /// exit sold what could be sold: the trade closes (no exit or close can sell the rest).
    #[test]
    fn a_remainder_below_one_lot_does_not_keep_a_trade_open() {
        let mut ledger =
            TradeLedger::new(Symbol::new("BTCUSDT")).with_lot("0.00001".parse().unwrap());
        // 0.01234 bought, 0.00001234 of it the fee: 0.01232766 held, 0.01232 sold (the lot)
        ledger.on_fill(&fill(1, "entry", Side::Buy, "0.01232766", "40000", "0.49"));
        let events = ledger.on_fill(&fill(2, "exit", Side::Sell, "0.01232", "41000", "0.5"));
        assert!(
            events.iter().any(|e| matches!(e, LedgerEvent::Closed(..))),
            "{events:?}"
        );
        assert!(ledger.open_trade().is_none());
        // without the lot known, the remainder stays open (as before)
        let mut bare = TradeLedger::new(Symbol::new("BTCUSDT"));
        bare.on_fill(&fill(1, "entry", Side::Buy, "0.01232766", "40000", "0.49"));
        bare.on_fill(&fill(2, "exit", Side::Sell, "0.01232", "41000", "0.5"));
        assert!(bare.open_trade().is_some());
    }

    /// A venue's position (Binance's valued at the last price, with no opening time) is shown
    /// to the agents with the bot's trade's entry and opening time when the trade holds it
    /// whole; one it does not hold whole stays as the venue says.
    #[test]
    fn a_position_the_open_trade_holds_is_described_by_the_trade() {
        let mut ledger = TradeLedger::new(Symbol::new("BTCUSDT"));
        ledger.on_fill(&fill(1, "entry", Side::Buy, "0.1", "40000", "4"));
        ledger.on_fill(&fill(2, "entry", Side::Buy, "0.1", "42000", "4"));
        let venue = |qty: &str| {
            let mut p = Position::flat(Symbol::new("BTCUSDT"));
            p.quantity = qty.parse().unwrap();
            p.cost_basis = p.quantity * Decimal::from(45_000);
            p.mark_price = Some(Decimal::from(45_000));
            p
        };
        let mut held = venue("0.2");
        ledger.describe(&mut held);
        assert_eq!(held.average_entry(), Some(Decimal::from(41_000)));
        assert_eq!(held.unrealized_pnl(), Decimal::from(800));
        assert_eq!(held.opened_at, Some(Timestamp::from_millis(60_000)));
        // less the fee Binance takes in the asset bought (0.1%): the trade's position still
        let mut net = venue("0.1998");
        ledger.describe(&mut net);
        assert_eq!(net.average_entry(), Some(Decimal::from(41_000)));
        assert_eq!(net.opened_at, Some(Timestamp::from_millis(60_000)));
        // more than the trade holds (bought elsewhere too), or much less (sold elsewhere), or
        // the other side: the venue's word
        for other in ["0.3", "0.15", "-0.2"] {
            let mut position = venue(other);
            ledger.describe(&mut position);
            assert_eq!(
                position.average_entry(),
                Some(Decimal::from(45_000)),
                "{other}"
            );
            assert_eq!(position.opened_at, None, "{other}");
        }
    }

    #[test]
    fn a_round_trip_closes_with_the_fills_pnl() {
        let mut ledger = TradeLedger::new(Symbol::new("BTCUSDT"));
        ledger.expect(
            ClientOrderId::new("entry").unwrap(),
            EntryContext {
                decision_id: "d1".into(),
                equity: Decimal::from(10_000),
                ..EntryContext::default()
            },
        );
        let open = ledger.on_fill(&fill(1, "entry", Side::Buy, "0.1", "40000", "4"));
        assert!(
            matches!(&open[..], [LedgerEvent::Open(r)] if r.status == TradeStatus::Open && r.decision_id.as_deref() == Some("d1"))
        );
        let events = ledger.on_fill(&fill(2, "stop", Side::Sell, "0.1", "39000", "3.9"));
        let records = closed(&events);
        assert_eq!(records.len(), 1);
        let r = records[0];
        assert_eq!(r.trade_id, "entry");
        assert_eq!(r.exit_price, Some(Decimal::from(39_000)));
        // -100 on the price, 7.9 of fees
        assert_eq!(r.realized_pnl, Some("-107.9".parse().unwrap()));
        assert_eq!(ledger.realized(), "-107.9".parse::<Decimal>().unwrap());
        let outcomes = ledger.unlearned().to_vec();
        assert_eq!(outcomes.len(), 1);
        assert!((outcomes[0].return_pct - (-1.079)).abs() < 1e-9);
        ledger.learned(1);
        assert!(ledger.unlearned().is_empty());
    }

    #[test]
    fn adding_and_reducing_keep_one_record() {
        let mut ledger = TradeLedger::new(Symbol::new("BTCUSDT"));
        ledger.on_fill(&fill(1, "a", Side::Sell, "1", "100", "0"));
        ledger.on_fill(&fill(2, "b", Side::Sell, "1", "110", "0"));
        let partial = ledger.on_fill(&fill(3, "c", Side::Buy, "1", "90", "0"));
        assert!(closed(&partial).is_empty());
        let events = ledger.on_fill(&fill(4, "d", Side::Buy, "1", "95", "0"));
        let r = closed(&events)[0];
        assert_eq!(r.trade_id, "a");
        assert_eq!(r.entry_price, Decimal::from(105));
        assert_eq!(r.quantity, Decimal::from(2));
        assert_eq!(r.exit_price, Some("92.5".parse().unwrap()));
        assert_eq!(r.realized_pnl, Some(Decimal::from(25)));
        assert_eq!((ledger.closed_trades(), ledger.winning_trades()), (1, 1));
    }

    #[test]
    fn a_fill_through_zero_closes_and_opens_the_rest() {
        let mut ledger = TradeLedger::new(Symbol::new("BTCUSDT"));
        ledger.on_fill(&fill(1, "a", Side::Buy, "1", "100", "1"));
        let events = ledger.on_fill(&fill(2, "b", Side::Sell, "3", "110", "3"));
        let r = closed(&events)[0];
        assert_eq!(r.realized_pnl, Some(Decimal::from(8)));
        let open = ledger.open_trade().unwrap();
        assert_eq!(
            (open.trade_id.as_str(), open.side, open.quantity),
            ("b", Side::Sell, Decimal::from(2))
        );
    }

    #[test]
    fn fills_already_read_and_of_other_instruments_are_skipped() {
        let mut ledger = TradeLedger::new(Symbol::new("BTCUSDT"));
        ledger.on_fill(&fill(2, "a", Side::Buy, "1", "100", "0"));
        assert!(ledger
            .on_fill(&fill(1, "x", Side::Sell, "1", "100", "0"))
            .is_empty());
        assert!(ledger
            .on_fill(&fill(2, "a", Side::Buy, "1", "100", "0"))
            .is_empty());
        let mut other = fill(3, "y", Side::Sell, "1", "100", "0");
        other.symbol = Symbol::new("ETHUSDT");
        assert!(ledger.on_fill(&other).is_empty());
        assert_eq!(ledger.cursor(), 3);
        assert!(ledger.open_trade().is_some());
    }

    #[test]
    fn the_ledger_survives_serialization() {
        let mut ledger = TradeLedger::new(Symbol::new("BTCUSDT"));
        ledger.on_fill(&fill(1, "a", Side::Buy, "1", "100", "0.1"));
        let text = serde_json::to_string(&ledger).unwrap();
        let mut back: TradeLedger = serde_json::from_str(&text).unwrap();
        assert_eq!(back, ledger);
        let events = back.on_fill(&fill(2, "b", Side::Sell, "1", "101", "0.1"));
        assert_eq!(
            closed(&events)[0].realized_pnl,
            Some("0.8".parse().unwrap())
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Whatever the orders (adds, partial reduces, closes, flips) and prices, each time the
        /// paper account is flat the ledger's realized P&L is the account's realized P&L less
        /// its fees, exactly, and every trade it closed is in its count.
        #[test]
        fn the_ledger_agrees_with_the_paper_account_whenever_flat(
            steps in proptest::collection::vec((1i64..400, proptest::bool::ANY, 1i64..4), 1..60)
        ) {
            use tradegraph_broker::paper::{PaperConfig, PaperEngine};
            use tradegraph_core::order::OrderRequest;
            use tradegraph_core::{Instrument, Tick};
            let btc = Instrument::btc_usdt();
            let mut paper = PaperEngine::new(PaperConfig::new(btc.clone(), Decimal::from(10_000_000))).unwrap();
            let mut ledger = TradeLedger::new(btc.symbol.clone());
            let mut flats = 0;
            for (i, (price, buy, qty)) in steps.into_iter().enumerate() {
                let ts = Timestamp::from_millis(i as i64 * 1_000 + 1);
                let price = Decimal::from(40_000) + Decimal::from(price) * Decimal::from(10);
                paper.on_tick(&btc.symbol, &Tick::new(ts, price, Decimal::ONE)).unwrap();
                let id = ClientOrderId::new(format!("o{i}")).unwrap();
                let side = if buy { Side::Buy } else { Side::Sell };
                let order = OrderRequest::market(id, btc.symbol.clone(), side, Decimal::new(qty, 3));
                paper.submit(order).unwrap();
                for fill in paper.fills_since(ledger.cursor()).to_vec() {
                    ledger.on_fill(&fill);
                }
                let account = paper.account();
                if account.position(&btc.symbol).is_none_or(|p| p.quantity.is_zero()) {
                    flats += 1;
                    proptest::prop_assert!(ledger.open_trade().is_none());
                    proptest::prop_assert_eq!(ledger.realized(), account.realized_pnl - account.fees_paid);
                }
            }
            // and flat at the end, by a closing order
            let held = paper.account().position(&btc.symbol).map_or(Decimal::ZERO, |p| p.quantity);
            if let Some(side) = Side::of_quantity(held) {
                let id = ClientOrderId::new("close").unwrap();
                paper.submit(OrderRequest::market(id, btc.symbol.clone(), side.opposite(), held.abs())).unwrap();
                for fill in paper.fills_since(ledger.cursor()).to_vec() {
                    ledger.on_fill(&fill);
                }
                flats += 1;
            }
            let account = paper.account();
            proptest::prop_assert!(ledger.open_trade().is_none());
            proptest::prop_assert_eq!(ledger.realized(), account.realized_pnl - account.fees_paid);
            proptest::prop_assert!(flats >= 1 || ledger.closed_trades() == 0);
        }
    }
}
