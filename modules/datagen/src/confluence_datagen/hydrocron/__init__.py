"""Reach time series from PO.DAAC Hydrocron (live API or a folder of saved responses).

For the workflow's datagen step (``--source hydrocron``, or a source folder
of ``{reach_id}.csv`` responses), by layer:

- :mod:`.client`: the HTTP layer, one reach's CSV from the Hydrocron API
  (retries, ``Retry-After`` and a request interval through
  :mod:`confluence_core.http`);
- :mod:`.parse`: checks one answer with the reader input also uses,
  :mod:`confluence_core.hydrocron` (header, reach id, units, numbers, at least
  one row with a real ``time_str``);
- :mod:`.prior`: the observation-based mean-flow prior and its log-space sd
  (published no-gauge relations; ``bench/noprior_eval.py`` scores them);
- :mod:`.standin`: the minimal SWORD and the SoS without model priors written
  when the input volume has none;
- :mod:`.assemble`: gets and checks every reach (:func:`collect`), keeps the
  answers in ``input/hydrocron/`` and returns the datagen JSON lists
  (:func:`build`).
"""

from __future__ import annotations

from . import prior
from .assemble import (
    REPEAT_S,
    SAVED_DIR,
    build,
    collect,
    continent_outputs,
    folder_reaches,
    is_hydrocron_folder,
    parse_reach_ids,
    pass_tracks,
    report_untied,
    save_responses,
)
from .client import (
    DEFAULT_COLLECTION,
    DEFAULT_START,
    DEFAULT_URL,
    FIELDS,
    RETRY_STATUS,
    HydrocronClient,
    HydrocronError,
    Transport,
    error_text,
    response_csv,
    urllib_transport,
)
from .parse import ReachRecord, check_response, time_seconds
from .standin import (
    MEAN_Q_SD_VAR,
    MEAN_Q_SOURCE,
    mean_flow_prior,
    reach_priors,
    reach_table,
    write_minimal_sos,
    write_minimal_sword,
)

__all__ = [
    "DEFAULT_COLLECTION",
    "DEFAULT_START",
    "DEFAULT_URL",
    "FIELDS",
    "MEAN_Q_SD_VAR",
    "MEAN_Q_SOURCE",
    "REPEAT_S",
    "RETRY_STATUS",
    "SAVED_DIR",
    "HydrocronClient",
    "HydrocronError",
    "ReachRecord",
    "Transport",
    "build",
    "check_response",
    "collect",
    "continent_outputs",
    "error_text",
    "folder_reaches",
    "is_hydrocron_folder",
    "mean_flow_prior",
    "parse_reach_ids",
    "pass_tracks",
    "prior",
    "reach_priors",
    "reach_table",
    "report_untied",
    "response_csv",
    "save_responses",
    "time_seconds",
    "urllib_transport",
    "write_minimal_sos",
    "write_minimal_sword",
]
