#!/usr/bin/env bash
# One domain at a time over a slow link (release build): the wall time of
# a single-domain scan against its critical path.
#   scripts/bench-latency.sh [DELAY_MS] [RUNS]
# Starts the lab with every server reply DELAY_MS (default 50) late (the
# link model: src/lab/link.rs), then scans each domain kind RUNS times
# (default 5), one process per scan, and prints the median and best wall
# time (process start included), the critical path in round trips and
# the ratio of the median to it. Numbers, not pass/fail.
#
# The critical path in the lab (one round trip = DELAY_MS): MX lookup (1)
# -> address lookup (1) -> TCP connect (0: the kernel answers the SYN at
# once, see link.rs) -> greeting (1) -> EHLO (1) -> STARTTLS (1) -> TLS
# handshake (1) -> EHLO under TLS (1) -> QUIT (1) = 8. Everything else a
# scan does hangs off this chain beside it: the DNSSEC chain of trust (DS
# and DNSKEY of every zone, asked together with the MX: the scanned
# domain's and those above it go out with the first queries, and the root
# DNSKEY query of the start-up check is the validator's too; an MX host
# in another zone has its parent's chain asked beside its addresses), TLSA and
# TLSRPT (beside the address lookup and the session), the MTA-STS policy
# (TXT and the policy host's A 1, its AAAA 1 — asked only when the A
# lookup is not NXDOMAIN — TLS 1, GET 1 = 4 beside the MX lookup and the
# session). A DANE domain adds the key-type sessions (RSA-only and
# ECDSA-only ClientHellos), which are made only once the first session
# has shown TLS works, so they start after its handshake at the earliest:
# greeting, EHLO, STARTTLS, TLS, EHLO, QUIT = 6 more after round trip 6,
# 12 in all. Under --per-ip 2 only one of them runs beside the first
# session; the other (the key type the first session did not get) starts
# when the first session ends (8) and, on the lab's ECDSA-only servers,
# ends at the handshake (greeting, EHLO, STARTTLS, ClientHello = 4): 12
# still (a server with both keys: 14). On a real link TCP connect adds 1
# to each session (9 and 13) and a server that holds its EHLO reply until
# the TLS 1.3 session tickets are acknowledged (Postfix) 1 more.
set -euo pipefail
cd "$(dirname "$0")/.."
delay=${1:-50}
runs=${2:-5}

cargo build --quiet --release --features lab --bins
bin=${CARGO_TARGET_DIR:-target}/release
# shellcheck source=scripts/lab.sh
. scripts/lab.sh
start_lab "$bin" --delay-ms "$delay"

# domain, what it is, critical path in round trips (see above).
kinds=(
    "sts-good.test|MTA-STS enforce|8"
    "dane-ee.test|DANE|12"
    "bench-both.test|DANE and MTA-STS|12"
    "bench-two-mx.test|two MX hosts|8"
)

# BENCH_DNSSEC=resolver: trust the AD bit of the lab's validating resolver
# (--dnssec resolver) instead of validating here (the default, as
# scripts/bench.sh does): the chain of trust is then the resolver's work
# (its cache is warm: it reaches the lab's servers without the delay).
if [ "${BENCH_DNSSEC:-validate}" = resolver ]; then
    dns_args=(--resolver "$MXTLS_LAB_RESOLVER" --dnssec resolver)
else
    dns_args=(--resolver "$MXTLS_LAB_DNS" --trust-anchor "$MXTLS_LAB_ANCHOR")
fi
# MXTLS_BIN: another mxtls binary to time against the same lab (a build
# from before a change).
mxtls=${MXTLS_BIN:-$bin/mxtls}
scan() {
    "$mxtls" check "${dns_args[@]}" \
        --ca-file "$MXTLS_LAB_CA" --https-port "$MXTLS_LAB_HTTPS_PORT" \
        --smtp-port "$MXTLS_LAB_SMTP_PORT" --allow-private --json "$1" > "$dir/out.json" || true
}

printf '%s ms per round trip, %s runs each, DNSSEC %s; wall time includes process start\n' "$delay" "$runs" "${BENCH_DNSSEC:-validate}"
printf '%-20s %-17s %8s %8s %6s %8s %6s\n' domain kind median best path path_ms ratio
for k in "${kinds[@]}"; do
    IFS='|' read -r domain what path <<< "$k"
    times=()
    for _ in $(seq 1 "$runs"); do
        start=$(date +%s%N)
        scan "$domain"
        end=$(date +%s%N)
        times+=($(( (end - start) / 1000000 )))
    done
    sorted=$(printf '%s\n' "${times[@]}" | sort -n)
    median=$(echo "$sorted" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    best=$(echo "$sorted" | head -1)
    path_ms=$(( path * delay ))
    ratio=$(awk -v m="$median" -v p="$path_ms" 'BEGIN {printf "%.2f", (p > 0 ? m / p : 0)}')
    printf '%-20s %-17s %8s %8s %6s %8s %6s\n' "$domain" "$what" "$median" "$best" "$path" "$path_ms" "$ratio"
    if [ -n "${BENCH_SHOW_TIMINGS:-}" ]; then
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d=d[0] if isinstance(d,list) else d; print(json.dumps(d.get("timings"), indent=1)); [print(s["mx"], s["ip"], json.dumps(s["probe"].get("timings")), [k["key"] for k in s.get("key_variants", [])]) for s in d.get("sessions",[])]' "$dir/out.json" || true
    fi
done
