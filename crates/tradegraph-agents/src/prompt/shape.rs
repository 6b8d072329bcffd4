//! The shape of an agent's template, so rendering can skip work the shape makes redundant.
//!
//! Rendering an agent's prompt renders the whole template once (its top level may set
//! variables the blocks use, and fails on any error) and then each block. When the template is
//! nothing but `{% block system %}...{% endblock %}` followed by
//! `{% block user %}...{% endblock %}`, with only whitespace between and after, the whole
//! render is the system block, whitespace, the user block and whitespace: the user message can
//! be taken from it instead of rendering that block a second time.

/// Whether `source` starts with the `system` block, followed by the `user` block, with only
/// whitespace between and after them, and neither block holding a nested block, a raw
/// section, an `extends` or a comment. Anything else (or anything this cannot tell) is `false`,
/// and the template is rendered block by block.
pub(crate) fn system_then_user(source: &str) -> bool {
    let Some(rest) = block(source, "system") else {
        return false;
    };
    block(rest.trim_start(), "user").is_some_and(|rest| rest.trim().is_empty())
}

/// `text` starting with the block `name`, up to its `{% endblock %}`: the text after it.
fn block<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let (words, mut rest) = tag(text)?;
    if words != ["block", name] {
        return None;
    }
    loop {
        let at = rest.find("{%")?;
        if rest[..at].contains("{#") {
            return None;
        }
        let (words, after) = tag(&rest[at..])?;
        match words.first().copied() {
            Some("endblock") if words.len() <= 2 => return Some(after),
            Some("block" | "endblock" | "raw" | "endraw" | "extends") | None => return None,
            Some(_) => rest = after,
        }
    }
}

/// The words of the tag `text` starts with (`{% block user %}`, `{%- endblock -%}`) and the
/// text after it.
fn tag(text: &str) -> Option<(Vec<&str>, &str)> {
    let inner = text.strip_prefix("{%")?;
    let end = inner.find("%}")?;
    let words = inner[..end]
        .trim_start_matches(['-', '+'])
        .trim_end_matches(['-', '+'])
        .split_whitespace()
        .collect();
    Some((words, &inner[end + 2..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_blocks_and_whitespace_qualify() {
        assert!(system_then_user(
            "{% block system %}\nS {{ a }}\n{% include \"x\" %}{% endblock %}\n{%- block user -%}\nU{% if b %}B{% endif %}\n{% endblock user %}\n\n"
        ));
    }

    #[test]
    fn anything_else_renders_block_by_block() {
        for source in [
            "",
            "x{% block system %}S{% endblock %}{% block user %}U{% endblock %}",
            "{% block system %}S{% endblock %}y{% block user %}U{% endblock %}",
            "{% block system %}S{% endblock %}{% block user %}U{% endblock %}z",
            "{% block user %}U{% endblock %}{% block system %}S{% endblock %}",
            "{% block system %}S{% endblock %}",
            "{% set a = 1 %}{% block system %}S{% endblock %}{% block user %}U{% endblock %}",
            "{% block system %}{% block inner %}I{% endblock %}{% endblock %}{% block user %}U{% endblock %}",
            "{% block system %}{# {% endblock %} #}{% endblock %}{% block user %}U{% endblock %}",
            "{% block system %}{% raw %}{% endblock %}{% endraw %}{% endblock %}{% block user %}U{% endblock %}",
            "{% block system %}S{% endblock %}{% block user %}U",
            "{% extends \"base.j2\" %}{% block system %}S{% endblock %}{% block user %}U{% endblock %}",
        ] {
            assert!(!system_then_user(source), "{source:?}");
        }
    }

    #[test]
    fn the_shipped_templates_qualify() {
        for source in [
            include_str!("../../prompts/technical.j2"),
            include_str!("../../prompts/portfolio_manager.j2"),
            include_str!("../../prompts/macro.j2"),
            include_str!("../../prompts/learning.j2"),
        ] {
            assert!(system_then_user(source), "{source}");
        }
    }
}
