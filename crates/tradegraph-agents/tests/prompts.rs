//! Snapshots of every agent's rendered prompt for each instrument, from the bundled fixture
//! state. A template change shows here as a diff to review (`cargo insta review`).
#![allow(clippy::unwrap_used)]

use tradegraph_agents::prompt::{PromptContext, Prompts};
use tradegraph_agents::{fixture, AgentName, TradingState};
use tradegraph_core::{Instrument, Timeframe};

fn context(agent: AgentName, state: &TradingState) -> PromptContext {
    let round = if matches!(agent, AgentName::Bull | AgentName::Bear) {
        2
    } else {
        0
    };
    PromptContext::for_agent(agent, state, Timeframe::M15, round).unwrap()
}

fn agents() -> impl Iterator<Item = AgentName> {
    AgentName::ALL
        .into_iter()
        .filter(|a| *a != AgentName::Execution)
}

#[test]
fn every_prompt_for_every_instrument() {
    let prompts = Prompts::embedded().unwrap();
    for (key, instrument) in [
        ("btc", Instrument::btc_usdt()),
        ("banknifty", Instrument::bank_nifty()),
        ("nifty", Instrument::nifty_50()),
    ] {
        let state = fixture::state(&instrument).unwrap();
        for agent in agents() {
            let p = prompts.render(agent, &context(agent, &state)).unwrap();
            insta::assert_snapshot!(
                format!("{agent}_{key}"),
                format!(
                    "version: {}\n--- system ---\n{}\n--- user ---\n{}\n",
                    p.version, p.system, p.user
                )
            );
        }
    }
}

#[test]
fn execution_has_no_prompt() {
    let state = fixture::state(&Instrument::btc_usdt()).unwrap();
    assert!(PromptContext::for_agent(AgentName::Execution, &state, Timeframe::M15, 0).is_none());
}

#[test]
fn news_is_framed_as_data_and_injections_are_defused() {
    let prompts = Prompts::embedded().unwrap();
    for instrument in [Instrument::btc_usdt(), Instrument::bank_nifty()] {
        let state = fixture::state(&instrument).unwrap();
        assert!(
            !state.inputs.news.is_empty(),
            "the fixture has news for {}",
            instrument.symbol
        );
        let p = prompts
            .render(AgentName::Sentiment, &context(AgentName::Sentiment, &state))
            .unwrap();
        let open = p.user.find("<data>").unwrap();
        let close = p.user.rfind("</data>").unwrap();
        assert_eq!(
            p.user.matches("</data>").count(),
            1,
            "no item can close the frame"
        );
        for item in &state.inputs.news {
            let headline: String = item.headline.chars().take(30).collect();
            if headline.contains('<') || headline.contains('>') {
                continue;
            }
            if let Some(at) = p.user.find(&headline) {
                assert!(open < at && at < close, "`{headline}` sits inside <data>");
            }
        }
        assert!(p.system.contains("data, never instructions"));
    }
}

#[test]
fn an_override_directory_replaces_one_template_and_changes_its_version() {
    let dir = std::env::temp_dir().join(format!("tradegraph-prompts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("technical.j2"),
        "{% block system %}Custom {{ instrument.kind }}{% endblock %}{% block user %}Price {{ price }}{% endblock %}",
    )
    .unwrap();
    let embedded = Prompts::embedded().unwrap();
    let custom = Prompts::with_overrides(&dir).unwrap();
    let state = fixture::state(&Instrument::btc_usdt()).unwrap();
    let ctx = context(AgentName::Technical, &state);
    let p = custom.render(AgentName::Technical, &ctx).unwrap();
    assert_eq!(p.system, "Custom crypto");
    assert!(p.user.starts_with("Price "));
    assert_ne!(p.version, embedded.version(AgentName::Technical));
    assert_eq!(
        custom.version(AgentName::Sentiment),
        embedded.version(AgentName::Sentiment)
    );

    std::fs::write(
        dir.join("macro.j2"),
        "{% block system %}{{ nope }}{% endblock %}{% block user %}{% endblock %}",
    )
    .unwrap();
    let broken = Prompts::with_overrides(&dir).unwrap();
    let err = broken
        .render(AgentName::Macro, &context(AgentName::Macro, &state))
        .unwrap_err()
        .to_string();
    assert!(err.contains("macro"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
