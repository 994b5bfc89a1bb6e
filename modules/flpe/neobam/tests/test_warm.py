"""Ahead-of-time compile into a persistent cache (``python -m confluence_flpe_neobam.warm``)."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest
from confluence_flpe_neobam import warm


def test_shapes():
    assert warm.parse_shape("20x37") == (32, 48)
    assert warm.parse_shape("8X16") == (8, 16)
    grid = warm.default_shapes(max_nx=10, max_nt=20)
    assert grid == [(8, 8), (8, 16), (8, 32), (16, 8), (16, 16), (16, 32)]


@pytest.mark.slow
def test_warm_fills_cache_and_a_later_process_loads_it(tmp_path):
    """A later process finds the compiled sampler: far less CPU than the compile (CPU, not wall time)."""
    cache = tmp_path / "cache"

    def child_cpu() -> float:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime

    cmd = [sys.executable, "-m", "confluence_flpe_neobam.warm", "--cache", str(cache), "--shape", "3x5"]
    t0 = child_cpu()
    subprocess.run(cmd, check=True)
    cold = child_cpu() - t0
    assert any(p.name.startswith("jit_run") for p in cache.iterdir())
    t0 = child_cpu()
    subprocess.run(cmd, check=True)
    warm_s = child_cpu() - t0
    print(f"\ncompile {cold:.1f} s CPU, load from the cache {warm_s:.1f} s CPU")
    assert warm_s < 0.5 * cold
