//! Entries waiting for an operator, decided by commands the engine takes before anything else:
//! an approval that expired meanwhile is never sent, and one approved while entries are held
//! back stays waiting.

use super::support::*;
use std::time::Duration;
use tradegraph::engine::{Approval, BotHandle, Command, Mode, Reply, ReplyKind};
use tradegraph_core::risk::RiskLimits;
use tradegraph_store::Stores;

/// A bot whose 00:15 decision (a BUY) waits for approval (`timeout`), run to the end of its
/// data; its symbol, stores, data file and the approval's id.
async fn parked(name: &str, timeout: Duration) -> (String, Stores, std::path::PathBuf, String) {
    let symbol = unique(name);
    let file = bars_file(&symbol, "2024-03-04T00:00:00Z", &flat(100.0, 20));
    let stores = Stores::memory();
    let engine = start(bot(&symbol, stores.clone(), timeout), &file).await;
    let handle = engine.handle();
    let run = finish(engine, stores.clone()).await;
    assert!(run.broker_fills.is_empty(), "nothing sent yet");
    let waiting = handle.status().pending_approvals;
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    (symbol, stores, file, waiting[0].id.clone())
}

fn bot(symbol: &str, stores: Stores, timeout: Duration) -> tradegraph::engine::BotConfig {
    let pm = ScriptedPm::at(&[(
        "2024-03-04T00:15:00Z",
        buy(5.0, 98.0, Some(120.0), None).unwrap(),
    )]);
    let mut config = config(
        btc_as(symbol),
        pm,
        RiskLimits::default(),
        stores,
        Mode::Service,
    );
    config.approval = Approval::Required { timeout };
    config
}

/// Sends `commands` to a restarted bot before it runs (they wait in its queue, as requests
/// that came while it started do), runs it to the end of its data and returns their replies.
async fn restarted_with(
    symbol: &str,
    stores: &Stores,
    file: &std::path::Path,
    timeout: Duration,
    commands: Vec<Command>,
) -> (Vec<Reply>, Run, BotHandle) {
    let engine = start(bot(symbol, stores.clone(), timeout), file).await;
    let handle = engine.handle();
    let sent: Vec<_> = commands
        .into_iter()
        .map(|command| {
            let sender = engine.handle();
            tokio::spawn(async move { sender.send(command, Some("test".into())).await })
        })
        .collect();
    // Every command is in the bot's queue, in order, before it runs (the tasks run in the
    // order they were spawned, each up to the wait for its reply).
    tokio::task::yield_now().await;
    let run = finish(engine, stores.clone()).await;
    let mut replies = Vec::new();
    for reply in sent {
        replies.push(reply.await.unwrap().unwrap());
    }
    (replies, run, handle)
}

#[tokio::test]
async fn an_approval_that_expired_before_its_answer_is_never_sent() {
    let timeout = Duration::from_millis(300);
    let (symbol, stores, file, id) = parked("AX", timeout).await;
    // Past its expiry before the bot takes the answer.
    tokio::time::sleep(timeout * 2).await;
    let (replies, run, handle) = Box::pin(restarted_with(
        &symbol,
        &stores,
        &file,
        timeout,
        vec![Command::Approve { id: id.clone() }],
    ))
    .await;
    std::fs::remove_file(&file).unwrap();
    assert_eq!(replies[0].kind, ReplyKind::Refused, "{replies:?}");
    assert!(replies[0].message.contains("expired"), "{replies:?}");
    assert!(run.broker_fills.is_empty(), "{:?}", run.broker_fills);
    assert!(handle.status().pending_approvals.is_empty());
}

#[tokio::test]
async fn an_approval_while_entries_are_paused_is_refused_and_still_waits() {
    let timeout = Duration::from_secs(600);
    let (symbol, stores, file, id) = parked("AP", timeout).await;
    let (replies, run, handle) = Box::pin(restarted_with(
        &symbol,
        &stores,
        &file,
        timeout,
        vec![
            Command::PauseEntries { paused: true },
            Command::Approve { id: id.clone() },
        ],
    ))
    .await;
    std::fs::remove_file(&file).unwrap();
    assert_eq!(replies[0].kind, ReplyKind::Done, "{replies:?}");
    assert_eq!(replies[1].kind, ReplyKind::Refused, "{replies:?}");
    assert!(replies[1].message.contains("paused"), "{replies:?}");
    assert!(run.broker_fills.is_empty(), "{:?}", run.broker_fills);
    let waiting = handle.status().pending_approvals;
    assert_eq!(waiting.len(), 1, "still waiting: {waiting:?}");
    assert_eq!(waiting[0].id, id);
}

/// A cycle whose entry waited for an operator is counted in the cycle metrics when it ends
/// (approved here): its decision, its verdict, its reports. Before, the cycles that trade were
/// the ones the metrics missed.
#[cfg(feature = "service")]
#[tokio::test]
async fn a_cycle_that_waited_for_approval_is_counted_when_it_ends() {
    tradegraph::telemetry::install().unwrap();
    let timeout = Duration::from_secs(600);
    let (symbol, stores, file, id) = parked("AM", timeout).await;
    let counted = |metric: &str, label: &str| {
        let instrument = format!("instrument=\"{symbol}\"");
        tradegraph::telemetry::render().lines().any(|l| {
            l.starts_with(&format!("{metric}{{"))
                && l.contains(label)
                && l.contains(&instrument)
                && !l.ends_with(" 0")
        })
    };
    let buy = || counted("tradegraph_engine_decisions_total", "action=\"buy\"");
    assert!(!buy(), "not counted while it waits");
    // The newest cycle decided is the one waiting, as the status says.
    let instrument = format!("instrument=\"{symbol}\"");
    assert!(
        tradegraph::telemetry::render().lines().any(|l| l
            .starts_with("tradegraph_engine_last_cycle_timestamp_seconds{")
            && l.contains(&instrument)
            && l.ends_with(" 1709511300")),
        "{}",
        tradegraph::telemetry::render()
    );
    let (replies, _, _) = Box::pin(restarted_with(
        &symbol,
        &stores,
        &file,
        timeout,
        vec![Command::Approve { id }],
    ))
    .await;
    std::fs::remove_file(&file).unwrap();
    assert_eq!(replies[0].kind, ReplyKind::Done, "{replies:?}");
    assert!(replies[0].message.starts_with("approved"), "{replies:?}");
    assert!(buy(), "{}", tradegraph::telemetry::render());
    assert!(
        counted("tradegraph_engine_verdicts_total", "status=\"approved\"")
            || counted("tradegraph_engine_verdicts_total", "status=\"clamped\"")
    );
}
