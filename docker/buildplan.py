"""What `docker/build.sh` builds: images, the local packages they need, the version.

Reads the workflow table (``driver/src/confluence_driver/workflow.toml``)
with :mod:`tomllib` only, so it runs before any package is installed.  Every
unique ``(image, path)`` row whose ``<path>/Dockerfile`` exists is an image;
``docker/test-image`` is the extra image ``selftest``, built only when asked
for by name or with ``--all``.

Subcommands (each prints one item per line, tab-separated)::

    images [--all] [NAME ...]   image, path, package of each image to build
    stage DEST PATH ...         copy core, modules/flpe/core and PATHs to DEST
                                (without build/, *.egg-info, caches); print the copies
    build-requires PATH ...     the build-system requirements of those packages
    context WHEELS DEST PATH    fill DEST/wheels with hard links to the wheels the image
                                of PATH may need; print DEST
    version                     the project version (core/pyproject.toml)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = Path("driver/src/confluence_driver/workflow.toml")
#: Images that are not workflow steps: name -> path (built only when asked for).
EXTRA_IMAGES = {"selftest": "docker/test-image"}
#: Shared packages every image may need, wheeled whenever they exist.
SHARED_PACKAGES = ("core", "modules/flpe/core")
_IGNORE = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "tests")


class PlanError(Exception):
    """A request that cannot be built (unknown image, missing Dockerfile, clashing rows)."""


def table_images(root: Path = ROOT) -> dict[str, str]:
    """Return image -> path of every workflow row, in table order."""
    with (root / WORKFLOW).open("rb") as fh:
        steps = tomllib.load(fh).get("steps", [])
    images: dict[str, str] = {}
    for step in steps:
        image, path = step["image"], step["path"]
        if images.setdefault(image, path) != path:
            raise PlanError(f"image {image!r} has two paths in workflow.toml: {images[image]} and {path}")
    return images


def select(names: list[str], build_all: bool = False, root: Path = ROOT) -> list[tuple[str, str]]:
    """Return the ``(image, path)`` pairs to build.

    With no ``names``: every table image whose path has a Dockerfile and a
    pyproject.toml (plus the extra images when ``build_all``); a path with a
    Dockerfile only is skipped with a warning.  A name asked for must have both.
    """
    known = {**table_images(root), **EXTRA_IMAGES}
    if not names:
        candidates = {**table_images(root), **(EXTRA_IMAGES if build_all else {})}
        wanted = []
        for image, path in candidates.items():
            if not (root / path / "Dockerfile").is_file():
                continue
            if not (root / path / "pyproject.toml").is_file():
                print(f"warning: skipping image {image}: {path} has a Dockerfile but no pyproject.toml",
                      file=sys.stderr)
                continue
            wanted.append((image, path))
        return wanted
    wanted = []
    for name in dict.fromkeys(names):
        if name not in known:
            raise PlanError(f"unknown image {name!r}; known: {', '.join(known)}")
        for needed in ("Dockerfile", "pyproject.toml"):
            if not (root / known[name] / needed).is_file():
                raise PlanError(f"image {name!r}: no {known[name]}/{needed} yet")
        wanted.append((name, known[name]))
    return wanted


def package_name(path: str, root: Path = ROOT) -> str:
    """Return the distribution name in ``<path>/pyproject.toml``."""
    pyproject = root / path / "pyproject.toml"
    if not pyproject.is_file():
        raise PlanError(f"{path}: no pyproject.toml")
    with pyproject.open("rb") as fh:
        return tomllib.load(fh)["project"]["name"]


def packages(paths: list[str], root: Path = ROOT) -> list[str]:
    """Return the shared packages that exist followed by ``paths``, without repeats."""
    shared = [p for p in SHARED_PACKAGES if (root / p / "pyproject.toml").is_file()]
    return list(dict.fromkeys([*shared, *paths]))


def stage(dest: Path, paths: list[str], root: Path = ROOT) -> list[Path]:
    """Copy each package of :func:`packages` below ``dest`` (fresh), without build litter.

    Wheeling a copy keeps setuptools' ``build/`` and ``*.egg-info`` out of the
    source tree and stale ``build/lib`` files out of the wheels.
    """
    copies = []
    for path in packages(paths, root):
        target = dest / path
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(root / path, target, ignore=_IGNORE)
        copies.append(target)
    return copies


def build_requires(paths: list[str], root: Path = ROOT) -> list[str]:
    """Return the ``[build-system] requires`` of every package (so offline builds find them)."""
    reqs: dict[str, None] = {}
    for path in packages(paths, root):
        with (root / path / "pyproject.toml").open("rb") as fh:
            system = tomllib.load(fh).get("build-system", {})
        reqs.update(dict.fromkeys(system.get("requires", ["setuptools>=40.8.0"])))
    return list(reqs)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def local_names(root: Path = ROOT) -> set[str]:
    """Return the normalised distribution names of every package of the repository."""
    names = set()
    for pyproject in root.glob("**/pyproject.toml"):
        if {".venv", "build", "node_modules"} & set(pyproject.relative_to(root).parts):
            continue
        with pyproject.open("rb") as fh:
            name = tomllib.load(fh).get("project", {}).get("name")
        if name:
            names.add(_norm(name))
    return names


def context(wheels: Path, dest: Path, path: str, root: Path = ROOT) -> Path:
    """Make ``dest`` the build context of the image of ``path``: ``dest/wheels`` (fresh).

    It links every third-party wheel of the cache but, of the repository's own
    packages, only the shared ones and the image's, so a change in one module
    leaves the other images' Docker layers cached.
    """
    own = {_norm(package_name(p, root)) for p in packages([path], root)}
    others = local_names(root) - own
    target = dest / "wheels"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for wheel in sorted(wheels.glob("*.whl")):
        if _norm(wheel.name.split("-")[0]) in others:
            continue
        try:
            os.link(wheel, target / wheel.name)
        except OSError:  # another file system
            shutil.copy2(wheel, target / wheel.name)
    return dest


def version(root: Path = ROOT) -> str:
    """Return the project version (that of ``core/pyproject.toml``)."""
    with (root / "core" / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["project"]["version"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="buildplan.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_images = sub.add_parser("images")
    p_images.add_argument("--all", action="store_true")
    p_images.add_argument("names", nargs="*")
    p_stage = sub.add_parser("stage")
    p_stage.add_argument("dest", type=Path)
    p_stage.add_argument("paths", nargs="*")
    p_req = sub.add_parser("build-requires")
    p_req.add_argument("paths", nargs="*")
    p_ctx = sub.add_parser("context")
    p_ctx.add_argument("wheels", type=Path)
    p_ctx.add_argument("dest", type=Path)
    p_ctx.add_argument("path")
    sub.add_parser("version")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "images":
            lines = [f"{i}\t{p}\t{package_name(p)}" for i, p in select(args.names, args.all)]
        elif args.cmd == "stage":
            lines = [str(p) for p in stage(args.dest, args.paths)]
        elif args.cmd == "build-requires":
            lines = build_requires(args.paths)
        elif args.cmd == "context":
            lines = [str(context(args.wheels, args.dest, args.path))]
        else:
            lines = [version()]
    except PlanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
