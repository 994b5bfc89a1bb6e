"""Compile neoBAM's samplers ahead of time into a persistent JAX cache (for an image build).

Usage::

    python -m confluence_flpe_neobam.warm --cache DIR [--shape NXxNT ...] [--max-nx 64] [--max-nt 128]

Every padded shape (node bucket x time bucket of :data:`confluence_flpe_neobam.model.BUCKETS`)
up to ``--max-nx`` / ``--max-nt``, or the ``--shape`` list, is traced and compiled with the
default :class:`~confluence_flpe_neobam.model.SamplerSettings`; the executables land in
``DIR``.  A job whose ``CONFLUENCE_JAX_CACHE`` points at ``DIR`` then loads them instead
of compiling (same jax/jaxlib, same ``XLA_FLAGS`` and the same CPU type as the build).
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence

from .model import BUCKETS, SamplerSettings, bucket, compile_shape, enable_compile_cache

log = logging.getLogger(__name__)


def default_shapes(max_nx: int, max_nt: int) -> list[tuple[int, int]]:
    """Every (node bucket, time bucket) pair up to the buckets of ``max_nx`` and ``max_nt``."""
    nxs = [b for b in BUCKETS if b <= bucket(max_nx)]
    nts = [b for b in BUCKETS if b <= bucket(max_nt)]
    return [(nx, nt) for nx in nxs for nt in nts]


def parse_shape(text: str) -> tuple[int, int]:
    """``"20x37"`` -> the padded shape of 20 nodes and 37 times, ``(32, 48)``."""
    nx, nt = (int(v) for v in text.lower().split("x"))
    return bucket(nx), bucket(nt)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m confluence_flpe_neobam.warm", description=__doc__.split("\n")[0])
    parser.add_argument("--cache", required=True, help="folder of the persistent JAX compile cache")
    parser.add_argument("--shape", action="append", default=[], help="NODESxTIMES (rounded up to buckets)")
    parser.add_argument("--max-nx", type=int, default=64, help="largest node count of the default grid")
    parser.add_argument("--max-nt", type=int, default=128, help="largest time count of the default grid")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    enable_compile_cache(args.cache)
    shapes = sorted({parse_shape(s) for s in args.shape}) or default_shapes(args.max_nx, args.max_nt)
    settings = SamplerSettings()
    for shape in shapes:
        t0 = time.process_time()
        compile_shape(shape, settings)
        log.info("shape %s: %.1f s CPU", shape, time.process_time() - t0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
