"""Fixtures of the MOI tests; the builders and constants live in ``moi_fixtures`` (imported by name)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from moi_fixtures import *  # noqa: F403  (fixtures must be in conftest's namespace)
