"""Layout of ``{reach_id}_SWOT.nc`` (contracts.md section 6), loaded from ``swot_nc.toml``.

Variable order, dtypes, dimensions and attributes are those of the public workflow's
file (``reference_outputs/swot/74269800011_SWOT.nc``; attribute text from the SWOT
RiverSP product description), kept as data in ``swot_nc.toml`` beside this module.
``_FillValue`` is set by the writer (floats -999999999999, ints -999, time_str ``n``),
not listed there.  :data:`EXTRA_REACH` and :data:`EXTRA_NODE` are ours: fields
contracts.md section 5 lists as used downstream that the reference file lacks.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

#: One variable: name, dtype, attributes (in file order).
Var = tuple[str, str, dict[str, Any]]


def _load() -> dict[str, Any]:
    return tomllib.loads(resources.files(__package__).joinpath("swot_nc.toml").read_text(encoding="utf-8"))


def _vars(entries: list[dict[str, Any]], like: dict[str, Var] | None = None, tiled_comment: str = "") -> list[Var]:
    """The variables of one table; a ``like`` entry starts from that reach variable (see the TOML header)."""
    out = []
    for e in entries:
        if "like" in e:
            if like is None:
                raise ValueError(f"swot_nc.toml: {e['name']}: 'like' is for node variables")
            _, dtype, attrs = like[e["like"]]
            attrs = dict(attrs)
            if e.get("tiled"):
                attrs["comment"] += tiled_comment
        else:
            dtype, attrs = e["dtype"], {}
        attrs.update(e.get("attrs", {}))
        out.append((e["name"], dtype, attrs))
    return out


#: The parsed swot_nc.toml.
TABLES = _load()
#: Root variables.
ROOT_VARS: list[Var] = _vars(TABLES["root"])
#: Group ``reach`` (in file order).
REACH_VARS: list[Var] = _vars(TABLES["reach"])
#: Ours, reach group (on ``nt``): downstream fields absent from the reference file.
EXTRA_REACH: list[Var] = _vars(TABLES["reach_extra"])
_REACH_BY_NAME = {v[0]: v for v in REACH_VARS + EXTRA_REACH}
#: Group ``node`` (in file order).
NODE_VARS: list[Var] = _vars(TABLES["node"], _REACH_BY_NAME, TABLES["tiled_comment"])
#: Ours, node group (on ``nx, nt``); slope and slope_u are the reach values tiled.
EXTRA_NODE: list[Var] = _vars(TABLES["node_extra"], _REACH_BY_NAME, TABLES["tiled_comment"])
#: Node variables that repeat the reach value of the same time on every node.
TILED_FROM_REACH: tuple[str, ...] = tuple(e["name"] for e in TABLES["node"] + TABLES["node_extra"]
                                          if e.get("tiled"))
