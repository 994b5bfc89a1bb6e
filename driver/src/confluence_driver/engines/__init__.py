"""Local engines: run one job (a step's child) in a container or a subprocess.

Both engines give a job the same view: the run folder's volume sub-folders at
the module's mount paths (``/mnt/data/<volume>``; the process engine points
``CONFLUENCE_MNT`` at the run folder instead), the job index in
``AWS_BATCH_JOB_ARRAY_INDEX``, and its stdout/stderr in the job's log file.
"""

from __future__ import annotations

from .base import Engine, JobResult, JobSpec, select_engine

__all__ = ["Engine", "JobResult", "JobSpec", "select_engine"]
