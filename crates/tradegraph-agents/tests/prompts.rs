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

/// The risk manager and the portfolio manager with a position open (long BTC, short Bank
/// Nifty): its side, size, entry, unrealized P&L, time held, working stop-loss, take-profit and
/// trailing stop (armed, and not yet), the day's loss and the room left under the limits, and
/// the circuit breaker blocking entries. (Flat, in the snapshots
/// above, they see that there is nothing to close.)
#[test]
fn the_risk_and_portfolio_managers_see_the_position_and_the_room_left() {
    let prompts = Prompts::embedded().unwrap();
    for (key, instrument) in [
        ("btc", Instrument::btc_usdt()),
        ("banknifty", Instrument::bank_nifty()),
    ] {
        let state = fixture::holding(&instrument).unwrap();
        for agent in [AgentName::RiskManager, AgentName::PortfolioManager] {
            let p = prompts.render(agent, &context(agent, &state)).unwrap();
            // Long on spot, short on futures.
            let side = if key == "btc" { "long" } else { "short" };
            assert!(
                p.user.contains(&format!("- Position: {side} ")),
                "{}",
                p.user
            );
            assert!(p.user.contains("- Entries: blocked: "), "{}", p.user);
            insta::assert_snapshot!(
                format!("{agent}_{key}_holding"),
                format!("--- user ---\n{}\n", p.user)
            );
        }
        // The others do not see the book.
        let technical = prompts
            .render(AgentName::Technical, &context(AgentName::Technical, &state))
            .unwrap();
        assert!(!technical.user.contains("The book now:"));
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
fn the_answer_schema_is_part_of_the_prompt_version() {
    let dir =
        std::env::temp_dir().join(format!("tradegraph-prompts-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let same = "{% block system %}Same{% endblock %}{% block user %}Same{% endblock %}";
    for name in ["technical.j2", "sentiment.j2", "bull.j2", "bear.j2"] {
        std::fs::write(dir.join(name), same).unwrap();
    }
    let prompts = Prompts::with_overrides(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let hash = |agent: AgentName| {
        let version = prompts.version(agent).to_owned();
        version.split_once('@').unwrap().1.to_owned()
    };
    assert_ne!(
        hash(AgentName::Technical),
        hash(AgentName::Sentiment),
        "same templates, different answer schemas: the model sees different text"
    );
    assert_eq!(
        hash(AgentName::Bull),
        hash(AgentName::Bear),
        "same templates, same answer schema (a debate turn): the same prompt"
    );
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

#[test]
fn a_prompt_error_names_the_template_file_or_the_agent() {
    use tradegraph_agents::{AgentError, PromptTemplate};
    let dir = std::env::temp_dir().join(format!("tradegraph-prompts-typed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // A shared part that does not parse: the file is named (no agent owns it).
    std::fs::write(dir.join("_news.j2"), "{% for n in news %}{{ n }}").unwrap();
    let err = Prompts::with_overrides(&dir).unwrap_err();
    match &err {
        AgentError::Prompt { template, .. } => {
            assert_eq!(*template, PromptTemplate::File("_news.j2".into()));
        }
        other => panic!("expected a prompt error, got {other}"),
    }
    assert!(
        err.to_string().starts_with("prompt template `_news.j2`: "),
        "{err}"
    );
    std::fs::remove_file(dir.join("_news.j2")).unwrap();

    // An agent's template that fails to render: the agent is named.
    std::fs::write(
        dir.join("macro.j2"),
        "{% block system %}{{ nope }}{% endblock %}{% block user %}{% endblock %}",
    )
    .unwrap();
    let state = fixture::state(&Instrument::btc_usdt()).unwrap();
    let err = Prompts::with_overrides(&dir)
        .unwrap()
        .render(AgentName::Macro, &context(AgentName::Macro, &state))
        .unwrap_err();
    match &err {
        AgentError::Prompt { template, .. } => {
            assert_eq!(*template, PromptTemplate::Agent(AgentName::Macro));
        }
        other => panic!("expected a prompt error, got {other}"),
    }
    assert!(err.to_string().starts_with("prompt `macro`: "), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An override directory that is not there (a typo in `--dir` or `TRADEGRAPH_PROMPTS_DIR`) is
/// an error naming it, not the embedded prompts taken silently; a file there named like no
/// template (`technical.md` for `technical.j2`) is an error naming it and the names there are.
#[test]
fn a_missing_prompt_directory_or_a_misnamed_template_is_an_error_naming_it() {
    use tradegraph_agents::AgentError;
    let missing =
        std::env::temp_dir().join(format!("tradegraph-no-prompts-{}", std::process::id()));
    let err = Prompts::with_overrides(&missing).unwrap_err();
    assert!(matches!(err, AgentError::PromptDir { .. }), "{err}");
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );

    let file = std::env::temp_dir().join(format!("tradegraph-prompts-file-{}", std::process::id()));
    std::fs::write(&file, "not a directory").unwrap();
    let err = Prompts::with_overrides(&file).unwrap_err();
    assert!(err.to_string().contains("not a directory"), "{err}");
    std::fs::remove_file(&file).unwrap();

    let dir = std::env::temp_dir().join(format!("tradegraph-prompts-named-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("technical.md"), "{% block system %}{% endblock %}").unwrap();
    let err = Prompts::with_overrides(&dir).unwrap_err();
    let said = err.to_string();
    assert!(said.contains("technical.md"), "{said}");
    assert!(
        said.contains("technical.j2"),
        "the names a template can have: {said}"
    );
    // Files that are no template (a README, a dotfile, an editor's backups) are fine.
    std::fs::remove_file(dir.join("technical.md")).unwrap();
    std::fs::write(dir.join("README.md"), "notes").unwrap();
    std::fs::write(dir.join(".keep"), "").unwrap();
    std::fs::write(dir.join("technical.j2~"), "old").unwrap();
    std::fs::write(dir.join("technical.j2.bak"), "old").unwrap();
    std::fs::write(dir.join(".technical.j2.swp"), "old").unwrap();
    Prompts::with_overrides(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
