"""S3 URLs and objects, once for the workflow: parse, exists, upload never over an object, download.

Used by datagen and the RiverSP reader (granules ``s3://bucket/key``), priors
(SoS versions), postdiagnostics (a previous run below a prefix) and output
(the results file).  Every function takes a boto3 S3 client (boto3 is only
imported by :func:`client`, so reading local files never needs it) and turns
S3 errors into one-line :class:`~confluence_core.errors.ConfluenceError` /
:class:`~confluence_core.errors.InputError` messages naming ``s3://bucket/key``.

Writes are never over an existing object: :func:`check_destination` fails
early (bucket reachable, key free), and :func:`upload` is conditional
(``IfNoneMatch='*'`` on ``put_object``, or on ``complete_multipart_upload``
for files above the single-request limit), so a concurrent writer cannot be
overwritten either.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from .atomic import atomic_path
from .errors import ConfluenceError, InputError

log = logging.getLogger(__name__)

#: ``s3://bucket[/key or prefix]`` with a valid bucket name (3-63 lowercase letters, digits, ``.`` ``-``).
URL_RE = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(?P<key>.*))?$")
#: Files up to this size go in one ``put_object``; larger ones in parts of ``PART_SIZE``.
SINGLE_PUT_LIMIT = 4 * 1024**3
PART_SIZE = 256 * 1024**2
#: Error codes of an absent object / bucket, of a refused request, of a failed condition.
MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
MISSING_BUCKET = frozenset({"404", "NoSuchBucket"})
DENIED = frozenset({"403", "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch"})
TAKEN = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` -> (``bucket``, ``some/key``); the key (or prefix) as written, ``""`` when none.

    Raises
    ------
    ConfluenceError
        When ``url`` is not an ``s3://bucket[/key]`` URL.
    """
    m = URL_RE.match(url.strip())
    if not m:
        raise ConfluenceError(f"not an S3 URL of the form s3://bucket/prefix: {url!r}")
    return m["bucket"], m["key"] or ""


def parse_location(text: str) -> tuple[str, str]:
    """A bucket named either way: ``my-bucket`` or ``s3://my-bucket/some/prefix`` -> (bucket, prefix).

    The deployment file names buckets bare (``results_bucket = "my-results"``, with the prefix in its own
    key); a module option may also be given a whole URL.  A bare name must be a valid bucket name.

    Raises
    ------
    ConfluenceError
        When ``text`` is neither a bucket name nor an ``s3://bucket[/prefix]`` URL.
    """
    text = text.strip()
    if text.startswith("s3://"):
        return parse_url(text)
    m = URL_RE.match(f"s3://{text}")
    if not m or m["key"] is not None:
        raise ConfluenceError(f"not an S3 bucket name or s3://bucket/prefix URL: {text!r}")
    return m["bucket"], ""


def url(bucket: str, key: str = "") -> str:
    """``s3://bucket/key`` (``s3://bucket`` for no key)."""
    return f"s3://{bucket}/{key}" if key else f"s3://{bucket}"


def join_key(*parts: str) -> str:
    """An object key from prefix parts, empty parts left out: ``("a/b/", "0002", "x.nc")`` -> ``a/b/0002/x.nc``."""
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def client() -> Any:
    """A boto3 S3 client from the default credential chain."""
    try:
        import boto3
    except ImportError:
        raise ConfluenceError("S3 access needs boto3 (pip install boto3)") from None
    return boto3.client("s3")


