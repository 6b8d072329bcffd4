//! [`PromptVersions`]: every analyst's judged calls and prompt versions, the one record of
//! which amendment each prompt carries.

use super::version::{Call, Change, Decider, Evidence, PromptVersion, Shadow, VersionStatus};
use super::{Amendment, RefinePolicy};
use crate::learning::Lesson;
use crate::prompt::RenderedPrompt;
use crate::reports::Signal;
use crate::{AgentError, AgentName};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use tradegraph_core::Timestamp;

/// One analyst's calls and versions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct AgentPrompts {
    /// Judged calls, oldest first (at most [`PromptVersions::CALLS`]).
    calls: VecDeque<Call>,
    /// Calls judged since the last proposal.
    since_proposal: u32,
    /// Versions by number (the first is 1).
    versions: Vec<PromptVersion>,
}

/// The adopted amendment of an agent's prompt, as a decision cycle applies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdoptedAmendment {
    /// The version's number.
    pub number: u32,
    /// The guidance.
    pub amendment: Amendment,
}

impl AdoptedAmendment {
    /// Applies it to `prompt` (see [`Amendment::apply`]).
    pub fn apply(&self, prompt: &mut RenderedPrompt) {
        self.amendment.apply(self.number, prompt);
    }

    /// The version of a prompt from `template` (`technical@00ff`) carrying it.
    pub fn version_of(&self, template: &str) -> String {
        super::amendment::versioned(template, self.number)
    }
}

/// The analysts' prompt versions and the judged calls they are proposed and evaluated on.
///
/// The learner judges each closed trade and [`record`](Self::record)s every analyst's call
/// with the prompt it made it with. When an analyst's calls under its current prompt fall
/// below the [`RefinePolicy`]'s hit rate, [`propose`](Self::propose) writes an amendment in
/// our own words (the record, and the advice the market's figures at the calls that were not
/// right point to), naming the lessons of those trades as evidence. A proposal is
/// [`settle`](Self::settle)d by its shadow evaluation (adopted only when better by a margin,
/// see [`Shadow::better`]), set aside ([`inconclusive`](Self::inconclusive) too often,
/// [`withdraw`](Self::withdraw)n) or [`approve`](Self::approve)d by a person; an adopted version
/// can be [`rollback`](Self::rollback)ed. Versions are never deleted.
///
/// ```
/// use tradegraph_agents::learning::{Call, PromptVersions, RefinePolicy, Shadow, Score, VersionStatus};
/// use tradegraph_agents::{reports::Signal, AgentName};
/// use tradegraph_core::Timestamp;
///
/// let mut book = PromptVersions::default();
/// let t = AgentName::Technical;
/// for n in 0..6 {
///     // a BUY each time, the market fell five times out of six
///     let moved = if n == 0 { Signal::Buy } else { Signal::Sell };
///     book.record(t, Call {
///         trade_id: format!("t{n}"), closed_at: Timestamp::from_secs(n), signal: Signal::Buy,
///         moved, version: "technical@00ff".into(), prompt_hash: Some(format!("sha256:{n}")),
///         situation: None,
///     });
/// }
/// let at = Timestamp::from_secs(100);
/// let proposed = book.propose(t, "technical@00ff", &[], &RefinePolicy::default(), at).unwrap();
/// assert_eq!((proposed.number, proposed.evidence.calls, proposed.evidence.hits), (1, 6, 1));
/// assert_eq!(book.pending(), vec![(t, 1)]);
/// // the amended prompt did worse on the recorded cycles: not adopted
/// let worse = Shadow {
///     cycles: 6, changed: 1, unanswered: 0,
///     current: Score { hits: 1, misses: 5 }, amended: Score { hits: 0, misses: 6 },
/// };
/// assert_eq!(book.settle(t, 1, worse, at)?, VersionStatus::Rejected);
/// assert!(book.adopted(t).is_none());
/// # Ok::<(), tradegraph_agents::AgentError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptVersions {
    agents: BTreeMap<AgentName, AgentPrompts>,
}

impl PromptVersions {
    /// Calls kept per analyst.
    pub const CALLS: usize = 50;

    /// Shadow evaluations a proposal gets before it is withdrawn as not evaluable.
    pub const MAX_ATTEMPTS: u32 = 3;

