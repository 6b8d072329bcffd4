//! Edge cases of resuming: an event number out of range, a number from another run of the bot,
//! and paging over records stamped the same millisecond.

use crate::harness::{Served, SYMBOL};
use std::time::Duration;
use tradegraph_core::Timestamp;
use tradegraph_store::mongo::{MongoConfig, MongoStore};
use tradegraph_store::{OperatorAction, OperatorLog};

#[test]
fn an_event_number_from_another_run_or_out_of_range_resets_the_stream_from_the_start() {
    let mut bot = Served::start("resume", "", 0);
    let mut live = bot.events("", None);
    bot.play(6);
    let first = bot
        .runtime
        .block_on(live.until(Duration::from_secs(30), |e| {
            e.event == "decision" && e.data["seq"] == 5
        }));
    drop(live);
    let last_seen = first.last().unwrap().id.unwrap();

    // The largest number there is, as the header and as the query: a reset, not a panic.
    for (query, header) in [
        ("", Some(u64::MAX)),
        ("?last_event_id=18446744073709551615", None),
    ] {
        let mut far = bot.events(query, header);
        let got = bot
            .runtime
            .block_on(far.until(Duration::from_secs(10), |e| e.id == Some(1)));
        assert_eq!(got[0].event, "reset", "{query}: {got:?}");
        assert_eq!(got[0].data["last_event_id"], u64::MAX, "{query}");
        assert_eq!(
            got.len(),
            2,
            "then every kept event from the first: {got:?}"
        );
    }

    // After a restart the numbers start again: a client holding the old run's last number is
    // told, and gets every event of the new run.
    bot.restart();
    bot.play(9);
    bot.wait(
        &format!("the new run's first events (fewer than {last_seen})"),
        |s| s.status()["cycles"].as_u64() >= Some(1),
    );
    let mut again = bot.events("", Some(last_seen));
    let got = bot
        .runtime
        .block_on(again.until(Duration::from_secs(30), |e| e.event == "decision"));
    assert_eq!(got[0].event, "reset", "{got:?}");
    assert_eq!(got[0].data["last_event_id"], last_seen);
    let ids: Vec<u64> = got[1..].iter().map(|e| e.id.unwrap()).collect();
    assert_eq!(ids[0], 1, "from the new run's first event: {ids:?}");
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    assert!(
        *ids.last().unwrap() < last_seen,
        "the new run's numbers are below the old one's: {ids:?}"
    );
}

#[test]
fn an_event_id_of_another_run_resets_even_when_its_number_is_below_the_new_runs() {
    let mut bot = Served::start("resume-run", "", 0);
    let mut live = bot.events("", None);
    bot.play(3);
    let first = bot
        .runtime
        .block_on(live.until(Duration::from_secs(30), |e| {
            e.event == "decision" && e.data["seq"] == 2
        }));
    drop(live);
    let run = first[0].run.clone().expect("the SSE id names the run");
    assert!(
        first.iter().all(|e| e.run.as_deref() == Some(run.as_str())),
        "{first:?}"
    );
    let early = &first[2];
    let early_id = early.raw_id.clone().unwrap();
    assert_eq!(early_id, format!("{run}:{}", early.id.unwrap()));

    // An id of this run: resumed right after it, as before.
    let mut same = bot.events_after("", Some(&early_id));
    let got = bot
        .runtime
        .block_on(same.until(Duration::from_secs(10), |_| true));
    assert_eq!(got[0].id, Some(early.id.unwrap() + 1), "{got:?}");
    drop(same);

    // A malformed id is no id: the stream answers, from now on (no backlog).
    let newest = first.last().unwrap().id.unwrap();
    let mut bad = bot.events_after("", Some("not-an-event-id"));
    let mut bad_query = bot.events("?last_event_id=nope", None);
    bot.play(4);
    for stream in [&mut bad, &mut bad_query] {
        let got = bot
            .runtime
            .block_on(stream.until(Duration::from_secs(30), |_| true));
        assert!(got[0].id.unwrap() > newest, "live only: {got:?}");
    }
    drop((bad, bad_query));

    // After a restart the new run numbers from 1 again and soon passes the early number: the
    // old run's id still resets the stream, from the new run's first event.
    let cycles = bot.status()["cycles"].as_u64().unwrap();
    bot.restart();
    bot.play(7);
    bot.wait("two cycles of the new run", |s| {
        s.status()["cycles"].as_u64() >= Some(cycles + 2)
    });
    let mut again = bot.events_after("", Some(&early_id));
    let got = bot
        .runtime
        .block_on(again.until(Duration::from_secs(30), |e| e.event == "decision"));
    assert_eq!(got[0].event, "reset", "{got:?}");
    assert_eq!(got[0].data["last_event_id"], early_id.as_str());
    assert!(
        got[0].data["newest"].as_u64().unwrap() > early.id.unwrap(),
        "the new run is past the old number: {}",
        got[0].data
    );
    assert_eq!(got[1].id, Some(1), "{got:?}");
    let new_run = got[1].run.clone().unwrap();
    assert_ne!(new_run, run, "each run has its own id");
    assert_eq!(got[0].data["run"], new_run.as_str());
}

#[test]
fn paging_with_the_cursor_keeps_records_stamped_the_same_millisecond() {
    let Some((_, mongo)) = crate::support::services() else {
        return;
    };
    let database = format!("tradegraph_service_paging_{}", std::process::id());
    let stores = format!("database = \"{database}\"");
    let bot = Served::start_with(
        "paging",
        "",
        &stores,
        0,
        vec![("MONGODB_URI", mongo.clone())],
    );
    let at = Timestamp::from_millis(1_700_000_000_123);
    bot.runtime.block_on(async {
        let store = MongoStore::connect(&MongoConfig::new(mongo.clone()).database(&database))
            .await
            .unwrap();
        for (t, n) in [
            (at.add_millis(-1), 1),
            (at, 2),
            (at, 3),
            (at, 4),
            (at.add_millis(1), 5),
        ] {
            let action = OperatorAction::new(SYMBOL.into(), t, n, format!("test.{n}"));
            store.record_action(&action).await.unwrap();
        }
    });
    for limit in [1, 2, 3] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10 {
            let url = match &cursor {
                Some(c) => format!("/api/v1/operator-actions?limit={limit}&cursor={c}"),
                None => format!("/api/v1/operator-actions?limit={limit}"),
            };
            let (code, page) = bot.get(&url);
            assert_eq!(code, 200, "{url}: {page}");
            for item in page["items"].as_array().unwrap() {
                seen.push(item["action"].as_str().unwrap().to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 5, "limit={limit}: each once: {seen:?}");
        assert_eq!(seen[0], "test.5", "limit={limit}: newest first: {seen:?}");
        assert_eq!(seen[4], "test.1", "limit={limit}: {seen:?}");
        let mut middle = seen[1..4].to_vec();
        middle.sort();
        assert_eq!(middle, ["test.2", "test.3", "test.4"], "limit={limit}");
    }
    // `before` stays a time, exclusive, for people.
    let (_, page) = bot.get(&format!("/api/v1/operator-actions?before={}", at.millis()));
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["action"], "test.1");
    bot.runtime.block_on(async {
        let client = mongodb::Client::with_uri_str(&mongo).await.unwrap();
        client.database(&database).drop().await.unwrap();
    });
}
