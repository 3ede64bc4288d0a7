#!/usr/bin/env bash
# Batch scale: wall time, CPU and memory of `mxtls check --input` against
# the lab's bulk set (mxtls-lab --bulk N: N signed domains sharing four MX
# hosts, half MTA-STS, half DANE), in a release build. Numbers, not
# pass/fail.
#
#   scripts/bench-batch.sh [SIZES] [CONCURRENCIES] [MODES]
#   scripts/bench-batch.sh "1000 10000" "32 64 256" "validate resolver off"
#
# One lab (started with the largest size) serves every run; each run scans
# the first SIZE bulk domains. Per run: wall seconds, user+sys CPU seconds
# of mxtls (the lab's CPU is not counted), CPU ms per domain, peak RSS
# (/usr/bin/time %M), lines written, domains whose MX lookup failed,
# domains with at least one error finding, and STARTTLS sessions made for
# the domain that reports them against all sessions reported (the others
# were shared from another domain's scan). The lab runs on the same
# machine, so its CPU competes with the scanner's: compare runs made on
# one machine only. MXTLS_BENCH_BIN=DIR uses the binaries in DIR instead
# of building (to compare a saved build with the current one).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-"1000 10000"}
concurrencies=${2:-"32 64 256"}
modes=${3:-"validate resolver off"}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}


if [ -n "${MXTLS_BENCH_BIN:-}" ]; then
    bin=$MXTLS_BENCH_BIN
else
    cargo build --quiet --release --features lab --bins
    bin=$CARGO_TARGET_DIR/release
fi
largest=0
for n in $sizes; do [ "$n" -gt "$largest" ] && largest=$n; done

start=$(date +%s%N)
# shellcheck source=scripts/lab.sh
. scripts/lab.sh
require_gnu_time
LAB_WAIT_S=60 start_lab "$bin" --bulk "$largest"
echo "lab with $largest bulk domains ready in $(( ($(date +%s%N) - start) / 1000000 )) ms ($(grep -o 'started in [0-9]* ms' "$dir/lab.log"))"
printf '%-8s %-9s %5s %8s %7s %8s %8s %9s %7s %8s %7s %15s\n' \
    domains dnssec conc wall_s dom/s cpu_s cpu_ms/d peak_MiB lines lookfail errdoms probes/sessions

for n in $sizes; do
    head -n "$n" "$MXTLS_LAB_BULK" > "$dir/in.txt"
    for mode in $modes; do
        for c in $concurrencies; do
            bulk_scan "$bin" "$mode" "$c"
            read -r wall user sys rss < <(tail -n 1 "$dir/time")
            lines=$(wc -l < "$dir/out.jsonl")
            lookfail=$(grep -c '"code":"mx-lookup-failed"' "$dir/out.jsonl" || true)
            errdoms=$(grep -c '"severity":"error"' "$dir/out.jsonl" || true)
            # Sessions in the output, and those made for the domain that
            # reports them (the rest were shared from another domain's).
            sessions=$(grep -o '"shared":[a-z]*' "$dir/out.jsonl" | wc -l)
            probes=$(grep -o '"shared":false' "$dir/out.jsonl" | wc -l)
            awk -v n="$n" -v m="$mode" -v c="$c" -v w="$wall" -v u="$user" -v s="$sys" \
                -v r="$rss" -v l="$lines" -v f="$lookfail" -v e="$errdoms" \
                -v p="$probes" -v q="$sessions" 'BEGIN {
                cpu = u + s
                printf "%-8d %-9s %5d %8.2f %7.0f %8.2f %8.2f %9.1f %7d %8d %7d %15s\n",
                    n, m, c, w, n / (w > 0 ? w : 1), cpu, cpu * 1000 / n, r / 1024, l, f, e, p "/" q }'
        done
    done
done
