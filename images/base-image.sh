#!/usr/bin/env bash
# Choose or make the base image of every module image and print its name as
# the last line of stdout (progress goes to stderr), so callers can do
#     BASE=$(bash images/base-image.sh)
#
# Every pin comes from images/pins.env.  In order:
#   1. $BASE when set (nothing is checked or built);
#   2. $PYTHON_SLIM (python:3.11-slim by digest) when it is present locally or
#      `docker pull` gets it within $PULL_TIMEOUT seconds (skip with NO_PULL=1);
#   3. confluence/base:<suite>-py311-<snapshot> when the engine has it;
#   4. the same image from the base cache, a `docker load` archive
#      $CONFLUENCE_CACHE/base-<suite>-py311-<snapshot>[-live].tar (default cache:
#      ~/.cache/confluence; CI keeps it between runs where the machine does);
#   5. else bootstrap it: debootstrap Debian <suite> minbase + python3,
#      python3-venv, ca-certificates from the dated snapshot of Debian's archive
#      (http://snapshot.debian.org/archive/debian/<snapshot>/), strip docs, logs and
#      caches, and make a `docker load` archive by hand: one layer whose files are
#      sorted, owned numerically and dated no later than SOURCE_DATE_EPOCH, and an
#      image "created" at SOURCE_DATE_EPOCH, so the same packages give the same
#      image id.  The archive is kept in the cache (4.) and loaded.
#      When snapshot.debian.org cannot be reached, the live mirror
#      ($DEBIAN_FALLBACK_MIRROR) is used instead: a loud warning, the tag and the
#      cache file get a "-live" suffix and the label confluence.debian-source
#      says "live mirror (not reproducible)".  REQUIRE_SNAPSHOT=1 makes that an error.
# Needs root, debootstrap and a Debian mirror for 5., not an image registry.
# REBUILD_BASE=1 bootstraps again over an existing image and cache file.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=images/pins.env
source "$HERE/pins.env"
SNAPSHOT=${DEBIAN_SNAPSHOT_OVERRIDE:-$DEBIAN_SNAPSHOT}
SUITE=$DEBIAN_SUITE
SNAPSHOT_URL=http://snapshot.debian.org/archive/debian/$SNAPSHOT
PULL_TIMEOUT=${PULL_TIMEOUT:-30}
CACHE=${CONFLUENCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/confluence}
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
LOCK=${TMPDIR:-/tmp}/confluence-base-image.lock

say() { echo "base-image: $*" >&2; }
die() { say "error: $*"; exit 1; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

if [[ -n "${BASE:-}" ]]; then
  say "using \$BASE=$BASE"
  echo "$BASE"
  exit 0
fi

docker info >/dev/null 2>&1 || die "no Docker engine answers (start one: bash images/start-dockerd.sh)"

if have_image "$PYTHON_SLIM"; then
  say "$PYTHON_SLIM is present locally"
  echo "$PYTHON_SLIM"
  exit 0
fi
if [[ "${NO_PULL:-0}" != 1 ]]; then
  if timeout "$PULL_TIMEOUT" docker pull -q "$PYTHON_SLIM" >&2 2>/dev/null; then
    say "pulled $PYTHON_SLIM"
    echo "$PYTHON_SLIM"
    exit 0
  fi
  say "cannot pull ${PYTHON_SLIM%%@*} by digest (no registry); using a bootstrapped Debian $SUITE base"
fi

# Two builds at once must not both bootstrap.
exec 9>"$LOCK"
flock 9

# Where the packages come from: the snapshot, else (loudly) the live mirror.
if [[ -n "${DEBIAN_MIRROR:-}" ]]; then
  MIRROR=$DEBIAN_MIRROR SOURCE="$DEBIAN_MIRROR (DEBIAN_MIRROR, taken as the snapshot $SNAPSHOT)" SUFFIX=""
elif curl -fsS -o /dev/null --max-time 20 "$SNAPSHOT_URL/dists/$SUITE/Release" 2>/dev/null; then
  MIRROR=$SNAPSHOT_URL SOURCE=$SNAPSHOT_URL SUFFIX=""
else
  [[ "${REQUIRE_SNAPSHOT:-0}" == 1 ]] && die "snapshot.debian.org cannot be reached ($SNAPSHOT_URL) and REQUIRE_SNAPSHOT=1"
  MIRROR=$DEBIAN_FALLBACK_MIRROR SUFFIX="-live"
  SOURCE="$DEBIAN_FALLBACK_MIRROR: live mirror (not reproducible; snapshot $SNAPSHOT unreachable)"
fi
TAG=${LOCAL_BASE:-confluence/base:$SUITE-py311-$SNAPSHOT$SUFFIX}
ARCHIVE=$CACHE/base-$SUITE-py311-$SNAPSHOT$SUFFIX.tar
if [[ -n $SUFFIX ]]; then
  say "WARNING ==================================================================="
  say "WARNING snapshot.debian.org does not answer ($SNAPSHOT_URL)"
  say "WARNING the base comes from the LIVE mirror $DEBIAN_FALLBACK_MIRROR: it is NOT"
  say "WARNING reproducible (tag $TAG, label confluence.debian-source)"
  say "WARNING ==================================================================="
fi

if have_image "$TAG" && [[ "${REBUILD_BASE:-0}" != 1 ]]; then
  say "reusing $TAG"
  echo "$TAG"
  exit 0
fi
if [[ -f $ARCHIVE && "${REBUILD_BASE:-0}" != 1 ]]; then
  started=$SECONDS
  if docker load -q -i "$ARCHIVE" >&2 && have_image "$TAG"; then
    say "base cache hit: loaded $TAG from $ARCHIVE in $((SECONDS - started)) s"
    echo "$TAG"
    exit 0
  fi
  say "the base cache $ARCHIVE does not load: bootstrapping again"
fi

[[ $(id -u) == 0 ]] || die "bootstrapping $TAG needs root (debootstrap); run as root or set BASE"
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install -y debootstrap) and ${PYTHON_SLIM%%@*} cannot be pulled"
if [[ -f $CA_BUNDLE ]]; then
  export SSL_CERT_FILE=$CA_BUNDLE CURL_CA_BUNDLE=$CA_BUNDLE  # for an https:// mirror
