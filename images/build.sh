#!/usr/bin/env bash
# Build the module images: images/build.sh [IMAGE...]   (what `make build` runs)
#
# With no IMAGE: every image of the workflow table (`confluence images`)
# whose <path> has a pyproject.toml; ALL=1 adds the extra images (selftest,
# from images/test-image).  Every image is built from the one template
# images/module.Dockerfile (images/buildplan.py says what to build).
#   0. checks: a Docker engine answers and runs the target platform
#      (TARGET_PLATFORM in images/pins.env, linux/amd64; another one is an
#      error unless ALLOW_EMULATION=1, which passes --platform and needs
#      binfmt/qemu), and images/lock/*.in still match the packages (else
#      `make lock`).
#   1. the base image: images/base-image.sh (python:3.11-slim by digest, or
#      Debian bookworm bootstrapped from a dated snapshot, cached as a
#      `docker load` archive in $CONFLUENCE_CACHE, default ~/.cache/confluence).
#   2. the wheel builder confluence/wheels:<lock id>-<base id>
#      (images/wheels.Dockerfile), only when the engine does not have it: a
#      stage of the target platform that fetches every wheel of the locks
#      (hash-checked) from the host's wheel cache $CONFLUENCE_CACHE/wheels,
#      else the package index (OFFLINE=1 forbids the index), with the host's
#      CA bundle.  Its wheels are copied back into the host's cache, so the
#      next build (even of a new lock that shares most wheels) is offline.
#   3. the images, JOBS at a time (default 2): docker build -f
#      images/module.Dockerfile of build/context/images/<image> (the image's
#      lock and a clean copy of its repository packages, which its build
#      stage wheels from source) -> confluence/<image>:<VERSION> and :latest
#      (VERSION defaults to core/pyproject.toml's version).
#   4. the build-stage images (label confluence.build-stage=module) and the
#      project's images this build left untagged are removed (KEEP_STAGES=1
#      keeps them: faster rebuilds, a few GB of disk).
# NO_CACHE=1 builds the images without Docker's layer cache (the base and the
# wheel builder are kept).  Ends with a table: image, size (MB), build seconds,
# and the time of each phase.  VERBOSE=1 streams the docker build output (else it goes to
# build/logs/<image>.log).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=images/pins.env
source images/pins.env
export SOURCE_DATE_EPOCH
PY=${PYTHON:-$ROOT/.venv/bin/python}
[[ -x $PY ]] || PY=python3  # buildplan.py needs the `confluence` command: `make install` first
CONTEXT=$ROOT/build/context
LOGS=$ROOT/build/logs
TEMPLATE=$ROOT/images/module.Dockerfile
CACHE=${CONFLUENCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/confluence}
WHEEL_CACHE=$CACHE/wheels
JOBS=${JOBS:-2}
export DOCKER_BUILDKIT=0  # classic builder: the engine here has no buildx

say() { echo "build: $*" >&2; }
die() { say "error: $*"; exit 1; }
plan() { "$PY" images/buildplan.py "$@"; }

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

