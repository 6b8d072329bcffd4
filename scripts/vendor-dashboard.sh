#!/usr/bin/env bash
# Re-fetches the dashboard's chart library from the npm registry and checks it, so anyone can
# reproduce the vendored file:
#
#   scripts/vendor-dashboard.sh          fetch, check, write into the vendor folder
#   scripts/vendor-dashboard.sh --check  fetch, check, and fail unless the committed files match
#
# The library is TradingView Lightweight Charts (Apache-2.0), pinned below: `npm pack` fetches
# the package's tarball, whose SHA-256 and whose standalone production ES module's SHA-256 are
# checked. Its LICENSE comes from the tarball; its NOTICE (the attribution notice the license
# asks to keep, published in the project's repository but not in the npm package) is written
# here word for word. The dashboard shows the attribution and the link to tradingview.com the
# notice asks for (the chart's logo and the page's footer).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENDOR="$ROOT/crates/tradegraph/src/service/dashboard/assets/vendor"
PACKAGE="lightweight-charts@5.3.0"
TARBALL_SHA256="7d9e9ab2b1a91db18a916fd5d5e17d7dd19a7dc7da022fd0d23f06bdd92ecc2a"
FILE="lightweight-charts.standalone.production.mjs"
FILE_SHA256="0b6d1ed409283a0f9a493a99dcf11c650e111d0c61619cd922198975fb82fa99"

die() { echo "vendor-dashboard: error: $*" >&2; exit 1; }

command -v npm >/dev/null || die "npm is needed (apt-get install npm)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "$PACKAGE" --silent >/dev/null) || die "npm pack $PACKAGE failed"
tarball="$(ls "$tmp"/lightweight-charts-*.tgz)"
echo "$TARBALL_SHA256  $tarball" | sha256sum -c --status \
    || die "$PACKAGE's tarball does not match its pinned SHA-256 $TARBALL_SHA256"
tar -xzf "$tarball" -C "$tmp" "package/dist/$FILE" package/LICENSE \
    || die "the tarball has no package/dist/$FILE or package/LICENSE"
echo "$FILE_SHA256  $tmp/package/dist/$FILE" | sha256sum -c --status \
    || die "$FILE in the tarball does not match its pinned SHA-256 $FILE_SHA256"
printf 'TradingView Lightweight Charts\nCopyright (\xd1\x81) 2023 TradingView, Inc. https://www.tradingview.com/\n' \
    > "$tmp/NOTICE"

if [ "${1:-}" = "--check" ]; then
    for f in "$FILE" LICENSE NOTICE; do
        src="$tmp/package/dist/$f"
        [ "$f" = LICENSE ] && src="$tmp/package/LICENSE"
        [ "$f" = NOTICE ] && src="$tmp/NOTICE"
        cmp -s "$src" "$VENDOR/$f" || die "$VENDOR/$f differs from $PACKAGE's; run $0"
    done
    echo "vendor-dashboard: $PACKAGE matches the vendored files"
    exit 0
fi

mkdir -p "$VENDOR"
cp "$tmp/package/dist/$FILE" "$VENDOR/$FILE"
cp "$tmp/package/LICENSE" "$VENDOR/LICENSE"
cp "$tmp/NOTICE" "$VENDOR/NOTICE"
echo "vendor-dashboard: $PACKAGE ($FILE, LICENSE, NOTICE) written to $VENDOR"
