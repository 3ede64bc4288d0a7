#!/usr/bin/env bash
# Starts the lab on loopback and scans a few of its domains: what mxtls
# shows an admin, with no Internet needed.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --features lab --bins
bin=target/debug
dir=$(mktemp -d)
"$bin/mxtls-lab" --dir "$dir" 2>"$dir/lab.log" &
lab=$!
trap 'kill -INT $lab 2>/dev/null || true; wait $lab 2>/dev/null || true; rm -rf "$dir"' EXIT

for _ in $(seq 1 100); do
    [ -f "$dir/lab.env" ] && break
    kill -0 $lab 2>/dev/null || { cat "$dir/lab.log" >&2; exit 2; }
    sleep 0.1
done
[ -f "$dir/lab.env" ] || { echo "demo: the lab did not start within 10 s" >&2; cat "$dir/lab.log" >&2; exit 2; }
# shellcheck disable=SC1091
. "$dir/lab.env"

echo "== The lab's scenarios (each is a domain under .test)"
"$bin/mxtls-lab" --list
echo

scan() {
    echo "== mxtls check $*"
    "$bin/mxtls" check --resolver "$MXTLS_LAB_DNS" --trust-anchor "$MXTLS_LAB_ANCHOR" \
        --ca-file "$MXTLS_LAB_CA" --https-port "$MXTLS_LAB_HTTPS_PORT" --allow-private --timeout 3 "$@" \
        && echo "(exit 0)" || echo "(exit $?)"
    echo
}

scan secure.test
scan insecure.test
scan bogus-rrsig.test
scan nullmx.test
scan tlsrpt-nearmiss.test
scan sts-good.test
scan sts-redirect.test
scan sts-uncovered.test
echo "== The same domain through a validating resolver, trusting its AD bit"
"$bin/mxtls" check --dnssec resolver --resolver "$MXTLS_LAB_RESOLVER" --timeout 3 --json tlsa-bogus.test \
    | grep -E '"(domain|status|dnssec)"' | head -12 || true
