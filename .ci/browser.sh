#!/usr/bin/env bash
# Debian's Chromium and chromedriver, for the staff inbox's browser test
# (tests/tests/scenarios/browser.rs), installed from Debian's packages when
# the machine does not have them; and Deque's axe-core (npm, pinned by
# tests/axe/package-lock.json), which the test runs on every page.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
npm ci --prefix "$here/tests/axe" --no-audit --no-fund --loglevel=error
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    /usr/bin/chromium --version
    exit 0
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
packages=(chromium chromium-driver)
$sudo apt-get install -y -q --no-install-recommends "${packages[@]}" \
    || { $sudo apt-get update -q && $sudo apt-get install -y -q --no-install-recommends "${packages[@]}"; }
/usr/bin/chromium --version
