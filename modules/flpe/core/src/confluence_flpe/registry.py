"""The FLPE plug-in registry: entry-point group ``confluence.flpe`` (name -> Algorithm class).

A plug-in package declares, in its ``pyproject.toml``::

    [project.entry-points."confluence.flpe"]
    momma = "confluence_flpe_momma.algorithm:Momma"

and is found here once installed; nothing else names algorithms.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from confluence_core import workflow
from confluence_core.errors import ConfluenceError

from .interface import Algorithm, Combiner, is_combiner

GROUP = "confluence.flpe"


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def names() -> list[str]:
    """Names of every installed plug-in, sorted."""
    return sorted(_entry_points())


def get(name: str) -> Algorithm:
    """Return a new instance of the plug-in ``name``.

    Raises
    ------
    ConfluenceError
        When no installed plug-in has that name (the message lists the known
        ones), or its entry point cannot be loaded.
    """
    eps = _entry_points()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none installed"
        raise ConfluenceError(f"unknown FLPE algorithm {name!r}; known: {known}")
    try:
        cls = eps[name].load()
    except Exception as exc:  # a broken plug-in install: say which and why
        raise ConfluenceError(f"cannot load FLPE plug-in {name!r} ({eps[name].value}): {exc}") from exc
    algo = cls()
    if not isinstance(algo, Algorithm) and not is_combiner(algo):
        raise ConfluenceError(f"FLPE plug-in {name!r} ({eps[name].value}) does not implement the Algorithm protocol")
    return algo


def algorithms(include_combiners: bool = False) -> list[Algorithm]:
    """Instances of every installed plug-in (combiners such as consensus only on request)."""
    out = [get(n) for n in names()]
    return [a for a in out if include_combiners or not is_combiner(a)]


def combiners() -> list[Combiner]:
    """Instances of the installed combiner plug-ins (consensus)."""
    return [a for a in (get(n) for n in names()) if is_combiner(a)]


def fanout(algo: Algorithm) -> str:
    """The fan-out kind of a plug-in (``reach`` or ``reachset``): its workflow-table row's."""
    return workflow.load().step(algo.name).fanout