fi
export SOURCE_DATE_EPOCH

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/confluence-base.XXXXXX")
ROOTFS=$WORK/rootfs
cleanup() { rm -rf --one-file-system "$WORK"; }
trap cleanup EXIT

say "base cache miss ($ARCHIVE): debootstrap $SUITE from $MIRROR (a few minutes)"
started=$SECONDS
if ! debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
      "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
  tail -n 20 "$WORK/debootstrap.log" >&2
  cp "$WORK/debootstrap.log" "${TMPDIR:-/tmp}/confluence-debootstrap.log" || true
  die "debootstrap failed (full log: ${TMPDIR:-/tmp}/confluence-debootstrap.log)"
fi
say "debootstrap took $((SECONDS - started)) s"

# apt in images built on this base reads the same archive (a snapshot's Release is past its
# Valid-Until date, hence check-valid-until=no).
if [[ -z $SUFFIX ]]; then
  echo "deb [check-valid-until=no] $MIRROR $SUITE main" >"$ROOTFS/etc/apt/sources.list"
else
  echo "deb $MIRROR $SUITE main" >"$ROOTFS/etc/apt/sources.list"
fi
# Strip what a container never needs, and what differs from one bootstrap to the next (logs,
# caches, the machine id).  dpkg's database stays, so a module's Dockerfile can still
# `apt-get update && apt-get install` a system library.
rm -rf "$ROOTFS"/usr/share/{doc,man,info,locale,lintian,linda}/* \
       "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/cache/debconf/*-old \
       "$ROOTFS"/var/cache/ldconfig/aux-cache "$ROOTFS"/var/lib/dpkg/*-old \
       "$ROOTFS"/var/log/* "$ROOTFS"/tmp/* "$ROOTFS"/root/.cache \
       "$ROOTFS"/etc/hostname "$ROOTFS"/etc/resolv.conf
find "$ROOTFS/usr/lib" -name '__pycache__' -prune -exec rm -rf {} +  # written at bootstrap time
: >"$ROOTFS/etc/machine-id"
chmod 1777 "$ROOTFS/tmp"
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
chroot "$ROOTFS" dpkg-query -W -f '${Package}=${Version}\n' >"$WORK/packages.txt"

# A `docker load` archive made by hand (docker import would stamp the current time).
say "making $TAG ($(wc -l <"$WORK/packages.txt") Debian packages)"
mkdir -p "$WORK/image/layer"
tar -C "$ROOTFS" --sort=name --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -cf "$WORK/image/layer/layer.tar" .
python3 - "$WORK/image" "$TAG" "$SOURCE_DATE_EPOCH" "$SOURCE" "$SNAPSHOT" "$WORK/packages.txt" <<'PY'
import datetime, hashlib, json, sys
from pathlib import Path

out, tag, epoch, source, snapshot, packages = sys.argv[1:]
out = Path(out)
digest = hashlib.sha256()
with (out / "layer" / "layer.tar").open("rb") as fh:
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
created = datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
pkgs = Path(packages).read_text().split()
python = next((p.split("=", 1)[1] for p in pkgs if p.startswith("python3.11=")), "?")
config = {
    "architecture": "amd64", "os": "linux", "created": created,
    "config": {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"],
        "Cmd": ["python3"],
        "Labels": {
            "confluence.base": "1", "confluence.debian-source": source,
            "confluence.debian-snapshot": snapshot, "confluence.python": python,
            "confluence.debian-packages": hashlib.sha256("\n".join(pkgs).encode()).hexdigest(),
        },
    },
    "rootfs": {"type": "layers", "diff_ids": [f"sha256:{digest.hexdigest()}"]},
    "history": [{"created": created, "created_by": f"images/base-image.sh: Debian minbase + python3 from {source}"}],
}
blob = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
name = hashlib.sha256(blob).hexdigest() + ".json"
(out / name).write_bytes(blob)
(out / "manifest.json").write_text(json.dumps([{"Config": name, "RepoTags": [tag], "Layers": ["layer/layer.tar"]}]))
PY
mkdir -p "$CACHE"
tar -C "$WORK/image" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    -cf "$ARCHIVE.part" .
mv -f "$ARCHIVE.part" "$ARCHIVE"
cp "$WORK/packages.txt" "${ARCHIVE%.tar}.packages.txt"
docker load -q -i "$ARCHIVE" >&2
have_image "$TAG" || die "docker load of $ARCHIVE gave no $TAG"
say "made $TAG in $((SECONDS - started)) s ($(du -m "$ARCHIVE" | cut -f1) MB cached in $ARCHIVE; id $(docker image inspect -f '{{.Id}}' "$TAG"))"
echo "$TAG"
