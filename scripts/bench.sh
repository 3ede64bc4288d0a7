#!/usr/bin/env bash
# Throughput and memory of a batch scan against the lab (release build).
#   scripts/bench.sh [ROUNDS] [CONCURRENCY]
#   scripts/bench.sh batch [SIZES] [CONCURRENCIES] [MODES]
#       the scale benchmark (scripts/bench-batch.sh): 1 000 and 10 000
#       bulk domains at concurrency 32/64/256 in every DNSSEC mode
#   scripts/bench.sh latency [DELAY_MS] [RUNS]
#       single-domain scans against their critical path (bench-latency.sh)
# Scans every catalogue domain ROUNDS times (default 50) and prints wall
# time, domains per second and peak memory. Numbers, not pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."
case ${1:-} in
    batch) shift; exec scripts/bench-batch.sh "$@" ;;
    latency) shift; exec scripts/bench-latency.sh "$@" ;;
esac
rounds=${1:-50}
concurrency=${2:-200}

cargo build --quiet --release --features lab --bins
bin=${CARGO_TARGET_DIR:-target}/release
# shellcheck source=scripts/lab.sh
. scripts/lab.sh
start_lab "$bin"

# Scenarios that wait out a timeout by design measure the timeout, not us.
"$bin/mxtls-lab" --list | awk '{print $1}' | grep -v -e '^sts-hang' -e '^sts-headers-forever' -e '^sts-slow' -e '^smtp-slow' -e '^smtp-endless' > "$dir/one.txt"
for _ in $(seq 1 "$rounds"); do cat "$dir/one.txt"; done > "$dir/domains.txt"
n=$(wc -l < "$dir/domains.txt")

one() {
    local start end
    start=$(date +%s%N)
    "$bin/mxtls" check --resolver "$MXTLS_LAB_DNS" --trust-anchor "$MXTLS_LAB_ANCHOR" --smtp-port "$MXTLS_LAB_SMTP_PORT" --allow-private --json secure.test >/dev/null || true
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
}
echo "single scan of secure.test (process start included), ms: $(one) $(one) $(one)"

start=$(date +%s%N)
timer=()
if [ -x /usr/bin/time ]; then timer=(/usr/bin/time -q -f "%M" -o "$dir/rss"); else echo "?" > "$dir/rss"; fi
"${timer[@]}" "$bin/mxtls" check --resolver "$MXTLS_LAB_DNS" --ca-file "$MXTLS_LAB_CA" --https-port "$MXTLS_LAB_HTTPS_PORT" --smtp-port "$MXTLS_LAB_SMTP_PORT" --allow-private \
    --trust-anchor "$MXTLS_LAB_ANCHOR" --input "$dir/domains.txt" --jsonl \
    --concurrency "$concurrency" > "$dir/out.jsonl" || true
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
lines=$(wc -l < "$dir/out.jsonl")
echo "batch: $n domains ($lines results) at concurrency $concurrency in $ms ms" \
     "= $(( n * 1000 / (ms > 0 ? ms : 1) )) domains/s; peak RSS $(cat "$dir/rss") KiB"
