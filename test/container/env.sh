# shellcheck shell=bash
# Shared settings of the container test, sourced by its scripts (from the repository root).
# .ci/lib.sh: every failure names its command, line and remedy; CACHE_DIR and RUN_DIR, and the
# fresh mode (CI_FRESH=1) that puts them in a new empty folder.
# Everything kept between runs lives under CACHE_DIR: the Debian rootfs tarball, downloads, the
# npm cache mounted into the build, and the containers storage (stand-in base image).
CI_LOG_PREFIX=container-test
# shellcheck source=.ci/lib.sh
source .ci/lib.sh
STORAGE_OPTS=(--root "$CACHE_DIR/containers/storage" --runroot "$RUN_DIR/containers" --storage-driver vfs)

bh() { buildah "${STORAGE_OPTS[@]}" "$@"; }
pm() { podman "${STORAGE_OPTS[@]}" --log-level error --cgroup-manager cgroupfs --events-backend file "$@"; }
log() { ci_log "$*"; }
die() { ci_die "$@"; }
