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

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def describe(self) -> str:
        return str(self.root)

    def fetch(self, rel: str) -> Path | None:
        path = self.root / rel
        return path if path.is_file() else None


class S3Previous(PreviousRun):
    """A previous run below ``s3://bucket/prefix`` (its volumes as sub-prefixes)."""

    def __init__(self, bucket: str, prefix: str, client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client = client
        self._tmp = tempfile.TemporaryDirectory(prefix="confluence-previous-")
        self.root = Path(self._tmp.name)
        self._broken: str | None = None

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def _key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def _s3(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3")
        return self._client

    def fetch(self, rel: str) -> Path | None:
        if self._broken is not None:
            return None
        dest = self.root / rel
        if dest.is_file():
            return dest
        from botocore.exceptions import BotoCoreError, ClientError

        key = self._key(rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        try:
            self._s3().download_file(self.bucket, key, str(part))
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            part.unlink(missing_ok=True)
            if code in ("404", "NoSuchKey", "NotFound"):
                return None
            self._broken = f"{code or 'error'}: {exc}"
            log.warning("previous run %s unreadable (%s): stability flags are 'no reference'",
                        self.describe(), self._broken)
            return None
        except (BotoCoreError, OSError) as exc:
            part.unlink(missing_ok=True)
            self._broken = f"{type(exc).__name__}: {exc}"
            log.warning("previous run %s unreachable (%s): stability flags are 'no reference'",
                        self.describe(), self._broken)
            return None
        part.replace(dest)
        return dest

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
        bucket, _, prefix = spec[5:].partition("/")
        if not bucket:
            log.warning("previous run %r names no bucket: stability flags are 'no reference'", spec)
            return PreviousRun()
        return S3Previous(bucket, prefix, client)
    root = Path(spec)
    if not root.is_dir():
        log.warning("previous run folder %s not found: stability flags are 'no reference'", root)
        return PreviousRun()
    return LocalPrevious(root)
