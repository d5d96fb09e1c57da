#!/usr/bin/env bash
# The deploy path, as the README gives it: the pinned tools (cargo deploy-tools),
# `sam validate --lint`, and `sam build` for x86_64 (this machine's architecture;
# arm64 needs an aarch64 target and linker, see README "Deploy").
#
# `sam build` builds every function with fat LTO (the release profile) and takes
# about 10 minutes on 2 cores; SAM_BUILD=0 skips it (validate still runs).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(cargo deploy-tools | sed -n 's/^export PATH="\(.*\):\$PATH"$/\1/p')
[ -x "$bin/sam" ] || { echo "deploy-check: no sam in $bin" >&2; exit 1; }
export PATH="$bin:$PATH"
# Validation needs a region, never credentials.
export AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0

cd infra
echo "deploy-check: sam validate --lint" >&2
sam validate --lint --template template.yaml

if [ "${SAM_BUILD:-1}" = "0" ]; then
    echo "deploy-check: sam build skipped (SAM_BUILD=0)" >&2
    exit 0
fi
echo "deploy-check: sam build --beta-features (x86_64)" >&2
start=$(date +%s)
sam build --beta-features --template template.yaml --parameter-overrides Architecture=x86_64
built=$(find .aws-sam/build -name bootstrap -type f | wc -l)
functions=$(grep -c 'BuildMethod: rust-cargolambda' template.yaml)
echo "deploy-check: sam build made $built bootstrap(s) for $functions function(s) in $(( $(date +%s) - start ))s" >&2
[ "$built" -eq "$functions" ]