def error_code(exc: Exception) -> str:
    """The S3 error code of a botocore ``ClientError`` (``""`` for anything else)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def explain(exc: Exception, bucket: str) -> str:
    """A short reason for an S3 error: missing bucket, access denied, or the code and message."""
    code = error_code(exc)
    if code in MISSING_BUCKET:
        return f"bucket {bucket!r} does not exist"
    if code in DENIED:
        return f"access denied ({code})"
    return f"S3 error {code or type(exc).__name__}: {exc}"


def exists(s3: Any, bucket: str, key: str) -> bool:
    """True when ``s3://bucket/key`` exists (``head_object``).

    Raises
    ------
    ConfluenceError
        When S3 answers anything but "not found" (access denied, missing bucket ...).
    """
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if error_code(exc) in MISSING:
            return False
        raise ConfluenceError(f"cannot check the key: {explain(exc, bucket)}", url(bucket, key)) from None
    return True


def check_destination(s3: Any, bucket: str, key: str, what: str = "an object") -> None:
    """Fail early when the bucket is missing or closed, or ``key`` holds an object already.

    Parameters
    ----------
    what : str
        What the key is for, in the message (``"a results file"``).

    Raises
    ------
    ConfluenceError
        One line naming ``s3://bucket/key`` and the reason.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    where = url(bucket, key)
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        raise ConfluenceError(f"destination is not writable: {explain(exc, bucket)}", where) from None
    except BotoCoreError as exc:
        raise ConfluenceError(f"destination is not reachable ({exc})", where) from None
    if exists(s3, bucket, key):
        raise ConfluenceError(f"exists already: {what} is never written over an earlier one", where)


def upload(s3: Any, path: Path, bucket: str, key: str, what: str = "an object", part_size: int = PART_SIZE,
           single_limit: int = SINGLE_PUT_LIMIT) -> str:
    """Upload ``path`` to ``s3://bucket/key`` only if no object is there; return the URL.

    Raises
    ------
    ConfluenceError
        When the key exists already (``PreconditionFailed``) or S3 refuses the upload.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    where = url(bucket, key)
    try:
        if Path(path).stat().st_size <= single_limit:
            with Path(path).open("rb") as body:
                s3.put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*")
        else:
            _multipart(s3, Path(path), bucket, key, part_size)
    except ClientError as exc:
        if error_code(exc) in TAKEN:
            raise ConfluenceError(f"exists already: {what} is never written over an earlier one", where) from None
        raise ConfluenceError(f"upload failed: {explain(exc, bucket)}", where) from None
    except BotoCoreError as exc:
        raise ConfluenceError(f"upload failed ({exc})", where) from None
    log.info("uploaded %s to %s", Path(path).name, where)
    return where


def _multipart(s3: Any, path: Path, bucket: str, key: str, part_size: int) -> None:
    """Multipart upload completed with ``IfNoneMatch='*'``; aborted (nothing visible) on any error."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    try:
        parts = []
        with path.open("rb") as fh:
            number = 1
            while chunk := fh.read(part_size):
                res = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk)
                parts.append({"ETag": res["ETag"], "PartNumber": number})
                number += 1
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                     MultipartUpload={"Parts": parts}, IfNoneMatch="*")
    except BaseException:
        try:
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except Exception:  # the original error is the one to report
            log.debug("abort of multipart upload %s failed", upload_id, exc_info=True)
        raise


def download(s3: Any, bucket: str, key: str, dest: Path, missing_ok: bool = False) -> Path | None:
    """Download ``s3://bucket/key`` to ``dest`` atomically (a reader never sees half a file).

    Returns
    -------
    pathlib.Path or None
        ``dest``; None when the object does not exist and ``missing_ok``.

    Raises
    ------
    InputError
        The object is absent (unless ``missing_ok``), or the download failed, naming the URL and why.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    where = url(bucket, key)
    try:
        with atomic_path(dest) as tmp:
            s3.download_file(bucket, key, str(tmp))
    except ClientError as exc:
        if error_code(exc) in MISSING and missing_ok:
            return None
        reason = "object not found" if error_code(exc) in MISSING else explain(exc, bucket)
        raise InputError(f"cannot download: {reason}", where) from None
    except (BotoCoreError, OSError) as exc:
        raise InputError(f"cannot download ({type(exc).__name__}: {exc})", where) from None
    return Path(dest)
