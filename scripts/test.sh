#!/usr/bin/env bash
# The test command (README "Run the tests"; .ci/run calls this same script).
# Formatting, lints with warnings as errors, then every test. Snapshots are never written
# here: review changes with `cargo insta review` or `INSTA_UPDATE=always cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

export INSTA_UPDATE=no
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# PostgreSQL for the database tests: DATABASE_URL_TEST, or the local server if one answers.
if [ -z "${DATABASE_URL_TEST:-}" ] && command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then
  export DATABASE_URL_TEST="postgres://postgres@127.0.0.1:5432/postgres"
fi
if [ -z "${DATABASE_URL_TEST:-}" ]; then
  echo "WARNING: no PostgreSQL (set DATABASE_URL_TEST): the PostgreSQL halves of the database tests are SKIPPED" >&2
fi
for tool in psql sqlite3; do
  command -v "$tool" >/dev/null 2>&1 || echo "WARNING: \`$tool\` is not installed: database tests need it" >&2
done

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings
echo "== svcc fmt --check examples/ stdlib/"
cargo run --quiet -- fmt --check examples/ stdlib/ tests/fixtures/valid/
echo "== cargo test"
cargo test --all-targets --no-fail-fast
