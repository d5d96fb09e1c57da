#!/usr/bin/env bash
# `sam build` with the same build as `cargo artifacts`.
#
# SAM's rust-cargolambda build method runs `cargo lambda build --release`;
# cargo's CARGO_PROFILE_RELEASE_* variables make that release build use the
# settings of the workspace's [profile.deploy] (read from Cargo.toml, so there
# is one source of truth). Needs sam and cargo-lambda; arguments go to sam build.
set -euo pipefail
cd "$(dirname "$0")"
eval "$(python3 - <<'PY'
import tomllib
deploy = tomllib.load(open("../Cargo.toml", "rb"))["profile"]["deploy"]
for key, value in deploy.items():
    if key == "inherits":
        continue
    value = str(value).lower() if isinstance(value, bool) else str(value)
    print(f"export CARGO_PROFILE_RELEASE_{key.upper().replace('-', '_')}={value}")
PY
)"
env | grep '^CARGO_PROFILE_RELEASE_' >&2
exec sam build --beta-features "$@"
