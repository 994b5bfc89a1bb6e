"""Upload the results file to S3 under a key that names the run, never over an earlier object.

Key: ``{prefix}/{run_id}/{file}``.  Before any work the destination is checked
(bucket reachable, key free: ``head_bucket`` / ``head_object``); the upload
itself is conditional (``IfNoneMatch='*'``, on ``put_object`` or on
``complete_multipart_upload`` for files above the single-request limit), so a
concurrent writer cannot be overwritten either.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from confluence_core.errors import ConfluenceError

log = logging.getLogger("confluence-output")

_S3_RE = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?$")
#: Files up to this size go in one ``put_object``; larger ones in parts of ``PART_SIZE``.
SINGLE_PUT_LIMIT = 4 * 1024**3
PART_SIZE = 256 * 1024**2
_DENIED = {"403", "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
_MISSING_BUCKET = {"404", "NoSuchBucket"}


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (``bucket``, ``some/prefix``).

    Raises
    ------
    ConfluenceError
        When ``url`` is not an ``s3://bucket[/prefix]`` URL.
    """
    m = _S3_RE.match(url.strip())
    if not m:
        raise ConfluenceError(f"not an S3 URL of the form s3://bucket/prefix: {url!r}")
    return m.group("bucket"), (m.group("prefix") or "").strip("/")


def results_key(prefix: str, run_id: str, name: str) -> str:
    """The versioned key of a results file: ``{prefix}/{run_id}/{name}``."""
    return "/".join(p for p in (prefix.strip("/"), run_id, name) if p)


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _explain(exc: Exception, bucket: str) -> str:
    code = _code(exc)
    if code in _MISSING_BUCKET:
        return f"bucket {bucket!r} does not exist"
    if code in _DENIED:
        return f"access denied ({code})"
    return f"S3 error {code or type(exc).__name__}: {exc}"


def check_destination(client: Any, bucket: str, key: str) -> None:
    """Fail early when the bucket is missing or closed, or the key holds an earlier result.

    Raises
    ------
    ConfluenceError
        One line naming ``s3://bucket/key`` and the reason.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    url = f"s3://{bucket}/{key}"
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        raise ConfluenceError(f"results destination is not writable: {_explain(exc, bucket)}", url) from None
    except BotoCoreError as exc:
        raise ConfluenceError(f"results destination is not reachable ({exc})", url) from None
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if _code(exc) in ("404", "NoSuchKey", "NotFound"):
            return
        raise ConfluenceError(f"cannot check the key: {_explain(exc, bucket)}", url) from None
    raise ConfluenceError("exists already: a results file is never written over an earlier one", url)


def upload(client: Any, path: Path, bucket: str, key: str, part_size: int = PART_SIZE,
           single_limit: int = SINGLE_PUT_LIMIT) -> str:
    """Upload ``path`` to ``s3://bucket/key`` only if no object is there; return the URL.

    Raises
    ------
    ConfluenceError
        When the key exists already (``PreconditionFailed``) or S3 refuses the upload.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    url = f"s3://{bucket}/{key}"
    try:
        if path.stat().st_size <= single_limit:
            with path.open("rb") as body:
                client.put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*")
        else:
            _multipart(client, path, bucket, key, part_size)
    except ClientError as exc:
        if _code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
            raise ConfluenceError("exists already: a results file is never written over an earlier one",
                                  url) from None
        raise ConfluenceError(f"upload failed: {_explain(exc, bucket)}", url) from None
    except BotoCoreError as exc:
        raise ConfluenceError(f"upload failed ({exc})", url) from None
    log.info("uploaded %s to %s", path.name, url)
    return url


def _multipart(client: Any, path: Path, bucket: str, key: str, part_size: int) -> None:
    """Multipart upload completed with ``IfNoneMatch='*'``; aborted (nothing visible) on any error."""
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    try:
        parts = []
        with path.open("rb") as fh:
            number = 1
            while chunk := fh.read(part_size):
                res = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk)
                parts.append({"ETag": res["ETag"], "PartNumber": number})
                number += 1
        client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                         MultipartUpload={"Parts": parts}, IfNoneMatch="*")
    except BaseException:
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except Exception:  # the original error is the one to report
            log.debug("abort of multipart upload %s failed", upload_id, exc_info=True)
        raise
