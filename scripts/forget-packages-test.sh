#!/usr/bin/env bash
# Shows the stale-package failure scripts/forget-packages.sh prevents, and that it does: a
# two-crate workspace is packaged, its dependency gains a function the other starts to use
# (same version), and it is packaged again: first without forgetting (the cargo of today fails
# to build it), then after forgetting (must pass). Offline, under a second; exits non-zero when
# the forgetting does not make it pass or the first failure has another cause.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$(mktemp -d)"
prefix="tgforgetcheck$$"
cleanup() {
    "$here/forget-packages.sh" "$prefix" "$dir/target" >/dev/null 2>&1 || true
    rm -rf -- "$dir"
    # The temporary registry's directories in CARGO_HOME, emptied by the forgetting.
    find "${CARGO_HOME:-$HOME/.cargo}/registry" -mindepth 2 -maxdepth 2 -type d -name '-*' -empty -delete 2>/dev/null || true
}
trap cleanup EXIT
mkdir -p "$dir/a/src" "$dir/b/src"
cd "$dir"
printf '[workspace]\nmembers = ["a", "b"]\nresolver = "3"\n' > Cargo.toml
manifest() { printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2024"\nlicense = "MIT"\ndescription = "check"\n' "$1"; }
manifest "$prefix-a" > a/Cargo.toml
{ manifest "$prefix-b"; printf '[dependencies]\n%s-a = { path = "../a", version = "0.1.0" }\n' "$prefix"; } > b/Cargo.toml
echo 'pub fn one() -> u8 { 1 }' > a/src/lib.rs
echo "pub fn f() -> u8 { ${prefix}_a::one() }" > b/src/lib.rs
# Its own target directory whatever CARGO_TARGET_DIR says (the forgetting is of that one).
package() { cargo package --offline --workspace --allow-dirty --no-metadata --target-dir "$dir/target" >"$dir/log" 2>&1; }
package || { cat "$dir/log" >&2; echo "forget-packages-test: the first packaging failed" >&2; exit 1; }
echo 'pub fn one() -> u8 { 1 } pub fn two() -> u8 { 2 }' > a/src/lib.rs
echo "pub fn f() -> u8 { ${prefix}_a::two() }" > b/src/lib.rs
if package; then
    # A cargo that no longer reuses them: nothing to show, the forgetting is still checked.
    echo "forget-packages-test: note: this cargo verified against the new package unaided" >&2
else
    grep -q "cannot find function \`two\`" "$dir/log" || { cat "$dir/log" >&2; echo "forget-packages-test: failed for another reason" >&2; exit 1; }
fi
"$here/forget-packages.sh" "$prefix" "$dir/target"
package || { cat "$dir/log" >&2; echo "forget-packages-test: still stale after forgetting" >&2; exit 1; }
echo "forget-packages-test: a stale package fails, and forgetting it fixes that"
