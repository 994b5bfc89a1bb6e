"""images/lock: every image's Python packages pinned with hashes, one version per package (no Docker).

What an image installs is its lock and nothing else (images/module.Dockerfile: ``--require-hashes
--no-deps -r lock.txt`` into a venv without pip, then the repository's own packages, then
``pip check``), so a lock that is current and complete is what makes two builds of a commit give
the same package set; test_images.py checks the built images against these files.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("buildplan", REPO / "images" / "buildplan.py")
assert _spec and _spec.loader
buildplan = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(buildplan)

IMAGES = buildplan.select([], build_all=True)
LOCK = REPO / "images" / "lock"


def _entries(lock: Path) -> dict[str, list[str]]:
    """name -> the hashes of each ``name==version`` entry of a lock."""
    entries: dict[str, list[str]] = {}
    current = ""
    for line in lock.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", line)
        if m:
            current = m.group(1)
            entries[current] = []
        elif line.strip().startswith("--hash=sha256:") and current:
            entries[current].append(line.strip().split(":", 1)[1].rstrip(" \\"))
    return entries


def test_every_lock_matches_its_packages() -> None:
    """The lock inputs are those of today's pyproject files (else: `make lock`)."""
    assert buildplan.stale_locks(IMAGES) == []


@pytest.mark.parametrize("lock", sorted(LOCK.glob("*.txt")), ids=lambda p: p.name)
def test_every_entry_is_pinned_and_hashed(lock: Path) -> None:
    text = lock.read_text()
    entries = _entries(lock)
    assert entries, f"{lock.name} pins nothing"
    for name, hashes in entries.items():
        assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), f"{lock.name}: {name} has no hash"
    # nothing that is not an exact pin (no ranges, no URLs, no editable or local paths)
    requirement_lines = [ln for ln in text.splitlines() if ln and not ln.startswith((" ", "#"))]
    assert all("==" in ln for ln in requirement_lines), requirement_lines
    assert "/tmp" not in text and str(REPO) not in text  # the same file wherever it was made


def test_one_version_per_package_across_images() -> None:
    """Each image's lock is a part of the union lock (requirements.txt), at the union's versions and
    hashes; the union holds no package that no image installs."""
    union = buildplan.locked(LOCK / "requirements.txt")
    union_hashes = _entries(LOCK / "requirements.txt")
    seen: set[str] = set()
    for image, _, _ in IMAGES:
        pins = buildplan.locked(buildplan.lock_file(image))
        assert pins and {n: union.get(n) for n in pins} == pins, image
        for name, hashes in _entries(buildplan.lock_file(image)).items():
            assert sorted(hashes) == sorted(union_hashes[name]), (image, name)
        seen |= set(pins)
    assert seen == set(union)


def test_no_repository_package_in_a_lock() -> None:
    local = buildplan.local_names()
    for lock in LOCK.glob("*.txt"):
        assert local.isdisjoint(buildplan.locked(lock)), lock.name


def test_the_lock_inputs_name_each_images_own_requirements() -> None:
    """neobam's image gets jax and numpyro; the input image does not (an image is not the union)."""
    neobam = buildplan.locked(buildplan.lock_file("flpe-neobam"))
    put = buildplan.locked(buildplan.lock_file("input"))
    assert {"jax", "jaxlib", "numpyro", "numpy", "netcdf4"} <= set(neobam)
    assert "jax" not in put and {"pyogrio", "pandas", "boto3"} <= set(put)
