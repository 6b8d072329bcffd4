//! Runs and prompts (issue 16, item 6), the same checks for every journal: records of two runs
//! with the same ids are both kept, a run rewriting its own record replaces it, and a prompt is
//! stored once and read back by its hash.

use super::hot_suite::at;
use tradegraph_core::Symbol;
use tradegraph_store::{
    DecisionLog, DecisionRecord, Lesson, LessonLog, PromptLog, PromptRecord, Query, RunId,
    TradeLog, TradeRecord,
};

/// Every check, on a journal that is empty for `instrument`.
pub async fn run_all<J: DecisionLog + TradeLog + LessonLog + PromptLog>(
    journal: &J,
    instrument: &Symbol,
) {
    a_rerun_keeps_the_earlier_runs_records(journal, instrument).await;
    a_prompt_is_kept_once_and_read_by_its_hash(journal, instrument).await;
}

async fn a_rerun_keeps_the_earlier_runs_records<J: DecisionLog + TradeLog + LessonLog>(
    journal: &J,
    instrument: &Symbol,
) {
    let first = RunId::new(at(0));
    let second = RunId::new(at(60_000));
    assert!(first < second, "run ids sort by their start");
    for (run, action) in [(&first, "BUY"), (&second, "SELL")] {
        for minute in 0..3 {
            let mut d = DecisionRecord::new(instrument.clone(), at(minute * 60_000)).action(action);
            d.run_id = run.clone();
            journal.record_decision(&d).await.unwrap();
            // a retry within the run replaces its own record
            journal.record_decision(&d).await.unwrap();
        }
        let mut t = TradeRecord::new(
            "t-1",
            instrument.clone(),
            tradegraph_core::Side::Buy,
            at(0),
            "100".parse().unwrap(),
            "1".parse().unwrap(),
        );
        t.run_id = run.clone();
        t.confidence = if run == &first { 0.1 } else { 0.9 };
        journal.record_trade(&t).await.unwrap();
        let mut l = Lesson::new(
            instrument.clone(),
            at(0),
            "learning",
            format!("lesson of {run}"),
        );
        l.run_id = run.clone();
        journal.record_lesson(&l).await.unwrap();
    }
    let decisions = journal
        .decisions(&Query::new(instrument.clone()))
        .await
        .unwrap();
    assert_eq!(decisions.len(), 6, "three cycles in each of two runs");
    for run in [&first, &second] {
        let ours: Vec<_> = decisions.iter().filter(|d| &d.run_id == run).collect();
        assert_eq!(ours.len(), 3, "{run}: {decisions:?}");
    }
    assert!(decisions
        .iter()
        .all(|d| d.action.as_deref() == Some(if d.run_id == first { "BUY" } else { "SELL" })));
    // one run's records, and those written without a run
    let firsts = journal
        .decisions(&Query::new(instrument.clone()).run(first.clone()))
        .await
        .unwrap();
    assert_eq!(firsts.len(), 3);
    assert!(firsts.iter().all(|d| d.run_id == first));
    let none = journal
        .decisions(&Query::new(instrument.clone()).run(RunId::default()))
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
    let seconds = journal
        .trades(&Query::new(instrument.clone()).run(second.clone()))
        .await
        .unwrap();
    assert_eq!(seconds.len(), 1);
    assert_eq!(seconds[0].confidence, 0.9);
    let trades = journal
        .trades(&Query::new(instrument.clone()))
        .await
        .unwrap();
    assert_eq!(trades.len(), 2, "{trades:?}");
    let latest = journal.trade("t-1").await.unwrap().unwrap();
    assert_eq!(
        (latest.run_id, latest.confidence),
        (second.clone(), 0.9),
        "the latest run's"
    );
    let lessons = journal.recent_lessons(instrument, None, 10).await.unwrap();
    assert_eq!(lessons.len(), 2, "{lessons:?}");
}

async fn a_prompt_is_kept_once_and_read_by_its_hash<J: PromptLog>(
    journal: &J,
    instrument: &Symbol,
) {
    let hash = format!("sha256:{}", "ab".repeat(32));
    let p = PromptRecord::new(
        hash.clone(),
        instrument.clone(),
        "technical",
        "technical@0123456789abcdef",
        "You are the technical analyst.",
        "RSI 71, MACD above its signal",
        at(0),
    );
    journal.record_prompt(&p).await.unwrap();
    // a later decision with the same text: still one prompt, naming the later decision
    let mut again = p.clone();
    again.timestamp = at(900_000);
    journal.record_prompt(&again).await.unwrap();
    let back = journal.prompt(&hash).await.unwrap().expect("the prompt");
    assert_eq!(back.timestamp, at(900_000));
    assert_eq!(back.user, p.user);
    assert_eq!(back.system, p.system);
    assert_eq!(back.prompt_version, p.prompt_version);
    assert!(journal.prompt("sha256:none").await.unwrap().is_none());
}
