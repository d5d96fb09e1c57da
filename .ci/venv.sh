#!/usr/bin/env bash
# .ci/venv.sh NAME REQUIREMENTS: installs a pinned Python venv into
# .custops/NAME-venv exactly as the custops tools do on first use
# (`custops_local::emulator::ensure_venv`: the same folder, the same
# `.custops-requirements` stamp holding the requirements' text, the same
# `NAME.lock` taken with flock(2)), so CI can install it while Rust compiles
# and the tools then find it ready (`--no-compile`: Python byte-compiles what
# it imports on first use, not every installed module while Rust compiles).
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
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile -r "$home/$name-requirements.txt"
cp "$requirements" "$venv/.custops-requirements"
echo "venv: $venv installed"
