//! Live trading and the LLM chain.

use super::support::*;
use tradegraph::config::{FeedKind, Flags, Origin};

#[test]
fn live_trading_needs_both_switches() {
    let dir = scratch("live");
    let synthetic = Flags {
        feed: Some(FeedKind::Synthetic),
        ..no_flags()
    };
    let resolve = |vars: &[(&str, &str)]| resolve(&synthetic, vars, &dir);
    let s = resolve(&[("TRADEGRAPH_LIVE", "1")]).unwrap();
    assert!(!s.live);
    assert!(
        s.notices
            .iter()
            .any(|n| n.contains("TRADEGRAPH_LIVE=1 (from env)")),
        "{:?}",
        s.notices
    );
    write(&dir, "tradegraph.toml", "[bot]\nlive = true\n");
    let s = resolve(&[]).unwrap();
    assert!(!s.live);
    assert!(
        s.notices.iter().any(|n| n.contains("`live = true`")),
        "{:?}",
        s.notices
    );
    let s = resolve(&[("TRADEGRAPH_LIVE", "1")]).unwrap();
    assert!(s.live);
    assert_eq!(s.origins.get("bot.live"), Some(&Origin::Env));
    assert!(s.notices.is_empty(), "{:?}", s.notices);
    let err = resolve(&[("TRADEGRAPH_LIVE", "yes")])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("TRADEGRAPH_LIVE (from env): `yes`"),
        "{err}"
    );
}

/// `TRADEGRAPH_LIVE=` (empty) in the environment turns live trading off for that run, as the
/// error text says ("0 or nothing for paper trading"), whatever `.env` says.
#[test]
fn an_empty_live_variable_in_the_environment_means_paper_whatever_the_env_files_say() {
    let dir = scratch("live-empty");
    let synthetic = Flags {
        feed: Some(FeedKind::Synthetic),
        ..no_flags()
    };
    write(&dir, "tradegraph.toml", "[bot]\nlive = true\n");
    write(&dir, ".env", "TRADEGRAPH_LIVE=1\n");
    assert!(resolve(&synthetic, &[], &dir).unwrap().live);
    for empty in ["", " "] {
        let s = resolve(&synthetic, &[("TRADEGRAPH_LIVE", empty)], &dir).unwrap();
        assert!(!s.live, "TRADEGRAPH_LIVE={empty:?}");
    }
    // `0` too, as before
    assert!(
        !resolve(&synthetic, &[("TRADEGRAPH_LIVE", "0")], &dir)
            .unwrap()
            .live
    );
    // and `.env.<name>`'s nothing over `.env`'s 1
    write(&dir, ".env.btc", "TRADEGRAPH_LIVE=\n");
    assert!(!resolve(&synthetic, &[], &dir).unwrap().live);
}