    /// Keeps an analyst's judged call.
    pub fn record(&mut self, agent: AgentName, call: Call) {
        let prompts = self.agents.entry(agent).or_default();
        prompts.calls.push_back(call);
        while prompts.calls.len() > Self::CALLS {
            prompts.calls.pop_front();
        }
        prompts.since_proposal = prompts.since_proposal.saturating_add(1);
    }

    /// An analyst's judged calls, oldest first (HOLDs included: they are judged as not right).
    pub fn calls(&self, agent: AgentName) -> impl Iterator<Item = &Call> {
        self.agents.get(&agent).into_iter().flat_map(|p| &p.calls)
    }

    /// An analyst's versions, oldest first.
    pub fn versions(&self, agent: AgentName) -> &[PromptVersion] {
        self.agents.get(&agent).map_or(&[], |p| &p.versions)
    }

    /// Every version, by agent then number.
    pub fn all(&self) -> impl Iterator<Item = &PromptVersion> {
        self.agents.values().flat_map(|p| &p.versions)
    }

    /// One version.
    pub fn version(&self, agent: AgentName, number: u32) -> Option<&PromptVersion> {
        self.versions(agent).iter().find(|v| v.number == number)
    }

    /// The version an agent's prompt carries now, if any.
    pub fn adopted(&self, agent: AgentName) -> Option<&PromptVersion> {
        self.versions(agent)
            .iter()
            .find(|v| v.status() == VersionStatus::Adopted)
    }

    /// The amendment of every agent whose prompt carries one.
    pub fn adopted_amendments(&self) -> BTreeMap<AgentName, AdoptedAmendment> {
        self.agents
            .keys()
            .filter_map(|agent| {
                self.adopted(*agent).map(|v| {
                    (
                        *agent,
                        AdoptedAmendment {
                            number: v.number,
                            amendment: v.amendment.clone(),
                        },
                    )
                })
            })
            .collect()
    }

    /// Proposals waiting for their evaluation or a person: (agent, number).
    pub fn pending(&self) -> Vec<(AgentName, u32)> {
        self.all()
            .filter(|v| v.status() == VersionStatus::Proposed)
            .map(|v| (v.agent, v.number))
            .collect()
    }

    /// The recorded calls a proposal was made on, those with a prompt to ask again (its shadow
    /// evaluation's cycles).
    pub fn cases(&self, agent: AgentName, number: u32) -> Vec<Call> {
        let Some(version) = self.version(agent, number) else {
            return Vec::new();
        };
        self.calls(agent)
            .filter(|c| c.prompt_hash.is_some() && version.evidence.trades.contains(&c.trade_id))
            .cloned()
            .collect()
    }

    /// Proposes an amendment to `agent`'s prompt (version `current`, as its last decisions
    /// recorded it) when its latest calls under it are right less often than `policy` allows,
    /// worded from their record and situations, with the ids of the `lessons` of those trades
    /// as evidence; `None` when not due (too few calls judged, or since its last proposal; a
    /// proposal still pending; a good enough record).
    pub fn propose(
        &mut self,
        agent: AgentName,
        current: &str,
        lessons: &[Lesson],
        policy: &RefinePolicy,
        at: Timestamp,
    ) -> Option<&PromptVersion> {
        if !policy.enabled || policy.min_calls == 0 {
            return None;
        }
        let prompts = self.agents.get(&agent)?;
        if (prompts.since_proposal as usize) < policy.min_calls
            || prompts
                .versions
                .iter()
                .any(|v| v.status() == VersionStatus::Proposed)
        {
            return None;
        }
        let under: Vec<&Call> = prompts
            .calls
            .iter()
            .filter(|c| c.version == current)
            .collect();
        let latest = &under[under.len().saturating_sub(policy.window)..];
        let hits = latest.iter().filter(|c| c.hit()).count();
        if latest.len() < policy.min_calls || hits as f64 >= policy.below * latest.len() as f64 {
            return None;
        }
        let missed: Vec<&Call> = latest.iter().copied().filter(|c| !c.hit()).collect();
        // The lessons of those trades are the evidence, by id; their words (a model's, maybe)
        // stay out of the amendment, which stands in the system message.
        let lessons_behind: Vec<String> = missed
            .iter()
            .rev()
            .filter_map(|c| {
                lessons
                    .iter()
                    .rev()
                    .find(|l| l.trade_id.as_deref() == Some(c.trade_id.as_str()))
            })
            .map(|l| l.lesson_id.clone())
            .collect();
        let amendment = Amendment::new(&wording(hits, latest.len(), &missed)).ok()?;
        let evidence = Evidence {
            calls: u32::try_from(latest.len()).unwrap_or(u32::MAX),
            hits: u32::try_from(hits).unwrap_or(u32::MAX),
            trades: latest.iter().map(|c| c.trade_id.clone()).collect(),
            lessons: lessons_behind,
            shadow: None,
        };
        let note = format!(
            "{hits} of the last {} calls right under {current}",
            latest.len()
        );
        let prompts = self.agents.get_mut(&agent)?;
        prompts.since_proposal = 0;
        let number = u32::try_from(prompts.versions.len() + 1).unwrap_or(u32::MAX);
        prompts.versions.push(PromptVersion {
            agent,
            number,
            amends: current.to_owned(),
            amendment,
            evidence,
            history: vec![Change {
                at,
                status: VersionStatus::Proposed,
                by: Decider::Learner,
                note,
            }],
            attempts: 0,
        });
        prompts.versions.last()
    }

