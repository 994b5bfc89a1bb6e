# Template of every module's Dockerfile (copy it to modules/<name>/Dockerfile
# and set PACKAGE and the CMD).  Build context: build/context (made by
# `make build`), which holds wheels/ with every wheel the image needs, so the
# build never reaches a package index.  Works with the classic builder (no
# RUN --mount).  BASE is python:3.11-slim with a registry, or the locally
# bootstrapped confluence/base image offline.
ARG BASE=python:3.11-slim
FROM ${BASE} AS build
ARG PACKAGE=confluence-example
COPY wheels /wheels
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /wheels "${PACKAGE}" \
 && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} + \
 && rm -rf /opt/venv/lib/python3*/site-packages/pip /opt/venv/lib/python3*/site-packages/pip-*

FROM ${BASE}
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
CMD ["confluence-example", "--help"]
