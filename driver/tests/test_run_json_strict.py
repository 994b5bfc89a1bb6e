"""run.json is strict JSON (issue 20): a figure an engine did not measure is ``null``, never ``NaN``.

The Docker engine measures no per-child memory or CPU; an engine (or an older record) may also hand
over a non-finite figure.  Strict parsers (``parse_constant`` raising, as JavaScript's JSON.parse or
jq) must read every run.json the driver writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from confluence_core import workflow as wf
from confluence_driver.engines.base import Engine, JobResult, JobSpec
from confluence_driver.engines.process import ProcessEngine
from confluence_driver.runner import LocalRunner, RunFolder

ROOT = Path(__file__).resolve().parents[2]
SELFTEST_WORKFLOW = ROOT / "tests" / "data" / "selftest_workflow.toml"


def _no_constants(name: str) -> Any:
    raise ValueError(f"not strict JSON: {name}")


def strict_load(path: Path) -> Any:
    return json.loads(path.read_text(), parse_constant=_no_constants)


class DockerLike(Engine):
    """Runs each job with the process engine, then reports it as the Docker engine does: with ``extra``
    replaced (``{}``: no usage measured; or figures that are not finite numbers)."""

    name = "docker"

    def __init__(self, extra: dict[str, str]) -> None:
        self.inner = ProcessEngine()
        self.extra = extra

    def check(self, images: dict[str, tuple[str, ...]]) -> None:
        pass

    def run(self, spec: JobSpec) -> JobResult:
        result = self.inner.run(spec)
        return JobResult(spec, result.returncode, result.seconds, result.reason, dict(self.extra))


@pytest.mark.parametrize("extra", [{}, {"peak_mib": "nan", "cpu_s": "nan"}, {"peak_mib": "inf", "cpu_s": "-inf"}],
                         ids=["no-usage", "nan", "inf"])
def test_run_json_has_null_not_nan(tmp_path: Path, extra: dict[str, str]) -> None:
    run = tmp_path / "run"
    (run / "input").mkdir(parents=True)
    (run / "input" / "reaches.json").write_text(json.dumps([{"reach_id": 74269800011}, {"reach_id": 74269800021}]))
    (run / "input" / "once.json").write_text(json.dumps(["done"]))
    # an older record holding NaN (a driver before this fix wrote it): rewritten strict
    (run / "run.json").write_text('{"steps": {"old": {"peak_mib": NaN, "attempts": [{"cpu_s": NaN, "ran": 1}]}}}')
    flow = wf.load(SELFTEST_WORKFLOW)
    folder = RunFolder(run)
    folder.create()
    LocalRunner(flow, folder, DockerLike(extra), echo=lambda _m: None).run(flow.select(None, None, None))
    record = strict_load(run / "run.json")
    fan = record["steps"]["fan"]
    assert record["engine"] == "docker"
    assert fan["succeeded"] == 2
    assert fan["peak_mib"] is None and fan["attempts"][-1]["peak_mib"] is None
    assert fan["cpu_s"] is None and fan["attempts"][-1]["cpu_s"] is None  # not measured is not 0 s
    assert all("peak_mib" not in child for child in fan["children"].values())
    assert record["steps"]["old"]["peak_mib"] is None
    assert record["steps"]["old"]["attempts"][0]["cpu_s"] is None
