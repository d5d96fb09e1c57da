#!/usr/bin/env bash
# .ci/venv.sh NAME REQUIREMENTS: installs a pinned Python venv into
# .custops/NAME-venv exactly as the custops tools do on first use
# (`custops_local::emulator::ensure_venv`: the same folder, the same
# `.custops-requirements` stamp holding the requirements' text, the same
# `NAME.lock` taken with flock(2)), so CI can install it while Rust compiles
# and the tools then find it ready. It installs with uv (pinned in
# infra/uv-requirements.txt, itself installed by pip into .custops/uv-venv):
# the same packages pip installs, for a fifth of the CPU time, which is taken
# from the build beside it (pip: 78 CPU-seconds for the three venvs, uv: 16).
# Neither byte-compiles: Python compiles what it imports on first use.
# Safe beside a tool installing it: one installs, the other waits on the lock
# and finds the stamp.
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1
requirements=$2
home=${CUSTOPS_HOME:-.custops}
venv="$home/$name-venv"
mkdir -p "$home"
exec 9>"$home/$name.lock"
flock 9
if [ -x "$venv/bin/python" ] && cmp -s "$venv/.custops-requirements" "$requirements"; then
    echo "venv: $venv is installed"
    exit 0
fi
echo "venv: installing $requirements into $venv"
rm -rf "$venv"
"${PYTHON:-python3}" -m venv "$venv"
cp "$requirements" "$home/$name-requirements.txt"
uv_venv="$home/uv-venv"
(
    exec 8>"$home/uv.lock"
    flock 8
    if ! { [ -x "$uv_venv/bin/uv" ] && cmp -s "$uv_venv/.custops-requirements" infra/uv-requirements.txt; }; then
        rm -rf "$uv_venv"
        "${PYTHON:-python3}" -m venv "$uv_venv"
        "$uv_venv/bin/python" -m pip install --quiet --disable-pip-version-check -r infra/uv-requirements.txt
        cp infra/uv-requirements.txt "$uv_venv/.custops-requirements"
    fi
)
"$uv_venv/bin/uv" pip install --quiet --python "$venv/bin/python" -r "$home/$name-requirements.txt"
cp "$requirements" "$venv/.custops-requirements"
echo "venv: $venv installed"
