#!/usr/bin/env bash
# Compiler benchmarks: whole `svcc build` wall time and peak memory on synthetic specs of
# 10, 100, 500 and 2000 entities (median of RUNS fresh builds), an unchanged rebuild, and a
# rebuild after an edit (each run adds an optional field to the middle entity, so the edited
# entity's modules, a migration and the docs change), then the per-stage criterion benchmarks. Results go to stdout as Markdown; record them in
# docs/benchmarks.md with the machine. Nothing here fails on a slow machine.
#
# Then bench/service.sh: the generated shop service against the hand-written baseline
# under load (PostgreSQL and wrk needed; see that script).
#
#   bench/run.sh            everything
#   RUNS=3 SIZES="10 100" bench/run.sh --no-criterion --no-service
#   SVCC=/path/to/other/svcc bench/run.sh --no-criterion --no-service   (another build, A/B)
#
# Each fresh build writes to a directory of its own, and earlier output is only deleted when
# the script ends: ext4 skips inodes freed in the last few seconds when it creates files, and
# after deleting thousands of files just before a build, that search took up to 40% of the
# build's samples, which a user's build does not pay.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-5}"
SIZES="${SIZES:-10 100 500 2000}"
work="${TMPDIR:-/tmp}/svcc-bench/$$"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

target="${CARGO_TARGET_DIR:-target}"
if [ -z "${SVCC:-}" ]; then
  cargo build --release --quiet
fi
cargo build --release --quiet --example synth
svcc="${SVCC:-$target/release/svcc}"
synth=$target/release/examples/synth

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# `svcc build` under /usr/bin/time: prints "<wall ms> <peak RSS MiB>"
timed_build() {
  local spec=$1 out=$2 log
  log=$(mktemp)
  /usr/bin/time -v "$svcc" build "$spec" -o "$out" >/dev/null 2>"$log"
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; wall = s * 1000 }
    /Maximum resident set size/ { rss = $2 / 1024 }
    END { printf "%.0f %.1f\n", wall, rss }' "$log"
  rm -f "$log"
}

echo "## svcc build ($(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d), median of $RUNS)"
echo
echo "| entities | spec lines | files written | build (ms) | peak RSS (MiB) | unchanged rebuild (ms) | rebuild after an edit (ms) |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for n in $SIZES; do
  spec="$work/synth-$n.svc"
  "$synth" "$n" > "$spec"
  walls=() rsss=() again=()
  for run in $(seq "$RUNS"); do
    out="$work/out-$n-$run"
    read -r wall rss < <(timed_build "$spec" "$out")
    walls+=("$wall") rsss+=("$rss")
  done
  for _ in $(seq "$RUNS"); do
    read -r wall _ < <(timed_build "$spec" "$out")
    again+=("$wall")
  done
  files=$(find "$out" -type f -not -path '*/.svcc/*' | wc -l)
  edited="$work/edited-$n.svc" edits=()
  cp "$spec" "$edited"
  for run in $(seq "$RUNS"); do
    sed -i "/^entity E$((n / 2)) {/,/^}/ s/^  include timestamps/  note_$run: string(0..200)?\n  include timestamps/" "$edited"
    read -r wall _ < <(timed_build "$edited" "$out")
    edits+=("$wall")
  done
  echo "| $n | $(wc -l < "$spec") | $files | $(printf '%s\n' "${walls[@]}" | median) | $(printf '%s\n' "${rsss[@]}" | median) | $(printf '%s\n' "${again[@]}" | median) | $(printf '%s\n' "${edits[@]}" | median) |"
done

if [[ " $* " != *" --no-criterion "* ]]; then
  echo
  echo "## Per stage (criterion; see target/criterion/report/index.html)"
  echo
  echo '```text'
  cargo bench --quiet --bench front_end --bench migrations --bench emit -- --output-format bencher 2>/dev/null \
    | grep '^test ' || true
  echo '```'
fi

if [[ " $* " != *" --no-service "* ]]; then
  echo
  bench/service.sh
fi
