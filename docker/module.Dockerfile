# Template of every module's Dockerfile: copy it to modules/<name>/Dockerfile,
# set the default of PACKAGE and the CMD (the workflow row's `command`).
#
# Build context: build/context, made by `make build` (docker/build.sh): it
# holds wheels/ with every wheel the image needs, built on the host, so the
# build never reaches a package index.  Works with the classic builder (no
# RUN --mount).  BASE is python:3.11-slim when a registry is reachable, else
# the bootstrapped confluence/base:bookworm-py311 (docker/base-image.sh);
# both are Debian bookworm with Python 3.11 and no compiler.
ARG BASE=python:3.11-slim

FROM ${BASE} AS build
ARG PACKAGE=confluence-example
COPY wheels /wheels
# --no-compile and the find: no __pycache__; pip itself is dropped from the
# venv (setuptools stays: some packages still import pkg_resources).
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --no-compile --no-index --find-links /wheels "${PACKAGE}" \
 && /opt/venv/bin/pip check \
 && rm -rf /opt/venv/lib/python3*/site-packages/pip /opt/venv/lib/python3*/site-packages/pip-* \
           /opt/venv/bin/pip /opt/venv/bin/pip3* \
 && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

FROM ${BASE}
ARG PACKAGE=confluence-example
ARG VERSION=dev
LABEL org.opencontainers.image.title="${PACKAGE}" org.opencontainers.image.version="${VERSION}"
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
CMD ["confluence-example", "--help"]
