//! The chaos run's records against the reference's, every problem listed (not only the first).
//!
//! A decision whose order never reached the broker is not repeated (its intent is abandoned at
//! the restart, or was never written while MongoDB was away): from that decision on, the chaos
//! run's account may differ from the reference's. Records before it must be the reference's to
//! the field; after it, each record must still be stored once and agree with the paper
//! account's fills.

use super::records::{self, decision_view, project, Stored, ENTRY_FIELDS, TRADE_FIELDS};
use mongodb::bson::Document;
use std::collections::{BTreeMap, BTreeSet};
use tradegraph_core::Timestamp;

/// What was checked.
#[derive(Debug, Default)]
pub struct Checked {
    pub decisions: usize,
    pub trades: usize,
    pub fills: usize,
    pub intents: usize,
    pub abandoned: usize,
    pub lessons: usize,
    pub halted_cycles: usize,
    /// The time of the first decision whose order did not go out as in the reference.
    pub diverged_at: Option<Timestamp>,
    /// Decisions whose record is a second attempt's, without the order the first one sent.
    pub decided_again: Vec<String>,
}

/// `docs` by the string field `key`, and the keys seen more than once.
fn index(docs: &[Document], key: &str) -> (BTreeMap<String, Document>, Vec<String>) {
    let mut out = BTreeMap::new();
    let mut twice = Vec::new();
    for d in docs {
        let id = d.get_str(key).unwrap_or("<none>").to_owned();
        if out.insert(id.clone(), d.clone()).is_some() {
            twice.push(id);
        }
    }
    (out, twice)
}

fn time(d: &Document, field: &str) -> Option<i64> {
    d.get_datetime(field).ok().map(|t| t.timestamp_millis())
}

/// The decision time a decision id names (`BTCUSDT-20240304T051500.000Z`).
fn decision_time(id: &str) -> Option<Timestamp> {
    let compact = id.rsplit_once('-')?.1;
    let parsed = chrono::NaiveDateTime::parse_from_str(compact, "%Y%m%dT%H%M%S%.3fZ").ok()?;
    Some(Timestamp::from_millis(parsed.and_utc().timestamp_millis()))
}

