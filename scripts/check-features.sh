#!/usr/bin/env bash
# Builds (`cargo check`) each workspace package alone with every feature set a user can pick
# one at a time: no default features, then each feature of its Cargo.toml alone (on top of no
# default features), then all features; then lists every set that failed. A feature that needs another one without declaring it,
# or a `cfg` that is missing, fails here instead of in a user's build; so does a warning (code
# left unused by one feature set).
#
#   scripts/check-features.sh              every package
#   scripts/check-features.sh PACKAGE...   only these packages (e.g. tradegraph-market)
#
# Runs cargo with `--locked` (the Cargo.lock of the repository, nothing resolved anew).
# The features come from each package's `[features]` table (`default` excepted).
set -euo pipefail
cd "$(dirname "$0")/.."

# The manifests of the workspace's packages (the members of the root Cargo.toml).
manifests() {
    local m
    for m in crates/*/Cargo.toml examples/Cargo.toml; do
        [ -f "$m" ] && echo "$m"
    done
}

# The `name` of the [package] table of manifest $1.
package_name() {
    awk '/^\[/{p = ($0 == "[package]")} p && /^name *=/{gsub(/^name *= *"|".*$/, ""); print; exit}' "$1"
}

# The features of manifest $1, one a line, without `default`.
features() {
    awk '/^\[/{f = ($0 == "[features]"); next}
         f && /^[A-Za-z0-9_-]+ *=/{sub(/ *=.*$/, ""); if ($0 != "default") print}' "$1"
}

failed=()
check() { # package, then the feature arguments; a warning fails as an error does
    local pkg="$1" out
    shift
    echo "== cargo check -p $pkg $*"
    if ! out="$(cargo check --locked --quiet --message-format short -p "$pkg" "$@" 2>&1)"; then
        echo "$out" >&2
        failed+=("cargo check -p $pkg $* (an error: a feature may need a \`cfg\` or another feature)")
    elif grep -q "warning" <<<"$out"; then
        echo "$out" >&2
        failed+=("cargo check -p $pkg $* (a warning: code unused or missing with these features needs a \`cfg\`)")
    fi
}

wanted=("$@")
count=0
start=$SECONDS
while read -r manifest; do
    pkg="$(package_name "$manifest")"
    [ -n "$pkg" ] || { echo "check-features: no package name in $manifest" >&2; exit 1; }
    if [ "${#wanted[@]}" -gt 0 ] && [[ ! " ${wanted[*]} " == *" $pkg "* ]]; then
        continue
    fi
    check "$pkg" --no-default-features
    count=$((count + 1))
    while read -r feature; do
        [ -n "$feature" ] || continue
        check "$pkg" --no-default-features --features "$feature"
        count=$((count + 1))
    done < <(features "$manifest")
    check "$pkg" --all-features
    count=$((count + 1))
done < <(manifests)

[ "$count" -gt 0 ] || { echo "check-features: no package matched: ${wanted[*]}" >&2; exit 1; }
if [ "${#failed[@]}" -gt 0 ]; then
    echo "check-features: ${#failed[@]} of $count feature sets fail (output above):" >&2
    printf '  %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "check-features: $count feature sets build without warnings, in $((SECONDS - start)) s"
