"""Logging for every module: one format, level from ``--verbose`` or ``CONFLUENCE_LOG_LEVEL``."""

from __future__ import annotations

import logging
import os
import sys

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup(name: str, verbose: bool = False) -> logging.Logger:
    """Configure the root logger to stderr and return the module's logger."""
    level = logging.DEBUG if verbose else getattr(
        logging, os.environ.get("CONFLUENCE_LOG_LEVEL", "INFO").upper(), logging.INFO
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT, datefmt="%Y-%m-%dT%H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(level)
    return logging.getLogger(name)
