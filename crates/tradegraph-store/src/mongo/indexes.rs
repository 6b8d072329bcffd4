//! The indexes: unique keys make every write idempotent; the others serve the queries.

use super::{
    MongoStore, AGENT_DECISIONS, ALERTS, BOT_STATE, CHECKPOINTS, LESSONS, OHLC_HISTORY,
    OPERATOR_ACTIONS, ORDER_INTENTS, PROMPTS, TRADES_EXECUTED,
};
use crate::StoreError;
use mongodb::bson::{doc, Document};
use mongodb::options::IndexOptions;
use mongodb::IndexModel;

fn index(keys: Document, name: &str, unique: bool) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(
            IndexOptions::builder()
                .name(name.to_owned())
                .unique(unique)
                .build(),
        )
        .build()
}

/// `(collection, [(keys, name, unique)])`.
fn all() -> Vec<(&'static str, Vec<IndexModel>)> {
    vec![
        (
            OHLC_HISTORY,
            vec![index(
                doc! {"instrument": 1, "timeframe": 1, "timestamp": 1},
                "instrument_timeframe_timestamp",
                true,
            )],
        ),
        (
            AGENT_DECISIONS,
            vec![
                index(
                    doc! {"instrument": 1, "timestamp": 1},
                    "instrument_timestamp",
                    false,
                ),
                index(
                    doc! {"run_id": 1, "decision_id": 1},
                    "run_decision_id",
                    true,
                ),
            ],
        ),
        (
            TRADES_EXECUTED,
            vec![
                index(doc! {"run_id": 1, "trade_id": 1}, "run_trade_id", true),
                index(doc! {"trade_id": 1}, "trade_id_any_run", false),
                index(
                    doc! {"instrument": 1, "entry_timestamp": 1},
                    "instrument_entry_timestamp",
                    false,
                ),
            ],
        ),
        (
            LESSONS,
            vec![
                index(doc! {"run_id": 1, "lesson_id": 1}, "run_lesson_id", true),
                index(
                    doc! {"instrument": 1, "timestamp": -1},
                    "instrument_timestamp",
                    false,
                ),
            ],
        ),
        (
            PROMPTS,
            vec![index(doc! {"prompt_hash": 1}, "prompt_hash", true)],
        ),
        (
            ALERTS,
            vec![
                index(doc! {"alert_id": 1}, "alert_id", true),
                index(
                    doc! {"instrument": 1, "timestamp": 1},
                    "instrument_timestamp",
                    false,
                ),
            ],
        ),
        (
            OPERATOR_ACTIONS,
            vec![
                index(doc! {"action_id": 1}, "action_id", true),
                index(
                    doc! {"instrument": 1, "timestamp": 1},
                    "instrument_timestamp",
                    false,
                ),
            ],
        ),
        (
            CHECKPOINTS,
            vec![
                index(
                    doc! {"thread_id": 1, "checkpoint_id": 1},
                    "thread_checkpoint",
                    true,
                ),
                index(doc! {"thread_id": 1, "seq": -1}, "thread_seq", false),
            ],
        ),
        (
            BOT_STATE,
            vec![index(
                doc! {"instrument": 1, "part": 1},
                "instrument_part",
                true,
            )],
        ),
        (
            ORDER_INTENTS,
            vec![
                index(doc! {"client_id": 1}, "client_id", true),
                index(
                    doc! {"instrument": 1, "status": 1, "created_at": 1},
                    "instrument_status_created_at",
                    false,
                ),
            ],
        ),
    ]
}

/// Unique keys of earlier versions, dropped before the indexes are made: `(collection, name)`.
/// A decision, trade or lesson was unique by its own id; it is now unique within its run.
const RETIRED: [(&str, &str); 3] = [
    (AGENT_DECISIONS, "decision_id"),
    (TRADES_EXECUTED, "trade_id"),
    (LESSONS, "lesson_id"),
];

/// MongoDB's code for "no such index" and "no such collection".
const NO_SUCH_INDEX: [i32; 2] = [27, 26];

pub(super) async fn create(store: &MongoStore) -> Result<(), StoreError> {
    for (collection, name) in RETIRED {
        let coll = store.db.collection::<Document>(collection);
        let dropped = store
            .run("drop a retired index", || async {
                match coll.drop_index(name).await {
                    Err(e)
                        if super::command_code(&e).is_some_and(|c| NO_SUCH_INDEX.contains(&c)) =>
                    {
                        Ok(())
                    }
                    other => other,
                }
            })
            .await;
        if let Err(e) = dropped {
            tracing::warn!(collection, index = name, error = %e, "a unique index of an earlier version could not be dropped: a re-run of a period may be refused");
        }
    }
    for (collection, models) in all() {
        let coll = store.db.collection::<Document>(collection);
        store
            .run("create indexes", || async {
                coll.create_indexes(models.clone()).await.map(drop)
            })
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::all;
    use std::collections::BTreeMap;

    /// `mongodb.md`'s collections table: each collection's unique key and other indexes, as
    /// the fields of each index joined by `, ` (indexes by `; `).
    fn documented() -> BTreeMap<String, (String, String)> {
        include_str!("../docs/mongodb.md")
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                let unquote = |cell: &str| cell.replace('`', "");
                Some((
                    name.to_owned(),
                    (unquote(cells.get(3)?), unquote(cells.get(4)?)),
                ))
            })
            .collect()
    }

    #[test]
    fn the_documented_keys_are_the_indexes() {
        let mut made = BTreeMap::new();
        for (collection, indexes) in all() {
            let (mut unique, mut other) = (Vec::new(), Vec::new());
            for index in indexes {
                let fields: Vec<&str> = index.keys.keys().map(String::as_str).collect();
                let fields = fields.join(", ");
                if index.options.and_then(|o| o.unique) == Some(true) {
                    unique.push(fields);
                } else {
                    other.push(fields);
                }
            }
            made.insert(collection.to_owned(), (unique.join("; "), other.join("; ")));
        }
        assert_eq!(documented(), made);
    }

    #[test]
    fn the_documented_state_parts_are_every_part() {
        let every: Vec<&str> = crate::StatePart::ALL.iter().map(|p| p.as_str()).collect();
        for (doc, text) in [
            ("mongodb.md", include_str!("../docs/mongodb.md")),
            ("redis.md", include_str!("../docs/redis.md")),
        ] {
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let listed = flat
                .split_once("`guard`, ")
                .map(|(_, rest)| rest.split_once(';').map_or(rest, |(l, _)| l))
                .unwrap_or_default();
            for part in &every[1..] {
                assert!(
                    listed.contains(&format!("`{part}`")),
                    "{doc} lacks `{part}`: {listed}"
                );
            }
        }
    }
}
