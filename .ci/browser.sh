#!/usr/bin/env bash
# Debian's Chromium and chromedriver, for the staff inbox's browser test
# (tests/tests/scenarios/browser.rs), installed from Debian's packages when
# the machine does not have them.
set -euo pipefail
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
