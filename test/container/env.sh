# shellcheck shell=bash
# Shared settings of the container test, sourced by its scripts.
# Everything it keeps between runs lives under CACHE_DIR: the Debian rootfs tarball and the
# containers storage (stand-in base image, build layers).
CACHE_DIR="${TRANSFORM_API_CACHE_DIR:-/var/cache/transform-api}"
RUN_DIR="${TRANSFORM_API_RUN_DIR:-/run/transform-api-ci}"
STORAGE_OPTS=(--root "$CACHE_DIR/containers/storage" --runroot "$RUN_DIR/containers" --storage-driver vfs)

bh() { buildah "${STORAGE_OPTS[@]}" "$@"; }
pm() { podman "${STORAGE_OPTS[@]}" --log-level error --cgroup-manager cgroupfs --events-backend file "$@"; }
log() { printf '[container-test] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
