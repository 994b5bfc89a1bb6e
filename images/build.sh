#!/usr/bin/env bash
# Build the module images: docker/build.sh [IMAGE...]   (what `make build` runs)
#
# With no IMAGE: every image of the workflow table (`confluence images`)
# whose <path> has a pyproject.toml; ALL=1 adds the extra images (selftest,
# from docker/test-image).  Every image is built from the one template
# docker/module.Dockerfile (docker/buildplan.py says what to build).
#   1. wheels: `pip wheel` on the host of core (+ modules/flpe/core) and each
#      image's package, with every dependency, into build/context/wheels.  The
#      folder is a cache: an offline attempt (--no-index, only the cache) runs
#      first; only when it cannot resolve does pip reach the package index.
#      OFFLINE=1 forbids the index.
#   2. the base image: docker/base-image.sh (python:3.11-slim, or a
#      bootstrapped Debian bookworm; BASE=... overrides).
#   3. docker build -f docker/module.Dockerfile --build-arg PACKAGE=<package>
#      --build-arg COMMAND=<the image's first row command>
#      build/context/images/<image> -> confluence/<image>:<VERSION> and
#      :latest (VERSION defaults to core/pyproject.toml's version).  That
#      context's wheels/ links every third-party wheel but only the image's
#      own local packages (and core), so editing one module does not rebuild
#      every image.
# Ends with a table: image, size (MB), build seconds.  VERBOSE=1 streams the
# docker build output (else it goes to build/logs/<image>.log).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-$ROOT/.venv/bin/python}
[[ -x $PY ]] || PY=python3  # buildplan.py needs the `confluence` command: `make install` first
CONTEXT=$ROOT/build/context
WHEELS=$CONTEXT/wheels
LOGS=$ROOT/build/logs
TEMPLATE=$ROOT/docker/module.Dockerfile
export DOCKER_BUILDKIT=0  # classic builder: the engine here has no buildx

say() { echo "build: $*" >&2; }
die() { say "error: $*"; exit 1; }
plan() { "$PY" docker/buildplan.py "$@"; }

all_flag=()
[[ "${ALL:-0}" == 1 ]] && all_flag=(--all)
listing=$(plan images "${all_flag[@]}" "$@") || die "nothing built"
rows=()
[[ -n $listing ]] && mapfile -t rows <<<"$listing"
if ((${#rows[@]} == 0)); then
  say "no image package exists yet (workflow rows whose <path> has no pyproject.toml are skipped): nothing to build"
  exit 0
fi
VERSION=${VERSION:-$(plan version)}
paths=()
for row in "${rows[@]}"; do
  IFS=$'\t' read -r _ path _ <<<"$row"
  paths+=("$path")
done

docker info >/dev/null 2>&1 || die "no Docker engine answers (start one as root: bash docker/start-dockerd.sh)"

# 1. wheels -------------------------------------------------------------------
started=$SECONDS
mkdir -p "$WHEELS" "$LOGS"
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/confluence-wheels.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
listing=$(plan stage "$STAGE" "${paths[@]}") || die "cannot copy the packages to build"
mapfile -t staged <<<"$listing"
listing=$(plan build-requires "${paths[@]}") || die "cannot read the build requirements"
mapfile -t build_reqs <<<"$listing"
# Fixed zip timestamps: unchanged sources give byte-identical wheels, so the
# COPY wheels layer of an image stays cached.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-315532800}

# cached_pip PYTHON LOG pip-args...: run pip with the wheel cache only, then
# (unless OFFLINE=1) again with the package index when the cache is not enough.
cached_pip() {
  local python=$1 log=$2
  shift 2
  local pip=("$python" -m pip --disable-pip-version-check "$@" --progress-bar off -q --find-links "$WHEELS")
  PIP_NO_CACHE_DIR=1 "${pip[@]}" --no-index >"$log" 2>&1 && return 0
  if [[ "${OFFLINE:-0}" == 1 ]]; then
    tail -n 20 "$log" >&2
    die "the wheel cache build/context/wheels is incomplete and OFFLINE=1 (log: ${log#"$ROOT"/})"
  fi
  say "wheel cache incomplete: asking the package index"
  "${pip[@]}" >"$log" 2>&1 && return 0
  tail -n 30 "$log" >&2
  die "pip failed (log: ${log#"$ROOT"/})"
}

# The local packages are built without build isolation (one isolated env per
# package costs seconds each) by build/wheel-env, a venv holding their
# build requirements (themselves kept in the cache, so this works offline).
# Its pip is upgraded too: the pip a new venv brings (23.x) gives up on
# resolutions that a current one solves (earthaccess' fsspec/s3fs pins).
build_reqs=("pip>=24" "${build_reqs[@]}")
say "build requirements: ${build_reqs[*]}"
cached_pip "$PY" "$LOGS/wheels.log" wheel --wheel-dir "$WHEELS" "${build_reqs[@]}"
BUILDER=$ROOT/build/wheel-env
[[ -x $BUILDER/bin/python ]] || "$PY" -m venv "$BUILDER"
cached_pip "$BUILDER/bin/python" "$LOGS/wheels.log" install --upgrade "${build_reqs[@]}"
say "wheels of ${#staged[@]} local packages and their dependencies -> build/context/wheels"
cached_pip "$BUILDER/bin/python" "$LOGS/wheels.log" wheel --no-build-isolation --wheel-dir "$WHEELS" "${staged[@]}"
say "wheels ready in $((SECONDS - started)) s ($(find "$WHEELS" -name '*.whl' | wc -l) wheels, $(du -sm "$WHEELS" | cut -f1) MB)"

# 2. base image ---------------------------------------------------------------
BASE=$(bash docker/base-image.sh | tail -n 1)
[[ -n $BASE ]] || die "docker/base-image.sh gave no base image"
say "base image: $BASE"

# 3. images -------------------------------------------------------------------
summary=()
for row in "${rows[@]}"; do
  IFS=$'\t' read -r image path package command <<<"$row"
  tag=confluence/$image:$VERSION
  say "building $tag: $package, default command \"$command\""
  started=$SECONDS
  context=$(plan context "$WHEELS" "$CONTEXT/images/$image" "$path")
  cmd=(docker build --build-arg "BASE=$BASE" --build-arg "VERSION=$VERSION"
       --build-arg "PACKAGE=$package" --build-arg "COMMAND=$command"
       -f "$TEMPLATE" -t "$tag" -t "confluence/$image:latest" "$context")
  if [[ "${VERBOSE:-0}" == 1 ]]; then
    "${cmd[@]}" >&2 || die "image $image failed to build ($path)"
  elif ! "${cmd[@]}" >"$LOGS/$image.log" 2>&1; then
    tail -n 30 "$LOGS/$image.log" >&2
    die "image $image failed to build ($path; log: build/logs/$image.log)"
  fi
  seconds=$((SECONDS - started))
  bytes=$(docker image inspect -f '{{.Size}}' "$tag")
  summary+=("$tag $((bytes / 1000000)) $seconds")
done

{
  echo "image size_MB build_s"
  printf '%s\n' "${summary[@]}"
} | awk '{ w = length($1) > w ? length($1) : w; a[NR] = $1; b[NR] = $2; c[NR] = $3 }
        END { for (i = 1; i <= NR; i++) printf "%-" w "s %8s %8s\n", a[i], b[i], c[i] }'
