//! What one bot left in its MongoDB database, read with the driver: the decision, trade and
//! lesson logs, the order intents and the saved state, raw (every document, duplicates
//! included), and the checks that compare them.

use futures::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub const SYMBOL: &str = "BTCUSDT";

/// Every document one bot wrote.
#[derive(Debug, Clone)]
pub struct Stored {
    pub decisions: Vec<Document>,
    pub trades: Vec<Document>,
    pub lessons: Vec<Document>,
    pub intents: Vec<Document>,
    /// The saved state by part: `(version, body)`.
    pub state: BTreeMap<String, (i64, Value)>,
}

async fn all(db: &mongodb::Database, collection: &str) -> Vec<Document> {
    db.collection::<Document>(collection)
        .find(doc! {"instrument": SYMBOL})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

/// Reads `database` of `client`.
pub async fn read(client: &mongodb::Client, database: &str) -> Stored {
    let db = client.database(database);
    let mut state = BTreeMap::new();
    for saved in all(&db, "bot_state").await {
        let part = saved.get_str("part").unwrap().to_owned();
        let body: Value = serde_json::from_str(saved.get_str("body").unwrap()).unwrap();
        let version = saved.get_i64("version").unwrap();
        assert!(
            state.insert(part.clone(), (version, body)).is_none(),
            "two documents of the state part {part}"
        );
    }
    Stored {
        decisions: all(&db, "agent_decisions").await,
        trades: all(&db, "trades_executed").await,
        lessons: all(&db, "lessons").await,
        intents: all(&db, "order_intents").await,
        state,
    }
}

/// The saved guard state's halted day, when `stored` has a guard state.
pub fn halted_day(stored: &Stored) -> Option<Value> {
    let (_, guard) = stored.state.get("guard")?;
    guard.get("halted_day").filter(|d| !d.is_null()).cloned()
}

/// The fields of `d` named in `fields` (what two runs of the same decisions must agree on).
pub fn project(d: &Document, fields: &[&str]) -> Document {
    let mut out = Document::new();
    for f in fields {
        out.insert(*f, d.get(*f).cloned().unwrap_or(Bson::Null));
    }
    out
}

/// What a decision document says, for comparing two runs: its time, action, the guard's
/// status and findings, and the client ids of its orders.
pub fn decision_view(d: &Document) -> Document {
    let mut out = project(d, &["decision_id", "timestamp", "action"]);
    let guard = d.get_document("risk_guard").ok();
    out.insert(
        "guard",
        guard.map_or(Bson::Null, |g| {
            g.get("status").cloned().unwrap_or(Bson::Null)
        }),
    );
    let findings: Vec<Bson> = guard
        .and_then(|g| g.get_array("findings").ok())
        .map(|f| {
            f.iter()
                .filter_map(|x| x.as_document())
                .map(|x| x.get("effect").cloned().unwrap_or(Bson::Null))
                .collect()
        })
        .unwrap_or_default();
    out.insert("findings", findings);
    let orders: Vec<Bson> = d
        .get_array("orders")
        .map(|o| {
            o.iter()
                .filter_map(|x| x.as_document())
                .map(|x| x.get("client_id").cloned().unwrap_or(Bson::Null))
                .collect()
        })
        .unwrap_or_default();
    out.insert("orders", orders);
    out
}

/// The client order ids a decision document lists.
pub fn decision_orders(d: &Document) -> BTreeSet<String> {
    d.get_array("orders")
        .map(|o| {
            o.iter()
                .filter_map(|x| x.as_document()?.get_str("client_id").ok())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the guard's findings in decision `d` name the daily loss limit.
pub fn daily_halt(d: &Document) -> bool {
    d.get_document("risk_guard")
        .ok()
        .and_then(|g| g.get_array("findings").ok())
        .is_some_and(|f| {
            f.iter().filter_map(|x| x.as_document()).any(|x| {
                x.get_str("reason")
                    .is_ok_and(|r| r.starts_with("daily loss of"))
            })
        })
}

/// What a trade document says that does not depend on what the agents knew when its order
/// went out (a bot that died between an order and saving its ledger has only the order's
/// intent for that): its entry first ([`ENTRY_FIELDS`] of them), then its exit.
pub const TRADE_FIELDS: [&str; 10] = [
    "trade_id",
    "side",
    "entry_timestamp",
    "entry_price",
    "decision_id",
    "quantity",
    "status",
    "exit_timestamp",
    "exit_price",
    "realized_pnl",
];

/// How many of [`TRADE_FIELDS`] describe the entry.
pub const ENTRY_FIELDS: usize = 5;

/// A trade from the paper account's fills: flat to flat.
#[derive(Debug, Clone, PartialEq)]
pub struct FillTrade {
    pub trade_id: String,
    pub quantity: Decimal,
    pub pnl: Option<Decimal>,
}

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

/// The trades the fills give (the last one open when the account is not flat), with the
/// client ids that bought: a fill that goes through zero does not occur on a spot account.
pub fn trades_from_fills(fills: &[Value]) -> Vec<FillTrade> {
    let mut trades: Vec<FillTrade> = Vec::new();
    let (mut position, mut cash, mut fees) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for fill in fills {
        let quantity = dec(&fill["quantity"]);
        let signed = if fill["side"] == "BUY" {
            quantity
        } else {
            -quantity
        };
        if position.is_zero() {
            trades.push(FillTrade {
                trade_id: fill["client_id"].as_str().unwrap().to_owned(),
                quantity: Decimal::ZERO,
                pnl: None,
            });
        }
        let trade = trades.last_mut().unwrap();
        if signed.is_sign_positive() == position.is_sign_positive() || position.is_zero() {
            trade.quantity += quantity;
        }
        position += signed;
        cash -= signed * dec(&fill["price"]);
        fees += dec(&fill["fee"]);
        if position.is_zero() {
            trade.pnl = Some(cash - fees);
            (cash, fees) = (Decimal::ZERO, Decimal::ZERO);
        }
    }
    trades
}

/// The decimal of a trade document's field.
pub fn trade_decimal(d: &Document, field: &str) -> Option<Decimal> {
    match d.get(field)? {
        Bson::Decimal128(x) => Some(x.to_string().parse().unwrap()),
        Bson::Null => None,
        other => panic!("{field} is not a decimal: {other}"),
    }
}
