#!/bin/sh
# fuzz.reader: fresh seeds from the writer, then libFuzzer for a bounded time (GORT_FUZZ_SECONDS,
# default 60). A crash, sanitizer report or leak fails the test; its input is kept in WORK.
set -eu
seeds_tool=$1 fuzzer=$2 work=$3
rm -rf "$work/seeds" "$work/corpus"
mkdir -p "$work/seeds" "$work/corpus"
"$seeds_tool" "$work/seeds"
exec "$fuzzer" -max_total_time="${GORT_FUZZ_SECONDS:-60}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$work/" "$work/corpus" "$work/seeds"
