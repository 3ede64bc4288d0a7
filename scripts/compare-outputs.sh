#!/usr/bin/env bash
# Compares two builds of mxtls on every lab scenario: the JSON document and
# the human summary of each, against one lab run, with the values that
# change from one scan to the next (times, durations, report ids) masked.
# For refactors that must not change output.
#   scripts/compare-outputs.sh OLD_BIN_DIR NEW_BIN_DIR
# Each directory holds an `mxtls` binary; the lab comes from NEW_BIN_DIR.
set -euo pipefail
old=${1:?usage: compare-outputs.sh OLD_BIN_DIR NEW_BIN_DIR}
new=${2:?usage: compare-outputs.sh OLD_BIN_DIR NEW_BIN_DIR}
# shellcheck source=scripts/lab.sh
. "$(dirname "$0")/lab.sh"
start_lab "$new"
args=(--resolver "$MXTLS_LAB_DNS" --trust-anchor "$MXTLS_LAB_ANCHOR" --ca-file "$MXTLS_LAB_CA"
      --https-port "$MXTLS_LAB_HTTPS_PORT" --smtp-port "$MXTLS_LAB_SMTP_PORT" --allow-private --timeout 2)
mask() {
    python3 -c '
import json, re, sys
VOLATILE = {"bytes_read", "duration_ms", "elapsed_ms", "timings", "report-id", "date-range", "local_addr", "start-datetime", "end-datetime", "scanned_at"}
def clean(v):
    if isinstance(v, dict):
        return {k: ("~" if k in VOLATILE else clean(x)) for k, x in v.items()}
    if isinstance(v, list):
        return [clean(x) for x in v]
    if isinstance(v, str):
        v = re.sub(r"reading stopped at \d+ bytes", "reading stopped at N bytes", v)
        v = re.sub(r"verification time \d+ \(UNIX\)(.*)\(\d+ seconds", r"verification time N (UNIX)\1(N seconds", v)
        return re.sub(r"\b\d+ ms\b", "N ms", v)
    return v
print(json.dumps(clean(json.load(sys.stdin)), indent=1, sort_keys=True))'
}
status=0
# The policy fetch has its own timeout since --policy-timeout exists; give
# it the same 2 s when the build knows the option, so that hanging policy
# hosts do not take a minute each.
policy_args() {
    if "$1/mxtls" check --help | grep -q -- --policy-timeout; then echo --policy-timeout 2; fi
}
old_extra=$(policy_args "$old")
new_extra=$(policy_args "$new")
for d in $("$new/mxtls-lab" --list | awk '{print $1}'); do
    for b in old new; do
        bin=$old; extra=$old_extra
        [ $b = new ] && { bin=$new; extra=$new_extra; }
        # shellcheck disable=SC2086
        rc=0; "$bin/mxtls" check "${args[@]}" $extra --json "$d" > "$dir/$b.json" 2>"$dir/$b.err" || rc=$?
        mask < "$dir/$b.json" > "$dir/$b.masked" || cp "$dir/$b.json" "$dir/$b.masked"
        echo "exit $rc" >> "$dir/$b.masked"
        # shellcheck disable=SC2086
        "$bin/mxtls" check "${args[@]}" $extra "$d" 2>/dev/null | sed -E 's/[0-9]+ ms/N ms/g; s/time [0-9]+ \(UNIX/time N (UNIX/; s/\([0-9]+ seconds/(N seconds/' > "$dir/$b.txt" || true
    done
    if ! diff -q "$dir/old.masked" "$dir/new.masked" >/dev/null; then
        echo "== $d: JSON differs"; diff "$dir/old.masked" "$dir/new.masked" | head -40; status=1
    fi
    # The oversized policy's byte count lands inside wrapped table text.
    if [ "$d" != sts-oversized.test ] && ! diff -q "$dir/old.txt" "$dir/new.txt" >/dev/null; then
        echo "== $d: summary differs"; diff "$dir/old.txt" "$dir/new.txt" | head -40; status=1
    fi
done
[ $status = 0 ] && echo "compare: every scenario's JSON and summary are identical"
exit $status
