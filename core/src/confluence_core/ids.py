"""SWORD reach and node identifiers (contracts.md section 3).

reach_id ``CBBBBBRRRRT`` (11 digits), node_id ``CBBBBBRRRRNNNT`` (14 digits), and the
cycle/pass id of a SWOT pass (``observations`` in the SWOT files, contracts.md sections 4 and 6).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

#: An id or an array of ids (the id arithmetic below works on both).
IdT = TypeVar("IdT", int, np.ndarray)

#: First digit of a SWORD id -> SWORD continent file code.
CONTINENT_OF_DIGIT: dict[int, str] = {
    1: "af", 2: "eu", 3: "as", 4: "as", 5: "oc", 6: "sa", 7: "na", 8: "na", 9: "na",
}

#: continent.json in its contract order (contracts.md section 4).
CONTINENTS: list[dict[str, list[int]]] = [
    {"af": [1]}, {"as": [4, 3]}, {"eu": [2]}, {"na": [7, 8, 9]}, {"oc": [5]}, {"sa": [6]},
]
CONTINENT_ORDER: list[str] = [next(iter(c)) for c in CONTINENTS]

#: Reach type digit meanings.
REACH_TYPES: dict[int, str] = {
    1: "river", 3: "lake on river", 4: "dam or waterfall", 5: "unreliable topology", 6: "ghost",
}
RIVER_TYPE = 1


def _digits(value: int | str, n: int, what: str) -> str:
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not (text.isdigit() and len(text) == n):
        raise ValueError(f"{what} {value!r} is not {n} digits")
    return text


def reach_str(reach_id: int | str) -> str:
    """Return a validated 11-digit reach id as text."""
    return _digits(reach_id, 11, "reach_id")


def node_str(node_id: int | str) -> str:
    """Return a validated 14-digit node id as text."""
    return _digits(node_id, 14, "node_id")


def continent_of(reach_or_node_id: int | str) -> str:
    """Return the SWORD continent code (``na``, ``eu``...) of a reach or node id."""
    text = str(reach_or_node_id).strip()
    digit = int(text[0])
    if digit not in CONTINENT_OF_DIGIT:
        raise ValueError(f"id {reach_or_node_id!r} starts with {digit}, which is no SWORD continent")
    return CONTINENT_OF_DIGIT[digit]


def basin_of(reach_or_node_id: int | str) -> int:
    """Return the basin (first four digits) of a reach or node id."""
    return int(str(reach_or_node_id).strip()[:4])


def reach_type(reach_id: int | str) -> int:
    """Return the type digit T of a reach id."""
    return int(reach_str(reach_id)[-1])


def is_river(reach_id: int | str) -> bool:
    """True for type-1 (river) reaches, the only ones flow laws run on."""
    return reach_type(reach_id) == RIVER_TYPE


def reach_id_of(level6_basin: int, number: int, rtype: int) -> int:
    """Compose ``CBBBBBRRRRT`` from the level-6 basin ``CBBBBB``, the reach number ``RRRR`` and the type ``T``."""
    return int(level6_basin) * 10**5 + int(number) * 10 + int(rtype)


def node_ids_of(reach_id: int, number: np.ndarray) -> np.ndarray:
    """Node ids ``CBBBBBRRRRNNNT`` of node numbers ``number`` (1-based) of ``reach_id`` (its type digit T)."""
    return (int(reach_id) // 10) * 10_000 + np.asarray(number, dtype=np.int64) * 10 + int(reach_id) % 10


def level6_basin_of(reach_id: IdT) -> IdT:
    """The level-6 basin ``CBBBBB`` (first six digits) of reach ids (int or int64 array)."""
    return reach_id // 10**5


def reach_number_of(reach_id: IdT) -> IdT:
    """The reach number ``RRRR`` (digits 7-10) of reach ids; SWORD numbers grow upstream along a river."""
    return (reach_id // 10) % 10**4


def reach_of_node(node_id: int | str) -> str:
    """Return the reach id of a node: its first 10 digits and the node's type digit."""
    text = node_str(node_id)
    return text[:10] + text[-1]


def cycle_pass_id(cycle: int, pass_number: int) -> int:
    """Integer id of a SWOT cycle/pass: ``cycle * 1000 + pass``.

    The ``observations`` of the SWOT files and the values of ``cycle_passes.json``.
    Derived from the cycle and pass alone (passes run 1-584), so the per-continent
    ``cycle_passes_{c}.json`` files agree wherever they overlap and merge without
    clashes, and input can number a pass that ``cycle_passes.json`` lacks.
    """
    return int(cycle) * 1000 + int(pass_number)
