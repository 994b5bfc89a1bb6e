#!/usr/bin/env bash
# Choose or make the base image of every module image and print its name as
# the last line of stdout (progress goes to stderr), so callers can do
#     BASE=$(bash docker/base-image.sh)
#
# In order:
#   1. $BASE when set (nothing is checked or built);
#   2. python:3.11-slim when it is present locally or `docker pull` gets it
#      within $PULL_TIMEOUT seconds (skip the pull with NO_PULL=1);
#   3. confluence/base:bookworm-py311 when it already exists;
#   4. else bootstrap it: debootstrap Debian bookworm (minbase + python3,
#      python3-venv, ca-certificates; Python 3.11 like the host, so host-built
#      wheels work), strip docs, man pages, locales, apt lists and caches,
#      and `docker import` the tree.  Needs root, debootstrap and a Debian
#      mirror ($DEBIAN_MIRROR), not an image registry.
# Set REBUILD_BASE=1 to bootstrap again over an existing confluence/base.
set -euo pipefail

SLIM=python:3.11-slim
LOCAL_BASE=${LOCAL_BASE:-confluence/base:bookworm-py311}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PULL_TIMEOUT=${PULL_TIMEOUT:-30}
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
LOCK=${TMPDIR:-/tmp}/confluence-base-image.lock

say() { echo "base-image: $*" >&2; }
die() { say "error: $*"; exit 1; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

if [[ -n "${BASE:-}" ]]; then
  say "using \$BASE"
  echo "$BASE"
  exit 0
fi

docker info >/dev/null 2>&1 || die "no Docker engine answers (start one: bash docker/start-dockerd.sh)"

if have_image "$SLIM"; then
  say "$SLIM is present locally"
  echo "$SLIM"
  exit 0
fi
if [[ "${NO_PULL:-0}" != 1 ]]; then
  if timeout "$PULL_TIMEOUT" docker pull -q "$SLIM" >&2 2>/dev/null; then
    say "pulled $SLIM"
    echo "$SLIM"
    exit 0
  fi
  say "cannot pull $SLIM (no registry); using a bootstrapped Debian $SUITE base"
fi

# Two builds at once must not both bootstrap.
exec 9>"$LOCK"
flock 9

if have_image "$LOCAL_BASE" && [[ "${REBUILD_BASE:-0}" != 1 ]]; then
  say "reusing $LOCAL_BASE"
  echo "$LOCAL_BASE"
  exit 0
fi

[[ $(id -u) == 0 ]] || die "bootstrapping $LOCAL_BASE needs root (debootstrap); run as root or set BASE"
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install -y debootstrap) and $SLIM cannot be pulled"
if [[ -f $CA_BUNDLE ]]; then
  export SSL_CERT_FILE=$CA_BUNDLE CURL_CA_BUNDLE=$CA_BUNDLE  # for an https:// mirror
fi

ROOTFS=$(mktemp -d "${TMPDIR:-/var/tmp}/confluence-rootfs.XXXXXX")
cleanup() { rm -rf --one-file-system "$ROOTFS"; }
trap cleanup EXIT

say "debootstrap $SUITE from $MIRROR into $ROOTFS (about a minute)"
started=$SECONDS
if ! debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
      "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1; then
  tail -n 20 "$ROOTFS.log" >&2
  die "debootstrap failed (full log: $ROOTFS.log)"
fi
rm -f "$ROOTFS.log"

# Strip what a container never needs.  dpkg's database stays, so a module's
# Dockerfile can still `apt-get update && apt-get install` a system library.
rm -rf "$ROOTFS"/usr/share/{doc,man,info,locale,lintian,linda}/* \
       "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/cache/debconf/*-old \
       "$ROOTFS"/var/log/* "$ROOTFS"/tmp/* "$ROOTFS"/root/.cache \
       "$ROOTFS"/etc/hostname "$ROOTFS"/etc/resolv.conf
# Keep apt from putting docs and caches back in images built on this base.
cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/01-confluence-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
cat >"$ROOTFS/etc/apt/apt.conf.d/01-confluence-clean" <<'EOF'
APT::Install-Recommends "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
EOF

say "importing $LOCAL_BASE"
tar -C "$ROOTFS" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  --message "Debian $SUITE minbase + python3 (confluence docker/base-image.sh)" \
  - "$LOCAL_BASE" >&2
say "made $LOCAL_BASE in $((SECONDS - started)) s"
echo "$LOCAL_BASE"
