#!/usr/bin/env bash
# CPU per domain and lookup failures of a batch scan in each DNSSEC mode,
# against the lab (release build). Numbers, not pass/fail.
#   scripts/bench-dns.sh [ROUNDS] [CONCURRENCY] [BIN_DIR] [LAB_BIN_DIR]
#   BULK=1000 scripts/bench-dns.sh - 256      # the lab's bulk set instead
# Scans every catalogue domain ROUNDS times (default 20) at CONCURRENCY
# (default 256) with BIN_DIR/mxtls (default: a fresh release build), in
# validate mode against the authoritative server, in resolver mode behind
# the lab's validating resolver, and validating behind that resolver.
# Prints user+sys CPU ms per domain, wall time, peak RSS, and the lookups
# that failed for want of an answer ("no answer within", or the scanner's
# own overload). With BULK=N the lab also serves N bulk domains (distinct
# zones sharing four MX hosts, see src/lab/bulk.rs) and those are scanned.
# LAB_BIN_DIR runs the lab from another build (to measure an older mxtls).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
concurrency=${2:-256}
bin=${3:-}
lab_bin=${4:-}
bulk=${BULK:-}

if [ -z "$bin" ]; then
    cargo build --quiet --release --features lab --bins
    bin=${CARGO_TARGET_DIR:-target}/release
fi
lab_bin=${lab_bin:-$bin}
lab_args=()
[ -n "$bulk" ] && lab_args+=(--bulk "$bulk")
# shellcheck source=scripts/lab.sh
. scripts/lab.sh
LAB_WAIT_S=60 start_lab "$lab_bin" "${lab_args[@]}"

if [ -n "$bulk" ]; then
    cp "$MXTLS_LAB_BULK" "$dir/domains.txt"
else
    # Scenarios that wait out a timeout by design measure the timeout, not us.
    "$lab_bin/mxtls-lab" --list | awk '{print $1}' \
        | grep -v -e '^sts-hang' -e '^sts-headers-forever' -e '^sts-slow' -e '^smtp-slow' -e '^smtp-endless' -e '^lossy-' \
        > "$dir/one.txt"
    for _ in $(seq 1 "$rounds"); do cat "$dir/one.txt"; done > "$dir/domains.txt"
fi
n=$(wc -l < "$dir/domains.txt")

run() {
    local label=$1
    shift
    /usr/bin/time -q -f "%U %S %e %M" -o "$dir/time" \
        "$bin/mxtls" check "$@" --ca-file "$MXTLS_LAB_CA" --https-port "$MXTLS_LAB_HTTPS_PORT" \
        --smtp-port "$MXTLS_LAB_SMTP_PORT" --allow-private --input "$dir/domains.txt" --jsonl \
        --concurrency "$concurrency" > "$dir/out.jsonl" 2>"$dir/err" || true
    read -r user sys wall rss < "$dir/time"
    local lines failed overloaded
    lines=$(wc -l < "$dir/out.jsonl")
    failed=$(grep -c '"code":"mx-lookup-failed"' "$dir/out.jsonl" || true)
    overloaded=$(grep -c 'scanner-dns-overloaded' "$dir/out.jsonl" || true)
    awk -v l="$label" -v n="$n" -v u="$user" -v s="$sys" -v w="$wall" -v r="$rss" \
        -v lines="$lines" -v f="$failed" -v o="$overloaded" -v c="$concurrency" 'BEGIN {
        printf "%-26s %6d domains (%d results) at concurrency %d: %.2f ms CPU/domain (user+sys %.2f s), wall %.1f s, peak RSS %d KiB, mx-lookup-failed %d, scanner-dns-overloaded %d\n",
            l, n, lines, c, (u + s) * 1000 / n, u + s, w, r, f, o }'
}

run validate --resolver "$MXTLS_LAB_DNS" --trust-anchor "$MXTLS_LAB_ANCHOR"
run resolver --resolver "$MXTLS_LAB_RESOLVER" --dnssec resolver
run validate-behind-resolver --resolver "$MXTLS_LAB_RESOLVER" --trust-anchor "$MXTLS_LAB_ANCHOR"
run off --resolver "$MXTLS_LAB_RESOLVER" --dnssec off
