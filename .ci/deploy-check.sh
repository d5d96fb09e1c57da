#!/usr/bin/env bash
# The deploy path, as docs/deploying.md gives it: the pinned tool (cargo deploy-tools),
# `sam validate --lint`, and what `sam deploy` would upload: every function's
# CodeUri is the zip `cargo artifacts` built (run it first; CI does), with one
# executable `bootstrap` of the functions' architecture in it. Nothing is built twice.
set -euo pipefail
cd "$(dirname "$0")/.."

# CI passes the development tools' binary it built (CUSTOPS_DEV); by hand, the alias.
if [ -n "${CUSTOPS_DEV:-}" ]; then tools=$("$CUSTOPS_DEV" deploy-tools); else tools=$(cargo deploy-tools); fi
bin=$(printf '%s\n' "$tools" | sed -n 's/^export PATH="\(.*\):\$PATH"$/\1/p')
[ -x "$bin/sam" ] || { echo "deploy-check: no sam in $bin" >&2; exit 1; }
export PATH="$bin:$PATH"
# Validation needs a region, never credentials.
export AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0

cd infra
echo "deploy-check: sam validate --lint" >&2
sam validate --lint --template template.yaml

# Every CodeUri zip: an executable `bootstrap` of the architecture the
# functions declare (CUSTOPS_ARCH, else samconfig.toml's Architecture=, else
# the template's default); a zip of the other architecture is refused.
cd ..
arch=()
[ -n "${CUSTOPS_ARCH:-}" ] && arch=(--arch "$CUSTOPS_ARCH")
if [ -n "${CUSTOPS_DEV:-}" ]; then "$CUSTOPS_DEV" deploy-check "${arch[@]}"; else cargo deploy-check "${arch[@]}"; fi
