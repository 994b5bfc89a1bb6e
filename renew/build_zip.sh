#!/usr/bin/env bash
# Build the renew Lambda as a zip package: renew/build_zip.sh [OUT]
#   (default OUT: build/renew-lambda.zip; handler confluence_renew.handler.handler, runtime python3.11)
#
# The zip holds the sources of confluence_renew and confluence_core only: the
# handler imports nothing else but boto3, which the Lambda Python runtime
# provides; confluence-core's numpy/netCDF4 and click (the CLI's) are not
# needed by the handler.  Nothing is downloaded or built.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
[[ -x $PY ]] || PY=python3
OUT=$(realpath -m "${1:-$ROOT/build/renew-lambda.zip}")
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/renew-zip.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

cp -r "$ROOT/core/src/confluence_core" "$ROOT/renew/src/confluence_renew" "$STAGE/"
find "$STAGE" -name '__pycache__' -prune -exec rm -rf {} +
# The handler must import with nothing but the standard library (boto3 is imported when it runs).
(cd "$STAGE" && "$PY" -S -B -c 'import sys; sys.path.insert(0, "."); import confluence_renew.handler, confluence_renew.creds')
mkdir -p "$(dirname "$OUT")"
rm -f "$OUT"
(cd "$STAGE" && "$PY" -m zipfile -c "$OUT" ./*)
echo "renew: wrote $OUT ($(du -k "$OUT" | cut -f1) kB); handler confluence_renew.handler.handler" >&2
