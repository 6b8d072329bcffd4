//! The learning agent's memory: weights and lessons, learned from trades as the trade ledger
//! closed them. The learner keeps no positions of its own: what a trade made comes from the
//! broker's fills, once, through [`TradeOutcome`].

use super::refine::{Call, PromptRef, PromptVersion, PromptVersions, RefinePolicy};
use super::{AgentWeights, Lesson, Situation};
use crate::reports::Signal;
use crate::AgentName;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tradegraph_core::{Side, Symbol, Timestamp};

/// A closed trade as the trade ledger recorded it from the broker's fills, with what the agents
/// saw when it was opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeOutcome {
    /// The trade's id in the trade log (its entry order's client id).
    pub trade_id: String,
    /// The instrument.
    pub instrument: Symbol,
    /// Long (`Buy`) or short (`Sell`).
    pub side: Side,
    /// When the first entry fill happened.
    pub opened_at: Timestamp,
    /// When the last exit fill happened.
    pub closed_at: Timestamp,
    /// Average entry price.
    pub entry_price: Decimal,
    /// Average exit price.
    pub exit_price: Decimal,
    /// Net P&L, fees of both sides included.
    pub pnl: Decimal,
    /// Quantity entered (the sum of the entry fills; 0 when unknown, as in older saves).
    #[serde(default)]
    pub quantity: Decimal,
    /// Fees of the trade's fills (a fill that reverses the position shares its fee by
    /// quantity; 0 when unknown).
    #[serde(default)]
    pub fees: Decimal,
    /// P&L in percent of the equity when the trade was opened.
    pub return_pct: f64,
    /// Each analyst's signal in the cycle that opened the trade (empty when unknown, e.g. a
    /// position found at the broker).
    pub signals: BTreeMap<AgentName, Signal>,
    /// The market situation then.
    pub situation: Situation,
    /// The prompt each analyst made its call with (empty when unknown, as in older saves).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prompts: BTreeMap<AgentName, PromptRef>,
}

impl TradeOutcome {
    /// Which way the price moved over the trade, as the learner judges the analysts: a long
    /// that made money or a short that lost is a rise ([`Signal::Buy`]), anything else a fall
    /// ([`Signal::Sell`]; a trade that broke even counts as going against its side).
    pub fn moved(&self) -> Signal {
        match (self.side, self.pnl > Decimal::ZERO) {
            (Side::Buy, true) | (Side::Sell, false) => Signal::Buy,
            _ => Signal::Sell,
        }
    }
}

/// A trade, judged: which analysts called the move right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosedTrade {
    /// The trade.
    pub outcome: TradeOutcome,
    /// The analysts that called it right.
    pub hits: Vec<AgentName>,
    /// The analysts that called it wrong.
    pub misses: Vec<AgentName>,
}

/// How lessons are recalled for a decision: at most `k`, each within `max_distance` of the
/// decision's situation.
///
/// The distance ([`Situation::distance`]) scales each figure to a comparable range (RSI by 20
/// points, the trend by 2%, the volatility by 0.5%, the sentiment by 0.5), so the default
/// `max_distance` of 1 takes lessons whose figures differ by about one such step in all, and
/// leaves out a lesson learned in an overbought, volatile market when this one is calm.
///
/// ```
/// use tradegraph_agents::learning::Recall;
/// assert_eq!(Recall::default(), Recall { k: 3, max_distance: 1.0 });
/// assert!(Recall::nearest(5).max_distance.is_infinite());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recall {
    /// The most lessons.
    pub k: usize,
    /// The farthest a lesson's situation may be (infinite: any, however far, the lessons
    /// without a situation included).
    pub max_distance: f64,
}

impl Default for Recall {
    fn default() -> Self {
        Self {
            k: 3,
            max_distance: 1.0,
        }
    }
}

impl Recall {
    /// The `k` nearest, however far.
    pub fn nearest(k: usize) -> Self {
        Self {
            k,
            max_distance: f64::INFINITY,
        }
    }
}

