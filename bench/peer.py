"""The peer every benchmark figure is set beside: the CPU time of a fixed numpy workload.

These machines are shared and noisy, so a benchmark reports its CPU seconds next to
the peer's, measured in the same run; the ratio (``x peer``) compares across runs.
Used by every script of ``bench/`` (run as ``python bench/<script>.py``, so this folder
is on the import path).
"""

from __future__ import annotations

import time

import numpy as np


def peer_seconds() -> float:
    """CPU seconds (``time.process_time``) of 200 dense 200 x 200 solves, one thread."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((200, 200)) + 200 * np.eye(200)
    b: np.ndarray = rng.standard_normal(200)
    start = time.process_time()
    for _ in range(200):
        b = np.linalg.solve(a, b)
    return time.process_time() - start