#[test]
fn the_file_chain_takes_keys_from_the_environment_and_the_variable_reorders_it() {
    let dir = scratch("llm");
    write(
        &dir,
        "tradegraph.toml",
        "[llm]\nbudget_usd = \"2.5\"\nrepair_turns = 1\n[[llm.providers]]\nkind = \"anthropic\"\nmodel = \"claude-x\"\n[[llm.providers]]\nkind = \"openai\"\n",
    );
    write(
        &dir,
        ".env",
        "ANTHROPIC_API_KEY=sk-ant-1234\nOPENAI_MODEL=gpt-y\n",
    );
    let s = resolve(&no_flags(), &[], &dir).unwrap();
    let names: Vec<&str> = s.llm.providers.iter().map(|p| p.name()).collect();
    assert_eq!(names, ["anthropic", "openai"]);
    assert_eq!(
        s.llm.providers[0].api_key.as_ref().unwrap().expose(),
        "sk-ant-1234"
    );
    assert_eq!(s.llm.providers[1].model.as_deref(), Some("gpt-y"));
    assert_eq!(s.llm.repair_turns, 1);
    assert_eq!(
        s.llm_budget_usd.map(|b| b.to_string()).as_deref(),
        Some("2.5")
    );
    assert_eq!(s.origins.get("llm.providers"), Some(&Origin::File));
    assert_eq!(
        s.origins.get("llm.providers.anthropic.api_key"),
        Some(&Origin::EnvFile)
    );
    assert_eq!(
        s.origins.get("llm.providers.anthropic.model"),
        Some(&Origin::File)
    );
    assert_eq!(
        s.origins.get("llm.providers.openai.model"),
        Some(&Origin::EnvFile)
    );
    assert_eq!(s.origins.get("llm.budget_usd"), Some(&Origin::File));
    let vars = [
        ("TRADEGRAPH_LLM_PROVIDERS", "openai"),
        ("OPENAI_API_KEY", "sk-1234"),
        ("TRADEGRAPH_LLM_BUDGET_USD", "0.75"),
    ];
    let s = resolve(&no_flags(), &vars, &dir).unwrap();
    assert_eq!(s.llm.providers.len(), 1);
    assert_eq!(s.origins.get("llm.providers"), Some(&Origin::Env));
    assert_eq!(
        s.llm_budget_usd.map(|b| b.to_string()).as_deref(),
        Some("0.75")
    );
    assert_eq!(s.origins.get("llm.budget_usd"), Some(&Origin::Env));
    let err = resolve(&no_flags(), &[("TRADEGRAPH_LLM_BUDGET_USD", "lots")], &dir)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("TRADEGRAPH_LLM_BUDGET_USD (from env): `lots`"),
        "{err}"
    );
    // The vendors' own names: Google's key for Gemini, Ollama's host; the selection by weight
    // (in a directory without a file, so the chain comes from the environment).
    let dir = scratch("llm-vendor-names");
    let vars = [
        ("GOOGLE_API_KEY", "AIza-1234"),
        ("OLLAMA_HOST", "gpu-box:11500"),
        ("TRADEGRAPH_LLM_SELECTION", "weighted"),
    ];
    let s = resolve(&no_flags(), &vars, &dir).unwrap();
    let names: Vec<_> = s.llm.providers.iter().map(|p| p.name()).collect();
    assert_eq!(names, ["gemini", "ollama"]);
    assert_eq!(
        s.llm.providers[0].api_key.as_ref().unwrap().expose(),
        "AIza-1234"
    );
    assert_eq!(
        s.llm.providers[1].base_url.as_deref(),
        Some("http://gpu-box:11500")
    );
    assert_eq!(s.llm.selection, tradegraph_llm::config::Selection::Weighted);
    for key in [
        "llm.providers",
        "llm.providers.gemini.api_key",
        "llm.providers.ollama.base_url",
        "llm.selection",
    ] {
        assert_eq!(s.origins.get(key), Some(&Origin::Env), "{key}");
    }
    // A name set in a higher layer wins over the other name in a lower one.
    write(
        &dir,
        ".env",
        "GOOGLE_API_KEY=AIza-dotenv\nOLLAMA_BASE_URL=http://dotenv:1\n",
    );
    let vars = [
        ("GEMINI_API_KEY", "AIza-shell"),
        ("OLLAMA_HOST", "shell-box"),
    ];
    let s = resolve(&no_flags(), &vars, &dir).unwrap();
    assert_eq!(
        s.llm.providers[0].api_key.as_ref().unwrap().expose(),
        "AIza-shell"
    );
    assert_eq!(
        s.llm.providers[1].base_url.as_deref(),
        Some("http://shell-box:11434")
    );
    let s = resolve(&no_flags(), &[], &dir).unwrap();
    assert_eq!(
        s.llm.providers[0].api_key.as_ref().unwrap().expose(),
        "AIza-dotenv"
    );
    assert_eq!(
        s.llm.providers[1].base_url.as_deref(),
        Some("http://dotenv:1")
    );
    let err = resolve(
        &no_flags(),
        &[("TRADEGRAPH_LLM_SELECTION", "fastest")],
        &dir,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("TRADEGRAPH_LLM_SELECTION: `fastest`"), "{err}");
}

#[test]
fn the_instance_lease_comes_from_the_file_or_the_environment_and_must_be_sensible() {
    let dir = scratch("lease");
    let s = resolve(&no_flags(), &[], &dir).unwrap();
    assert_eq!(s.instance_lease, std::time::Duration::from_secs(30));
    assert_eq!(
        s.origins.get("bot.instance_lease_secs"),
        Some(&Origin::Default)
    );
    write(&dir, "tradegraph.toml", "[bot]\ninstance_lease_secs = 5\n");
    let s = resolve(&no_flags(), &[], &dir).unwrap();
    assert_eq!(s.instance_lease, std::time::Duration::from_secs(5));
    assert_eq!(
        s.origins.get("bot.instance_lease_secs"),
        Some(&Origin::File)
    );
    let s = resolve(
        &no_flags(),
        &[("TRADEGRAPH_INSTANCE_LEASE_SECS", "90")],
        &dir,
    )
    .unwrap();
    assert_eq!(s.instance_lease, std::time::Duration::from_secs(90));
    assert_eq!(s.origins.get("bot.instance_lease_secs"), Some(&Origin::Env));
    let err = resolve(
        &no_flags(),
        &[("TRADEGRAPH_INSTANCE_LEASE_SECS", "long")],
        &dir,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("TRADEGRAPH_INSTANCE_LEASE_SECS (from env): `long`"),
        "{err}"
    );
    write(&dir, "tradegraph.toml", "[bot]\ninstance_lease_secs = 0\n");
    let err = resolve(&no_flags(), &[], &dir).unwrap_err().to_string();
    assert!(
        err.contains("bot.instance_lease_secs") && err.contains("from 1 to 3600"),
        "{err}"
    );
}

