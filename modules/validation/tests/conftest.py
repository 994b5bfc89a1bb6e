"""Fixtures of the validation tests; the file builders live in ``validation_builders.py``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture()
def run_cli() -> Callable[..., Result]:
    """Invoke ``confluence-validation`` in-process (stderr kept apart, exceptions caught by the CLI)."""
    from confluence_validation.cli import main

    def run(*args: str, env: Mapping[str, str] | None = None) -> Result:
        return CliRunner().invoke(main, list(args), env=dict(env or {}), catch_exceptions=False)

    return run
