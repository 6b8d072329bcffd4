//! The set of templates, embedded or overridden, and rendering.

use super::{context, filters, frame, shape, taint, PromptContext};
use crate::error::PromptTemplate;
use crate::{AgentError, AgentName};
use minijinja::Environment;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

/// The templates shipped in `prompts/`, embedded at compile time: the shared parts (names
/// starting with `_`, included by the others) and one per agent that asks a model. Execution is
/// deterministic code and has none.
const EMBEDDED: [(&str, &str); 17] = [
    ("_frame.j2", include_str!("../../prompts/_frame.j2")),
    (
        "_instrument.j2",
        include_str!("../../prompts/_instrument.j2"),
    ),
    ("_market.j2", include_str!("../../prompts/_market.j2")),
    ("_news.j2", include_str!("../../prompts/_news.j2")),
    ("_reports.j2", include_str!("../../prompts/_reports.j2")),
    ("_debate.j2", include_str!("../../prompts/_debate.j2")),
    ("_lessons.j2", include_str!("../../prompts/_lessons.j2")),
    ("_book.j2", include_str!("../../prompts/_book.j2")),
    ("technical.j2", include_str!("../../prompts/technical.j2")),
    (
        "fundamental.j2",
        include_str!("../../prompts/fundamental.j2"),
    ),
    ("sentiment.j2", include_str!("../../prompts/sentiment.j2")),
    ("macro.j2", include_str!("../../prompts/macro.j2")),
    ("bull.j2", include_str!("../../prompts/bull.j2")),
    ("bear.j2", include_str!("../../prompts/bear.j2")),
    (
        "risk_manager.j2",
        include_str!("../../prompts/risk_manager.j2"),
    ),
    (
        "portfolio_manager.j2",
        include_str!("../../prompts/portfolio_manager.j2"),
    ),
    ("learning.j2", include_str!("../../prompts/learning.j2")),
];

/// A rendered prompt: the system and user messages, and the template's version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RenderedPrompt {
    /// Which agent.
    pub agent: AgentName,
    /// The system message.
    pub system: String,
    /// The user message.
    pub user: String,
    /// `<agent>@<16 hex digits>`: a hash of the agent's template and the shared parts, so a
    /// decision records exactly which prompt produced it.
    pub version: String,
}

impl RenderedPrompt {
    /// `sha256:<64 hex digits>` of the system message, a NUL and the user message: what a
    /// decision's audit trail references the text by (stored once per distinct text).
    ///
    /// ```
    /// use tradegraph_agents::prompt::RenderedPrompt;
    /// use tradegraph_agents::AgentName;
    /// let p = |user: &str| RenderedPrompt {
    ///     agent: AgentName::Technical, system: "s".into(), user: user.into(), version: "v".into(),
    /// };
    /// assert!(p("a").hash().starts_with("sha256:") && p("a").hash().len() == 71);
    /// assert_eq!(p("a").hash(), p("a").hash());
    /// assert_ne!(p("a").hash(), p("b").hash());
    /// ```
    pub fn hash(&self) -> String {
        use sha2::{Digest, Sha256};
        use std::fmt::Write as _;
        let mut hasher = Sha256::new();
        hasher.update(self.system.as_bytes());
        hasher.update([0u8]);
        hasher.update(self.user.as_bytes());
        let digest = hasher.finalize();
        let mut out = String::with_capacity(71);
        out.push_str("sha256:");
        for byte in digest {
            // writing to a String cannot fail
            let _ = write!(out, "{byte:02x}");
        }
        out
    }
}

/// The prompt templates, ready to render.
///
/// ```
/// use tradegraph_agents::prompt::Prompts;
/// let prompts = Prompts::embedded()?;
/// assert!(prompts.version(tradegraph_agents::AgentName::Technical).starts_with("technical@"));
/// # Ok::<(), tradegraph_agents::AgentError>(())
/// ```
#[derive(Debug)]
pub struct Prompts {
    env: Environment<'static>,
    versions: BTreeMap<AgentName, String>,
    /// Agents whose template is just the system block then the user block (see
    /// [`shape::system_then_user`]): their user message comes from the whole render.
    two_blocks: BTreeSet<AgentName>,
    /// The last wrapping of each context field, shared by the renders.
    memo: Arc<taint::FieldMemo>,
}

