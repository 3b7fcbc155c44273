#!/usr/bin/env bash
# Long runs (the issue's ≥ 10 minutes per target), one target at a time, from a copy of the
# built binaries (so that rebuilding meanwhile does not disturb them). Writes each target's
# libFuzzer log to fuzz/logs/long-<target>.log and its last status line to fuzz/logs/long.txt.
#   fuzz/long-run.sh SECONDS TARGET...   (build first: fuzz/run.sh 0 or cargo fuzz build)
set -uo pipefail
cd "$(dirname "$0")"
here="$(pwd)"
secs="$1"; shift
bins="$here/target/long-run-bin"
mkdir -p "$bins" logs
for t in "$@"; do
  # Copied just before its run: a target rebuilt meanwhile (a fix) runs in its new form.
  cp "target/x86_64-unknown-linux-gnu/release/$t" "$bins/$t.new" && mv "$bins/$t.new" "$bins/$t"
  dict="target/dicts/$t.dict"
  mkdir -p "corpus-grown/$t" "artifacts/$t"
  start=$(date -u +%H:%M:%S)
  "$bins/$t" "$here/corpus-grown/$t" "$here/corpus/$t" -max_total_time="$secs" -timeout=20 \
    -rss_limit_mb=2048 -max_len="$(case $t in cookie_header) echo 70000;; decision|public_url|jwt_decode) echo 8192;; *) echo 4096;; esac)" \
    -dict="$here/$dict" -print_final_stats=1 -artifact_prefix="$here/artifacts/$t/" >"logs/long-$t.log" 2>&1
  rc=$?
  end=$(date -u +%H:%M:%S)
  last=$(grep -E '^#[0-9]+' "logs/long-$t.log" | tail -1)
  execs=$(grep -E '^stat::number_of_executed_units' "logs/long-$t.log" | awk '{print $2}')
  echo "$t start=$start end=$end rc=$rc executions=$execs last: $last" >>logs/long.txt
done
