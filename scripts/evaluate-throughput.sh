#!/usr/bin/env bash
# Throughput and peak memory of `mtdhost evaluate` per documented partner
# shape (JSON Lines, or the SSE stream for Lookout v2), for BENCHMARKS.md.
# Usage: scripts/evaluate-throughput.sh [path/to/mtdhost] [events]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/mtdhost}
n=${2:-200000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MTDHOST_CACHE_DIR="$work/cache"
printf '%-18s %-11s %8s %9s %10s %12s\n' shape partner events seconds events/s max_rss_mib
for pair in lookout-v1:lookout lookout-v2:lookout zimperium-v2:zimperium jamf-stream:jamf \
            defender-alerts:defender checkpoint-alerts:checkpoint; do
  shape=${pair%%:*}; partner=${pair##*:}
  python3 scripts/gen-events.py "$shape" "$n" > "$work/events"
  # Warm the compile cache so the run measures mapping, not compilation.
  "$bin" plugin precompile "builtin:$partner" > /dev/null
  /usr/bin/time -f '%e %M' -o "$work/time" "$bin" evaluate -c examples/evaluate/mtdhost.toml \
    --partner "$partner" --events "$work/events" --output json > /dev/null
  read -r secs kib < "$work/time"
  printf '%-18s %-11s %8s %9s %10.0f %12.1f\n' "$shape" "$partner" "$n" "$secs" \
    "$(echo "$n / $secs" | bc -l)" "$(echo "$kib / 1024" | bc -l)"
done
