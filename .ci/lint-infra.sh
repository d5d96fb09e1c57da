#!/usr/bin/env bash
# Lint the AWS SAM template (infra/template.yaml) with cfn-lint and checkov.
#
# Installs pinned linters into a project-local venv (.custops/lint-venv) on
# first use, reuses it afterwards, and reinstalls when the pins below change.
# Needs only python3 (with venv) and access to PyPI for the first install;
# the lint itself runs fully offline.
#
# Checkov suppressions live next to each resource in the template
# (Metadata.checkov.skip with a justification); there is no global skip list.
set -euo pipefail

CFN_LINT_VERSION="1.58.0"
CHECKOV_VERSION="3.3.30"

root="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel 2>/dev/null \
        || (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd))"
cd "$root"

template="infra/template.yaml"
venv=".custops/lint-venv"
stamp="$venv/.installed"
want="cfn-lint==$CFN_LINT_VERSION checkov==$CHECKOV_VERSION python=$(python3 -c 'import sys; print(sys.version.split()[0])')"

if [[ ! -x "$venv/bin/python" ]] || [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    echo "lint-infra: installing cfn-lint==$CFN_LINT_VERSION checkov==$CHECKOV_VERSION into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile \
        "cfn-lint==$CFN_LINT_VERSION" "checkov==$CHECKOV_VERSION"
    printf '%s\n' "$want" > "$stamp"
fi

# Keep checkov offline: no Prisma Cloud / Bridgecrew calls, no version check.
export BC_SKIP_MAPPING=TRUE                 # no policy-metadata mapping download
export CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE   # no "newer checkov" lookup on PyPI
unset BC_API_KEY PRISMA_API_URL             # never talk to Prisma Cloud
export PYTHONWARNINGS=ignore

echo "lint-infra: cfn-lint $template" >&2
"$venv/bin/cfn-lint" "$template"

echo "lint-infra: checkov $template" >&2
"$venv/bin/checkov" -f "$template" --framework cloudformation \
    --quiet --compact --skip-download

echo "lint-infra: ok" >&2