/// Compares; `failed` are the decision ids whose cycle a run logged as failed.
pub fn compare(
    reference: &Stored,
    chaos: &Stored,
    failed: &BTreeSet<String>,
) -> (Checked, Vec<String>) {
    let mut problems = Vec::new();
    let mut checked = Checked::default();

    // Where the runs may part: the first decision whose order did not go out.
    let (intents, twice) = index(&chaos.intents, "client_id");
    for id in twice {
        problems.push(format!("order intent {id} is stored twice"));
    }
    let abandoned: Vec<&Document> = intents
        .values()
        .filter(|i| i.get_str("status") == Ok("abandoned"))
        .collect();
    // A failed cycle that a later run decided again (its checkpoint was not saved) parts
    // nothing: it is compared like any other.
    let (got_decisions, _) = index(&chaos.decisions, "decision_id");
    checked.diverged_at = abandoned
        .iter()
        .filter_map(|i| decision_time(i.get_str("decision_id").ok()?))
        .chain(
            failed
                .iter()
                .filter(|id| !got_decisions.contains_key(*id))
                .filter_map(|id| decision_time(id)),
        )
        .min();
    let before = |ms: Option<i64>| match (checked.diverged_at, ms) {
        (None, _) => true,
        (Some(at), Some(ms)) => ms < at.millis(),
        (Some(_), None) => false,
    };
    // A cycle's market orders fill at the end of the bar that closed it, a millisecond before
    // its decision time: fills (and the trades they open) before that do not depend on it.
    let filled_before = |ms: Option<i64>| before(ms.map(|ms| ms + 1));

    // Decisions: every cycle of the data once.
    let (want, _) = index(&reference.decisions, "decision_id");
    let (got, twice) = index(&chaos.decisions, "decision_id");
    for id in twice {
        problems.push(format!("decision {id} is stored twice"));
    }
    for id in want.keys().filter(|k| !got.contains_key(*k)) {
        let why = if failed.contains(id) {
            "its cycle failed in a run (see the runs' logs) and no later run recorded it"
        } else {
            "no run logged its cycle as failed"
        };
        problems.push(format!("decision {id} is missing: {why}"));
    }
    for id in got.keys().filter(|k| !want.contains_key(*k)) {
        problems.push(format!("decision {id} is not a cycle of the reference"));
    }
    // The orders each decision sent, by their intents (what the broker was asked, whatever
    // the decision's record says).
    let mut sent_by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (client_id, intent) in &intents {
        let decision = intent.get_str("decision_id").unwrap_or_default().to_owned();
        sent_by
            .entry(decision)
            .or_default()
            .insert(client_id.clone());
    }
    let core = |d: &Document| project(d, &["decision_id", "timestamp", "action"]);
    let mut seq_off = Vec::new();
    for (id, d) in &want {
        let Some(g) = got.get(id).filter(|_| before(time(d, "timestamp"))) else {
            continue;
        };
        if core(g) != core(d) {
            problems.push(format!(
                "decision {id} differs from the reference: {} vs {}",
                core(g),
                core(d)
            ));
        }
        if g.get("seq") != d.get("seq") {
            seq_off.push(format!("{id}: {:?} vs {:?}", g.get("seq"), d.get("seq")));
        }
        let sent = sent_by.get(id).cloned().unwrap_or_default();
        let recorded = records::decision_orders(g);
        if sent != records::decision_orders(d) || !recorded.is_subset(&sent) {
            problems.push(format!(
                "decision {id} sent {sent:?} and records {recorded:?}; the reference sent {:?}",
                records::decision_orders(d)
            ));
        } else if recorded != sent {
            // Decided again after a kill that came between its order and its checkpoint (and
            // before its record was written): the record is the second attempt's, which found
            // the order already done. The guard's view may differ from the first attempt's.
            checked.decided_again.push(id.clone());
        } else if g
            .get_str("placed_earlier")
            .is_ok_and(|placed| sent.contains(placed))
        {
            // Decided again after a kill between its order and its checkpoint: this run asked
            // for the order again, sized on the account as it then was, and the journal
            // answered with the first run's order (the record says so). The verdict is the
            // second run's and may differ from the first's.
            checked.decided_again.push(id.clone());
        } else if decision_view(g) != decision_view(d) {
            problems.push(format!(
                "decision {id} differs from the reference: {} vs {}",
                decision_view(g),
                decision_view(d)
            ));
        }
    }
    if let Some(first) = seq_off.first() {
        problems.push(format!(
            "{} decisions carry another sequence number than the reference's, from {first}",
            seq_off.len()
        ));
    }
    let mut by_seq: BTreeMap<String, Vec<&String>> = BTreeMap::new();
    for (id, d) in &got {
        let seq = d
            .get("seq")
            .map_or_else(|| "none".to_owned(), ToString::to_string);
        by_seq.entry(seq).or_default().push(id);
    }
    for (seq, ids) in by_seq.iter().filter(|(_, ids)| ids.len() > 1) {
        problems.push(format!(
            "sequence number {seq} is used by the decisions {ids:?}"
        ));
    }
    checked.decisions = got.len();

    // Trades: each once; those the fills give; before the divergence, the reference's.
    let (want, _) = index(&reference.trades, "trade_id");
    let (got, twice) = index(&chaos.trades, "trade_id");
    for id in twice {
        problems.push(format!("trade {id} is stored twice"));
    }
    for (id, t) in &want {
        if !filled_before(time(t, "entry_timestamp")) {
            continue;
        }
        // A trade that closed after the divergence is compared up to its entry.
        let fields: &[&str] = if filled_before(time(t, "exit_timestamp")) {
            &TRADE_FIELDS
        } else {
            &TRADE_FIELDS[..ENTRY_FIELDS]
        };
        match got.get(id) {
            None => problems.push(format!("trade {id} of the reference is missing")),
            Some(g) if project(g, fields) != project(t, fields) => {
                problems.push(format!(
                    "trade {id} differs from the reference: {} vs {}",
                    project(g, fields),
                    project(t, fields)
                ));
            }
            Some(_) => {}
        }
    }
    if checked.diverged_at.is_none() && got.len() != want.len() {
        problems.push(format!(
            "{} trades stored, the reference has {}",
            got.len(),
            want.len()
        ));
    }
    checked.trades = got.len();
    let Some((_, broker)) = chaos.state.get("broker") else {
        problems.push("no paper account saved".into());
        return (checked, problems);
    };
    if broker["fills_base"].as_u64().unwrap_or(0) != 0 {
        problems.push("the paper account let fills go: the checks would be partial".into());
    }
    let fills = broker["fills"].as_array().cloned().unwrap_or_default();
    let from_fills = records::trades_from_fills(&fills);
    let ids: BTreeSet<&String> = from_fills.iter().map(|t| &t.trade_id).collect();
    if ids.len() != from_fills.len() || ids != got.keys().collect::<BTreeSet<_>>() {
        problems.push(format!(
            "the trade log {:?} is not the fills' trades {ids:?}",
            got.keys().collect::<Vec<_>>()
        ));
    }
    for trade in &from_fills {
        let Some(stored) = got.get(&trade.trade_id) else {
            continue;
        };
        let pnl = records::trade_decimal(stored, "realized_pnl");
        let quantity = records::trade_decimal(stored, "quantity");
        if pnl != trade.pnl || quantity != Some(trade.quantity) {
            problems.push(format!(
                "trade {}: stored P&L {pnl:?} and quantity {quantity:?}, its fills give {:?} and {}",
                trade.trade_id, trade.pnl, trade.quantity
            ));
        }
    }
    checked.fills = fills.len();

    // Fills before the divergence are the reference's; no client order id fills twice.
    let reference_fills = reference
        .state
        .get("broker")
        .and_then(|(_, b)| b["fills"].as_array().cloned())
        .unwrap_or_default();
    let fill_ms = |f: &serde_json::Value| {
        f["ts"]
            .as_str()
            .and_then(|t| t.parse::<Timestamp>().ok())
            .map(Timestamp::millis)
    };
    let early = |fs: &[serde_json::Value]| -> Vec<serde_json::Value> {
        fs.iter()
            .filter(|f| filled_before(fill_ms(f)))
            .cloned()
            .collect()
    };
    if early(&fills) != early(&reference_fills) {
        problems
            .push("the paper account's fills before the divergence are not the reference's".into());
    }
    let mut filled = BTreeSet::new();
    for f in &fills {
        let id = f["client_id"].as_str().unwrap_or_default();
        if !filled.insert(id) {
            problems.push(format!("client order id {id} filled twice"));
        }
    }

    // Orders: each client order id sent once, every order sent journaled, every intent settled.
    let orders = broker["orders"].as_array().cloned().unwrap_or_default();
    let mut sent = BTreeSet::new();
    for o in &orders {
        let id = o["order"]["request"]["client_id"]
            .as_str()
            .unwrap_or_default();
        if !sent.insert(id.to_owned()) {
            problems.push(format!("client order id {id} was sent twice"));
        }
        if o["meta"]["role"] == "plain" && !intents.contains_key(id) {
            problems.push(format!("order {id} went out without an intent"));
        }
    }
    for (id, intent) in &intents {
        let status = intent.get_str("status").unwrap_or_default();
        let ok = match status {
            "done" => sent.contains(id),
            "abandoned" => !sent.contains(id),
            _ => false,
        };
        if !ok {
            problems.push(format!(
                "intent {id} is {status} and the paper account {} the order",
                if sent.contains(id) { "has" } else { "lacks" }
            ));
        }
    }
    checked.intents = intents.len();
    checked.abandoned = abandoned.len();

    // The halt: the chaos run's own first one (the reference's when nothing diverged before),
    // and no entry filled from then on.
    let first_halt = |s: &Stored| {
        s.decisions
            .iter()
            .filter(|d| records::daily_halt(d))
            .filter_map(|d| time(d, "timestamp"))
            .min()
    };
    match first_halt(chaos) {
        None => problems.push("the guard never halted".into()),
        Some(halt) => {
            let reference_halt = first_halt(reference);
            if before(Some(halt)) && Some(halt) != reference_halt {
                problems.push(format!(
                    "the guard halted at {halt}, the reference at {reference_halt:?}"
                ));
            }
            for f in &fills {
                if f["side"] == "BUY" && fill_ms(f).is_none_or(|ms| ms >= halt) {
                    problems.push(format!("an entry filled after the halt: {f}"));
                }
            }
            checked.halted_cycles = got_decisions_from(chaos, halt);
        }
    }

    // Lessons: each once; the reference's when nothing diverged.
    let (want, _) = index(&reference.lessons, "lesson_id");
    let (got, twice) = index(&chaos.lessons, "lesson_id");
    for id in twice {
        problems.push(format!("lesson {id} is stored twice"));
    }
    if checked.diverged_at.is_none() && want.keys().ne(got.keys()) {
        problems.push(format!(
            "lessons {:?}, the reference's {:?}",
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>()
        ));
    }
    checked.lessons = got.len();
    (checked, problems)
}

fn got_decisions_from(stored: &Stored, from_ms: i64) -> usize {
    stored
        .decisions
        .iter()
        .filter(|d| time(d, "timestamp").is_some_and(|t| t >= from_ms))
        .count()
}