/// Learns from closed trades: which analysts were right (their weights follow), and a lesson
/// kept with the situation it came from, retrieved for similar situations later. Serializable:
/// a bot saves it after every change and restores it at start.
///
/// ```
/// use tradegraph_agents::learning::{rule_lesson, Learner, Situation, TradeOutcome};
/// use tradegraph_agents::{reports::Signal, AgentName};
/// use tradegraph_core::{Decimal, Side, Timestamp};
///
/// let mut learner = Learner::default();
/// let won = TradeOutcome {
///     trade_id: "t1".into(),
///     instrument: "BTCUSDT".into(),
///     side: Side::Buy,
///     opened_at: Timestamp::EPOCH,
///     closed_at: Timestamp::from_millis(60_000),
///     entry_price: Decimal::from(100),
///     exit_price: Decimal::from(110),
///     pnl: Decimal::from(10),
///     quantity: Decimal::ONE,
///     fees: Decimal::ZERO,
///     return_pct: 0.1,
///     signals: [(AgentName::Technical, Signal::Buy), (AgentName::Sentiment, Signal::Sell)].into(),
///     situation: Situation::default(),
///     prompts: Default::default(),
/// };
/// let (judged, lesson) = learner.learn(&won, rule_lesson).unwrap();
/// assert_eq!(judged.hits, vec![AgentName::Technical]);
/// assert!(lesson.text.contains("won"));
/// assert_eq!(lesson.lesson_id, "BTCUSDT@1970-01-01T00:01:00Z#learning");
/// assert_eq!((lesson.trade_id.as_deref(), lesson.return_pct), (Some("t1"), Some(0.1)));
/// assert!(learner.learn(&won, rule_lesson).is_none(), "each trade is judged once");
/// assert_eq!(learner.lessons().len(), 1);
/// assert_eq!(learner.judged(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Learner {
    weights: AgentWeights,
    lessons: Vec<Lesson>,
    #[serde(default)]
    judged: u64,
    /// The trades judged last, so that one handed over again (a restart between saving the
    /// learner and the ledger) is not judged twice.
    #[serde(default)]
    recent: std::collections::VecDeque<String>,
    /// The analysts' judged calls and prompt versions.
    #[serde(default)]
    prompts: PromptVersions,
}

impl Learner {
    /// Lessons kept in memory for retrieval (the oldest go first). Every lesson is also written
    /// to the lesson log, whatever this cap.
    pub const MAX_LESSONS: usize = 500;

    /// Trade ids remembered to judge each trade once.
    const RECENT: usize = 256;

    /// The analyst weights.
    pub fn weights(&self) -> &AgentWeights {
        &self.weights
    }

    /// Lessons kept for retrieval, oldest first (at most [`Self::MAX_LESSONS`]).
    pub fn lessons(&self) -> &[Lesson] {
        &self.lessons
    }

    /// The analysts' judged calls and prompt versions.
    pub fn prompt_versions(&self) -> &PromptVersions {
        &self.prompts
    }

    /// The same, to propose, settle, approve or roll back a version.
    pub fn prompt_versions_mut(&mut self) -> &mut PromptVersions {
        &mut self.prompts
    }

    /// Proposes an amendment to `agent`'s prompt (its version now: `current`) when its record
    /// under it is poor, worded from the lessons kept of the trades it called wrong (see
    /// [`PromptVersions::propose`]).
    pub fn propose(
        &mut self,
        agent: AgentName,
        current: &str,
        policy: &RefinePolicy,
        at: Timestamp,
    ) -> Option<PromptVersion> {
        self.prompts
            .propose(agent, current, &self.lessons, policy, at)
            .cloned()
    }

    /// How many trades were judged since the bot first started.
    pub fn judged(&self) -> u64 {
        self.judged
    }

    /// The lessons whose situations are closest to `situation`, at most `recall.k` of them
    /// and each within `recall.max_distance` of it on the market's figures
    /// ([`Situation::market_distance`]: the sentiment is left out, as a decision recalls its
    /// lessons before its sentiment analyst has spoken): a lesson from a market unlike this one
    /// is not shown, however few lessons there are.
    pub fn similar(&self, situation: &Situation, recall: Recall) -> Vec<Lesson> {
        let Recall { k, max_distance } = recall;
        if k == 0 {
            return Vec::new();
        }
        // closest first, then newest, then the order they were kept in: a total order, so only
        // the k first need sorting (every cycle asks, and a year's run keeps hundreds)
        let mut ranked: Vec<(f64, usize, &Lesson)> = self
            .lessons
            .iter()
            .enumerate()
            .map(|(i, l)| (l.market_distance(situation), i, l))
            .filter(|(d, _, _)| *d <= max_distance)
            .collect();
        let order = |a: &(f64, usize, &Lesson), b: &(f64, usize, &Lesson)| {
            a.0.total_cmp(&b.0)
                .then(b.2.timestamp.cmp(&a.2.timestamp))
                .then(a.1.cmp(&b.1))
        };
        if ranked.len() > k {
            ranked.select_nth_unstable_by(k - 1, order);
            ranked.truncate(k);
        }
        ranked.sort_unstable_by(order);
        ranked.into_iter().map(|(_, _, l)| l.clone()).collect()
    }

