"""Check one reach's Hydrocron CSV for datagen (read by :mod:`confluence_core.hydrocron`).

The answer is parsed and checked by :func:`confluence_core.hydrocron.parse_reach`
(the same reader the input step converts it with, so an answer datagen keeps
is one input can write): header, reach id, field counts, units, numbers and
``time_str``; ``no_data`` placeholder rows dropped and counted; a repeated
pass keeps its last row.  A response that cannot be used raises
:class:`~.client.HydrocronError` naming the file or URL, the reach, the line
and the reason.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from confluence_core.errors import InputError
from confluence_core.hydrocron import ReachAnswer, parse_reach, time_seconds

from .client import HydrocronError

__all__ = ["ReachRecord", "check_response", "time_seconds"]


class ReachRecord(ReachAnswer):
    """One reach's checked answer with the columns the stand-in SWORD/SoS use (NaN when absent)."""

    @property
    def width(self) -> np.ndarray:
        """Reach width (m) of each pass."""
        return self.column("width")

    @property
    def area_total(self) -> np.ndarray:
        """Total water area (m^2) of each pass."""
        return self.column("area_total")

    @property
    def reach_q(self) -> np.ndarray:
        """Summary quality flag of each pass (0 good ... 3 bad)."""
        return self.column("reach_q")


def check_response(text: str, reach_id: int, where: str | Path) -> ReachRecord:
    """Check one reach's CSV and return its record; HydrocronError naming the reach and reason."""
    try:
        answer = parse_reach(text, reach_id, where)
    except InputError as exc:
        raise HydrocronError(exc.reason, exc.path) from None
    return ReachRecord(**{f.name: getattr(answer, f.name) for f in dataclasses.fields(answer)})
