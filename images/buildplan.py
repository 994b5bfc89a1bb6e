"""What `images/build.sh` builds: images, the local packages they need, the version.

The images come from the workflow table, read through ``confluence images``
(installed by ``make install``; the interpreter running this script finds it
beside itself): every image whose package path has a ``pyproject.toml`` is
built from the one template ``images/module.Dockerfile``, with the package's
distribution name and the image's default command (its first row's
``command``) as build arguments.  ``images/test-image`` is the extra image
``selftest``, built only when asked for by name or with ``--all``.

Subcommands (each prints one item per line, tab-separated)::

    images [--all] [NAME ...]   image, path, package, default command of each image to build
    closure PATH                the repository packages the image of PATH installs (its package and
                                the local packages it depends on), shared ones first
    requirements PATH           the third-party requirements of those packages (the image's lock input)
    context DEST IMAGE PATH     make DEST the image's build context: DEST/src (a clean copy of each
                                package of its closure) and DEST/lock.txt (images/lock/IMAGE.txt)
    wheel-context DEST CACHE    make DEST the context of the wheel builder stage: DEST/lock (every
                                lock file), DEST/cache (hard links to the wheels of CACHE that the
                                lock names), DEST/ca-certificates.crt (the host's CA bundle)
    lock [--check] [--all]      write images/lock/<image>.in and, with uv, the hashed locks
                                images/lock/<image>.txt, images/lock/requirements.txt (the union)
                                and images/lock/build.txt (setuptools, wheel); --check only says
                                which .in no longer matches the packages (no network)
    lock-id                     a short hash of every lock file (the wheel builder's tag)
    version                     the project version (core/pyproject.toml)

The locks are for linux x86_64 and CPython 3.11 (``TARGET_*`` in images/pins.env), whatever the
host: ``uv pip compile --python-platform x86_64-manylinux_2_28 --python-version 3.11
--generate-hashes``.  Every image's lock is resolved with the versions of the union lock as
constraints, so a package has one version in every image.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
#: The Dockerfile template of every image.
TEMPLATE = Path("images/module.Dockerfile")
#: The lock files: <image>.in / <image>.txt, requirements.in/.txt (union), build.in/.txt.
LOCK_DIR = Path("images/lock")
#: Third-party packages every image gets besides its requirements (pkg_resources, as before).
IMAGE_EXTRAS = ("setuptools",)
#: What building the repository's packages into wheels needs (the builder stage's tools).
BUILD_TOOLS = ("setuptools>=64", "wheel")
#: The target of every lock (images/pins.env: TARGET_PLATFORM, TARGET_PYTHON).
LOCK_PLATFORM = "x86_64-manylinux_2_28"
LOCK_PYTHON = "3.11"
#: Images that are not workflow steps: name -> (path, default command); built only when asked for.
EXTRA_IMAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "selftest": ("images/test-image", ("confluence-selftest",)),
    # renew as an AWS Lambda container (renew/README.md): the package with its `lambda` extra
    "renew-lambda": ("renew", ("confluence-renew",)),
}
#: The extras an image installs with its package: image -> extras.
IMAGE_PACKAGE_EXTRAS: dict[str, tuple[str, ...]] = {"renew-lambda": ("lambda",)}
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
        return str(tomllib.load(fh)["project"]["name"])


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def local_packages(root: Path = ROOT) -> dict[str, str]:
    """Return normalised distribution name -> path (relative to ``root``) of every package of the repository."""
    found: dict[str, str] = {}
    skip = {".venv", "build", "dist", "node_modules", ".git", "__pycache__", "src", "tests"}
    pyprojects = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in skip and not d.startswith("."))
        if "pyproject.toml" in files and Path(folder) != root:
            pyprojects.append(Path(folder) / "pyproject.toml")
    for pyproject in pyprojects:
        rel = pyproject.relative_to(root)
        with pyproject.open("rb") as fh:
            name = tomllib.load(fh).get("project", {}).get("name")
        if name:
            found[_norm(name)] = rel.parent.as_posix()
    return found


def local_names(root: Path = ROOT) -> set[str]:
    """Return the normalised distribution names of every package of the repository."""
    return set(local_packages(root))


def _project(path: str, root: Path) -> dict[str, Any]:
    pyproject = root / path / "pyproject.toml"
    if not pyproject.is_file():
        raise PlanError(f"{path}: no pyproject.toml")
    with pyproject.open("rb") as fh:
        project: dict[str, Any] = tomllib.load(fh)["project"]
    return project


def _walk(path: str, root: Path, extras: tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
    """The repository packages the package at ``path`` installs (itself and its local dependencies,
    with the extras asked for) and their third-party requirements, each in a stable order."""
    local = local_packages(root)
    seen: dict[str, set[str]] = {}  # path -> extras already walked
    third: dict[str, None] = {}
    todo: list[tuple[str, set[str]]] = [(path, set(extras))]
    while todo:
        here, wanted = todo.pop(0)
        if here in seen and wanted <= seen[here]:
            continue
        seen.setdefault(here, set()).update(wanted)
        project = _project(here, root)
        reqs = [str(r) for r in project.get("dependencies", [])]
        optional = project.get("optional-dependencies", {})
        for extra in sorted(wanted):
            reqs += [str(r) for r in optional.get(extra, [])]
        for text in reqs:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"sys_platform": "linux",
                                                                    "platform_machine": "x86_64",
                                                                    "python_version": LOCK_PYTHON}):
                continue
            if _norm(req.name) in local:
                todo.append((local[_norm(req.name)], set(req.extras)))
            else:
                third[str(req)] = None
    shared = [p for p in SHARED_PACKAGES if p in seen]
    return [*shared, *sorted(p for p in seen if p not in shared)], sorted(third, key=str.lower)


def closure(path: str, root: Path = ROOT) -> list[str]:
    """The repository packages the image of ``path`` installs, shared ones (core, FLPE core) first."""
    return _walk(path, root)[0]


def requirements(path: str, root: Path = ROOT, extras: tuple[str, ...] = ()) -> list[str]:
    """The third-party requirements of the image of ``path`` (with its package's ``extras``): its lock's
    input, plus IMAGE_EXTRAS."""
    return sorted({*_walk(path, root, extras)[1], *IMAGE_EXTRAS}, key=str.lower)


def image_package(image: str, path: str, root: Path = ROOT) -> str:
    """The requirement an image installs: its package's distribution name, with the image's extras."""
    extras = IMAGE_PACKAGE_EXTRAS.get(image, ())
    return package_name(path, root) + (f"[{','.join(extras)}]" if extras else "")


def stage(dest: Path, paths: list[str], root: Path = ROOT) -> list[Path]:
    """Copy each package of ``paths`` below ``dest`` (fresh), without build litter or tests.

    Wheeling a copy keeps setuptools' ``build/`` and ``*.egg-info`` out of the
    source tree and stale ``build/lib`` files out of the wheels.
    """
    copies = []
    for path in paths:
        target = dest / path
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(root / path, target, ignore=_IGNORE)
        copies.append(target)
    return copies


def build_requires(paths: list[str], root: Path = ROOT) -> list[str]:
    """Return the ``[build-system] requires`` of every package."""
    reqs: dict[str, None] = {}
    for path in paths:
        with (root / path / "pyproject.toml").open("rb") as fh:
            system = tomllib.load(fh).get("build-system", {})
        reqs.update(dict.fromkeys(system.get("requires", ["setuptools>=40.8.0"])))
    return list(reqs)


def lock_file(image: str, root: Path = ROOT) -> Path:
    return root / LOCK_DIR / f"{image}.txt"


def lock_input(image: str, path: str, root: Path = ROOT) -> str:
    """The text of ``images/lock/<image>.in``: the image's third-party requirements."""
    return (f"# {image} ({path}): third-party requirements of {', '.join(closure(path, root))}\n"
            "# made by `make lock` (images/buildplan.py lock); do not edit\n"
            + "".join(f"{r}\n" for r in requirements(path, root, IMAGE_PACKAGE_EXTRAS.get(image, ()))))


def stale_locks(images: list[tuple[str, str, tuple[str, ...]]], root: Path = ROOT) -> list[str]:
    """The images whose lock input (``.in``) no longer matches the packages, or that have no lock."""
    stale = []
    for image, path, _ in images:
        lock_in = root / LOCK_DIR / f"{image}.in"
        if (not lock_file(image, root).is_file() or not lock_in.is_file()
                or lock_in.read_text() != lock_input(image, path, root)):
            stale.append(image)
    return stale


def locked(lock: Path) -> dict[str, str]:
    """The ``name -> version`` pins of a lock file (``name==version`` lines)."""
    pins = {}
    for line in lock.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", line)
        if m:
            pins[_norm(m.group(1))] = m.group(2)
    return pins


def pins(root: Path = ROOT) -> dict[str, str]:
    """The ``KEY=value`` pins of ``images/pins.env`` (comments and blank lines skipped)."""
    found = {}
    for line in (root / "images" / "pins.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            found[key.strip()] = value.strip()
    return found


def _uv(args: list[str], out: Path, root: Path = ROOT) -> None:
    uv = Path(sys.executable).with_name("uv")
    exe = str(uv) if uv.is_file() else shutil.which("uv")
    if not exe:
        raise PlanError("uv is not installed (`make lock` installs it into .venv)")
    cmd = [exe, "pip", "compile", "--quiet", "--generate-hashes", "--python-version", LOCK_PYTHON,
           "--python-platform", LOCK_PLATFORM, "--exclude-newer", pins(root)["LOCK_EXCLUDE_NEWER"],
           "--no-header", "--annotation-style", "line", *args, "-o", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PlanError(f"uv pip compile {args[-1]} failed: {result.stderr.strip()[-2000:]}")


def write_locks(images: list[tuple[str, str, tuple[str, ...]]], root: Path = ROOT) -> list[Path]:
    """Write every image's ``.in`` and resolve the hashed locks with uv (network, or uv's cache)."""
    lock_dir = root / LOCK_DIR
    lock_dir.mkdir(parents=True, exist_ok=True)
    union: dict[str, None] = {}
    written = []
    for image, path, _ in images:
        (lock_dir / f"{image}.in").write_text(lock_input(image, path, root))
        union.update(dict.fromkeys(requirements(path, root, IMAGE_PACKAGE_EXTRAS.get(image, ()))))
    (lock_dir / "requirements.in").write_text(
        "# every image's third-party requirements (the union lock); made by `make lock`\n"
        + "".join(f"{r}\n" for r in sorted(union, key=str.lower)))
    (lock_dir / "build.in").write_text(
        "# what builds the repository's packages into wheels (the builder stage); made by `make lock`\n"
        + "".join(f"{r}\n" for r in BUILD_TOOLS))
    _uv([str(lock_dir / "requirements.in")], lock_dir / "requirements.txt", root)
    _uv([str(lock_dir / "build.in")], lock_dir / "build.txt", root)
    with tempfile.TemporaryDirectory() as tmp:
        constraints = Path(tmp) / "pins.txt"  # the union's versions, without hashes, as constraints
        constraints.write_text("".join(f"{n}=={v}\n" for n, v in sorted(locked(lock_dir / "requirements.txt").items())))
        for image, _, _ in images:
            _uv(["-c", str(constraints), str(lock_dir / f"{image}.in")], lock_file(image, root), root)
            written.append(lock_file(image, root))
    for lock in [lock_dir / "requirements.txt", lock_dir / "build.txt", *written]:
        # uv writes the paths it was given: keep the file the same wherever the repository is
        text = re.sub(r"(, )?-c \S+pins\.txt(, )?", lambda m: ", " if m.group(1) and m.group(2) else "",
                      lock.read_text())
        lock.write_text(text.replace(str(lock_dir) + "/", ""))
    return [lock_dir / "requirements.txt", lock_dir / "build.txt", *written]


def lock_id(root: Path = ROOT) -> str:
    """A short hash of every lock file (``*.txt``): the tag of the wheel builder image."""
    digest = hashlib.sha256()
    for lock in sorted((root / LOCK_DIR).glob("*.txt")):
        digest.update(lock.name.encode() + b"\0" + lock.read_bytes())
    return digest.hexdigest()[:12]


def context(dest: Path, image: str, path: str, root: Path = ROOT) -> Path:
    """Make ``dest`` the build context of ``image`` (package ``path``): ``src/`` and ``lock.txt``.

    ``src/`` holds only the repository packages the image installs, so a change in one module leaves
    the other images' Docker layers cached.
    """
    lock = lock_file(image, root)
    if not lock.is_file():
        raise PlanError(f"image {image!r} has no lock ({lock.relative_to(root)}): run `make lock`")
    for sub in ("src", "lock.txt"):
        target = dest / sub
        if target.is_dir():
            shutil.rmtree(target)
    dest.mkdir(parents=True, exist_ok=True)
    stage(dest / "src", closure(path, root), root)
    shutil.copyfile(lock, dest / "lock.txt")
    return dest


def _wheel_key(filename: str) -> tuple[str, str]:
    name, ver = filename.split("-")[:2]
    return _norm(name), ver


def wheel_context(dest: Path, cache: Path, root: Path = ROOT,
                  ca_bundle: Path = Path("/etc/ssl/certs/ca-certificates.crt")) -> Path:
    """Make ``dest`` the context of the wheel builder stage (see the module docstring)."""
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "cache").mkdir(parents=True)
    shutil.copytree(root / LOCK_DIR, dest / "lock", ignore=shutil.ignore_patterns("*.in"))
    pins: set[tuple[str, str]] = set()
    for lock in (root / LOCK_DIR).glob("*.txt"):
        pins.update(locked(lock).items())
    for wheel in sorted(cache.glob("*.whl")) if cache.is_dir() else []:
        if _wheel_key(wheel.name) in pins:
            try:
                os.link(wheel, dest / "cache" / wheel.name)
            except OSError:  # another file system
                shutil.copy2(wheel, dest / "cache" / wheel.name)
    if ca_bundle.is_file():
        shutil.copyfile(ca_bundle, dest / "ca-certificates.crt")
    else:
        (dest / "ca-certificates.crt").write_text("")  # the image's own bundle is used
    return dest


def version(root: Path = ROOT) -> str:
    """Return the project version (that of ``core/pyproject.toml``)."""
    with (root / "core" / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="buildplan.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_images = sub.add_parser("images")
    p_images.add_argument("--all", action="store_true")
    p_images.add_argument("names", nargs="*")
    sub.add_parser("closure").add_argument("path")
    sub.add_parser("requirements").add_argument("path")
    p_ctx = sub.add_parser("context")
    p_ctx.add_argument("dest", type=Path)
    p_ctx.add_argument("image")
    p_ctx.add_argument("path")
    p_wctx = sub.add_parser("wheel-context")
    p_wctx.add_argument("dest", type=Path)
    p_wctx.add_argument("cache", type=Path)
    p_lock = sub.add_parser("lock")
    p_lock.add_argument("--check", action="store_true")
    sub.add_parser("lock-id")
    sub.add_parser("version")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "images":
            lines = [f"{i}\t{p}\t{image_package(i, p)}\t{' '.join(c)}" for i, p, c in select(args.names, args.all)]
        elif args.cmd == "closure":
            lines = closure(args.path)
        elif args.cmd == "requirements":
            lines = requirements(args.path)
        elif args.cmd == "context":
            lines = [str(context(args.dest, args.image, args.path))]
        elif args.cmd == "wheel-context":
            lines = [str(wheel_context(args.dest, args.cache))]
        elif args.cmd == "lock":
            images = select([], build_all=True)
            if args.check:
                stale = stale_locks(images)
                if stale:
                    raise PlanError(f"the locks of {', '.join(stale)} do not match their packages' "
                                    "requirements: run `make lock` (needs the package index)")
                lines = []
            else:
                lines = [str(p.relative_to(ROOT)) for p in write_locks(images)]
        elif args.cmd == "lock-id":
            lines = [lock_id()]
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