#[test]
fn the_cycle_deadline_comes_from_the_file_or_the_environment_and_must_be_sensible() {
    let dir = scratch("deadline");
    let s = resolve(&no_flags(), &[], &dir).unwrap();
    assert_eq!(s.cycle_deadline, std::time::Duration::from_secs(30));
    assert_eq!(
        s.origins.get("bot.cycle_deadline_secs"),
        Some(&Origin::Default)
    );
    write(&dir, "tradegraph.toml", "[bot]\ncycle_deadline_secs = 12\n");
    let s = resolve(&no_flags(), &[], &dir).unwrap();
    assert_eq!(s.cycle_deadline, std::time::Duration::from_secs(12));
    assert_eq!(
        s.origins.get("bot.cycle_deadline_secs"),
        Some(&Origin::File)
    );
    let s = resolve(
        &no_flags(),
        &[("TRADEGRAPH_CYCLE_DEADLINE_SECS", "45")],
        &dir,
    )
    .unwrap();
    assert_eq!(s.cycle_deadline, std::time::Duration::from_secs(45));
    assert_eq!(s.origins.get("bot.cycle_deadline_secs"), Some(&Origin::Env));
    let err = resolve(
        &no_flags(),
        &[("TRADEGRAPH_CYCLE_DEADLINE_SECS", "soon")],
        &dir,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("TRADEGRAPH_CYCLE_DEADLINE_SECS (from env): `soon`"),
        "{err}"
    );
    write(
        &dir,
        "tradegraph.toml",
        "[bot]\ndecision_timeframe = \"1m\"\ncycle_deadline_secs = 60\n",
    );
    let err = resolve(&no_flags(), &[], &dir).unwrap_err().to_string();
    assert!(
        err.contains("bot.cycle_deadline_secs")
            && err.contains("not shorter than the decision timeframe (1min)"),
        "{err}"
    );
    write(&dir, "tradegraph.toml", "[bot]\ncycle_deadline_secs = 0\n");
    let err = resolve(&no_flags(), &[], &dir).unwrap_err().to_string();
    assert!(
        err.contains("bot.cycle_deadline_secs") && err.contains("from 1 to 3600"),
        "{err}"
    );
}

#[test]
fn the_lessons_distance_comes_from_the_file_and_must_be_a_distance() {
    let dir = scratch("lessons");
    let s = resolve(&no_flags(), &[], &dir).unwrap();
    assert_eq!(s.lesson_max_distance, 1.0);
    write(
        &dir,
        "tradegraph.toml",
        "[bot]\nlesson_max_distance = inf\n",
    );
    let s = resolve(&no_flags(), &[], &dir).unwrap();
    assert!(s.lesson_max_distance.is_infinite());
    assert_eq!(
        s.origins.get("bot.lesson_max_distance"),
        Some(&Origin::File)
    );
    for bad in ["-1.0", "nan"] {
        write(
            &dir,
            "tradegraph.toml",
            &format!("[bot]\nlesson_max_distance = {bad}\n"),
        );
        let err = resolve(&no_flags(), &[], &dir).unwrap_err().to_string();
        assert!(
            err.contains("bot.lesson_max_distance")
                && err.contains("must be a distance of 0 or more"),
            "{bad}: {err}"
        );
    }
}

/// A value that parses but cannot work names where it is: the file and line of a file's value,
/// the variable (and its layer) of the environment's.
#[test]
fn a_value_that_cannot_work_names_its_file_and_line_or_its_variable() {
    let dir = scratch("invalid-where");
    write(
        &dir,
        "tradegraph.toml",
        "[bot]\nfeed = \"synthetic\"\ncycle_deadline_secs = 0\n",
    );
    let err = resolve(&no_flags(), &[], &dir).unwrap_err().to_string();
    assert!(
        err.contains("tradegraph.toml:3:") && err.contains("bot.cycle_deadline_secs"),
        "{err}"
    );
    let dir = scratch("invalid-where-env");
    write(&dir, "tradegraph.toml", "[bot]\nfeed = \"synthetic\"\n");
    let err = resolve(
        &no_flags(),
        &[("TRADEGRAPH_CYCLE_DEADLINE_SECS", "0")],
        &dir,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("TRADEGRAPH_CYCLE_DEADLINE_SECS (from env)"),
        "{err}"
    );
    write(&dir, ".env", "TRADEGRAPH_CYCLE_DEADLINE_SECS=0\n");
    let err = resolve(&no_flags(), &[], &dir).unwrap_err().to_string();
    assert!(
        err.starts_with("TRADEGRAPH_CYCLE_DEADLINE_SECS (from .env)"),
        "{err}"
    );
}
