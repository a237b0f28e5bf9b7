#!/usr/bin/env bash
# Peak memory of `mtdhost evaluate` from 10k to 1M events (JSON Lines and a JSON
# array), for BENCHMARKS.md. Usage: scripts/evaluate-memory.sh [path/to/mtdhost]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/mtdhost}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gen() { # count format
  python3 - "$1" "$2" > "$work/events.$2" <<'PY'
import sys
n, fmt = int(sys.argv[1]), sys.argv[2]
sev = ["NONE", "LOW", "MEDIUM", "HIGH"]
act = ["DETECTED", "DETECTED", "DETECTED", "RESOLVED"]
w = sys.stdout.write
if fmt == "json": w("[\n")
for i in range(n):
    rec = '{"target":{"guid":"device-%d"},"threat":{"guid":"t-%d","classifications":["TROJAN"],"severity":"%s","action":"%s"}}' % (i % 3000, i, sev[i % 4], act[(i // 4) % 4])
    w(rec + (",\n" if fmt == "json" and i + 1 < n else "\n"))
if fmt == "json": w("]\n")
PY
}
printf '%-8s %-6s %10s %12s\n' events format seconds max_rss_mib
for n in 10000 100000 1000000; do
  for fmt in jsonl json; do
    gen "$n" "$fmt"
    /usr/bin/time -f '%e %M' -o "$work/time" "$bin" evaluate -c examples/evaluate/mtdhost.toml \
      --partner lookout --events "$work/events.$fmt" --output json > /dev/null
    read -r secs kib < "$work/time"
    printf '%-8s %-6s %10s %12.1f\n' "$n" "$fmt" "$secs" "$(echo "$kib / 1024" | bc -l)"
  done
done
