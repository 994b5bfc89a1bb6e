"""Read MOI's ``{reach_id}_integrator.nc``: one group per algorithm (contracts.md section 9).

Layout (see ``data/reference_outputs/moi/77449100071_integrator.nc``): root
dimension ``nt``; one group per algorithm (its MOI name: ``geobam``,
``metroman``, ``momma``, ``hivdi``, ``sad``, ``sic4dvar`` ...) holding the
integrated discharge ``q[nt]`` (m3/s, fill -999999999999), the algorithm's
flow-law parameters as scalars (``a0``, ``n``, ``Abar``, ``na``, ``x1`` ...),
``qbar_reachScale`` and ``qbar_basinScale`` (m3/s), and group attributes
such as ``valid`` (1/0) and ``status``.

The reader is generic: every scalar variable of a group is a parameter, so a
new parameter written by MOI reaches postdiagnostics, offline and validation
without a change here.  Groups without ``q`` are not algorithm results and
are left out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import ncio
from .errors import InputError

log = logging.getLogger(__name__)

#: The scalar variables that are MOI's mean flows, not flow-law parameters.
MEAN_FLOWS = ("qbar_reachScale", "qbar_basinScale")


@dataclass
class IntegratorGroup:
    """One algorithm's group of an integrator file.

    Attributes
    ----------
    q : ndarray, shape (nt,)
        Integrated discharge, m3/s, NaN where fill.
    params : dict of str to float
        Every scalar variable of the group (NaN where fill), including
        ``qbar_reachScale`` and ``qbar_basinScale`` (m3/s).
    attrs : dict
        The group's attributes (``valid``, ``status`` ...).
    """

    q: np.ndarray
    params: dict[str, float] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """The group's ``valid`` attribute (true when absent, as in files written before it existed)."""
        return bool(int(np.ravel(self.attrs.get("valid", 1))[0]))

    @property
    def flow_law(self) -> dict[str, float]:
        """The flow-law parameters: :attr:`params` without the mean flows of :data:`MEAN_FLOWS`."""
        return {k: v for k, v in self.params.items() if k not in MEAN_FLOWS}


def _group(grp: Any) -> IntegratorGroup | None:
    q = ncio.read_float(grp, "q")
    if q is None:
        return None
    params = {}
    for name, var in grp.variables.items():
        value = ncio.read_float(grp, name) if var.ndim == 0 and np.dtype(var.dtype).kind in "iuf" else None
        if value is not None:
            params[name] = float(np.ravel(value)[0])
    attrs = {k: grp.getncattr(k) for k in grp.ncattrs()}
    return IntegratorGroup(np.atleast_1d(q), params, attrs)


def read_integrator(path: str | Path) -> dict[str, IntegratorGroup] | None:
    """Read ``{reach_id}_integrator.nc``: group name -> :class:`IntegratorGroup`, in file order.

    Returns
    -------
    dict or None
        None when the file does not exist (MOI wrote nothing for the reach).

    Raises
    ------
    InputError
        When the file exists but cannot be read as an integrator file (names the file and why).
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        with ncio.open_dataset(path) as ds:
            out: dict[str, IntegratorGroup] = {}
            for name, grp in ds.groups.items():
                group = _group(grp)
                if group is None:
                    log.debug("%s: group %s has no q; skipped", path, name)
                    continue
                out[name] = group
            return out
    except InputError:
        raise
    except (OSError, RuntimeError, IndexError, KeyError, ValueError, TypeError) as exc:
        raise InputError(f"cannot read the integrator groups ({type(exc).__name__}: {exc})", path) from None
