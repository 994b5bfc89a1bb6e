#!/usr/bin/env bash
# Make sure a Docker engine answers (CI on a fresh Debian machine, as root):
# exit 0 when `docker info` works, else install docker.io if dockerd is
# missing, start dockerd in the background (log: $DOCKERD_LOG) and wait up to
# $DOCKERD_WAIT (60) s for it.  On failure print one line with the reason and exit 1.
# apt-get waits up to $APT_LOCK_WAIT (600) s for another apt or dpkg (unattended
# upgrades, a parallel job) to release its locks instead of failing at once.
set -euo pipefail

LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
WAIT=${DOCKERD_WAIT:-60}
APT_LOCK_WAIT=${APT_LOCK_WAIT:-600}

fail() { echo "start-dockerd: $*" >&2; exit 1; }

# apt_get ARGS...: apt-get that waits for the dpkg lock (DPkg::Lock::Timeout) and, for the
# package lists' lock that option does not cover, retries while another apt holds it.
apt_get() {
  local deadline=$((SECONDS + APT_LOCK_WAIT)) out
  while :; do
    if out=$(apt-get -o DPkg::Lock::Timeout="$APT_LOCK_WAIT" "$@" 2>&1); then
      echo "$out"
      return 0
    fi
    echo "$out"
    if grep -q 'Could not get lock\|Unable to lock' <<<"$out" && ((SECONDS < deadline)); then
      echo "start-dockerd: apt is busy (another apt-get or dpkg holds its lock): waiting" >&2
      sleep 5
      continue
    fi
    return 1
  done
}

docker info >/dev/null 2>&1 && exit 0

if ! command -v dockerd >/dev/null 2>&1; then
  [[ $(id -u) == 0 ]] || fail "dockerd is not installed and installing it needs root"
  export DEBIAN_FRONTEND=noninteractive
  { apt_get update -q && apt_get install -y -q --no-install-recommends docker.io; } >"$LOG.install" 2>&1 \
    || fail "apt-get install docker.io failed: $(grep -E '^(E|W):' "$LOG.install" | tail -n 1) (see $LOG.install)"
fi
[[ $(id -u) == 0 ]] || fail "no Docker engine answers and starting dockerd needs root"

started=0
if ! pgrep -x dockerd >/dev/null 2>&1; then
  nohup dockerd >"$LOG" 2>&1 </dev/null &
  started=1
  echo "start-dockerd: started dockerd (pid $!, log $LOG)" >&2
fi
for ((i = 0; i < WAIT; i++)); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
if ((started == 0)); then
  fail "a dockerd process runs but \`docker info\` gets no answer within ${WAIT} s (DOCKER_HOST=${DOCKER_HOST:-default})"
fi
reason=$(grep -iE 'level=(fatal|error)' "$LOG" 2>/dev/null | tail -n 1 || true)
fail "dockerd did not answer within ${WAIT} s${reason:+: $reason} (log: $LOG)"
