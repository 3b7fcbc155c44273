#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, one after another, with the
# committed corpus and dictionaries; fails (non-zero) on any crash, timeout or invariant failure.
#
#   fuzz/run.sh SECONDS [TARGET...]   fuzz
#   fuzz/run.sh --seed [TARGET...]    regenerate fuzz/corpus/<target>/ from the JSON vectors
#                                     (seeds.py), minimised with `cargo fuzz cmin`
#
# Needs a nightly toolchain (exits 0 with a message when there is none) and installs cargo-fuzz
# when missing. New inputs go to fuzz/corpus-grown/<target>/ (not committed), crashes to
# fuzz/artifacts/<target>/, libFuzzer's output to fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")"
here="$(pwd)"

usage() { echo "usage: fuzz/run.sh SECONDS [TARGET...] | fuzz/run.sh --seed [TARGET...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
mode="$1"; shift
case "$mode" in
  --seed) ;;
  ''|*[!0-9]*) usage ;;
esac

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "fuzz: SKIPPED: no nightly toolchain (rustup toolchain list shows none); cargo fuzz needs one"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

all=(jwt_decode authorization_header cookie_header publishable_key options_from_env
     org_sync_patterns public_url decision backend_api_answers)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi

# Pure safe Rust: no sanitizer (throughput), but debug assertions so that integer overflow
# panics too. The same flags for build, run and cmin, so nothing is rebuilt.
flags=(--release --debug-assertions --sanitizer none)

dicts_for() {
  case "$1" in
    jwt_decode|backend_api_answers) echo json ;;
    authorization_header) echo header ;;
    cookie_header) echo "cookie json" ;;
    publishable_key|options_from_env) echo env ;;
    org_sync_patterns) echo pattern ;;
    public_url) echo header ;;
    decision) echo "header cookie json" ;;
  esac
}
max_len_for() {
  case "$1" in
    cookie_header) echo 70000 ;;   # past the 64 KiB bound of decision 9
    decision|public_url|jwt_decode) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

echo "== cargo fuzz build (${targets[*]})"
start=$(date +%s)
cargo +nightly fuzz build "${flags[@]}"
echo "fuzz: built in $(( $(date +%s) - start )) s"

mkdir -p target/dicts logs
if [ "$mode" = "--seed" ]; then
  rm -rf seeds
  python3 seeds.py
  for t in "${targets[@]}"; do
    rm -rf "corpus/$t"
    mkdir -p corpus
    cp -r "seeds/$t" "corpus/$t"
    cargo +nightly fuzz cmin "${flags[@]}" "$t" "$here/corpus/$t" -- -max_len="$(max_len_for "$t")" \
      >"logs/$t.cmin.log" 2>&1 || { tail -20 "logs/$t.cmin.log"; exit 1; }
    echo "fuzz: $t: $(ls "corpus/$t" | wc -l) seeds after cmin ($(ls "seeds/$t" | wc -l) before)"
  done
  exit 0
fi

failed=()
for t in "${targets[@]}"; do
  dict="target/dicts/$t.dict"
  : >"$dict"
  for d in $(dicts_for "$t"); do cat "dict/$d.dict" >>"$dict"; done
  mkdir -p "corpus-grown/$t" "corpus/$t"
  echo "== fuzz $t for ${mode} s"
  set +e
  cargo +nightly fuzz run "${flags[@]}" "$t" "$here/corpus-grown/$t" "$here/corpus/$t" -- \
    -max_total_time="$mode" -timeout=20 -rss_limit_mb=2048 -max_len="$(max_len_for "$t")" \
    -dict="$here/$dict" -print_final_stats=1 >"logs/$t.log" 2>&1
  rc=$?
  set -e
  # libFuzzer's last status line (executions, cov, ft) and its final stats.
  grep -E '^#[0-9]+' "logs/$t.log" | tail -1 || true
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "logs/$t.log" || true
  if [ $rc -ne 0 ]; then
    echo "fuzz: $t FAILED (exit $rc); the end of logs/$t.log:"
    tail -40 "logs/$t.log"
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in fuzz/artifacts/<target>/)"
  exit 1
fi
echo "fuzz: every target ran ${mode} s without a crash"
