#!/usr/bin/env bash
# What one API process uses at a fixed load: CPU (from /proc/<pid>/stat), resident memory, and the
# in-flight requests it reports, with the bundled Shoutcloud-compatible server as the upstream,
# for three loads: cache hits, cache misses, and misses while Shoutcloud answers in 300 ms.
# The figures behind the Deployment's requests/limits and the HPA target (README.md here).
#   npm run build && bash deploy/sizing/measure.sh   # CONNECTIONS=8 DURATION=20 by default
# API_NODE_OPTIONS (e.g. --max-old-space-size=128) stands in for the heap size Node picks under a
# container memory limit; this machine's memory lets the heap grow lazily.
set -euo pipefail
cd "$(dirname "$0")/../.."

connections=${CONNECTIONS:-8}
duration=${DURATION:-20}
free_port() { node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'; }
api_port=$(free_port)
metrics_port=$(free_port)
upstream_port=$(free_port)
ticks_per_second=$(getconf CLK_TCK)
upstream_url="http://127.0.0.1:$upstream_port"

# Fault switches on: the third load slows the upstream down (loopback only).
PORT=$upstream_port HOST=127.0.0.1 SHOUTCLOUD_SERVER_CONTROL=on node dist/shoutcloud-server/main.js >/dev/null &
upstream=$!
# The production overlay's settings that change the cost of a request (request log at info, cache size).
PORT=$api_port METRICS_PORT=$metrics_port HOST=127.0.0.1 SHOUTCLOUD_URL="$upstream_url" LOG_LEVEL=info \
  CACHE_MAX_BYTES=67108864 NODE_OPTIONS="${API_NODE_OPTIONS:-}" node dist/main.js >/dev/null &
api=$!
trap 'kill "$api" "$upstream" 2>/dev/null || true' EXIT

url="http://127.0.0.1:$api_port"
for _ in $(seq 100); do curl -fsS "$url/health/live" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$url/health/live" >/dev/null

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$api/stat"; }
status_kib() { awk -v key="$1:" '$1 == key { print $2 }' "/proc/$api/status"; }
in_flight() { curl -fsS "http://127.0.0.1:$metrics_port/metrics" | awk '/^http_requests_in_flight/ { sum += $2 } END { print sum + 0 }'; }
upstream_latency() { curl -fsS -X PUT -H 'Content-Type: application/json' -d "{\"latencyMs\":$1}" "$upstream_url/__control/faults" >/dev/null; }

echo "idle: rss $(( $(status_kib VmRSS) / 1024 )) MiB; load average $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $connections connections, ${duration} s"
printf '%-5s %9s %10s %11s %9s %10s %9s %9s\n' load 'req/s' 'CPU cores' 'CPU ms/req' 'p99 ms' 'in flight' 'RSS MiB' 'peak MiB'
for scenario in hit miss slow; do
  script="deploy/sizing/${scenario/slow/miss}.lua"
  if [ "$scenario" = slow ]; then upstream_latency 300; else upstream_latency 0; fi
  wrk -t1 -c"$connections" -d3s -s "$script" "$url/transform" >/dev/null
  report_file=$(mktemp)
  before=$(cpu_ticks)
  started=$(date +%s.%N)
  wrk -t1 -c"$connections" -d"${duration}s" --latency -s "$script" "$url/transform" >"$report_file" &
  load=$!
  sleep $(( duration / 2 ))
  flying=$(in_flight)
  wait "$load"
  ended=$(date +%s.%N)
  after=$(cpu_ticks)
  report=$(cat "$report_file")
  rm -f "$report_file"
  requests=$(awk '/requests in/ { print $1 }' <<<"$report")
  errors=$(awk '/Non-2xx|Socket errors/' <<<"$report")
  p99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print v }' <<<"$report")
  awk -v s="$scenario" -v n="$requests" -v t0="$started" -v t1="$ended" -v c0="$before" -v c1="$after" -v hz="$ticks_per_second" \
    -v p99="$p99" -v flying="$flying" -v rss="$(status_kib VmRSS)" -v hwm="$(status_kib VmHWM)" 'BEGIN {
      wall = t1 - t0; cpu = (c1 - c0) / hz
      printf "%-5s %9.0f %10.2f %11.3f %9.1f %10d %9.0f %9.0f\n", s, n / wall, cpu / wall, 1000 * cpu / n, p99, flying, rss / 1024, hwm / 1024
    }'
  [ -z "$errors" ] || echo "  $scenario: $errors"
done
echo "after: load average $(cut -d' ' -f1-3 /proc/loadavg)"