# 0. checks -------------------------------------------------------------------
docker info >/dev/null 2>&1 || die "no Docker engine answers (start one as root: bash images/start-dockerd.sh)"
host=$(docker info -f '{{.OSType}}/{{.Architecture}}' 2>/dev/null || echo "?")
case $host in
  */x86_64) host=${host%/*}/amd64 ;;
  */aarch64) host=${host%/*}/arm64 ;;
esac
platform_args=()
if [[ $host != "$TARGET_PLATFORM" ]]; then
  say "the Docker engine here runs $host containers; the images are $TARGET_PLATFORM (images/pins.env)."
  say "Their wheels are built inside a $TARGET_PLATFORM stage, so this host's own Python does not matter, but"
  say "building means running $TARGET_PLATFORM programs: that needs emulation (binfmt_misc + qemu-user-static)."
  [[ "${ALLOW_EMULATION:-0}" == 1 ]] || die "this host cannot run $TARGET_PLATFORM natively; set ALLOW_EMULATION=1 to build under emulation (slow)"
  platform_args=(--platform "$TARGET_PLATFORM")
fi
plan lock --check || die "the locks are out of date"
mkdir -p "$LOGS" "$WHEEL_CACHE"
phases=()

# 1. base image ---------------------------------------------------------------
started=$SECONDS
BASE=$(bash images/base-image.sh | tail -n 1)
[[ -n $BASE ]] || die "images/base-image.sh gave no base image"
phases+=("base $((SECONDS - started))")
say "base image: $BASE"

# 2. the wheel builder --------------------------------------------------------
started=$SECONDS
base_id=$(docker image inspect -f '{{.Id}}' "$BASE")
base_id=${base_id#sha256:}
WHEELS=confluence/wheels:$(plan lock-id)-${base_id:0:12}
if docker image inspect "$WHEELS" >/dev/null 2>&1; then
  say "wheel builder: $WHEELS (exists)"
else
  say "wheel builder: $WHEELS (every wheel of images/lock, hash-checked, inside $TARGET_PLATFORM)"
  plan wheel-context "$CONTEXT/wheels-builder" "$WHEEL_CACHE" >/dev/null
  cmd=(docker build --force-rm "${platform_args[@]}" --build-arg "BASE=$BASE" --build-arg "OFFLINE=${OFFLINE:-0}"
       --build-arg "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH" -f images/wheels.Dockerfile -t "$WHEELS"
       "$CONTEXT/wheels-builder")
  if ! "${cmd[@]}" >"$LOGS/wheels.log" 2>&1; then
    tail -n 30 "$LOGS/wheels.log" >&2
    die "the wheel builder failed (log: build/logs/wheels.log)"
  fi
  grep -h '^wheels: ' "$LOGS/wheels.log" | sed 's/^/build: /' >&2 || true
  # keep its wheels on the host: the next build needs no index
  cid=$(docker create "$WHEELS" true)
  if docker cp "$cid:/wheels/." "$WHEEL_CACHE/" 2>>"$LOGS/wheels.log"; then
    say "host wheel cache $WHEEL_CACHE: $(find "$WHEEL_CACHE" -name '*.whl' | wc -l) wheels"
  else
    say "could not copy the wheels back to $WHEEL_CACHE (the next build may need the index)"
  fi
  docker rm -f "$cid" >/dev/null
  # wheel builders of other locks or bases: superseded
  docker images --filter reference='confluence/wheels' --format '{{.Repository}}:{{.Tag}}' \
    | grep -vx "$WHEELS" | xargs -r docker rmi >/dev/null 2>&1 || true
fi
phases+=("wheels $((SECONDS - started))")

# 3. images, JOBS at a time ---------------------------------------------------
started=$SECONDS
RESULTS=$(mktemp -d "${TMPDIR:-/tmp}/confluence-build.XXXXXX")
trap 'rm -rf "$RESULTS"' EXIT

build_one() {  # image path package command: one image; writes $RESULTS/<image>.ok or .failed
  local image=$1 path=$2 package=$3 command=$4 tag=confluence/$1:$VERSION t0=$SECONDS ctx
  if ! ctx=$(plan context "$CONTEXT/images/$image" "$image" "$path" 2>"$LOGS/$image.log"); then
    echo "cannot make the build context: $(tail -n 1 "$LOGS/$image.log")" >"$RESULTS/$image.failed"
    return
  fi
  local cmd=(docker build --force-rm "${no_cache[@]}" "${platform_args[@]}" --build-arg "BASE=$BASE" --build-arg "WHEELS=$WHEELS"
             --build-arg "VERSION=$VERSION" --build-arg "IMAGE=$image" --build-arg "PACKAGE=$package"
             --build-arg "COMMAND=$command" -f "$TEMPLATE" -t "$tag" -t "confluence/$image:latest" "$ctx")
  if [[ "${VERBOSE:-0}" == 1 ]]; then
    "${cmd[@]}" >&2 || { echo "docker build failed ($path)" >"$RESULTS/$image.failed"; return; }
  elif ! "${cmd[@]}" >"$LOGS/$image.log" 2>&1; then
    echo "docker build failed ($path; log: build/logs/$image.log)" >"$RESULTS/$image.failed"
    return
  fi
  local bytes
  bytes=$(docker image inspect -f '{{.Size}}' "$tag")
  echo "$tag $((bytes / 1000000)) $((SECONDS - t0))" >"$RESULTS/$image.ok"
}

no_cache=()
[[ "${NO_CACHE:-0}" == 1 ]] && no_cache=(--no-cache)
say "building ${#rows[@]} image(s), $JOBS at a time (JOBS=)"
for row in "${rows[@]}"; do
  IFS=$'\t' read -r image path package command <<<"$row"
  while (($(jobs -rp | wc -l) >= JOBS)); do wait -n || true; done
  say "building confluence/$image:$VERSION: $package, default command \"$command\""
  build_one "$image" "$path" "$package" "$command" &
done
wait
phases+=("images $((SECONDS - started))")

# 4. remove the build stages --------------------------------------------------
if [[ "${KEEP_STAGES:-0}" != 1 ]]; then
  started=$SECONDS
  freed=$(docker image prune -f --filter label=confluence.build-stage=module 2>&1 | tail -n 1)
  # the project's images that this build's tags replaced (untagged now)
  docker image prune -f --filter label=confluence.image >/dev/null 2>&1 || true
  say "removed the build-stage images (${freed:-nothing to remove})"
  phases+=("prune $((SECONDS - started))")
fi

failed=0
for row in "${rows[@]}"; do
  IFS=$'\t' read -r image path _ <<<"$row"
  if [[ -f $RESULTS/$image.failed ]]; then
    failed=1
    say "image $image failed: $(cat "$RESULTS/$image.failed")"
    [[ -f $LOGS/$image.log ]] && tail -n 20 "$LOGS/$image.log" >&2
  fi
done
{
  echo "image size_MB build_s"
  for row in "${rows[@]}"; do
    IFS=$'\t' read -r image _ <<<"$row"
    [[ -f $RESULTS/$image.ok ]] && cat "$RESULTS/$image.ok"
  done
} | awk '{ w = length($1) > w ? length($1) : w; a[NR] = $1; b[NR] = $2; c[NR] = $3 }
        END { for (i = 1; i <= NR; i++) printf "%-" w "s %8s %8s\n", a[i], b[i], c[i] }'
say "phases (s): ${phases[*]}"
((failed == 0)) || die "some images failed to build"
