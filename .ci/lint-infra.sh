#!/usr/bin/env bash
# Lint the AWS SAM template (infra/template.yaml) with cfn-lint and checkov.
#
# The linters are pinned with every dependency in infra/lint-requirements.txt
# and installed into .custops/lint-venv by .ci/venv.sh (the one installer the
# CI's other venvs use), reinstalled when the pins change. Needs only python3
# (with venv) and PyPI for the first install; the lint itself runs offline.
#
# Checkov suppressions live next to each resource in the template
# (Metadata.checkov.skip with a justification); there is no global skip list.
set -euo pipefail

root="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel 2>/dev/null \
        || (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd))"
cd "$root"

template="infra/template.yaml"
venv="${CUSTOPS_HOME:-.custops}/lint-venv"
bash .ci/venv.sh lint infra/lint-requirements.txt >&2

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
