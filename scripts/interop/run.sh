#!/bin/bash
# run mxtls on every scenario; outputs in out/<scenario>.{txt,json,v.txt}
B=${MXTLS_INTEROP_DIR:-/tmp/mxtls-interop}
. "$B/env.sh"
cd "$B"; mkdir -p out
SC=${*:-"good mismatch split cname v6 charset crlf nomaxage testing insecure rsa dual pscreen pscreen2 nsec3 wild wild3 wildpol danetas bogus big agility alg8 alg15 anvil h2 ws bom pol6 nullmx implicit xzone sni kasp hosted expired noint noint2"}
for s in $SC; do
  d=$s.interop
  timeout 300 $MXTLS check $d > out/$s.txt 2> out/$s.err; echo "rc=$?" >> out/$s.err
  timeout 300 $MXTLS check --json $d > out/$s.json 2>/dev/null
  echo "== $s: $(head -1 out/$s.txt) [$(tail -1 out/$s.err)]"
  jq -r '.findings[] | "   \(.severity) \(.code) \(.subject) \(if .caused_by then "(caused_by "+.caused_by.code+")" else "" end)"' out/$s.json 2>/dev/null
done
