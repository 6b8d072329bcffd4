//! What the bot learned (the analysts' weights and the lessons) survives a restart and changes
//! its next decision (issue 16, item 2): a portfolio manager that reads its prompt decides
//! otherwise when it is shown the restored weights and lesson than a fresh bot's does on the
//! same market.

use super::support::*;
use async_trait::async_trait;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tradegraph::engine::Mode;
use tradegraph_agents::learning::{rule_lesson, Recall, TradeOutcome};
use tradegraph_agents::model::{ModelAnswer, ModelFailure, ReportModel};
use tradegraph_agents::prompt::RenderedPrompt;
use tradegraph_agents::reports::{Action, Signal};
use tradegraph_agents::AgentName;
use tradegraph_core::risk::RiskLimits;
use tradegraph_core::{Side, Timestamp};
use tradegraph_store::{Situation, Stores, StoresConfig};

const LESSON: &str = "fade breakouts in a flat market";

/// A portfolio manager that reads its prompt: a small long when it is shown the lesson and a
/// technical analyst it has learned to distrust, a hold otherwise. Every other agent: rules.
#[derive(Debug, Default)]
struct Reader {
    prompts: Mutex<Vec<String>>,
}

/// The technical analyst's weight on the prompt's `Analyst weights:` line.
fn technical_weight(user: &str) -> Option<f64> {
    let line = user.lines().find(|l| l.starts_with("Analyst weights: "))?;
    let rest = line.split("technical ").nth(1)?;
    let number: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    number.trim_end_matches('.').parse().ok()
}

#[async_trait]
impl ReportModel for Reader {
    async fn answer(
        &self,
        prompt: &RenderedPrompt,
        _: &Value,
    ) -> Result<ModelAnswer, ModelFailure> {
        if prompt.agent != AgentName::PortfolioManager {
            return Err(ModelFailure("rules for this agent".into()));
        }
        self.prompts.lock().unwrap().push(prompt.user.clone());
        let distrusted = technical_weight(&prompt.user).is_some_and(|w| w < 1.0);
        let value = if prompt.user.contains(LESSON) && distrusted {
            json!({"action": "BUY", "size_pct": 1.0, "stop_loss": 95.0, "take_profit": 130.0,
                   "trailing_pct": null, "confidence": 0.6, "rationale": "the lesson, and a technical analyst often wrong"})
        } else {
            hold()
        };
        Ok(ModelAnswer::new(value, "reader", "pm"))
    }
}

fn bot(
    instrument: &tradegraph_core::Instrument,
    pm: Arc<Reader>,
    stores: Stores,
) -> tradegraph::engine::BotConfig {
    let cash = tradegraph::config::default_cash(instrument.currency);
    let brain = tradegraph::prelude::Brain::rules_only()
        .unwrap()
        .with_model(pm);
    let mut config =
        tradegraph::engine::BotConfig::new(instrument.clone(), brain, cash, Mode::Service);
    config.risk_limits = RiskLimits::default();
    config.stores = stores;
    // every lesson, however far its situation (the synthetic ones have none of this market's)
    config.recall = Recall::nearest(3);
    config
}

/// A long the technical analyst called, which lost: the analyst was wrong.
fn lost(n: i64, symbol: &str) -> TradeOutcome {
    TradeOutcome {
        trade_id: format!("t-{n}"),
        instrument: symbol.into(),
        side: Side::Buy,
        opened_at: Timestamp::from_secs(1_700_000_000 + n * 3_600),
        closed_at: Timestamp::from_secs(1_700_001_800 + n * 3_600),
        entry_price: Decimal::from(100),
        exit_price: Decimal::from(97),
        pnl: Decimal::from(-3),
        quantity: Decimal::ONE,
        fees: Decimal::ZERO,
        return_pct: -0.3,
        signals: BTreeMap::from([(AgentName::Technical, Signal::Buy)]),
        situation: Situation::default(),
        prompts: Default::default(),
    }
}