/// Checks that `dir` is a directory, and that no file in it is named like a template without
/// being one (a `.j2` file of no template's name, or a template's name with another text
/// extension: `technical.md`, `technical.jinja`); other files (notes, dotfiles, an editor's
/// backups such as `technical.j2~` or `technical.j2.bak`) are left alone.
fn check_names(dir: &Path) -> Result<(), AgentError> {
    let unreadable = |source| AgentError::PromptDir {
        path: dir.to_path_buf(),
        source,
    };
    let entries = std::fs::read_dir(dir).map_err(|source| {
        if dir.is_file() {
            unreadable(std::io::Error::other("not a directory"))
        } else {
            unreadable(source)
        }
    })?;
    let stem = |name: &str| {
        name.rsplit_once('.')
            .map_or(name, |(stem, _)| stem)
            .to_owned()
    };
    for entry in entries {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || EMBEDDED.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let text_extension = name.rsplit_once('.').is_some_and(|(_, ext)| {
            [
                "md", "txt", "jinja", "jinja2", "j2", "tmpl", "tpl", "tera", "hbs",
            ]
            .contains(&ext.to_ascii_lowercase().as_str())
        });
        let like_one = name.ends_with(".j2")
            || (text_extension && EMBEDDED.iter().any(|(n, _)| stem(n) == stem(&name)));
        if like_one {
            return Err(AgentError::PromptName {
                path: entry.path(),
                known: EMBEDDED
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(())
}

impl Prompts {
    /// The embedded templates.
    ///
    /// # Errors
    /// [`AgentError::Prompt`] when a template does not parse (a build defect; the tests render
    /// every one).
    pub fn embedded() -> Result<Self, AgentError> {
        Self::build(
            EMBEDDED
                .iter()
                .map(|(name, source)| ((*name).to_owned(), (*source).to_owned()))
                .collect(),
        )
    }

    /// The embedded templates, with any file of the same name found in `dir` taking precedence
    /// (the runtime passes `TRADEGRAPH_PROMPTS_DIR`).
    ///
    /// # Errors
    /// [`AgentError::PromptDir`] when `dir` is not there or is no directory, or a file there
    /// cannot be read; [`AgentError::PromptName`] for a file there named like a template but
    /// none (`technical.md`, `techincal.j2`: it would be ignored); [`AgentError::Prompt`] when
    /// a template does not parse, naming the file and the line.
    pub fn with_overrides(dir: &Path) -> Result<Self, AgentError> {
        check_names(dir)?;
        let mut sources: BTreeMap<String, String> = EMBEDDED
            .iter()
            .map(|(name, source)| ((*name).to_owned(), (*source).to_owned()))
            .collect();
        for name in EMBEDDED.iter().map(|(n, _)| *n) {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(source) => {
                    sources.insert(name.to_owned(), source);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(AgentError::PromptDir { path, source }),
            }
        }
        Self::build(sources)
    }

    fn build(sources: BTreeMap<String, String>) -> Result<Self, AgentError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        // Block tags on their own lines leave no blank lines behind; a shared part ending in a
        // line of text keeps that line's newline when included.
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .map_err(|source| AgentError::Prompt {
                template: PromptTemplate::Syntax,
                source,
            })?;
        env.set_syntax(syntax);
        env.set_formatter(taint::format);
        env.add_filter("untrusted", taint::untrusted);
        env.add_filter("fixed", filters::fixed);
        let shared: Vec<&str> = sources
            .iter()
            .filter(|(name, _)| name.starts_with('_'))
            .map(|(_, source)| source.as_str())
            .collect();
        let mut versions = BTreeMap::new();
        let mut two_blocks = BTreeSet::new();
        for (name, source) in &sources {
            if let Some(agent) = name
                .strip_suffix(".j2")
                .and_then(|n| n.parse::<AgentName>().ok())
            {
                // The answer's schema is part of what the model sees, so it is part of the
                // version: a changed report type changes the version like a changed template.
                let schema = context::output_schema(agent).unwrap_or_default();
                let mut parts = shared.clone();
                parts.push(source);
                parts.push(&schema);
                versions.insert(agent, format!("{agent}@{:016x}", fnv1a(&parts)));
                if shape::system_then_user(source) {
                    two_blocks.insert(agent);
                }
            }
        }
        for (name, source) in sources {
            env.add_template_owned(name.clone(), source)
                .map_err(|source| AgentError::Prompt {
                    template: PromptTemplate::File(name),
                    source,
                })?;
        }
        Ok(Self {
            env,
            versions,
            two_blocks,
            memo: Arc::default(),
        })
    }

    /// The version of an agent's prompt: a hash of its templates and of its answer's schema.
    pub fn version(&self, agent: AgentName) -> &str {
        self.versions.get(&agent).map_or("", String::as_str)
    }

    /// Renders an agent's prompt.
    ///
    /// # Errors
    /// [`AgentError::Prompt`] when the template fails (an unknown variable, a bad filter call,
    /// text from a model or from outside printed without the `untrusted` filter), naming the
    /// agent, the template and the line; [`AgentError::PromptFrame`] when such text lands
    /// anywhere but inside the user message's one `<data>` frame, naming the field.
    pub fn render(
        &self,
        agent: AgentName,
        context: &PromptContext,
    ) -> Result<RenderedPrompt, AgentError> {
        self.render_owned(agent, context.clone())
    }

    /// [`render`](Self::render), taking the context: what an agent does before each model
    /// call, saving the copy the template engine would otherwise need.
    ///
    /// # Errors
    /// As [`render`](Self::render).
    pub fn render_owned(
        &self,
        agent: AgentName,
        context: PromptContext,
    ) -> Result<RenderedPrompt, AgentError> {
        let err = |source| AgentError::Prompt {
            template: PromptTemplate::Agent(agent),
            source,
        };
        let name = format!("{agent}.j2");
        let template = self.env.get_template(&name).map_err(err)?;
        let mut captured = template
            .render_captured(taint::context_value(context, &self.memo))
            .map_err(err)?;
        let system = captured
            .with_state_mut(|state| state.render_block("system"))
            .map_err(err)?;
        // The whole render already holds the user block, after the system block and whitespace.
        let whole = self
            .two_blocks
            .contains(&agent)
            .then(|| captured.output().strip_prefix(system.as_str()))
            .flatten()
            .map(str::to_owned);
        let user = match whole {
            Some(user) => user,
            None => captured
                .with_state_mut(|state| state.render_block("user"))
                .map_err(err)?,
        };
        let (system, user) =
            frame::settle(&system, &user).map_err(|m| AgentError::PromptFrame {
                agent,
                template: name,
                field: m.field,
                problem: m.problem,
            })?;
        Ok(RenderedPrompt {
            agent,
            system: system.trim().to_owned(),
            user: user.trim().to_owned(),
            version: self.version(agent).to_owned(),
        })
    }
}

/// FNV-1a over the parts: stable across runs, platforms and Rust versions.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradegraph_core::{Instrument, Timeframe};

    /// The names templates read the context's fields by are the names serde gives them (the
    /// names the templates were written against), every one of them.
    #[test]
    fn the_context_read_field_by_field_has_every_field_by_its_serde_name() {
        let state = crate::fixture::holding(&Instrument::btc_usdt()).unwrap();
        let context =
            PromptContext::for_agent(AgentName::RiskManager, &state, Timeframe::M15, 1).unwrap();
        let serialized = serde_json::to_value(&context).unwrap();
        let mut names: Vec<&str> = serialized
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        let mut fields = super::context::FIELDS.to_vec();
        fields.sort_unstable();
        assert_eq!(names, fields);
        for name in fields {
            let value = context.field_value(name).unwrap();
            assert_eq!(
                serde_json::to_value(&value).unwrap(),
                serialized[name],
                "{name}"
            );
        }
        assert!(context.field_value("no_such_field").is_none());
    }

    /// One library renders a run of changing contexts (the memo of wrapped fields carried
    /// from render to render) exactly as a fresh library renders each: a field that changed is
    /// never printed as it was.
    #[test]
    fn renders_that_share_wrapped_fields_are_those_of_a_fresh_library() {
        /// A small change to one field of a context.
        type Change = fn(&mut PromptContext);
        let shared = Prompts::embedded().unwrap();
        let fresh = |agent, context: &PromptContext| {
            Prompts::embedded().unwrap().render(agent, context).unwrap()
        };
        let mut changed = BTreeSet::new();
        for state in [
            crate::fixture::state(&Instrument::btc_usdt()).unwrap(),
            crate::fixture::holding(&Instrument::btc_usdt()).unwrap(),
        ] {
            for agent in AgentName::ALL {
                let round = u32::from(matches!(agent, AgentName::Bull | AgentName::Bear));
                let Some(base) = PromptContext::for_agent(agent, &state, Timeframe::M15, round)
                else {
                    continue;
                };
                // each variant changes one field a little: a price's last digit, a word
                let variants: [(&str, Change); 6] = [
                    ("candles", |c| {
                        if let Some(last) = c.candles.last_mut() {
                            last.ohlcv[3].push('1');
                        }
                    }),
                    ("daily", |c| {
                        // the fixtures have no daily candles
                        if let Some(first) = c.candles.first().cloned() {
                            c.daily.push(first);
                        }
                    }),
                    ("news", |c| {
                        if let Some(item) = c.news.first_mut() {
                            item.headline.push_str(" again");
                        }
                    }),
                    ("indicators", |c| {
                        if let Some(values) = c.indicators.as_mut() {
                            values.rsi = values.rsi.map(|rsi| rsi + 0.5);
                        }
                    }),
                    ("weights", |c| {
                        for weight in c.weights.values_mut() {
                            *weight += 0.25;
                        }
                    }),
                    ("price", |c| c.price.push('7')),
                ];
                let base_prompt = shared.render(agent, &base).unwrap();
                assert_eq!(base_prompt, fresh(agent, &base), "{agent}");
                for (field, change) in &variants {
                    let mut context = base.clone();
                    change(&mut context);
                    let prompt = shared.render(agent, &context).unwrap();
                    assert_eq!(prompt, fresh(agent, &context), "{agent}, {field} changed");
                    if prompt != base_prompt {
                        changed.insert(*field);
                    }
                    // and back: the field's earlier value prints again
                    assert_eq!(shared.render(agent, &base).unwrap(), base_prompt, "{agent}");
                }
            }
        }
        // every variant reached some prompt, so each comparison above could fail
        assert_eq!(changed.len(), 6, "{changed:?}");
    }

    /// Every agent's prompt rendered the fast way (the user message cut from the whole render)
    /// and block by block, for the shipped templates and for overrides: the same text.
    #[test]
    fn the_user_message_from_the_whole_render_is_the_user_block() {
        let dir = std::env::temp_dir().join(format!("tg-prompt-shape-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // an override with whitespace-control tags, blank lines between and after the blocks,
        // and variables set inside each block
        std::fs::write(
            dir.join("technical.j2"),
            "{%- block system -%}\n{% set mood = \"calm\" %}You are {{ mood }}.\n{% include \"_frame.j2\" %}\n{% endblock %}\n\n\n{% block user %}\n{% set mood = \"brisk\" %}<data>\n{% include \"_instrument.j2\" %}\n</data>\n\n  Mood: {{ mood }}. Signal for {{ timeframe }}.\n{%- endblock %}\n\n",
        )
        .unwrap();
        let state = crate::fixture::state(&Instrument::btc_usdt()).unwrap();
        for prompts in [
            Prompts::embedded().unwrap(),
            Prompts::with_overrides(&dir).unwrap(),
        ] {
            assert!(
                prompts.two_blocks.contains(&AgentName::Technical),
                "the case under test takes the fast path"
            );
            let slow = Prompts {
                env: prompts.env.clone(),
                versions: prompts.versions.clone(),
                two_blocks: BTreeSet::new(),
                memo: Arc::default(),
            };
            for agent in AgentName::ALL {
                let round = u32::from(matches!(agent, AgentName::Bull | AgentName::Bear));
                let Some(context) = PromptContext::for_agent(agent, &state, Timeframe::M15, round)
                else {
                    continue;
                };
                let fast = prompts.render(agent, &context).unwrap();
                let by_block = slow.render(agent, &context).unwrap();
                assert_eq!(fast, by_block, "{agent}");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
