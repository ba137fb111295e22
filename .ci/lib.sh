# shellcheck shell=bash
# Sourced by .ci/run and the container test scripts. Nothing may stop without saying why: a failing
# command prints the file, line and text where it failed, the calls that led there, and what to do
# about it (FIX, which each step sets before it runs). Also: where the project's caches live, and
# the fresh mode that ignores all of them.
# shellcheck disable=SC2034 # CACHE_DIR, RUN_DIR, CI_NODE_* are read by the scripts that source this
set -Eeuo pipefail
shopt -s inherit_errexit

CI_LOG_PREFIX=${CI_LOG_PREFIX:-ci}
FIX=${FIX:-}

ci_log() { printf '%s: %s\n' "$CI_LOG_PREFIX" "$*" >&2; }
# An expected failure with its remedy: prints both, exits 1 (no trap report: the reason is known).
ci_die() {
  ci_log "FAILED: $1"
  [ -z "${2:-}" ] || ci_log "  how to fix: $2"
  exit 1
}

ci_on_err() {
  local rc=$1 line=$2 file=${BASH_SOURCE[1]:-$0} text i
  text=$(sed -n "${line}{s/^[[:space:]]*//;p;}" "$file" 2>/dev/null || true)
  if [ "${BASH_SUBSHELL:-0}" -gt 0 ]; then
    ci_log "  (in a subshell) $file:$line exited $rc: $text"
    exit "$rc"
  fi
  ci_log "FAILED (exit $rc) at $file:$line: $text"
  for ((i = 1; i < ${#FUNCNAME[@]} - 1; i++)); do
    ci_log "  called from ${FUNCNAME[i + 1]} at ${BASH_SOURCE[i + 1]}:${BASH_LINENO[i]}"
  done
  ci_log "  how to fix: ${FIX:-read the output above; the command and line are named here}"
  exit "$rc"
}
trap 'ci_on_err $? $LINENO' ERR

# One EXIT trap per script, running every registered clean-up (last registered first); they can
# read the script's exit status in CI_EXIT_STATUS.
CI_AT_EXIT=()
# `ci_at_exit --last cmd` runs cmd after all the others (a closing line stays the last line).
ci_at_exit() {
  if [ "$1" = --last ]; then CI_AT_EXIT=("${CI_AT_EXIT[@]}" "$2"); else CI_AT_EXIT=("$1" "${CI_AT_EXIT[@]}"); fi
}
ci_run_at_exit() {
  CI_EXIT_STATUS=$?
  local cmd
  trap - ERR
  for cmd in "${CI_AT_EXIT[@]}"; do eval "$cmd" || true; done
  return "$CI_EXIT_STATUS"
}
trap ci_run_at_exit EXIT

# Fresh mode (CI_FRESH=1, or `--fresh`): every cache the project keeps on the machine (the Node
# folder, the Debian rootfs, the stand-in base image and build storage, the npm cache) moves to a
# new empty folder, removed again when the run passes. Set once, by the outermost script.
if [ "${CI_FRESH:-}" = 1 ] && [ -z "${TRANSFORM_API_FRESH_DIR:-}" ]; then
  TRANSFORM_API_FRESH_DIR=$(mktemp -d /var/tmp/transform-api-fresh.XXXXXX)
  export TRANSFORM_API_FRESH_DIR
  export TRANSFORM_API_CACHE_DIR=$TRANSFORM_API_FRESH_DIR/cache
  export TRANSFORM_API_RUN_DIR=$TRANSFORM_API_FRESH_DIR/run
  export npm_config_cache=$TRANSFORM_API_FRESH_DIR/cache/npm-cache
  ci_fresh_cleanup() {
    local mounts
    if [ "$CI_EXIT_STATUS" != 0 ]; then
      ci_log "fresh mode: kept $TRANSFORM_API_FRESH_DIR for the logs (rm -rf it when done)"
      return
    fi
    mounts=$(findmnt -rno TARGET | grep -F "$TRANSFORM_API_FRESH_DIR/" | sort -r || true)
    [ -z "$mounts" ] || xargs -r -n1 umount -l <<<"$mounts" || true
    rm -rf "$TRANSFORM_API_FRESH_DIR"
  }
  ci_at_exit ci_fresh_cleanup
fi
CACHE_DIR="${TRANSFORM_API_CACHE_DIR:-/var/cache/transform-api}"
RUN_DIR="${TRANSFORM_API_RUN_DIR:-/run/transform-api-ci}"

# The Dockerfile's default base, node:X.Y.Z-<suite>-slim: the one place the Node version is written.
ci_dockerfile_node_image() {
  local image
  image=$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile | head -1)
  [[ "$image" =~ ^node:([0-9]+\.[0-9]+\.[0-9]+)-([a-z]+)-slim$ ]] \
    || ci_die "the Dockerfile's NODE_IMAGE default '$image' is not node:X.Y.Z-<debian suite>-slim" \
      "keep ARG NODE_IMAGE=node:X.Y.Z-<suite>-slim in the Dockerfile, or teach .ci/lib.sh about the new form"
  CI_NODE_VERSION=${BASH_REMATCH[1]}
  CI_DEBIAN_SUITE=${BASH_REMATCH[2]}
}

# Debian packages, for what the machine lacks. apt's own errors go to stderr as they are.
ci_apt_install() {
  local saved_fix=$FIX
  [ "$(id -u)" = 0 ] || ci_die "needs Debian packages $* and is not root" "install them (apt-get install $*) or run as root"
  FIX="apt-get could not install $*: check the apt sources and network (apt-get update), then run again"
  if [ -z "${CI_APT_UPDATED:-}" ]; then apt-get update -qq; CI_APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  FIX=$saved_fix
}
