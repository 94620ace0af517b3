#!/usr/bin/env bash
# The test command (README "Run the tests"; .ci/run calls this same script).
# Formatting, lints with warnings as errors, then every test. Snapshots are never written
# here: review changes with `cargo insta review` or `INSTA_UPDATE=always cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

export INSTA_UPDATE=no
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings
echo "== svcc fmt --check examples/ stdlib/"
cargo run --quiet -- fmt --check examples/ stdlib/ tests/fixtures/valid/
echo "== cargo test"
cargo test --all-targets --no-fail-fast
