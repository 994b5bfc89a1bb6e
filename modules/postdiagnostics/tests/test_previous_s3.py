"""A previous run under an S3 prefix (moto, in-process, no network)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from confluence_postdiagnostics.previous import LocalPrevious, PreviousRun, S3Previous, open_previous

BUCKET = "confluence-previous"


@pytest.fixture()
def s3(moto_s3: Callable[[str], Any]) -> Any:
    """A mocked S3 with an empty bucket; fake credentials so nothing reaches AWS."""
    return moto_s3(BUCKET)


def _upload(client: Any, root: Path, prefix: str) -> int:
    files = [p for sub in ("flpe", "moi") for p in (root / sub).rglob("*.nc")]
    for path in files:
        client.upload_file(str(path), BUCKET, f"{prefix}/{path.relative_to(root).as_posix()}")
    return len(files)


def test_open_previous_kinds(tmp_path: Path) -> None:
    assert type(open_previous(None)) is PreviousRun
    assert type(open_previous(str(tmp_path / "absent"))) is PreviousRun
    assert isinstance(open_previous(str(tmp_path)), LocalPrevious)
    prev = open_previous("s3://bucket/some/prefix/")
    assert isinstance(prev, S3Previous) and prev.describe() == "s3://bucket/some/prefix"
    prev.close()


def test_s3_previous_run_flags_the_changed_reach(tmp_path: Path, world: Any, s3: Any,
                                                 run_cli: Callable[..., Result]) -> None:
    first = world.build_run(tmp_path / "run1")
    assert _upload(s3, first, "runs/run1") > 0
    changed = world.REACHES[0]
    second = world.build_run(tmp_path / "run2", scale={changed: 0.5})
    (first / "flpe").rename(tmp_path / "moved")  # the local copy is not what is read
    for i, rid in enumerate(world.REACHES):
        _ok(run_cli(second, "flpe", "--index", str(i), "--previous", f"s3://{BUCKET}/runs/run1"))
        assert set(world.read_diag(second, rid)["stability_flags"].tolist()) == {1 if rid == changed else 0}
    _ok(run_cli(second, "moi", "--index", "0", "--previous", f"s3://{BUCKET}/runs/run1"))
    assert set(world.read_diag(second, changed, "moi")["stability_flags"].tolist()) == {1}
    assert set(world.read_diag(second, world.REACHES[1], "moi")["stability_flags"].tolist()) == {0}


def test_s3_missing_object_and_missing_bucket(tmp_path: Path, world: Any, s3: Any,
                                              run_cli: Callable[..., Result]) -> None:
    root = world.build_run(tmp_path / "run")
    prev = S3Previous(BUCKET, "nothing/here", client=s3)
    assert prev.fetch("moi/1_integrator.nc") is None
    prev.close()
    result = run_cli(root, "flpe", "--index", "0", "--previous", "s3://no-such-bucket/run1")
    _ok(result)
    lines = [ln for ln in result.stderr.splitlines() if "no-such-bucket" in ln and "WARNING" in ln]
    assert len(lines) == 1, result.stderr
    assert set(world.read_diag(root, world.REACHES[0])["stability_flags"].tolist()) == {2}


def _ok(result: Result) -> None:
    assert result.exit_code == 0, result.output
