#!/usr/bin/env bash
# Renders the GM report page of the demo's Monday in a real browser and saves
# a screenshot: docs/gm-report.png (shown in docs/operating.md).
#
#   bash docs/report-screenshot.sh
#
# Needs Debian's Chromium (`apt-get install chromium`); `cargo demo` writes
# the page (target/demo-report.html) from the replayed events/.
set -euo pipefail
cd "$(dirname "$0")/.."
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "needs Chromium: apt-get install chromium" >&2
  exit 1
fi
cargo demo > target/demo.out
page="$PWD/target/demo-report.html"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# Headless, no network of its own (the page needs none: no scripts, inline SVG).
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size=1024,1720 \
  --screenshot="$PWD/docs/gm-report.png" "file://$page" 2>/dev/null
echo "docs/gm-report.png from $page"