    /// Settles a proposal by its shadow evaluation: adopted when the amended prompt did
    /// strictly better on the recorded cycles, rejected otherwise. Returns the new status.
    ///
    /// # Errors
    /// [`AgentError::PromptVersion`] when there is no such version or it is not proposed.
    pub fn settle(
        &mut self,
        agent: AgentName,
        number: u32,
        shadow: Shadow,
        at: Timestamp,
    ) -> Result<VersionStatus, AgentError> {
        let in_use = self.adopted(agent).map_or(0, |v| v.number);
        let version = self.proposal(agent, number)?;
        version.evidence.shadow = Some(shadow);
        if version.amends_number() != in_use {
            // A person changed the prompt since: the evaluation compared against another one.
            version.mark(
                at,
                VersionStatus::Withdrawn,
                Decider::Shadow,
                format!(
                    "it amends v{}, but v{in_use} is in use now",
                    version.amends_number()
                ),
            );
            return Ok(VersionStatus::Withdrawn);
        }
        let scores = format!(
            "{} right, net {:+}, against the current prompt's {} right, net {:+}, on {} recorded \
             cycles ({} answers changed)",
            shadow.amended.hits,
            shadow.amended.net(),
            shadow.current.hits,
            shadow.current.net(),
            shadow.answered(),
            shadow.changed
        );
        if shadow.better() {
            self.adopt(
                agent,
                number,
                Decider::Shadow,
                format!("better: {scores}"),
                at,
            )?;
            Ok(VersionStatus::Adopted)
        } else {
            let version = self.proposal(agent, number)?;
            version.mark(
                at,
                VersionStatus::Rejected,
                Decider::Shadow,
                format!("not better: {scores}"),
            );
            Ok(VersionStatus::Rejected)
        }
    }

    /// A shadow evaluation of a proposal did not conclude (`why`: too few answers, no time
    /// left); after [`Self::MAX_ATTEMPTS`] the proposal is withdrawn, so that it does not hold
    /// back later ones. Returns its status.
    ///
    /// # Errors
    /// [`AgentError::PromptVersion`] when there is no such version or it is not proposed.
    pub fn inconclusive(
        &mut self,
        agent: AgentName,
        number: u32,
        why: &str,
        at: Timestamp,
    ) -> Result<VersionStatus, AgentError> {
        let version = self.proposal(agent, number)?;
        version.attempts = version.attempts.saturating_add(1);
        if version.attempts < Self::MAX_ATTEMPTS {
            return Ok(VersionStatus::Proposed);
        }
        version.mark(
            at,
            VersionStatus::Withdrawn,
            Decider::Shadow,
            format!("not evaluable after {} attempts: {why}", version.attempts),
        );
        Ok(VersionStatus::Withdrawn)
    }

    /// A person withdraws a proposal: it is not considered again (a person may still approve
    /// it later).
    ///
    /// # Errors
    /// [`AgentError::PromptVersion`] when there is no such version or it is not proposed.
    pub fn withdraw(
        &mut self,
        agent: AgentName,
        number: u32,
        via: &str,
        at: Timestamp,
    ) -> Result<(), AgentError> {
        let version = self.proposal(agent, number)?;
        let by = Decider::Person {
            via: via.to_owned(),
        };
        version.mark(at, VersionStatus::Withdrawn, by, "withdrawn".into());
        Ok(())
    }