    /// Judges a closed trade: every analyst that gave a BUY or SELL at entry is a hit when the
    /// market moved its way (a long that made money moved up), a miss otherwise, and its weight
    /// follows; a lesson worded by `lesson` is kept. Returns the judgement and the lesson, or
    /// `None` for a trade judged already.
    pub fn learn(
        &mut self,
        outcome: &TradeOutcome,
        lesson: impl FnOnce(&ClosedTrade) -> String,
    ) -> Option<(ClosedTrade, Lesson)> {
        if self.recent.contains(&outcome.trade_id) {
            return None;
        }
        self.recent.push_back(outcome.trade_id.clone());
        while self.recent.len() > Self::RECENT {
            self.recent.pop_front();
        }
        let moved = outcome.moved();
        let (mut hits, mut misses) = (Vec::new(), Vec::new());
        for (agent, signal) in &outcome.signals {
            // Every call a model made is kept to judge the prompt that made it (a HOLD called
            // nothing: not right); a report the rules wrote says nothing of a prompt. The
            // weights judge directional calls, whoever made them.
            if let Some(used) = outcome.prompts.get(agent) {
                self.prompts.record(
                    *agent,
                    Call {
                        trade_id: outcome.trade_id.clone(),
                        closed_at: outcome.closed_at,
                        signal: *signal,
                        moved,
                        version: used.version.clone(),
                        prompt_hash: used.hash.clone(),
                        situation: Some(outcome.situation),
                    },
                );
            }
            if *signal == Signal::Hold {
                continue;
            }
            let hit = *signal == moved;
            self.weights.record(*agent, hit);
            if hit {
                hits.push(*agent);
            } else {
                misses.push(*agent);
            }
        }
        let judged = ClosedTrade {
            outcome: outcome.clone(),
            hits,
            misses,
        };
        let kept = Lesson::new(
            outcome.instrument.clone(),
            outcome.closed_at,
            AgentName::Learning.as_str(),
            lesson(&judged),
        )
        .with_trade_id(outcome.trade_id.clone())
        .with_situation(outcome.situation)
        .with_return_pct(outcome.return_pct);
        self.judged += 1;
        self.keep(kept.clone());
        Some((judged, kept))
    }

    /// Replaces the text of the newest lesson (a model's better wording of the rule lesson).
    pub fn reword_last_lesson(&mut self, text: String) {
        if let Some(last) = self.lessons.last_mut() {
            last.text = text;
        }
    }

    /// Keeps a lesson for retrieval, dropping the oldest past [`Self::MAX_LESSONS`].
    pub fn keep(&mut self, lesson: Lesson) {
        self.lessons.push(lesson);
        if self.lessons.len() > Self::MAX_LESSONS {
            let excess = self.lessons.len() - Self::MAX_LESSONS;
            self.lessons.drain(..excess);
        }
    }
}

