#!/usr/bin/env bash
# `make bench`: speed benchmarks on one core per job, each printing its own table.
# BENCH_BIG=1 also runs the whole workflow on the generated world of 1,000 reaches (long).
# CONFLUENCE_PUBLIC=PATH: checkouts of the public modules (PATH/momma, PATH/metroman, PATH/input) to
# compare with (bench/public_peers.py); without it those comparisons say they are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
PY="${PYTHON:-.venv/bin/python}"

echo "== FLPE: seconds per reach (per set for MetroMan), 50 times x 30 nodes"
"$PY" bench/flpe_speed.py --repeat 3
echo
echo "== input: reaches x passes per second, per-basin jobs vs one reach per job (1,000 reaches x 50 passes)"
"$PY" modules/input/bench/bench_input.py --demo
echo
echo "== input: CPU seconds per reach, bench world (1,000 reaches) against the demo world (target: <= 1.2x)"
"$PY" bench/input_speed.py --basins 10
echo
echo "== cheap per-reach steps: CPU seconds per reach in grouped jobs (target: < 0.1)"
if [ -f bench/cheap_steps.py ]; then "$PY" bench/cheap_steps.py; fi
echo
echo "== the public modules beside ours: CPU seconds per reach, interleaved, on the same files"
echo "   (checkouts of github.com/SWOT-Confluence/<module> in \$CONFLUENCE_PUBLIC; see bench/public_peers.py)"
"$PY" bench/public_peers.py --public "${CONFLUENCE_PUBLIC:-}"
echo
echo "== MOI: seconds per basin of 200 reaches"
"$PY" modules/moi/bench/bench_moi.py
echo
echo "== offline: seconds per reach"
"$PY" modules/offline/bench/bench_offline.py
echo
echo "== the whole workflow on the demo world"
"$PY" bench/workflow.py --kind demo --jobs 2
if [ "${BENCH_BIG:-0}" = "1" ]; then
  echo
  echo "== the whole workflow on the generated world of 1,000 reaches"
  "$PY" bench/workflow.py --kind bench --jobs 2
fi