    /// A person changed `agent`'s prompt: its pending proposals, made against the prompt
    /// before, are withdrawn.
    fn withdraw_pending(&mut self, agent: AgentName, by: &Decider, why: &str, at: Timestamp) {
        if let Some(prompts) = self.agents.get_mut(&agent) {
            for version in &mut prompts.versions {
                if version.status() == VersionStatus::Proposed {
                    version.mark(at, VersionStatus::Withdrawn, by.clone(), why.to_owned());
                }
            }
        }
    }

    /// A person adopts a proposed, rejected or withdrawn version; the agent's other pending
    /// proposals, made against the prompt before, are withdrawn.
    ///
    /// # Errors
    /// [`AgentError::PromptVersion`] when there is no such version, or it is not proposed or
    /// rejected (an earlier adopted one comes back with [`rollback`](Self::rollback)).
    pub fn approve(
        &mut self,
        agent: AgentName,
        number: u32,
        via: &str,
        at: Timestamp,
    ) -> Result<&PromptVersion, AgentError> {
        let version = self.find(agent, number)?;
        match version.status() {
            VersionStatus::Proposed | VersionStatus::Rejected | VersionStatus::Withdrawn => {}
            other => {
                return Err(refused(
                    agent,
                    number,
                    format!(
                        "it is {other}; only a proposed, rejected or withdrawn version is \
                         approved (one used before comes back with a rollback)"
                    ),
                ))
            }
        }
        let by = Decider::Person {
            via: via.to_owned(),
        };
        self.adopt(agent, number, by.clone(), "approved".into(), at)?;
        self.withdraw_pending(agent, &by, &format!("a person adopted v{number}"), at);
        self.find(agent, number).map(|v| &*v)
    }

    /// A person rolls `agent`'s prompt back to version `to` (0: the template as shipped): the
    /// version in use is rolled back and `to`, which must have been in use before, is adopted
    /// again.
    ///
    /// # Errors
    /// [`AgentError::PromptVersion`] when `to` is in use already, does not exist or was never
    /// adopted.
    pub fn rollback(
        &mut self,
        agent: AgentName,
        to: u32,
        via: &str,
        at: Timestamp,
    ) -> Result<(), AgentError> {
        let current = self.adopted(agent).map(|v| v.number).unwrap_or(0);
        if current == to {
            return Err(refused(agent, to, "it is the version in use".into()));
        }
        if to != 0 && !self.find(agent, to)?.was_adopted() {
            return Err(refused(
                agent,
                to,
                "it was never adopted; approve it instead".into(),
            ));
        }
        let by = Decider::Person {
            via: via.to_owned(),
        };
        if current != 0 {
            self.find(agent, current)?.mark(
                at,
                VersionStatus::RolledBack,
                by.clone(),
                format!("rolled back to v{to}"),
            );
        }
        if to != 0 {
            self.find(agent, to)?.mark(
                at,
                VersionStatus::Adopted,
                by.clone(),
                format!("restored from v{current}"),
            );
        }
        self.withdraw_pending(agent, &by, &format!("a person rolled back to v{to}"), at);
        Ok(())
    }

    fn adopt(
        &mut self,
        agent: AgentName,
        number: u32,
        by: Decider,
        note: String,
        at: Timestamp,
    ) -> Result<(), AgentError> {
        if let Some(current) = self.adopted(agent).map(|v| v.number) {
            self.find(agent, current)?.mark(
                at,
                VersionStatus::Retired,
                by.clone(),
                format!("replaced by v{number}"),
            );
        }
        self.find(agent, number)?
            .mark(at, VersionStatus::Adopted, by, note);
        Ok(())
    }

    fn find(&mut self, agent: AgentName, number: u32) -> Result<&mut PromptVersion, AgentError> {
        self.agents
            .get_mut(&agent)
            .and_then(|p| p.versions.iter_mut().find(|v| v.number == number))
            .ok_or_else(|| refused(agent, number, "there is no such version".into()))
    }

    fn proposal(
        &mut self,
        agent: AgentName,
        number: u32,
    ) -> Result<&mut PromptVersion, AgentError> {
        let version = self.find(agent, number)?;
        match version.status() {
            VersionStatus::Proposed => Ok(version),
            other => Err(refused(
                agent,
                number,
                format!("it is {other}, not proposed"),
            )),
        }
    }
}

fn refused(agent: AgentName, number: u32, problem: String) -> AgentError {
    AgentError::PromptVersion {
        agent,
        number,
        problem,
    }
}