#[tokio::test]
async fn restored_weights_and_lessons_change_the_next_decision() {
    let symbol = unique("LR");
    let instrument = btc_as(&symbol);
    let path = std::env::temp_dir().join(format!("{}.json", unique("tg-learned-")));
    let connect = |path: &std::path::Path| {
        let config = StoresConfig::new().state_file(Some(path.to_owned()));
        async move { Stores::connect(config).await.unwrap() }
    };

    // First life: the learner judges six losing longs the technical analyst called, with a
    // lesson each, then the bot runs one cycle (00:15) and stops, saving what it learned.
    let stores = connect(&path).await;
    let first_bars = bars_file(
        &format!("{symbol}-1"),
        "2024-03-04T00:00:00Z",
        &flat(100.0, 16),
    );
    let engine = start(
        bot(&instrument, Arc::new(Reader::default()), stores.clone()),
        &first_bars,
    )
    .await;
    {
        let mut learner = engine.desk().learner().lock().unwrap();
        for n in 0..6 {
            learner.learn(&lost(n, &symbol), |t| {
                format!("{LESSON}: {}", rule_lesson(t))
            });
        }
        assert!(learner.weights().weight(AgentName::Technical) < 0.5);
    }
    let learned = engine.desk().learner().lock().unwrap().clone();
    let first = finish(engine, stores.clone()).await;
    assert_eq!(first.cycles.len(), 1);
    stores.shutdown().await;
    // the state file's lock goes with the last handle on the stores
    drop((first, stores));

    // The next market: bars to 00:30. The restarted bot runs the 00:30 cycle on what it kept;
    // a fresh bot runs the same cycle knowing nothing.
    let next_bars = |name: &str| bars_file(name, "2024-03-04T00:00:00Z", &flat(100.0, 31));
    let restarted_pm = Arc::new(Reader::default());
    let stores = connect(&path).await;
    let engine = start(
        bot(&instrument, restarted_pm.clone(), stores.clone()),
        &next_bars(&format!("{symbol}-2")),
    )
    .await;
    assert_eq!(
        *engine.desk().learner().lock().unwrap(),
        learned,
        "the learner as it was saved"
    );
    let restarted = finish(engine, stores.clone()).await;
    stores.shutdown().await;

    let fresh_path = std::env::temp_dir().join(format!("{}.json", unique("tg-fresh-")));
    let fresh_pm = Arc::new(Reader::default());
    let stores = connect(&fresh_path).await;
    let engine = start(
        bot(&instrument, fresh_pm.clone(), stores.clone()),
        &next_bars(&format!("{symbol}-3")),
    )
    .await;
    let fresh = finish(engine, stores.clone()).await;
    stores.shutdown().await;

    let at: Timestamp = "2024-03-04T00:30:00Z".parse().unwrap();
    let decision_at = |run: &Run| {
        run.cycles
            .iter()
            .find(|c| c.as_of == at)
            .and_then(|c| c.decision.as_ref())
            .map(|d| (d.report.action, d.report.size_pct))
            .expect("the 00:30 cycle's decision")
    };
    assert_eq!(
        decision_at(&restarted),
        (Action::Buy, 1.0),
        "the restarted bot reads what it learned"
    );
    assert_eq!(
        decision_at(&fresh).0,
        Action::Hold,
        "a fresh bot has nothing to go on"
    );
    let shown = restarted_pm
        .prompts
        .lock()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert!(shown.contains(LESSON), "{shown}");
    assert!(technical_weight(&shown).is_some_and(|w| w < 0.5), "{shown}");
    let fresh_shown = fresh_pm.prompts.lock().unwrap().last().cloned().unwrap();
    assert!(!fresh_shown.contains(LESSON));
    assert_eq!(technical_weight(&fresh_shown), Some(1.0), "{fresh_shown}");
    for p in [path, fresh_path] {
        let _ = std::fs::remove_file(p);
    }
}
