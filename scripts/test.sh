#!/usr/bin/env bash
# The whole test suite, as CI runs it, on a fresh Debian machine with only the Rust toolchain.
# Installs and starts what the tests need (Redis and MongoDB on loopback, through
# scripts/services.sh), then runs every test, doctest and example check.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tests that need a server fail (instead of skipping) when it is unreachable.
export TRADEGRAPH_REQUIRE_SERVICES=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== services: Redis and MongoDB on loopback (scripts/services.sh)"
scripts/services.sh start
# REDIS_URL, MONGODB_URI, and the server binaries for tests that run private instances.
eval "$(scripts/services.sh env)"

echo "== unit, integration and example tests"
cargo test --workspace --all-features --lib --bins --tests --examples

echo "== doctests"
cargo test --workspace --all-features --doc

echo "== docs build without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --quiet
