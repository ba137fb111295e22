#!/usr/bin/env bash
# Instructions per cache hit, counted by valgrind's callgrind: the service's production build and
# the bare NestJS-on-Fastify reference, one after the other, under the same wrk load. Run
# `npm run build` first; needs valgrind and wrk (Debian packages).
#
#   bench/instructions.sh [seconds measured, default 30]
#
# Why: req/s and CPU µs on a shared virtual machine move by ±50 % from one minute to the next,
# which hides any change worth a few percent. Instructions retired in user space are the same from
# run to run whatever else the host does (within about 10 %: how many requests one event-loop turn
# takes changes the per-request share of its fixed cost), so two builds or the service and its
# reference compare in one run. The kernel's share (socket reads and writes, the same for both
# targets) is not counted, so the ratio here is lower than the req/s ratio would be.
#
# Each target runs under callgrind with instrumentation off through start-up and a 20 s warm-up
# (the JIT settles), then on for 5 s, then its counters are zeroed, `seconds` of load are counted,
# and the total is divided by the answers wrk counted. libuv's io_uring is off: valgrind does not
# follow it. No HOST for the target: valgrind names its control pipes after that variable too.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}

for tool in valgrind callgrind_control wrk; do
  command -v "$tool" > /dev/null || { echo "$tool is not installed: apt-get install valgrind wrk" >&2; exit 1; }
done
[[ -f dist/main.js ]] || { echo "no production build: run npm run build first" >&2; exit 1; }

free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
# BENCH_CALLGRIND_DIR: keep the dumps there (for callgrind_annotate); else a temporary directory.
work=${BENCH_CALLGRIND_DIR:-$(mktemp -d)}
mkdir -p "$work"
keep=${BENCH_CALLGRIND_DIR:+yes}
upstream_port=$(free_port)
PORT=$upstream_port HOST=127.0.0.1 node dist/shoutcloud-server/main.js > /dev/null &
upstream_pid=$!
target_pid=
trap 'kill $target_pid $upstream_pid 2> /dev/null || true; [[ -n $keep ]] || rm -rf "$work"' EXIT

# One hit body (bench/wrk/hits.lua), answered from the in-process tier after its first request.
load() { wrk -t1 -c10 -d"$1" -s bench/wrk/hits.lua "http://127.0.0.1:$2/transform"; }

# count NAME SCRIPT: prints "NAME answers instructions"
count() {
  local name=$1 script=$2 port
  port=$(free_port)
  env PORT="$port" LOG_LEVEL=warn UV_USE_IO_URING=0 \
    SHOUTCLOUD_URL="http://127.0.0.1:$upstream_port" \
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/$name.%p" \
    node "$script" > "$work/$name.log" 2>&1 &
  target_pid=$!
  for _ in $(seq 1 600); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break
    kill -0 "$target_pid" 2> /dev/null || { cat "$work/$name.log" >&2; exit 1; }
    sleep 0.5
  done
  # callgrind_control needs valgrind's own pid, which need not be the background job's.
  local valgrind_pid
  valgrind_pid=$(pgrep -f "callgrind-out-file=$work/$name")
  load 20s "$port" > /dev/null
  callgrind_control -i on "$valgrind_pid" > /dev/null 2>&1
  load 5s "$port" > /dev/null
  callgrind_control -z "$valgrind_pid" > /dev/null 2>&1
  local answers
  answers=$(load "${seconds}s" "$port" | awk '/requests in/ { print $1 }')
  callgrind_control -d "$valgrind_pid" > /dev/null 2>&1
  # The dump after the zeroing is the file numbered .1.
  local dump="$work/$name.$valgrind_pid.1"
  for _ in $(seq 1 60); do grep -q '^summary:' "$dump" 2> /dev/null && break; sleep 0.5; done
  kill "$target_pid"
  wait "$target_pid" 2> /dev/null || true
  target_pid=
  echo "$name $answers $(awk '/^summary:/ { print $2 }' "$dump")"
}

# BENCH_SERVICE_MAIN: another build of the service (a copy of dist/ with its package.json one level up), to compare builds.
service=$(count service "${BENCH_SERVICE_MAIN:-dist/main.js}")
nest=$(count nest bench/nest-reference.mjs)
# shellcheck disable=SC2016 # JavaScript, not shell
node -e '
  const rows = process.argv.slice(1).map((line) => { const [name, answers, ir] = line.split(" "); return { name, answers: Number(answers), perHit: Number(ir) / Number(answers) }; });
  const [service, nest] = rows;
  console.log("| target | answers counted | instructions per hit |\n| --- | --- | --- |");
  for (const row of rows) console.log(`| ${row.name} | ${row.answers.toLocaleString("en")} | ${Math.round(row.perHit).toLocaleString("en")} |`);
  console.log(`\nbare Nest ÷ service: ${(nest.perHit / service.perHit).toFixed(2)} (instructions in user space; 1.00 would be the framework'"'"'s ceiling)`);
' "$service" "$nest"
