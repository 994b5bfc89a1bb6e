"""The run's branch: unconstrained (model priors only) or gauge-constrained.

PO.DAAC's SoS discharge product (SWOT_L4_HR_DAWG_SOS_DISCHARGE) ships two branches of every
continent: *unconstrained*, whose priors are the models' mean flows, and *constrained*, where
calibration gauges (``{A}_CAL`` = 1) replace the model flow statistics of their reaches.  Each
branch has its own priors file and its own results file, named with the branch
(``na_sword_v16_SOS_results_unconstrained_<first>_<last>_<made>.nc``).

The branch reaches every job as one environment variable, :data:`BRANCH_ENV`, which the driver
sets (``confluence run --branch``); a module run by hand without it is in :data:`DEFAULT`.
:func:`confluence_core.ncio.create` writes it as the global attribute :data:`ATTR` of every file.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ConfluenceError

#: Environment variable naming the run's branch (set by the driver for every job).
BRANCH_ENV = "CONFLUENCE_BRANCH"
UNCONSTRAINED = "unconstrained"
CONSTRAINED = "constrained"
#: The branches, the default first.
BRANCHES: tuple[str, ...] = (UNCONSTRAINED, CONSTRAINED)
DEFAULT = UNCONSTRAINED
#: Global attribute of every NetCDF file a job writes.
ATTR = "branch"
#: Sub-folder of a run folder that holds the constrained branch (a run folder of its own, same layout);
#: the unconstrained branch is the run folder itself.
FOLDER = {UNCONSTRAINED: "", CONSTRAINED: CONSTRAINED}


def check(branch: str, where: str = BRANCH_ENV) -> str:
    """``branch`` when it is one of :data:`BRANCHES`, else a one-line error naming ``where``."""
    if branch not in BRANCHES:
        raise ConfluenceError(f"{where}={branch!r} is not a branch: choose {' or '.join(BRANCHES)}")
    return branch


def current() -> str:
    """This job's branch: :data:`BRANCH_ENV`, :data:`DEFAULT` when unset or empty."""
    return check(os.environ.get(BRANCH_ENV) or DEFAULT)


def run_folder(workdir: Path, branch: str) -> Path:
    """Where a branch's volumes, logs, state and run.json live: ``workdir`` or ``workdir/constrained``."""
    sub = FOLDER[check(branch, "--branch")]
    return workdir / sub if sub else workdir


def results_name(continent: str, sword_version: int | str, branch: str) -> str:
    """The results file of a continent and branch, e.g. ``na_sword_v16_SOS_results_unconstrained.nc``.

    The public product's name followed by ``_{first}_{last}_{made}`` (observation range and
    production time); those change from run to run, so ours stops at the branch (they are global
    attributes of the file) and resume can name the file before it exists.
    """
    return f"{continent}_sword_v{sword_version}_SOS_results_{check(branch, 'branch')}.nc"
