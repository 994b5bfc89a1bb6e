"""Fixtures of the driver tests: the small workflow tables they write for the real selftest module."""

from __future__ import annotations

from collections.abc import Callable

import pytest

#: The start of each table: one resource class and step ``fan``, the real selftest module
#: (images/test-image) on every entry of ``reaches.json``, GROUP entries a job.
FAN = """
[resources.small]
slots = 1
vcpus = 1
memory_mib = 512
timeout_s = 120

[[steps]]
name = "fan"
stage = 1
image = "selftest"
path = "images/test-image"
command = ["confluence-selftest", "--list", "reaches.json"]
fanout = "reach"
list = "reaches.json"
reads = []
writes = ["input", "output"]
outputs = ["output:selftest/{reach_id}.json", "output:selftest/{reach_id}.nc"]
resources = "small"
group = GROUP
"""


@pytest.fixture()
def selftest_workflow() -> Callable[..., str]:
    """``selftest_workflow(more="", group=1)``: a workflow table's text: step ``fan`` (``group`` entries a
    job), then the steps ``more`` declares."""
    def text(more: str = "", group: int = 1) -> str:
        return FAN.replace("GROUP", str(group)) + more
    return text
