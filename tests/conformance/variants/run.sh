#!/usr/bin/env bash
# run.sh CONFORMANCE_BIN: generates the variant vectors into a temporary folder and replays
# them; fails if a generator or a replay fails (a vector that cannot be replayed fails).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 "$here/gen_exact.py" "$out"
/usr/bin/python3 "$here/gen_ode.py" "$out"
/usr/bin/python3 "$here/gen_network.py" "$out"
"$1" "$out"
# the network variants again on 2 threads in chunks of 7 steps (weights, spikes, state)
"$1" --threads=2 --chunk=7 "$out"/stdp_*.json "$out"/tsodyks_*.json
