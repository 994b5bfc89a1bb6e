"""Where the previous run's results come from: a run folder or an S3 prefix.

A previous run is laid out like a run folder (one sub-folder per volume:
``flpe/<algo>/...``, ``moi/...``), locally (``--previous DIR``) or below an
S3 prefix (``--previous s3://bucket/prefix``, read with boto3).  Files are
fetched one at a time, on demand; an S3 object is downloaded into a private
temporary folder that mirrors the layout, so the same contract readers
(``confluence_core.flpe.read_result``) read both.

Nothing here raises on an absent or unreachable previous run: a missing file is
``None`` (the caller flags "no reference"); an unreachable run is logged once
and then behaves as an empty run.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from confluence_core import s3
from confluence_core.errors import ConfluenceError

log = logging.getLogger("confluence-postdiagnostics")

#: Environment variable naming the previous run (folder or s3:// prefix).
PREVIOUS_ENV = "CONFLUENCE_PREVIOUS"


class PreviousRun:
    """No previous run: every fetch is ``None``."""

    #: Local folder laid out like a run folder, holding whatever was fetched.
    root: Path | None = None

    def describe(self) -> str:
        """Text for logs and output attributes."""
        return "none"

    def fetch(self, rel: str) -> Path | None:
        """Local path of the previous run's file ``rel`` (e.g. ``moi/1_integrator.nc``), or None when absent."""
        return None

    def close(self) -> None:
        """Drop any downloaded copies."""


class LocalPrevious(PreviousRun):
    """A previous run folder (the mount root of an earlier local run)."""

    root: Path

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def describe(self) -> str:
        return str(self.root)

    def fetch(self, rel: str) -> Path | None:
        path = self.root / rel
        return path if path.is_file() else None


class S3Previous(PreviousRun):
    """A previous run below ``s3://bucket/prefix`` (its volumes as sub-prefixes)."""

    root: Path

    def __init__(self, bucket: str, prefix: str, client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client = client
        self._tmp = tempfile.TemporaryDirectory(prefix="confluence-previous-")
        self.root = Path(self._tmp.name)
        self._broken: str | None = None

    def describe(self) -> str:
        return s3.url(self.bucket, self.prefix)

    def _key(self, rel: str) -> str:
        return s3.join_key(self.prefix, rel)

    def _s3(self) -> Any:
        if self._client is None:
            self._client = s3.client()
        return self._client

    def fetch(self, rel: str) -> Path | None:
        if self._broken is not None:
            return None
        dest = self.root / rel
        if dest.is_file():
            return dest
        try:
            return s3.download(self._s3(), self.bucket, self._key(rel), dest, missing_ok=True)
        except ConfluenceError as exc:
            self._broken = exc.reason
            log.warning("previous run %s unreadable (%s): stability flags are 'no reference'",
                        self.describe(), self._broken)
            return None

    def close(self) -> None:
        self._tmp.cleanup()


def open_previous(spec: str | None, client: Any = None) -> PreviousRun:
    """Return the previous run named by ``spec`` (folder, ``s3://bucket/prefix``, or None/empty: none).

    A folder that does not exist is logged (one line) and treated as no previous run.
    """
    if not spec:
        log.info("no previous run given (--previous / $%s): stability flags are 'no reference'", PREVIOUS_ENV)
        return PreviousRun()
    if spec.startswith("s3://"):
        try:
            bucket, prefix = s3.parse_url(spec)
        except ConfluenceError as exc:
            log.warning("previous run: %s; stability flags are 'no reference'", exc)
            return PreviousRun()
        return S3Previous(bucket, prefix, client)
    root = Path(spec)
    if not root.is_dir():
        log.warning("previous run folder %s not found: stability flags are 'no reference'", root)
        return PreviousRun()
    return LocalPrevious(root)
