#!/usr/bin/env bash
# The deploy path, as docs/deploying.md gives it: the pinned tool (cargo deploy-tools),
# `sam validate --lint`, and what `sam deploy` would upload: every function's
# CodeUri is the zip `cargo artifacts` built (run it first; CI does), with one
# executable `bootstrap` in it. Nothing is built twice.
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

uris=$(sed -n 's/^ *CodeUri: *//p' template.yaml)
[ -n "$uris" ] || { echo "deploy-check: no CodeUri in the template" >&2; exit 1; }
# The venv's python reads the zips (the system may have no unzip).
"$bin/python" - $uris <<'PY'
import stat, sys, zipfile
for uri in sys.argv[1:]:
    try:
        with zipfile.ZipFile(uri) as z:
            info = z.getinfo("bootstrap")
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        sys.exit(f"deploy-check: {uri}: {e} (run cargo artifacts first)")
    mode = info.external_attr >> 16
    if not mode & stat.S_IXUSR or info.file_size == 0:
        sys.exit(f"deploy-check: {uri}: bootstrap is not an executable binary")
print(f"deploy-check: {len(sys.argv) - 1} function zips, each with an executable bootstrap, as sam deploy uploads them", file=sys.stderr)
PY
