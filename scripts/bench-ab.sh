#!/usr/bin/env bash
# Two builds side by side: CPU per domain of `mxtls check --input` on the
# lab's bulk set, runs of OLD and NEW alternating against one lab.
#
#   scripts/bench-ab.sh OLD_DIR NEW_DIR [PAIRS] [SIZE] [CONCURRENCY] [MODE]
#   scripts/bench-ab.sh /tmp/before target/release 8 1000 64 validate
#
# OLD_DIR and NEW_DIR each hold an `mxtls` binary (a release build; build an
# older commit with `git worktree add /tmp/old COMMIT && cd /tmp/old &&
# cargo build --release` and pass /tmp/old/target/release). The lab is
# NEW_DIR's `mxtls-lab` when it has one, else this checkout's.
#
# Why alternate: a shared or virtual machine's speed drifts by 15-20 %
# within an hour, so two builds measured an hour apart, or each in a block
# of runs, compare the machine as much as the builds. Each pair runs OLD
# and NEW back to back (the order swapped every other pair), and the
# ratio NEW/OLD of each pair is printed with their median: that ratio is
# the number to quote. CPU is user+sys of mxtls (the lab's is not
# counted). Every run must write SIZE lines, or the pair is flagged.
# Numbers, not pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
old=$1
new=$2
pairs=${3:-8}
size=${4:-1000}
concurrency=${5:-64}
mode=${6:-validate}
case $mode in
    validate | resolver | off) ;;
    *) echo "bench-ab: unknown mode $mode (validate, resolver or off)" >&2; exit 2 ;;
esac
for b in "$old" "$new"; do
    [ -x "$b/mxtls" ] || { echo "bench-ab: no mxtls binary in $b" >&2; exit 2; }
done
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
if [ -x "$new/mxtls-lab" ]; then
    labbin=$new
else
    cargo build --quiet --release --features lab --bin mxtls-lab
    labbin=$CARGO_TARGET_DIR/release
fi

# shellcheck source=scripts/lab.sh
. scripts/lab.sh
require_gnu_time
LAB_WAIT_S=90 start_lab "$labbin" --bulk "$size"
head -n "$size" "$MXTLS_LAB_BULK" > "$dir/in.txt"

# One run: prints "CPU_MS_PER_DOMAIN WALL_S PEAK_MIB LINES".
run() {
    bulk_scan "$1" "$mode" "$concurrency"
    read -r wall user sys rss < <(tail -n 1 "$dir/time")
    awk -v n="$size" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v l="$(wc -l < "$dir/out.jsonl")" \
        'BEGIN { printf "%.3f %.2f %.1f %d\n", (u + s) * 1000 / n, w, r / 1024, l }'
}

echo "$size domains, --dnssec $mode, --concurrency $concurrency; OLD=$old NEW=$new"
printf '%4s %12s %12s %8s %9s %9s\n' pair old_ms/dom new_ms/dom new/old old_wall new_wall
: > "$dir/ratios"
for p in $(seq 1 "$pairs"); do
    if [ $((p % 2)) = 1 ]; then
        a=$(run "$old"); b=$(run "$new")
    else
        b=$(run "$new"); a=$(run "$old")
    fi
    read -r a_cpu a_wall _ a_lines <<< "$a"
    read -r b_cpu b_wall _ b_lines <<< "$b"
    flag=""
    [ "$a_lines" = "$size" ] && [ "$b_lines" = "$size" ] || flag="  (lines: old $a_lines, new $b_lines of $size)"
    ratio=$(awk -v a="$a_cpu" -v b="$b_cpu" 'BEGIN { printf "%.3f", (a > 0 ? b / a : 0) }')
    echo "$a_cpu $b_cpu $ratio" >> "$dir/ratios"
    printf '%4d %12s %12s %8s %9s %9s%s\n' "$p" "$a_cpu" "$b_cpu" "$ratio" "$a_wall" "$b_wall" "$flag"
done
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "median CPU ms per domain: old $(cut -d' ' -f1 "$dir/ratios" | median), new $(cut -d' ' -f2 "$dir/ratios" | median)"
echo "median pair ratio new/old: $(cut -d' ' -f3 "$dir/ratios" | median) (range $(cut -d' ' -f3 "$dir/ratios" | sort -n | head -n 1)-$(cut -d' ' -f3 "$dir/ratios" | sort -n | tail -n 1))"
