#!/usr/bin/env bash
# Two svcc binaries compared on one synthetic spec, in rounds: each round builds N times
# with each binary, interleaved, into fresh directories, and prints both medians and their
# ratio. On a shared VM the speed of everything can double within a minute; the ratio within
# a round is what stays comparable, and calm rounds show the absolute times.
#
#   bench/rounds.sh OLD_SVCC NEW_SVCC               12 rounds of 5 builds, 100 entities
#   ROUNDS=20 N=3 ENTITIES=500 bench/rounds.sh OLD_SVCC NEW_SVCC
set -euo pipefail
cd "$(dirname "$0")/.."

old="$1" new="$2"
ROUNDS="${ROUNDS:-12}" N="${N:-5}" ENTITIES="${ENTITIES:-100}"
work="${TMPDIR:-/tmp}/svcc-rounds/$$"
mkdir -p "$work"
# Output is deleted only at the end: deleting thousands of files just before a build slows
# the file creation it measures (see bench/run.sh).
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --example synth
"${CARGO_TARGET_DIR:-target}/release/examples/synth" "$ENTITIES" > "$work/spec.svc"

# milliseconds one build takes
build_ms() {
  local start end
  start=$(date +%s%N)
  "$1" build "$work/spec.svc" -o "$2" >/dev/null 2>&1
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "| round | $old (ms) | $new (ms) | ratio |"
echo "|---:|---:|---:|---:|"
for round in $(seq "$ROUNDS"); do
  olds=() news=()
  for run in $(seq "$N"); do
    olds+=("$(build_ms "$old" "$work/old-$round-$run")")
    news+=("$(build_ms "$new" "$work/new-$round-$run")")
  done
  a=$(printf '%s\n' "${olds[@]}" | median)
  b=$(printf '%s\n' "${news[@]}" | median)
  echo "| $round | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }') |"
done
