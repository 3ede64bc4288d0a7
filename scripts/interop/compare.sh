#!/bin/bash
# every scenario: mxtls validate@BIND(default), validate@BIND(minimal-responses no), resolver@unbound, and posttls-finger -l dane
here=$(cd "$(dirname "$0")" && pwd)
B=${MXTLS_INTEROP_DIR:-/tmp/mxtls-interop}
. "$B/env.sh"; cd "$B"; mkdir -p out
SC=$(sed -n 's/^SCEN="\(.*\)"/\1/p' "$here/setup.sh")
printf '%-10s | %-42s | %-42s | %-42s | %s\n' scenario "validate @127.0.0.53" "validate @127.0.0.63" "resolver @127.0.0.54 (unbound)" "posttls-finger -l dane (first MX)"
for s in $SC; do
  a=$($MXTLS check --format summary $s.interop 2>/dev/null | sed 's/ \[20.*//; s/^[a-z]* *[^ ]*: //')
  b=$($MXTLS check --resolver 127.0.0.63 --format summary $s.interop 2>/dev/null | sed 's/ \[20.*//; s/^[a-z]* *[^ ]*: //')
  c=$(MXTLS_TRUST_ANCHOR= env -u MXTLS_TRUST_ANCHOR $MXTLS check --dnssec resolver --resolver 127.0.0.54 --format summary $s.interop 2>/dev/null | sed 's/ \[20.*//; s/^[a-z]* *[^ ]*: //')
  p=$(timeout 60 "$here/ptf.sh" -c -l dane -L summary $s.interop 2>&1 | grep -oE '(Verified|Untrusted|Anonymous|Trusted) TLS|verification failed[^;]*|Destination address lookup failed|fatal.*|No .* TLSA.*' | head -2 | tr '\n' ';' | cut -c1-80)
  printf '%-10s | %-42s | %-42s | %-42s | %s\n' "$s" "$a" "$b" "$c" "$p"
done
