#!/usr/bin/env bash
# The test command: unit tests and end-to-end tests against the in-process lab.
set -euo pipefail
cd "$(dirname "$0")/.."
if cargo nextest --version >/dev/null 2>&1; then
    exec cargo nextest run --all-features --no-fail-fast "$@"
else
    exec cargo test --all-features --no-fail-fast "$@"
fi
