#!/usr/bin/env bash
# Starts the lab on loopback and scans a few of its domains: what mxtls
# shows an admin, with no Internet needed.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --features lab --bins
bin=${CARGO_TARGET_DIR:-target}/debug
# shellcheck source=scripts/lab.sh
. scripts/lab.sh
start_lab "$bin"

lab_args=(--resolver "$MXTLS_LAB_DNS" --trust-anchor "$MXTLS_LAB_ANCHOR"
          --ca-file "$MXTLS_LAB_CA" --https-port "$MXTLS_LAB_HTTPS_PORT"
          --smtp-port "$MXTLS_LAB_SMTP_PORT" --allow-private --timeout 5)

echo "== The lab's scenarios (each is a domain under .test)"
"$bin/mxtls-lab" --list
echo

scan() {
    echo "== mxtls check $*"
    "$bin/mxtls" check "${lab_args[@]}" "$@" && echo "(exit 0)" || echo "(exit $?)"
    echo
}

echo "### A good domain: DANE, TLSRPT, two MX addresses (IPv4 and IPv6)"
scan secure.test
echo "### A good MTA-STS domain"
scan sts-good.test
echo "### DANE records that match nothing the server presents"
scan dane-mismatch.test
echo "### An MTA-STS policy whose mx: patterns do not cover the MX"
scan sts-uncovered.test
echo "### A bogus DNSSEC signature on the MX RRset"
scan bogus-rrsig.test

echo "### Pre-flight: will mail still flow if dane-ee.test rolls over to a new key?"
key=$("$bin/mxtls" check "${lab_args[@]}" --json dane-ee.test \
      | grep -A1 '"records": \[' | sed -n 2p | sed 's/^ *"\([^"]*\)".*/\1/')
next="3 1 1 $(printf 'ab%.0s' $(seq 1 32))"
echo "   publishing the current record ($key) and the next one: mail flows"
scan --tlsa "$key" --tlsa "$next" dane-ee.test
echo "   publishing only the next one: DANE senders stop delivering"
scan --tlsa "$next" dane-ee.test

echo "### A batch, one line per domain (--format summary); the tally goes to stderr"
echo "== mxtls check --format summary secure.test sts-good.test dane-mismatch.test nxdomain.test mx-all-refused.test"
"$bin/mxtls" check "${lab_args[@]}" --format summary secure.test sts-good.test \
    dane-mismatch.test nxdomain.test mx-all-refused.test 2>&1 \
    && echo "(exit 0)" || echo "(exit $?: 1 = findings; 3 would be: could not tell)"
echo

echo "### What a finding code means: mxtls explain"
echo "== mxtls explain mx-tlsa-invalid"
"$bin/mxtls" explain mx-tlsa-invalid
echo

echo "### The RFC 8460 report a sender would send for dane-sts-conflict.test"
mkdir -p "$dir/reports"
"$bin/mxtls" check "${lab_args[@]}" --report "$dir/reports/" dane-sts-conflict.test >/dev/null 2>&1 || true
for f in "$dir"/reports/*; do
    echo "   $(basename "$f")"
    gzip -dc "$f"
done
