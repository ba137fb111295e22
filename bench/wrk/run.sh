#!/usr/bin/env bash
# Cache-miss load with wrk against the production build and the bundled Shoutcloud-compatible
# server, both on loopback. Run `npm run build` first.
#
#   bench/wrk/run.sh <upstream faults JSON> <connections> <duration> [VAR=value ...]
#
# e.g. 50 ms upstream, coalescing off, then on:
#   bench/wrk/run.sh '{"latencyMs": 50}' 50 10s SHOUTCLOUD_COALESCE=off
#   bench/wrk/run.sh '{"latencyMs": 50}' 50 10s SHOUTCLOUD_COALESCE=on
# WARMUP=3s first runs the same load unmeasured (start-up, JIT, and the hedge's learning of the
# upstream's latency happen there), then resets the upstream's counters.
# Prints wrk's latency distribution and the upstream's counters (calls, cancelled calls).
set -euo pipefail
cd "$(dirname "$0")/../.."

faults=$1 connections=$2 duration=$3
shift 3

free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
upstream_port=$(free_port)
app_port=$(free_port)
metrics_port=$(free_port)

PORT=$upstream_port HOST=127.0.0.1 SHOUTCLOUD_SERVER_CONTROL=on node dist/shoutcloud-server/main.js > /dev/null &
upstream_pid=$!
env -i PATH="$PATH" PORT="$app_port" METRICS_PORT="$metrics_port" HOST=127.0.0.1 LOG_LEVEL=silent \
  SHOUTCLOUD_URL="http://127.0.0.1:$upstream_port" "$@" node dist/main.js > /dev/null &
app_pid=$!
trap 'kill $app_pid $upstream_pid 2> /dev/null || true' EXIT

until curl -sf "http://127.0.0.1:$app_port/health/live" > /dev/null; do sleep 0.2; done
until curl -sf "http://127.0.0.1:$upstream_port/__control/stats" > /dev/null; do sleep 0.2; done
curl -sf -X PUT "http://127.0.0.1:$upstream_port/__control/faults" -d "$faults" > /dev/null

threads=$((connections < 2 ? 1 : 2))
if [[ -n ${WARMUP:-} ]]; then
  wrk -t"$threads" -c"$connections" -d"$WARMUP" -s bench/wrk/miss.lua "http://127.0.0.1:$app_port/transform" > /dev/null
  curl -sf -X POST "http://127.0.0.1:$upstream_port/__control/reset" > /dev/null
  curl -sf -X PUT "http://127.0.0.1:$upstream_port/__control/faults" -d "$faults" > /dev/null
fi
histogram() { curl -s "http://127.0.0.1:$metrics_port/metrics" | grep -E '^http_request_duration_seconds_bucket\{le="[^"]+",route="/transform",method="POST",status="200"' | sed -E 's/.*le="([^"]+)".* ([0-9]+)$/\1 \2/'; }
before=$(histogram)
WRK_CONNECTIONS=$connections wrk -t"$threads" -c"$connections" -d"$duration" --latency -s bench/wrk/miss.lua "http://127.0.0.1:$app_port/transform" \
  | node -e '
    let out = ""; process.stdin.on("data", (c) => (out += c)).on("end", () => {
      const [before, json] = out.split(/^WRK_JSON /m);
      process.stdout.write(before);
      const r = JSON.parse(json), ms = (us) => (us / 1000).toFixed(1);
      console.log(`non-2xx ${r.status}, socket errors ${r.connect + r.read + r.write + r.timeout}`);
      console.log(`latency ms, as wrk prints it (corrected for coordinated omission): p50 ${ms(r.p50)} p90 ${ms(r.p90)} p99 ${ms(r.p99)} max ${ms(r.max)}`);
      console.log(`latency ms, measured (one sample per answer, ${r.measured.samples} answers): p50 ${ms(r.measured.p50)} p90 ${ms(r.measured.p90)} p99 ${ms(r.measured.p99)}`);
    });'
# The service's own view of the same run: its answers by duration (≤ le seconds), warm-up excluded.
echo "service: $(paste -d' ' <(echo "$before") <(histogram) | awk '{printf "<=%ss %d, ", $1, $4 - $2}')"
echo "upstream: $(curl -s "http://127.0.0.1:$upstream_port/__control/stats")"
