# shellcheck shell=bash
# Sourced by .ci/run after .ci/lib.sh. Tests, `npm start` and the image run one Node: the version
# of the Dockerfile's base image. Where the machine's Node has another major, that exact version
# comes from the npm registry's `node-linux-<arch>` package (the official binary, checked against
# the registry's integrity hash) into $CACHE_DIR/node, and its bin goes first on PATH: the
# machine's npm then runs on it, and so does everything npm starts.
ci_use_node() {
  local have arch dir tgz
  ci_dockerfile_node_image
  FIX="keep .nvmrc equal to the Dockerfile's Node version ($CI_NODE_VERSION)"
  [ "$(tr -d ' \n' < .nvmrc)" = "$CI_NODE_VERSION" ] \
    || ci_die ".nvmrc says '$(tr -d '\n' < .nvmrc)' but the Dockerfile's base is Node $CI_NODE_VERSION" "$FIX"

  have=$(node -p process.versions.node 2>/dev/null || true)
  if [ "${have%%.*}" = "${CI_NODE_VERSION%%.*}" ]; then
    ci_log "Node: the machine's v$have ($(command -v node)) has the Dockerfile's major (v$CI_NODE_VERSION)"
    return
  fi
  case $(uname -m) in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) ci_die "no node-linux-* package for $(uname -m)" "install Node $CI_NODE_VERSION yourself (nvm install), then run .ci/run again" ;;
  esac
  dir="$CACHE_DIR/node/$CI_NODE_VERSION-linux-$arch"
  if [ ! -x "$dir/bin/node" ]; then
    if ! command -v npm >/dev/null; then
      ci_log "Node: no npm on this machine; Debian's npm only fetches Node $CI_NODE_VERSION"
      ci_apt_install npm
    fi
    ci_log "Node: the machine has ${have:+v}${have:-none}; fetching v$CI_NODE_VERSION (npm pack node-linux-$arch@$CI_NODE_VERSION)"
    FIX="check that the npm registry is reachable (npm ping) and has node-linux-$arch@$CI_NODE_VERSION (npm view node-linux-$arch versions)"
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp"
    tgz=$(cd "$dir.tmp" && npm pack --silent "node-linux-$arch@$CI_NODE_VERSION" | tail -1)
    tar -C "$dir.tmp" --strip-components=1 -xzf "$dir.tmp/$tgz"
    rm "$dir.tmp/$tgz"
    [ "$("$dir.tmp/bin/node" -p process.versions.node)" = "$CI_NODE_VERSION" ] \
      || ci_die "node-linux-$arch@$CI_NODE_VERSION does not run here or is another version" "$FIX"
    mv "$dir.tmp" "$dir"
  fi
  PATH="$dir/bin:$PATH"
  export PATH
  ci_log "Node: v$("$dir/bin/node" -p process.versions.node) from $dir (the machine has ${have:+v}${have:-none}); npm $(npm -v) runs on it"
}
