//! A stored decision replayed from its audit trail (issue 16, item 6), through the real
//! binary: its recorded answers read again give back every report; its recorded prompts sent
//! to the model again (a local server in OpenAI's format) are answered the same; the CLI shows
//! both.

use crate::harness::{cli, Served, TOKEN};
use std::time::Duration;

#[test]
fn a_stored_decision_is_replayed_from_its_answers_and_its_prompts_asked_again() {
    let mut bot = Served::start("replay", "", 3);
    bot.wait_cycles(2);
    let (code, decisions) = bot.get("/api/v1/decisions?limit=1");
    assert_eq!(code, 200, "{decisions}");
    let id = decisions["items"][0]["decision_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/decisions/{id}/replay");

    // From the record: no model call. (Requests are counted by their prompt: those of this
    // decision's prompts, whatever later cycles of the bot ask meanwhile.)
    let (_, decision) = bot.get(&format!("/api/v1/decisions/{id}"));
    let mut hashes: Vec<String> = decision["agent_decisions"]
        .as_object()
        .unwrap()
        .values()
        .chain(decision["debate"].as_array().into_iter().flatten())
        .filter_map(|v| v["prompt_hash"].as_str().map(str::to_owned))
        .collect();
    hashes.sort();
    hashes.dedup();
    assert!(hashes.len() >= 8, "{decision:#}");
    let requests = || {
        bot.runtime
            .block_on(bot.llm.server.received_requests())
            .unwrap()
            .iter()
            .filter(|r| r.url.path().ends_with("chat/completions"))
            .filter(|r| {
                let (system, user) = crate::support::llm::messages(r);
                let prompt = tradegraph_agents::prompt::RenderedPrompt {
                    agent: tradegraph_agents::AgentName::Technical,
                    system,
                    user,
                    version: String::new(),
                };
                hashes.contains(&prompt.hash())
            })
            .count()
    };
    let before = requests();
    assert!(before >= hashes.len(), "the cycle's own requests");
    let (code, recorded) = bot.get(&path);
    assert_eq!(code, 200, "{recorded}");
    assert_eq!(requests(), before, "no model is asked");
    assert_eq!(recorded["mode"], "recorded");
    assert_eq!(recorded["decision_id"], id.as_str());
    assert_eq!(recorded["same"], true, "{recorded:#}");
    let reports = recorded["reports"].as_array().unwrap();
    let agents: Vec<&str> = reports
        .iter()
        .map(|r| r["agent"].as_str().unwrap())
        .collect();
    for agent in [
        "technical",
        "bull",
        "bear",
        "risk_manager",
        "portfolio_manager",
    ] {
        assert!(agents.contains(&agent), "{agent} in {agents:?}");
    }
    assert_eq!(
        reports.iter().filter(|r| r["agent"] == "bull").count(),
        2,
        "each debate round: {agents:?}"
    );
    let technical = reports.iter().find(|r| r["agent"] == "technical").unwrap();
    assert_eq!(technical["recorded_by"], "llm");
    assert_eq!(technical["call"], technical["recorded_call"]);
    assert!(technical["prompt_hash"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    let (code, decision) = bot.get(&format!("/api/v1/decisions/{id}"));
    assert_eq!(code, 200);
    assert_eq!(
        decision["agent_decisions"]["portfolio_manager"]["signal"],
        reports
            .iter()
            .find(|r| r["agent"] == "portfolio_manager")
            .unwrap()["call"],
    );

    // Asked again: behind the token, every prompt sent once more, answered the same.
    let (code, _, _) = bot.post(&path, None, None);
    assert_eq!(code, 401);
    let (code, asked, _) = bot.post(&path, None, Some(TOKEN));
    assert_eq!(code, 200, "{asked}");
    assert_eq!(asked["mode"], "asked");
    assert_eq!(asked["same"], true, "{asked:#}");
    assert_eq!(requests(), before + reports.len(), "one call per report");
    assert!(asked["reports"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["answer"].as_str().is_some_and(|a| !a.is_empty())));
    // It spent model calls: the operator log says who asked, as for every control endpoint
    // (nothing recorded it).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let recorded = loop {
        let (_, actions) = bot.get("/api/v1/operator-actions");
        let found = actions["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["action"] == "decision.replay")
            .cloned();
        if let Some(action) = found {
            break action;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the replay asked is not in the operator log: {actions}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(recorded["outcome"], "done", "{recorded}");
    assert!(
        recorded["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("http 127.0.0.1:")),
        "{recorded}"
    );
    assert!(
        recorded["message"].as_str().unwrap().contains(&id),
        "{recorded}"
    );

    let (code, missing) = bot.get("/api/v1/decisions/BTCUSDT-20200101T000000.000Z/replay");
    assert_eq!(code, 404, "{missing}");

    // The CLI.
    let url = bot.base.clone();
    let (code, out, err) = cli(&["bot", "replay", "--url", &url, "--id", &id], None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("its answers read again as recorded: every report as recorded"),
        "{out}"
    );
    assert!(
        out.contains("technical") && out.contains("bull round 2"),
        "{out}"
    );
    let (code, _, err) = cli(
        &["bot", "replay", "--url", &url, "--id", &id, "--ask"],
        None,
    );
    assert_eq!(code, 2, "the token: {err}");
    let (code, out, err) = cli(
        &["bot", "replay", "--url", &url, "--id", &id, "--ask"],
        Some(TOKEN),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("its prompts asked again: every report as recorded"),
        "{out}"
    );

    // A model that no longer answers (its key refused): nothing comes out as recorded, and the
    // command says so with its exit code.
    bot.llm.fail_with(401);
    let (code, failed, _) = bot.post(&path, None, Some(TOKEN));
    assert_eq!(code, 200, "{failed}");
    assert_eq!(failed["same"], false, "{failed:#}");
    assert!(failed["reports"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["same"] == false && r["error"].is_string()));
    let (code, out, err) = cli(
        &["bot", "replay", "--url", &url, "--id", &id, "--ask"],
        Some(TOKEN),
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("NOT as recorded") && out.contains("DIFFERS"),
        "{out}"
    );
    bot.llm.fail_with(0);
    bot.stop();
}
