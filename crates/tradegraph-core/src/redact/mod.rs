//! Keeping credentials out of errors, logs, events and `Debug` output: secrets inside text, and
//! URLs with their passwords and key-carrying parameters.
//!
//! Pure functions on text, shared by every crate that shows a configured URL or key
//! (`tradegraph-llm`, `tradegraph-market`, `tradegraph-store`), so that one rule, tested in one
//! place, decides what is hidden.
//!
//! | function | hides |
//! |---|---|
//! | [`Secret`] | (a type) a key or token: `***` in `Debug` and `Display`, not `Serialize`, [`Secret::redact`] hides it and its partial echoes in a text |
//! | [`url`] | `user:password@` and the values of credential parameters of one URL |
//! | [`urls_in`] | the same in every `scheme://...` URL of a message |
//! | [`secret`] | one known secret wherever it appears in a text |
//! | [`credential_name`] | (the test) whether a parameter name carries a credential |
//!
//! ```
//! use tradegraph_core::redact;
//!
//! assert_eq!(redact::url("redis://app:pa/ss@cache:6379/0"), "redis://***@cache:6379/0");
//! assert_eq!(redact::secret("bad key k3y-0123456789", "k3y-0123456789"), "bad key ***");
//! ```

mod key;
mod secret;
mod url;

pub use key::Secret;
pub use secret::{secret, MIN_SECRET_CHARS};
pub use url::{credential_name, url, urls_in};

#[cfg(test)]
mod tests;
