#!/usr/bin/env bash
# Forget what earlier `cargo package` runs built from this workspace's crates, so the next one
# verifies each crate against its packaged dependencies as they are now.
#
#   scripts/forget-packages.sh PREFIX [TARGET_DIR]
#
# `cargo package --workspace` verifies each crate against the others' .crate files through a
# temporary local registry (target/package/tmp-registry). Cargo treats a registry crate's
# version as immutable, and both caches it keeps for them outlive the run:
#   - the sources it extracts, in $CARGO_HOME/registry/src/-HASH/NAME-VERSION (the hash is
#     that of the temporary registry's path, so the same checkout reuses them), and
#   - the build of them in TARGET_DIR, whose fingerprint holds no source file.
# On a machine that keeps its checkout between runs, a crate changed without a version bump is
# then verified against its dependency as it was packaged the first time (CI failed so:
# "no `Headroom` in `risk`"). Removing both for the crates named PREFIX* costs one rebuild of
# those crates and nothing else. scripts/forget-packages-test.sh shows the failure and the fix.
set -euo pipefail
prefix="${1:?usage: forget-packages.sh PREFIX [TARGET_DIR]}"
target="${2:-${CARGO_TARGET_DIR:-target}}"
case "$prefix" in *[!A-Za-z0-9_-]* | "") echo "forget-packages.sh: bad prefix \`$prefix\`" >&2; exit 2 ;; esac
# Local registries' sources live in directories whose name starts with `-` (crates.io's does
# not), so no crate downloaded from a real registry is touched.
rm -rf -- "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/"$prefix"*
for profile in "$target"/*/.fingerprint; do
    [ -d "$profile" ] && rm -rf -- "$profile"/"$prefix"*
done
exit 0
