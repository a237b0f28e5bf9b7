#!/usr/bin/env bash
# Peak memory of `mtdhost evaluate` from 10k to 1M events, for BENCHMARKS.md:
# Lookout v1 events with lifecycles (a quarter of the threats resolved later,
# one record in eight a device status) as JSON Lines and as a JSON array, and
# the worst case for lifecycle state, every event a new threat id.
# Usage: scripts/evaluate-memory.sh [path/to/mtdhost]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/mtdhost}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MTDHOST_CACHE_DIR="$work/cache"
run() { # file label
  /usr/bin/time -f '%e %M' -o "$work/time" "$bin" evaluate -c examples/evaluate/mtdhost.toml \
    --partner lookout --events "$1" --output json > /dev/null
  read -r secs kib < "$work/time"
  printf '%-8s %-26s %10s %12.1f\n' "$n" "$2" "$secs" "$(echo "$kib / 1024" | bc -l)"
}
printf '%-8s %-26s %10s %12s\n' events shape seconds max_rss_mib
for n in 10000 100000 1000000; do
  python3 scripts/gen-events.py lookout-v1 "$n" > "$work/e.jsonl"
  run "$work/e.jsonl" "lookout-v1 lifecycle jsonl"
  { echo '['; sed '$!s/$/,/' "$work/e.jsonl"; echo ']'; } > "$work/e.json"
  run "$work/e.json" "lookout-v1 lifecycle array"
  python3 scripts/gen-events.py lookout-distinct "$n" > "$work/e.jsonl"
  run "$work/e.jsonl" "every event a new threat"
done
