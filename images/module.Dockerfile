# The one Dockerfile of every module image (each workflow image, FLPE
# algorithm, renew, and the selftest image).  `make build` (docker/build.sh)
# builds it once per image of the workflow table (`confluence images`) with
#   --build-arg PACKAGE=<distribution>   e.g. confluence-input
#   --build-arg COMMAND=<default command> the image's first table row `command`,
#                                         words separated by spaces
#   --build-arg BASE=... VERSION=...
# By hand, from a context made by `make build`:
#   docker build -f docker/module.Dockerfile --build-arg PACKAGE=confluence-input \
#     --build-arg COMMAND=confluence-input build/context/images/input
#
# Build context: build/context/images/<image>, made by docker/build.sh: it
# holds wheels/ with every wheel the image needs, built on the host, so the
# build never reaches a package index.  Works with the classic builder (no
# RUN --mount).  BASE is python:3.11-slim when a registry is reachable, else
# the bootstrapped confluence/base:bookworm-py311 (docker/base-image.sh);
# both are Debian bookworm with Python 3.11 and no compiler.
#
# PACKAGE may name extras: renew/README.md builds the renew image for AWS
# Lambda with PACKAGE="confluence-renew[lambda]".
ARG BASE=python:3.11-slim

FROM ${BASE} AS build
ARG PACKAGE=
ARG COMMAND=
COPY wheels /wheels
# --no-compile and the find: no __pycache__; pip itself is dropped from the
# venv (setuptools stays: some packages still import pkg_resources).
RUN : "${PACKAGE:?build with --build-arg PACKAGE=<distribution>}" \
      "${COMMAND:?build with --build-arg COMMAND=<the image's default command>}" \
 && python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --no-compile --no-index --find-links /wheels "${PACKAGE}" \
 && /opt/venv/bin/pip check \
 && rm -rf /opt/venv/lib/python3*/site-packages/pip /opt/venv/lib/python3*/site-packages/pip-* \
           /opt/venv/bin/pip /opt/venv/bin/pip3* \
 && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

FROM ${BASE}
ARG PACKAGE=
ARG COMMAND=
ARG VERSION=dev
LABEL org.opencontainers.image.title="${PACKAGE}" org.opencontainers.image.version="${VERSION}"
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    CONFLUENCE_IMAGE_COMMAND="${COMMAND}"
# The default command comes from a build argument, which an exec-form CMD
# cannot expand: it is kept in the environment and the shell execs it (the
# command replaces the shell as PID 1, so signals reach it).  Arguments to
# `docker run IMAGE ...` replace this CMD as usual:
#   docker run confluence/input confluence-input --index 0
CMD ["/bin/sh", "-c", "exec $CONFLUENCE_IMAGE_COMMAND"]
