"""What `docker/build.sh` builds: images, the local packages they need, the version.

The images come from the workflow table, read through ``confluence images``
(installed by ``make install``; the interpreter running this script finds it
beside itself): every image whose package path has a ``pyproject.toml`` is
built from the one template ``docker/module.Dockerfile``, with the package's
distribution name and the image's default command (its first row's
``command``) as build arguments.  ``docker/test-image`` is the extra image
``selftest``, built only when asked for by name or with ``--all``.

Subcommands (each prints one item per line, tab-separated)::

    images [--all] [NAME ...]   image, path, package, default command of each image to build
    stage DEST PATH ...         copy core, modules/flpe/core and PATHs to DEST
                                (without build/, *.egg-info, caches); print the copies
    build-requires PATH ...     the build-system requirements of those packages
    context WHEELS DEST PATH    fill DEST/wheels with hard links to the wheels the image
                                of PATH may need; print DEST
    version                     the project version (core/pyproject.toml)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The Dockerfile template of every image.
TEMPLATE = Path("docker/module.Dockerfile")
#: Images that are not workflow steps: name -> (path, default command); built only when asked for.
EXTRA_IMAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "selftest": ("docker/test-image", ("confluence-selftest",)),
}
#: Shared packages every image may need, wheeled whenever they exist.
SHARED_PACKAGES = ("core", "modules/flpe/core")
_IGNORE = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "tests")
#: A word of a default command: it reaches the image through a shell (see the template), so no
#: character the shell would interpret.
_WORD = re.compile(r"[A-Za-z0-9_.,:=@%+/-]+")

#: An image's package path and default command.
Image = tuple[str, tuple[str, ...]]


class PlanError(Exception):
    """A request that cannot be built (unknown image, package not there yet, unusable command)."""


def _confluence() -> str:
    """The ``confluence`` command: beside this interpreter (the project's venv), else on PATH."""
    beside = Path(sys.executable).with_name("confluence")
    found = str(beside) if beside.is_file() else shutil.which("confluence")
    if not found:
        raise PlanError("the `confluence` command is not installed (run `make install`)")
    return found


def parse_images(listing: str) -> dict[str, Image]:
    """Parse the output of ``confluence images``: ``image<TAB>path<TAB>command (JSON list)`` lines."""
    images: dict[str, Image] = {}
    for line in listing.splitlines():
        if not line.strip():
            continue
        image, path, command = line.split("\t")
        images[image] = (path, tuple(json.loads(command)))
    return images


def table_images(workflow: str | None = None) -> dict[str, Image]:
    """Return image -> (path, default command) of every image of the workflow table, in table order."""
    cmd = [_confluence(), "images", *(["--workflow", workflow] if workflow else [])]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PlanError(f"`confluence images` failed: {result.stderr.strip() or result.returncode}")
    return parse_images(result.stdout)


def select(names: list[str], build_all: bool = False, root: Path = ROOT,
           table: Mapping[str, Image] | None = None) -> list[tuple[str, str, tuple[str, ...]]]:
    """Return the ``(image, path, default command)`` of each image to build.

    With no ``names``: every image of the table (``table_images()`` unless
    given) whose path has a pyproject.toml, plus the extra images when
    ``build_all``; rows whose package does not exist yet are skipped.  A name
    asked for must have its package.
    """
    table = table_images() if table is None else table
    known = {**table, **EXTRA_IMAGES}
    if names:
        unknown = [n for n in names if n not in known]
        if unknown:
            raise PlanError(f"unknown image {unknown[0]!r}; known: {', '.join(known)}")
        chosen = {n: known[n] for n in dict.fromkeys(names)}
    else:
        chosen = {**table, **(EXTRA_IMAGES if build_all else {})}
    wanted = []
    for image, (path, command) in chosen.items():
        if not (root / path / "pyproject.toml").is_file():
            if names:
                raise PlanError(f"image {image!r}: no {path}/pyproject.toml yet")
            continue
        bad = [w for w in command if not _WORD.fullmatch(w)]
        if not command or bad:
            raise PlanError(f"image {image!r}: its command {list(command)} cannot be a default command "
                            f"(empty, or a word with spaces or shell characters: {bad})")
        wanted.append((image, path, command))
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
            lines = [f"{i}\t{p}\t{package_name(p)}\t{' '.join(c)}" for i, p, c in select(args.names, args.all)]
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
