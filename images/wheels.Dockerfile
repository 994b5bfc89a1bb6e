# The wheel builder: a stage of the target platform (the images' own base, so linux/amd64 and
# CPython 3.11 whatever the host) that holds every third-party wheel of the locks, checked
# against their hashes, and the tools that build the repository's own packages into wheels.
# images/build.sh builds it once per lock (tag confluence/wheels:<lock id>) from a context made
# by `images/buildplan.py wheel-context`:
#   lock/                   images/lock/*.txt (hashed)
#   cache/                  the host's wheel cache (~/.cache/confluence/wheels), only the files the
#                           locks name: the --find-links source; with a full cache no index is asked
#   ca-certificates.crt     the host's CA bundle, for TLS to the package index (a proxy's CA too)
# Each module image's build stage starts FROM this image (images/module.Dockerfile).  Works with
# the classic builder (no RUN --mount).
ARG BASE=confluence/base
FROM ${BASE}
LABEL confluence.build-stage="wheels"
ARG OFFLINE=0
ARG SOURCE_DATE_EPOCH=0
ENV SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH} PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    PIP_PROGRESS_BAR=off
COPY ca-certificates.crt /etc/ssl/certs/host-ca-certificates.crt
COPY lock /lock
COPY cache /cache
# 1. every wheel of the locks: first from the cache alone; only when that cannot satisfy the
#    lock (and OFFLINE=0) from the package index too.  --require-hashes checks every file.
# 2. /opt/tools: a venv with the pinned setuptools and wheel (build.txt) that builds the
#    repository's packages (--no-build-isolation: no index needed in the image builds).
RUN set -eu; \
    python3 -m venv /opt/wheeler; \
    cert=/etc/ssl/certs/host-ca-certificates.crt; [ -s "$cert" ] || cert=/etc/ssl/certs/ca-certificates.crt; \
    wheel() { /opt/wheeler/bin/pip wheel --cert "$cert" --require-hashes --no-deps --wheel-dir /wheels \
                --find-links /cache -r /lock/requirements.txt -r /lock/build.txt "$@"; }; \
    if wheel --no-index >/tmp/offline.log 2>&1; then \
      echo "wheels: all $(ls /wheels | wc -l) from the host's wheel cache (no index)"; \
    elif [ "$OFFLINE" = 1 ]; then \
      tail -n 20 /tmp/offline.log; \
      echo "error: the wheel cache does not hold every wheel of the lock and OFFLINE=1"; exit 1; \
    else \
      echo "wheels: $(ls /cache | wc -l) in the host's cache; the rest from the package index"; wheel; \
    fi; \
    rm -rf /cache /tmp/offline.log; \
    python3 -m venv /opt/tools; \
    /opt/wheeler/bin/pip --python /opt/tools/bin/python install --no-index --find-links /wheels \
      --require-hashes -r /lock/build.txt
