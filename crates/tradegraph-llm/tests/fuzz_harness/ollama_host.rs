//! `ollama_host` on any `OLLAMA_HOST` value: a base URL with a scheme, a host and a port, which
//! reads back as itself, or an error naming `OLLAMA_HOST`; never a panic.
//!
//! Shared by the property test `tests/ollama_host_properties.rs` and the cargo-fuzz target
//! `fuzz/fuzz_targets/ollama_host.rs` (which includes this file by path). A violated property
//! panics with what was violated.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use tradegraph_llm::config::ollama_host;

/// Reads `value` as `OLLAMA_HOST` and checks the answer. Returns it.
pub fn check(value: &str) -> Result<String, String> {
    match ollama_host(value) {
        Ok(url) => {
            let rest = url
                .strip_prefix("http://")
                .or_else(|| url.strip_prefix("https://"))
                .unwrap_or_else(|| panic!("{value:?} gave {url:?}, without http:// or https://"));
            let authority = rest.split('/').next().unwrap_or_default();
            let port = authority
                .rsplit_once(':')
                .map(|(_, port)| port)
                .unwrap_or_else(|| panic!("{value:?} gave {url:?}, without a port"));
            assert!(
                port.parse::<u16>().is_ok(),
                "{value:?} gave {url:?}, whose port is {port:?}"
            );
            assert!(
                !authority.starts_with(':'),
                "{value:?} gave {url:?}, without a host"
            );
            assert_eq!(
                ollama_host(&url).as_deref(),
                Ok(url.as_str()),
                "{value:?} gave {url:?}, which does not read back as itself"
            );
            Ok(url)
        }
        Err(e) => {
            let text = e.to_string();
            assert!(text.contains("OLLAMA_HOST"), "{value:?}: {text}");
            Err(text)
        }
    }
}
