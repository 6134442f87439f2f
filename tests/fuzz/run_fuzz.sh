#!/usr/bin/env bash
# run_fuzz.sh BINARY SEEDS DICT WORKDIR SECONDS: runs one libFuzzer harness for a bounded
# time (CTest label `fuzz`). New corpus entries go to WORKDIR/corpus (the seed folder in
# the repository is read, never written); a crash, leak or timeout leaves its input in
# WORKDIR as crash-*/leak-*/timeout-* and fails the test. The last lines of the output
# are libFuzzer's final statistics (executions, coverage, corpus size).
set -euo pipefail
bin=$1 seeds=$2 dict=$3 work=$4 secs=$5
mkdir -p "$work/corpus"
dict_arg=()
[ -f "$dict" ] && dict_arg=(-dict="$dict")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=20 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$work/" "${dict_arg[@]}" "$work/corpus" "$seeds"
