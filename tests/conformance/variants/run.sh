#!/usr/bin/env bash
# run.sh CONFORMANCE_BIN: generates the variant vectors into a temporary folder and replays
# them; fails if a generator or a replay fails (a vector that cannot be replayed fails).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 "$here/gen_exact.py" "$out"
/usr/bin/python3 "$here/gen_ode.py" "$out"
"$1" "$out"
