//! Checks the tradegraph crates share in their tests. A dev-dependency only, never published:
//! nothing here is part of a crate users build on.
//!
//! | feature | default | what |
//! |---|---|---|
//! | `venues` | no | `venue`: local Binance spot and Kite Connect servers speaking the venues' wire formats, for the live brokers' and bots' tests |
//! | `mongodb` | no | `services::mongodb_replica_set`: the replica set of `scripts/services.sh`, initiated through the driver when it is not yet |
//!
//! Without features: [`services`] (real servers found, or the test skipped or failed) and
//! [`assert_metric_names`].

pub mod services;
#[cfg(feature = "venues")]
pub mod venue;

/// Asserts that every metric in `all` (name, Prometheus type, label names: each crate's
/// `metrics::ALL`) follows the Prometheus naming conventions the crates keep: named
/// `<prefix>...` in `snake_case`; a counter ends `_total`; a histogram ends with its unit
/// (`_seconds`, `_dollars` or `_bytes`); a gauge does not end `_total`; no other type; and no
/// label is an id (`id`, `*_id`), which would make the series unbounded.
///
/// # Panics
/// On the first metric that does not, naming it.
///
/// ```
/// const ALL: &[(&str, &str, &[&str])] = &[("demo_calls_total", "counter", &["kind"])];
/// tradegraph_testkit::assert_metric_names("demo_", ALL);
/// ```
///
/// ```should_panic
/// const ALL: &[(&str, &str, &[&str])] = &[("demo_calls", "counter", &[])];
/// tradegraph_testkit::assert_metric_names("demo_", ALL);
/// ```
// An assertion for tests: failing a test is what its panics are for.
#[allow(clippy::panic)]
pub fn assert_metric_names(prefix: &str, all: &[(&str, &str, &[&str])]) {
    for (name, kind, labels) in all {
        assert!(name.starts_with(prefix), "{name}: not named {prefix}...");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{name}: not snake_case"
        );
        match *kind {
            "counter" => assert!(name.ends_with("_total"), "{name}: a counter ends _total"),
            "histogram" => assert!(
                ["_seconds", "_dollars", "_bytes"]
                    .iter()
                    .any(|unit| name.ends_with(unit)),
                "{name}: a histogram ends with its unit"
            ),
            "gauge" => assert!(!name.ends_with("_total"), "{name}: a gauge is no total"),
            other => panic!("{name}: unexpected type {other}"),
        }
        for label in *labels {
            assert!(
                *label != "id" && !label.ends_with("_id"),
                "{name}: {label} would be unbounded"
            );
        }
    }
}
