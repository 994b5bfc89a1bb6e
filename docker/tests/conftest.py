"""docker/tests: keep this repository's ``docker/`` folder from hiding the Docker SDK.

With ``--import-mode=importlib`` pytest registers the parents of these test
modules as modules, so ``docker`` becomes a namespace module of the folder
``docker/`` and a later ``import docker`` (the SDK, in tests/conftest.py)
gets it instead: drop that stand-in as soon as a module here is collected.
"""

from __future__ import annotations

import sys

import pytest


def pytest_collectreport(report: pytest.CollectReport) -> None:
    module = sys.modules.get("docker")
    if module is not None and getattr(module, "__file__", None) is None:  # the namespace stand-in
        for name in [n for n in sys.modules if n == "docker" or n.startswith("docker.")]:
            del sys.modules[name]