/// The amendment's words, all of them our own (no model or outside text reaches the system
/// message): the record, and the advice the situations of the calls not right point to, most
/// frequent first, each with how many calls it comes from.
fn wording(hits: usize, calls: usize, missed: &[&Call]) -> String {
    let mut text = format!(
        "Your record under this prompt: {hits} of your last {calls} calls on trades the desk \
         took were right (a HOLD calls nothing and counts as not right)."
    );
    let mut advice: Vec<(&'static str, usize)> = Vec::new();
    for call in missed {
        let line = call_advice(call);
        match advice.iter_mut().find(|(a, _)| *a == line) {
            Some((_, n)) => *n += 1,
            None => advice.push((line, 1)),
        }
    }
    advice.sort_by_key(|a| std::cmp::Reverse(a.1));
    if !advice.is_empty() {
        text.push_str("\nWhat the calls that were not right have in common:");
        for (line, n) in advice {
            text.push_str(&format!("\n- {n} of them: {line}"));
        }
    }
    text.push_str(
        "\nWeigh this, and the lessons you are shown, before you answer; call a direction only \
         when the evidence points one way.",
    );
    text
}

/// What a call that was not right teaches, from the market's figures when it was made (the
/// rule lessons' reading of the situation, for an analyst's call).
fn call_advice(call: &Call) -> &'static str {
    let Some(s) = &call.situation else {
        return match call.signal {
            Signal::Hold => "a HOLD while the market moved; say which way the evidence leans",
            Signal::Buy | Signal::Sell => {
                "a direction the other readings did not confirm; demand more agreement"
            }
        };
    };
    match call.signal {
        Signal::Buy if s.rsi > 65.0 => "a BUY into overbought readings (RSI above 65); wait for a pullback",
        Signal::Sell if s.rsi < 35.0 => "a SELL into oversold readings (RSI below 35); wait for a bounce",
        Signal::Buy | Signal::Sell if s.volatility_pct > 1.0 => {
            "a direction called in high volatility (ATR above 1% of the price); demand stronger confirmation"
        }
        Signal::Buy if s.trend_pct < 0.0 => "a BUY against a falling trend (price below its average); wait for the trend to turn",
        Signal::Sell if s.trend_pct > 0.0 => "a SELL against a rising trend (price above its average); wait for the trend to turn",
        Signal::Hold => "a HOLD while the market moved; say which way the evidence leans",
        Signal::Buy | Signal::Sell => "a direction the other readings did not confirm; demand more agreement",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::learning::Score;
    use crate::reports::Signal;

    const T: AgentName = AgentName::Technical;
    const V0: &str = "technical@00ff";

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_secs(1_700_000_000 + secs)
    }

    /// `hits` right calls then `misses` wrong ones, under `version`.
    fn calls(book: &mut PromptVersions, from: usize, hits: usize, misses: usize, version: &str) {
        for n in from..from + hits + misses {
            let right = n < from + hits;
            book.record(
                T,
                Call {
                    trade_id: format!("t{n}"),
                    closed_at: at(n as i64),
                    signal: Signal::Buy,
                    moved: if right { Signal::Buy } else { Signal::Sell },
                    version: version.into(),
                    prompt_hash: Some(format!("sha256:{n}")),
                    situation: Some(crate::learning::Situation {
                        rsi: 72.0,
                        ..Default::default()
                    }),
                },
            );
        }
    }

    fn shadow(current: (u32, u32), amended: (u32, u32)) -> Shadow {
        Shadow {
            cycles: 6,
            changed: 3,
            unanswered: 0,
            current: Score {
                hits: current.0,
                misses: current.1,
            },
            amended: Score {
                hits: amended.0,
                misses: amended.1,
            },
        }
    }

    #[test]
    fn a_proposal_needs_enough_poor_calls_under_the_current_prompt_and_none_pending() {
        let policy = RefinePolicy::default();
        let mut book = PromptVersions::default();
        calls(&mut book, 0, 2, 3, V0);
        assert!(
            book.propose(T, V0, &[], &policy, at(0)).is_none(),
            "5 calls: too few"
        );
        calls(&mut book, 5, 0, 1, "technical@0000");
        assert!(
            book.propose(T, V0, &[], &policy, at(0)).is_none(),
            "a call under another prompt does not count"
        );
        calls(&mut book, 6, 1, 0, V0);
        // 3 of 6 right under V0: not below half
        assert!(book.propose(T, V0, &[], &policy, at(0)).is_none());
        assert!(
            book.propose(T, V0, &[], &RefinePolicy::off(), at(0))
                .is_none(),
            "off"
        );
        calls(&mut book, 7, 0, 2, V0);
        // the window's 8 calls under V0: 3 right
        let lesson = Lesson::new(
            "BTCUSDT".into(),
            at(8),
            "learning",
            "Wait <b>for</b> it\nnow",
        )
        .with_trade_id("t8");
        let v1 = book
            .propose(T, V0, std::slice::from_ref(&lesson), &policy, at(9))
            .unwrap()
            .clone();
        assert_eq!((v1.number, v1.evidence.calls, v1.evidence.hits), (1, 8, 3));
        assert_eq!(v1.evidence.lessons, std::slice::from_ref(&lesson.lesson_id));
        let text = v1.amendment.text();
        assert!(!text.contains("Wait"), "a lesson's words stay out: {text}");
        assert!(
            text.contains("- 5 of them: a BUY into overbought readings (RSI above 65)"),
            "{text}"
        );
        assert_eq!(v1.amends, V0);
        calls(&mut book, 9, 0, 8, V0);
        assert!(
            book.propose(T, V0, &[], &policy, at(10)).is_none(),
            "one proposal pending at a time"
        );
        assert_eq!(
            book.settle(T, 1, shadow((3, 5), (3, 5)), at(11)).unwrap(),
            VersionStatus::Rejected,
            "as good is not better"
        );
        // Six new calls judged since: due again.
        let v2 = book.propose(T, V0, &[], &policy, at(12)).unwrap();
        assert_eq!(v2.number, 2);
        assert_eq!(book.pending(), [(T, 2)]);
        assert!(
            book.cases(T, 2)
                .iter()
                .all(|c| v2_trades(&book).contains(&c.trade_id)),
            "its cases are the calls behind it"
        );
    }

    fn v2_trades(book: &PromptVersions) -> Vec<String> {
        book.version(T, 2).unwrap().evidence.trades.clone()
    }

    #[test]
    fn adopting_retires_the_version_in_use_and_a_rollback_restores_an_earlier_one() {
        let policy = RefinePolicy::default();
        let mut book = PromptVersions::default();
        calls(&mut book, 0, 1, 5, V0);
        book.propose(T, V0, &[], &policy, at(0)).unwrap();
        assert_eq!(
            book.settle(T, 1, shadow((1, 5), (4, 2)), at(1)).unwrap(),
            VersionStatus::Adopted
        );
        let adopted = book.adopted_amendments();
        assert_eq!(adopted[&T].number, 1);
        assert_eq!(adopted[&T].version_of(V0), "technical@00ff+v1");
        assert!(
            book.settle(T, 1, shadow((0, 0), (9, 0)), at(2)).is_err(),
            "settled once"
        );
        calls(&mut book, 6, 1, 5, "technical@00ff+v1");
        let v2 = book
            .propose(T, "technical@00ff+v1", &[], &policy, at(3))
            .unwrap();
        assert_eq!(v2.amends, "technical@00ff+v1");
        book.settle(T, 2, shadow((1, 5), (0, 6)), at(4)).unwrap();
        assert_eq!(
            book.version(T, 2).unwrap().status(),
            VersionStatus::Rejected
        );
        // a person adopts the rejected v2: v1 retires
        book.approve(T, 2, "ops", at(5)).unwrap();
        assert_eq!(book.adopted(T).unwrap().number, 2);
        assert_eq!(book.version(T, 1).unwrap().status(), VersionStatus::Retired);
        let err = book.approve(T, 1, "ops", at(6)).unwrap_err().to_string();
        assert!(err.contains("technical v1: it is retired"), "{err}");
        book.rollback(T, 1, "ops", at(7)).unwrap();
        assert_eq!(book.adopted(T).unwrap().number, 1);
        assert_eq!(
            book.version(T, 2).unwrap().status(),
            VersionStatus::RolledBack
        );
        book.rollback(T, 0, "ops", at(8)).unwrap();
        assert!(book.adopted(T).is_none() && book.adopted_amendments().is_empty());
        assert!(book.rollback(T, 0, "ops", at(9)).is_err(), "in use already");
        assert!(
            book.rollback(T, 3, "ops", at(9)).is_err(),
            "no such version"
        );
        let history: Vec<VersionStatus> = book
            .version(T, 1)
            .unwrap()
            .history
            .iter()
            .map(|c| c.status)
            .collect();
        use VersionStatus::*;
        assert_eq!(history, [Proposed, Adopted, Retired, Adopted, RolledBack]);
        // saved and restored: the same
        let saved = serde_json::to_string(&book).unwrap();
        assert_eq!(
            serde_json::from_str::<PromptVersions>(&saved).unwrap(),
            book
        );
    }

    #[test]
    fn a_saved_amendment_that_cannot_stand_in_a_prompt_is_refused_by_name() {
        let err = serde_json::from_str::<Amendment>("\"  \"").unwrap_err();
        assert!(
            err.to_string().contains("prompt amendment: it is empty"),
            "{err}"
        );
        let long = format!("\"{}\"", "x".repeat(Amendment::MAX_CHARS + 1));
        let err = serde_json::from_str::<Amendment>(&long).unwrap_err();
        assert!(
            err.to_string().contains("2001 characters, more than 2000"),
            "{err}"
        );
    }

    #[test]
    fn a_proposal_a_person_or_a_failing_evaluation_sets_aside_no_longer_blocks_the_next() {
        let policy = RefinePolicy::default();
        let mut book = PromptVersions::default();
        calls(&mut book, 0, 1, 5, V0);
        book.propose(T, V0, &[], &policy, at(0)).unwrap();
        for attempt in 1..PromptVersions::MAX_ATTEMPTS {
            assert_eq!(
                book.inconclusive(T, 1, "no answers", at(attempt.into()))
                    .unwrap(),
                VersionStatus::Proposed
            );
        }
        assert_eq!(
            book.inconclusive(T, 1, "no answers", at(9)).unwrap(),
            VersionStatus::Withdrawn
        );
        assert!(book
            .version(T, 1)
            .unwrap()
            .history
            .last()
            .unwrap()
            .note
            .contains("not evaluable after 3 attempts: no answers"));
        calls(&mut book, 6, 1, 5, V0);
        book.propose(T, V0, &[], &policy, at(10)).unwrap();
        book.withdraw(T, 2, "ops", at(11)).unwrap();
        assert!(book.pending().is_empty());
        assert!(
            book.withdraw(T, 2, "ops", at(12)).is_err(),
            "withdrawn already"
        );
        // A person may still adopt a withdrawn one; pending proposals made against the prompt
        // before are withdrawn then.
        calls(&mut book, 12, 1, 5, V0);
        book.propose(T, V0, &[], &policy, at(13)).unwrap();
        book.approve(T, 2, "ops", at(14)).unwrap();
        assert_eq!(
            book.version(T, 3).unwrap().status(),
            VersionStatus::Withdrawn
        );
        assert_eq!(book.adopted(T).unwrap().number, 2);
    }

    #[test]
    fn an_evaluation_against_a_prompt_no_longer_in_use_adopts_nothing() {
        let policy = RefinePolicy::default();
        let mut book = PromptVersions::default();
        calls(&mut book, 0, 1, 5, V0);
        book.propose(T, V0, &[], &policy, at(0)).unwrap();
        book.settle(T, 1, shadow((1, 5), (5, 1)), at(1)).unwrap();
        calls(&mut book, 6, 1, 5, "technical@00ff+v1");
        book.propose(T, "technical@00ff+v1", &[], &policy, at(2))
            .unwrap();
        // The version in use changes under the pending v2 (as a restored state could have it):
        // its evaluation compared against v1's answers and must not adopt it.
        book.agents.get_mut(&T).unwrap().versions[0]
            .history
            .push(Change {
                at: at(3),
                status: VersionStatus::RolledBack,
                by: Decider::Learner,
                note: "test".into(),
            });
        assert_eq!(
            book.settle(T, 2, shadow((1, 5), (6, 0)), at(4)).unwrap(),
            VersionStatus::Withdrawn
        );
        assert!(book.adopted(T).is_none());
        // A rollback by a person withdraws what was pending.
        book.rollback(T, 1, "ops", at(5)).unwrap();
        calls(&mut book, 12, 1, 5, "technical@00ff+v1");
        book.propose(T, "technical@00ff+v1", &[], &policy, at(6))
            .unwrap();
        book.rollback(T, 0, "ops", at(7)).unwrap();
        assert!(book.pending().is_empty());
        assert_eq!(
            book.version(T, 3).unwrap().status(),
            VersionStatus::Withdrawn
        );
    }
}
