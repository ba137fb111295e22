#!/usr/bin/env bash
# `npm run test:container`: builds the real Dockerfile on a stand-in Node base with buildah and
# runs the image with podman, read-only, on loopback. No Docker engine, no image registry.
# Needs root, buildah, podman, runc, debootstrap, curl (`.ci/run` installs them) and `npm run build`.
# `npm run test:container -- --fresh` (or CI_FRESH=1) ignores every cache (see env.sh).
set -Eeuo pipefail
cd "$(dirname "$0")/../.."
for arg in "$@"; do
  case $arg in
    --fresh) export CI_FRESH=1 ;;
    *) echo "usage: npm run test:container [-- --fresh]" >&2; exit 2 ;;
  esac
done
# shellcheck source=test/container/env.sh
source test/container/env.sh

APP_IMAGE=localhost/transform-api:container-test
SHOUT_IMAGE=localhost/transform-api-shoutcloud:container-test
APP_CTR=transform-api-container-test
SHOUT_CTR=transform-api-shoutcloud-container-test
passed=0
failed=0

ok() { passed=$((passed + 1)); printf '  ok   %s\n' "$*"; }
not_ok() { failed=$((failed + 1)); printf '  FAIL %s\n' "$*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

for tool in buildah podman runc debootstrap curl node npm; do
  command -v "$tool" >/dev/null || die "$tool is missing" "apt-get install buildah podman runc debootstrap curl (.ci/run does)"
done
[ "$(id -u)" = 0 ] || die "not root" "run it as root: buildah builds with chroot isolation and vfs storage"
FIX="fix the build (npm run build) first"
if [ ! -f dist/main.js ] || [ ! -f dist/shoutcloud-server/main.js ]; then npm run build >/dev/null; fi

mkdir -p "$CACHE_DIR/containers" "$CACHE_DIR/npm-cache" "$RUN_DIR"
# One run at a time per machine: the names and the cache are shared.
exec 9>"$CACHE_DIR/container-test.lock"
flock 9

shout_pid=
cleanup() {
  pm rm -f -t 0 "$APP_CTR" "$SHOUT_CTR" >/dev/null 2>&1 || true
  [ -z "$shout_pid" ] || kill "$shout_pid" 2>/dev/null || true
}
ci_at_exit cleanup
FIX="remove what an earlier run left: podman ${STORAGE_OPTS[*]} rm -f $APP_CTR $SHOUT_CTR"
cleanup

started=$(date +%s)
FIX="read the stand-in base's FAILED line above"
base=$(bash test/container/standin-base.sh)

# Without --layers: with vfs storage every cached layer is a full copy of the tree, slower than
# building again; the npm cache is mounted from the host instead, so `npm ci` downloads once.
build() {
  local tag=$1 logfile
  shift
  logfile="$CACHE_DIR/build-$(basename "${tag%%:*}").log"
  if ! bh build --isolation chroot --network host --layers=false --pull=never \
      --volume "$CACHE_DIR/npm-cache:/root/.npm" \
      --build-arg "NODE_IMAGE=$base" "$@" -t "$tag" -f Dockerfile . >"$logfile" 2>&1; then
    tail -40 "$logfile" >&2
    die "buildah build $* failed (the last 40 lines are above; all of it: $logfile)" \
      "build the image yourself (docker build -f Dockerfile .) to debug it, or fix what the log says"
  fi
}
t0=$(date +%s); build "$APP_IMAGE"; log "built $APP_IMAGE in $(( $(date +%s) - t0 )) s"
t0=$(date +%s); build "$SHOUT_IMAGE" --target shoutcloud-server; log "built $SHOUT_IMAGE in $(( $(date +%s) - t0 )) s"
pm image prune -f >/dev/null 2>&1 || true

# This machine's sandbox allows neither podman's default rlimits nor crun's cgroup handling.
run_opts=(--runtime runc --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096
  --network host --read-only --read-only-tmpfs=false --cap-drop ALL --security-opt no-new-privileges)

echo "container test: image $APP_IMAGE on $base"
FIX="podman could not inspect or start a container: read its error above (storage: $CACHE_DIR/containers)"

config=$(pm image inspect "$APP_IMAGE" --format '{{.Config.User}}|{{json .Config.Cmd}}|{{index .Config.Labels "org.opencontainers.image.title"}}|{{index .Config.Labels "org.opencontainers.image.source"}}')
check "image runs as user 1000:1000 ($config)" test "${config%%|*}" = "1000:1000"
check 'image CMD is exec-form ["node","dist/main.js"]' grep -qF '|["node","dist/main.js"]|' <<<"$config"
check "image has OCI labels (title, source)" grep -qE '\|transform-api\|https?://' <<<"$config"

shout_port=$(free_port)
PORT=$shout_port HOST=127.0.0.1 node dist/shoutcloud-server/main.js >"$CACHE_DIR/shoutcloud-host.log" 2>&1 &
shout_pid=$!
app_port=$(free_port)
pm run -d --name "$APP_CTR" "${run_opts[@]}" \
  -e HOST=127.0.0.1 -e PORT="$app_port" -e SHOUTCLOUD_URL="http://127.0.0.1:$shout_port" -e LOG_LEVEL=info \
  "$APP_IMAGE" >/dev/null
url="http://127.0.0.1:$app_port"

health=000
for _ in $(seq 150); do
  [ "$(pm inspect "$APP_CTR" --format '{{.State.Running}}')" = true ] || break
  health=$(curl -s -o /dev/null -w '%{http_code}' "$url/health" || true)
  [ "$health" = 200 ] && break
  sleep 0.2
done
if [ "$health" != 200 ]; then pm logs "$APP_CTR" >&2 || true; fi
check "GET /health answers 200 (got $health)" test "$health" = 200
check "GET /health/live answers 200" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/health/live")" = 200
check "GET /docs-json answers 200" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/docs-json")" = 200

uid=$(pm exec "$APP_CTR" node -e 'process.stdout.write(String(process.getuid()))' || echo "?")
check "the app's uid is not 0 (uid $uid)" test "$uid" != 0 -a "$uid" != "?"
pid1=$(pm exec "$APP_CTR" cat /proc/1/cmdline | tr '\0' ' ' || true)
check "PID 1 is node itself, so SIGTERM reaches the app ($pid1)" test "$pid1" = "node dist/main.js "
check "the root filesystem is read-only (/app, /tmp)" \
  pm exec "$APP_CTR" sh -c '! touch /app/probe 2>/dev/null && ! touch /tmp/probe 2>/dev/null'
check "no bundled Shoutcloud server and no dev dependencies in the image" \
  pm exec "$APP_CTR" sh -c '[ ! -e dist/shoutcloud-server ] && [ ! -e node_modules/typescript ] && [ ! -e node_modules/jest ] && [ -f package.json ]'

response=$(curl -s -D "$CACHE_DIR/transform.headers" -H 'content-type: application/json' -d '{"data":"hello world"}' "$url/transform" || true)
check "POST /transform through the bundled Shoutcloud server answers {\"data\":\"DLROW OLLEH\"} ($response)" \
  test "$response" = '{"data":"DLROW OLLEH"}'
check "POST /transform says X-Cache: MISS the first time" grep -qi '^x-cache: MISS' "$CACHE_DIR/transform.headers"

t0=$(date +%s%N)
pm kill --signal TERM "$APP_CTR" >/dev/null
code=$(timeout 10 podman "${STORAGE_OPTS[@]}" --log-level error wait "$APP_CTR" 2>/dev/null || echo timeout)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "SIGTERM: exit code 0 within 10 s (exit $code after $ms ms)" test "$code" = 0

# The shoutcloud-server target, as the shoutcloud-selfhosted component runs it.
port=$(free_port)
pm run -d --name "$SHOUT_CTR" "${run_opts[@]}" -e HOST=127.0.0.1 -e PORT="$port" "$SHOUT_IMAGE" >/dev/null
shout=
for _ in $(seq 100); do
  shout=$(curl -s -H 'Content-Type: application/json' -d '{"INPUT":"abc ß"}' "http://127.0.0.1:$port/V1/SHOUT" || true)
  [ -n "$shout" ] && break
  sleep 0.2
done
check "shoutcloud-server target answers POST /V1/SHOUT ($shout)" grep -qF '"OUTPUT":"ABC ß"' <<<"$shout"
check "shoutcloud-server target keeps its fault switches off" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/__control/stats")" != 200
pm kill --signal TERM "$SHOUT_CTR" >/dev/null
code=$(timeout 10 podman "${STORAGE_OPTS[@]}" --log-level error wait "$SHOUT_CTR" 2>/dev/null || echo timeout)
check "shoutcloud-server target exits 0 on SIGTERM (exit $code)" test "$code" = 0

human() { numfmt --to=iec-i --suffix=B "$1" 2>/dev/null || echo "$1 bytes"; }
app_size=$(pm image inspect "$APP_IMAGE" --format '{{.Size}}')
base_size=$(pm image inspect "$base" --format '{{.Size}}')
shout_size=$(pm image inspect "$SHOUT_IMAGE" --format '{{.Size}}')
echo "image size: $APP_IMAGE $(human "$app_size") ($app_size bytes; the stand-in base is $(human "$base_size"), the app adds $(human $((app_size - base_size))))"
echo "image size: $SHOUT_IMAGE $(human "$shout_size")"
echo "container test took $(( $(date +%s) - started )) s"
echo "container: $passed passed, $failed failed"
[ "$failed" = 0 ]
