"""Read the stored S3 credentials back (the reader datagen and input mirror; see renew/README.md).

Parameter contract: four SSM SecureString parameters under one prefix
(``$CONFLUENCE_CREDS_PREFIX``, default ``/confluence/creds``):
``{prefix}/accessKeyId``, ``{prefix}/secretAccessKey``, ``{prefix}/sessionToken``
and ``{prefix}/expiration`` (ISO 8601 date and time, e.g.
``2024-05-01 12:34:56+00:00``; no zone means UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import RenewError
from .settings import CREDS_KEYS, creds_prefix, parameter_names

#: What to run when the credentials are missing or stale.
_HINT = "is the renew schedule enabled? (confluence-renew status; confluence-renew renew fetches them now)"


def parse_expiration(text: str) -> datetime:
    """PO.DAAC's ``expiration`` (``2024-05-01 12:34:56+00:00``, ISO 8601, ``Z`` allowed) -> aware UTC datetime."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise RenewError(f"expiration {text!r} is not an ISO 8601 date and time") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_credentials(
    ssm_client: Any,
    prefix: str | None = None,
    *,
    now: datetime | None = None,
    margin: timedelta = timedelta(0),
) -> dict[str, str]:
    """Return the stored ``accessKeyId``, ``secretAccessKey``, ``sessionToken`` and ``expiration``.

    Parameters
    ----------
    ssm_client
        A boto3 SSM client (its credentials need ``ssm:GetParameters`` and KMS decrypt).
    prefix
        The SSM prefix; default ``$CONFLUENCE_CREDS_PREFIX``, else ``/confluence/creds``.
    now
        The current time (tests); default the clock, UTC.
    margin
        Treat credentials expiring within ``margin`` as expired already.

    Raises
    ------
    RenewError
        A parameter is missing or empty, ``expiration`` is not a date, or it is
        past (``now + margin``).  Messages name parameters, never values.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    prefix = creds_prefix(prefix)
    names = parameter_names(prefix)
    try:
        answer = ssm_client.get_parameters(Names=list(names.values()), WithDecryption=True)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise RenewError(
            f"cannot read the S3 credentials in SSM under {prefix}: "
            f"{error.get('Code', 'ClientError')}: {error.get('Message', '')}".rstrip(": ")
        ) from None
    except BotoCoreError as exc:
        raise RenewError(f"cannot read the S3 credentials in SSM under {prefix}: {exc}") from None
    by_name = {p["Name"]: p.get("Value", "") for p in answer.get("Parameters", [])}
    missing = [name for name in names.values() if not by_name.get(name)]
    if missing:
        raise RenewError(f"S3 credentials missing in SSM: {', '.join(missing)}; {_HINT}")
    values = {key: by_name[names[key]] for key in CREDS_KEYS}
    try:
        expires = parse_expiration(values["expiration"])
    except RenewError as exc:
        raise RenewError(f"SSM parameter {names['expiration']}: {exc.reason}") from None
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if expires <= now + margin:
        when = "expired at" if expires <= now else f"expire within {margin}, at"
        raise RenewError(
            f"the S3 credentials in SSM under {prefix} {when} {expires.isoformat()} "
            f"(now {now.replace(microsecond=0).isoformat()}); {_HINT}"
        )
    return values
