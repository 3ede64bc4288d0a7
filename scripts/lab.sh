# Sourced by the scripts that run against the lab (demo, bench,
# compare-outputs): `start_lab BIN_DIR [LAB_ARGS...]` starts BIN_DIR/mxtls-lab
# (with LAB_ARGS, e.g. --delay-ms 50) in a fresh
# temporary directory ($dir), stops it and removes $dir on exit, waits up to
# LAB_WAIT_S seconds (default 10; a large --bulk set takes longer to sign)
# for it to answer, and loads its MXTLS_LAB_* variables.
start_lab() {
    local wait_s=${LAB_WAIT_S:-10}
    dir=$(mktemp -d)
    "$1/mxtls-lab" --dir "$dir" "${@:2}" 2>"$dir/lab.log" &
    lab=$!
    trap 'kill -INT $lab 2>/dev/null || true; wait $lab 2>/dev/null || true; rm -rf "$dir"' EXIT
    for _ in $(seq 1 $((wait_s * 10))); do
        [ -f "$dir/lab.env" ] && break
        kill -0 "$lab" 2>/dev/null || { cat "$dir/lab.log" >&2; exit 2; }
        sleep 0.1
    done
    [ -f "$dir/lab.env" ] || { echo "$(basename "$0"): the lab did not start within $wait_s s" >&2; cat "$dir/lab.log" >&2; exit 2; }
    # shellcheck disable=SC1091
    . "$dir/lab.env"
}

# `require_gnu_time`: installs GNU time (/usr/bin/time, for peak RSS and
# CPU) from Debian when it is missing; the bench scripts call it.
require_gnu_time() {
    [ -x /usr/bin/time ] && return
    echo "$(basename "$0"): installing GNU time (/usr/bin/time) from Debian" >&2
    if [ "$(id -u)" = 0 ]; then apt-get install -y -qq time >/dev/null; else sudo apt-get install -y -qq time >/dev/null; fi
}

# `bulk_scan BIN_DIR MODE CONCURRENCY`: scans $dir/in.txt with BIN_DIR/mxtls
# in `--dnssec MODE` against the lab; JSON lines to $dir/out.jsonl, stderr
# to $dir/err, GNU time's "wall user sys peak-RSS" to $dir/time.
bulk_scan() {
    local dns
    case $2 in
        validate) dns=(--resolver "$MXTLS_LAB_DNS" --trust-anchor "$MXTLS_LAB_ANCHOR") ;;
        resolver) dns=(--resolver "$MXTLS_LAB_RESOLVER" --dnssec resolver) ;;
        off) dns=(--resolver "$MXTLS_LAB_RESOLVER" --dnssec off) ;;
        *) echo "$(basename "$0"): unknown mode $2 (validate, resolver or off)" >&2; exit 2 ;;
    esac
    /usr/bin/time -o "$dir/time" -f '%e %U %S %M' \
        "$1/mxtls" check "${dns[@]}" --ca-file "$MXTLS_LAB_CA" \
        --https-port "$MXTLS_LAB_HTTPS_PORT" --smtp-port "$MXTLS_LAB_SMTP_PORT" \
        --allow-private --input "$dir/in.txt" --jsonl --concurrency "$3" \
        > "$dir/out.jsonl" 2>"$dir/err" || true
}