/// A lesson in rule mode: what was seen, what happened, what to do next time.
pub fn rule_lesson(trade: &ClosedTrade) -> String {
    let o = &trade.outcome;
    let s = &o.situation;
    let won = o.pnl > Decimal::ZERO;
    let side = match o.side {
        Side::Buy => "Long",
        Side::Sell => "Short",
    };
    let advice = match (o.side, won) {
        (Side::Buy, false) if s.rsi > 65.0 => {
            "avoid buying into overbought readings; wait for a pullback"
        }
        (Side::Sell, false) if s.rsi < 35.0 => {
            "avoid selling into oversold readings; wait for a bounce"
        }
        (_, false) if s.volatility_pct > 1.0 => "in this volatility, size down and widen the stop",
        (_, false) => "the signals did not carry; demand more agreement before entering",
        (_, true) => "the setup worked; the same agreement is worth acting on again",
    };
    let right: Vec<&str> = trade.hits.iter().map(|a| a.as_str()).collect();
    format!(
        "{side} at {} with RSI {:.0}, trend {:+.2}%, volatility {:.2}%, sentiment {:+.2}: {} {}; right: {}. Next time: {advice}.",
        o.entry_price.round_dp(2),
        s.rsi,
        s.trend_pct,
        s.volatility_pct,
        s.sentiment,
        if won { "won" } else { "lost" },
        o.pnl.round_dp(2),
        if right.is_empty() { "none".to_owned() } else { right.join(", ") },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_learner_saved_with_the_older_lessons_restores_them() {
        // A learner saved before the lesson was the lesson log's record: `ts`, a plain
        // instrument, no id and no agent.
        let mut saved = serde_json::to_value(Learner::default()).unwrap();
        saved["lessons"] = serde_json::json!([{
            "ts": "2024-03-04T10:00:00Z",
            "instrument": "BTCUSDT",
            "situation": {"rsi": 72.0, "trend_pct": 1.5, "volatility_pct": 0.4, "sentiment": 0.3},
            "text": "wait for the pullback",
            "return_pct": -0.8,
        }]);
        let restored: Learner = serde_json::from_value(saved).unwrap();
        let near = Situation {
            rsi: 70.0,
            ..Situation::default()
        };
        let found = restored.similar(&near, Recall::nearest(1));
        assert_eq!(found.len(), 1);
        let l = &found[0];
        assert_eq!(l.text, "wait for the pullback");
        assert_eq!(l.lesson_id, "BTCUSDT@2024-03-04T10:00:00Z#learning");
        assert_eq!(l.agent, AgentName::Learning.as_str());
        assert_eq!(l.return_pct, Some(-0.8));
        let again: Learner =
            serde_json::from_str(&serde_json::to_string(&restored).unwrap()).unwrap();
        assert_eq!(
            again, restored,
            "saved again in the new form, it reads the same"
        );
    }

    #[test]
    fn lessons_nearest_the_situation_come_first_and_those_without_one_last() {
        let mut learner = Learner::default();
        let at = |m: i64| Timestamp::from_millis(m * 60_000);
        let with = |rsi: f64| Situation {
            rsi,
            ..Situation::default()
        };
        learner.keep(Lesson::new("BTCUSDT".into(), at(1), "learning", "none"));
        learner.keep(
            Lesson::new("BTCUSDT".into(), at(2), "learning", "far").with_situation(with(90.0)),
        );
        learner.keep(
            Lesson::new("BTCUSDT".into(), at(3), "learning", "near").with_situation(with(52.0)),
        );
        let texts_of = |learner: &Learner, recall: Recall| -> Vec<String> {
            learner
                .similar(&with(50.0), recall)
                .into_iter()
                .map(|l| l.text)
                .collect()
        };
        let texts = |recall: Recall| texts_of(&learner, recall);
        assert_eq!(texts(Recall::nearest(3)), ["near", "far", "none"]);
        // Within the default distance, only the near one (RSI 52 against 50: 0.1); RSI 90 is
        // 2 away, and a lesson without a situation is never near.
        assert_eq!(texts(Recall::default()), ["near"]);
        assert_eq!(
            texts(Recall {
                k: 3,
                max_distance: 2.0
            }),
            ["near", "far"]
        );
        assert!(texts(Recall {
            k: 0,
            max_distance: 9.0
        })
        .is_empty());
        // A lesson kept with the sentiment of its trade is recalled by a decision that has no
        // sentiment yet (it recalls before its sentiment analyst speaks).
        learner.keep(
            Lesson::new("BTCUSDT".into(), at(4), "learning", "cheered").with_situation(Situation {
                sentiment: 0.9,
                ..with(50.0)
            }),
        );
        assert_eq!(texts_of(&learner, Recall::default()), ["cheered", "near"]);
    }

    proptest::proptest! {
        /// Only the k first are sorted; they are the full ranking's k first, ties (the same
        /// distance and time) in the order the lessons were kept.
        #[test]
        fn the_k_nearest_are_the_full_rankings_first_k(
            lessons in proptest::collection::vec((0u8..4, 0i64..3, proptest::bool::ANY), 0..40),
            k in 0usize..8,
        ) {
            let mut learner = Learner::default();
            let with = |rsi: f64| Situation { rsi, ..Situation::default() };
            for (i, (rsi, minute, situated)) in lessons.iter().enumerate() {
                let lesson = Lesson::new(
                    "BTCUSDT".into(),
                    Timestamp::from_millis(minute * 60_000),
                    "learning",
                    format!("lesson {i}"),
                );
                learner.keep(if *situated {
                    lesson.with_situation(with(f64::from(*rsi) * 10.0))
                } else {
                    lesson
                });
            }
            let now = with(15.0);
            let mut full: Vec<&Lesson> = learner.lessons.iter().collect();
            full.sort_by(|a, b| {
                a.market_distance(&now)
                    .total_cmp(&b.market_distance(&now))
                    .then(b.timestamp.cmp(&a.timestamp))
            });
            let expected: Vec<&str> = full.iter().take(k).map(|l| l.text.as_str()).collect();
            // Within a distance: the same ranking, cut where the lessons get too far.
            let within = Recall { k, max_distance: 2.0 };
            let near: Vec<&str> = full
                .iter()
                .filter(|l| l.market_distance(&now) <= 2.0)
                .take(k)
                .map(|l| l.text.as_str())
                .collect();
            let found_near = learner.similar(&now, within);
            let near_texts: Vec<&str> = found_near.iter().map(|l| l.text.as_str()).collect();
            proptest::prop_assert_eq!(near_texts, near);
            let found = learner.similar(&now, Recall::nearest(k));
            let texts: Vec<&str> = found.iter().map(|l| l.text.as_str()).collect();
            proptest::prop_assert_eq!(texts, expected);
        }
    }
}
