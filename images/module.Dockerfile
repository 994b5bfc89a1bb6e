# The one Dockerfile of every module image (each workflow image, FLPE
# algorithm, renew, and the selftest image).  `make build` (images/build.sh)
# builds it once per image of the workflow table (`confluence images`) with
#   --build-arg PACKAGE=<distribution>   e.g. confluence-input
#   --build-arg COMMAND=<default command> the image's first table row `command`,
#                                         words separated by spaces
#   --build-arg BASE=... WHEELS=... VERSION=... IMAGE=...
# By hand, from a context made by `make build` (after it made confluence/wheels:<lock id>):
#   docker build -f images/module.Dockerfile --build-arg PACKAGE=confluence-input \
#     --build-arg COMMAND=confluence-input --build-arg WHEELS=confluence/wheels:<lock id> \
#     --build-arg BASE=<base> build/context/images/input
#
# Build context: build/context/images/<image>, made by images/buildplan.py:
#   lock.txt   images/lock/<image>.txt: the image's third-party packages, pinned with hashes
#   src/       a clean copy of each repository package the image installs
# WHEELS (images/wheels.Dockerfile) is the builder of the target platform: every wheel of the
# locks, hash-checked, and the pinned build tools.  Nothing here reaches a package index.
# BASE is python:3.11-slim by digest when a registry is reachable, else the bootstrapped
# confluence/base:bookworm-py311-<snapshot> (images/base-image.sh, pins in images/pins.env);
# both are Debian bookworm with Python 3.11 and no compiler.  Works with the classic builder.
ARG BASE=confluence/base
ARG WHEELS=confluence/wheels

FROM ${WHEELS} AS build
# Only this stage carries the label: `images/build.sh` removes these images after a build.
LABEL confluence.build-stage="module"
COPY lock.txt /build/lock.txt
# The third-party packages, exactly the lock (hash-checked again, no dependency resolution),
# into a venv without pip: what is installed is the lock and the image's own packages, no more.
RUN python3 -m venv --without-pip /opt/venv \
 && /opt/wheeler/bin/pip --python /opt/venv/bin/python install --no-compile --no-index \
      --find-links /wheels --require-hashes --no-deps -r /build/lock.txt
COPY src /build/src
ARG PACKAGE=
ARG COMMAND=
# The repository's packages, built here from source into wheels (fixed SOURCE_DATE_EPOCH of
# the builder), then `pip check` (every requirement met by the lock), then bytecode compiled
# once for every module: unchecked-hash .pyc files do not depend on file times (reproducible)
# and are used without reading the source's time; the image runs with PYTHONDONTWRITEBYTECODE.
# -f: also rewrite the timestamp .pyc that pip's runs of /opt/venv/bin/python left (_distutils_hack).
RUN : "${PACKAGE:?build with --build-arg PACKAGE=<distribution>}" \
      "${COMMAND:?build with --build-arg COMMAND=<the image's default command>}" \
 && for src in $(find /build/src -name pyproject.toml -printf '%h\n' | sort); do \
      /opt/tools/bin/pip wheel --no-cache-dir --no-index --no-deps --no-build-isolation \
        --wheel-dir /build/local "$src" >/dev/null || exit 1; done \
 && /opt/wheeler/bin/pip --python /opt/venv/bin/python install --no-compile --no-index --no-deps \
      /build/local/*.whl \
 && /opt/wheeler/bin/pip --python /opt/venv/bin/python check \
 && /opt/wheeler/bin/pip --python /opt/venv/bin/python show -q "${PACKAGE%%\[*}" >/dev/null \
 && /opt/venv/bin/python -m compileall -q -f -j 0 --invalidation-mode unchecked-hash /opt/venv >/dev/null

FROM ${BASE}
# A non-root user (uid 1000) with a home; any other uid given by `docker run --user` works
# too: HOME and /tmp are writable by everyone (sticky).  Before the ARGs: one layer for all.
RUN echo 'confluence:x:1000:1000:confluence:/home/confluence:/bin/sh' >>/etc/passwd \
 && echo 'confluence:x:1000:' >>/etc/group \
 && mkdir -p /home/confluence && chown 1000:1000 /home/confluence \
 && chmod 1777 /home/confluence /tmp
ARG PACKAGE=
ARG COMMAND=
ARG VERSION=dev
ARG IMAGE=
LABEL org.opencontainers.image.title="${PACKAGE}" org.opencontainers.image.version="${VERSION}" \
      confluence.image="${IMAGE}"
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/home/confluence \
    CONFLUENCE_IMAGE_COMMAND="${COMMAND}"
USER 1000:1000
WORKDIR /home/confluence
# The default command comes from a build argument, which an exec-form CMD
# cannot expand: it is kept in the environment and the shell execs it (the
# command replaces the shell as PID 1, so signals reach it).  Arguments to
# `docker run IMAGE ...` replace this CMD as usual:
#   docker run confluence/input confluence-input --index 0
CMD ["/bin/sh", "-c", "exec $CONFLUENCE_IMAGE_COMMAND"]
