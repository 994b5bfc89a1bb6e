"""The renew Lambda: Earthdata Login from SSM in, PO.DAAC's temporary S3 credentials to SSM out.

Configured by environment variables (defaults in :data:`.settings.DEFAULTS`):
``CONFLUENCE_EDL_USER_PARAM``, ``CONFLUENCE_EDL_PASSWORD_PARAM`` (SecureString
parameters holding the login), ``CONFLUENCE_S3CREDS_URL``, ``CONFLUENCE_EDL_HOST``,
``CONFLUENCE_CREDS_PREFIX`` (where the four values go),
``CONFLUENCE_S3CREDS_TIMEOUT`` / ``_ATTEMPTS`` / ``_BACKOFF`` (seconds, tries,
first wait) and ``CONFLUENCE_LOG_LEVEL``.  Give the Lambda a timeout of at
least ``attempts * timeout * 4 + backoff * 2**attempts`` seconds (defaults: 5 minutes).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from .edl import fetch_s3_credentials
from .errors import LoginRefusedError, RenewError, redact
from .settings import CREDS_KEYS, SECRET_KEYS, Settings, parameter_names, quiet_sdk_loggers

log = logging.getLogger(__name__)


def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    """AWS Lambda entry point (``confluence_renew.handler.handler``): renew the credentials once.

    ``event`` (the EventBridge scheduled event) and ``context`` are not used.
    Returns ``{"prefix", "parameters", "expiration"}``; raises :class:`RenewError`
    (one line, no secret) when the renewal failed, so the invocation is marked failed.
    """
    _configure_logging()
    import boto3  # here, so that importing the module stays cheap and boto3-free for docs/tests

    return renew(boto3.client("ssm"), Settings.from_env())


def renew(ssm: Any, settings: Settings, *, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Read the login from SSM, fetch the credentials, write them to SSM; see :func:`handler`.

    Sets the AWS SDK loggers to WARNING first: at DEBUG botocore logs request
    parameters, i.e. the values written here.
    """
    quiet_sdk_loggers()
    username = _read_secret(ssm, settings.user_param, "the Earthdata Login user name")
    password = _read_secret(ssm, settings.password_param, "the Earthdata Login password")
    secrets = [username, password]
    try:
        try:
            creds = fetch_s3_credentials(
                settings.url, username, password, edl_host=settings.edl_host, timeout=settings.timeout,
                attempts=settings.attempts, backoff=settings.backoff, sleep=sleep,
            )
        except LoginRefusedError as exc:
            raise LoginRefusedError(
                f"Earthdata Login refused the credentials in SSM parameter {settings.user_param} "
                f"(and {settings.password_param}): {exc.reason}; check the user name and password stored there"
            ) from None
        secrets += [creds[key] for key in SECRET_KEYS]
        names = parameter_names(settings.prefix)
        for key in CREDS_KEYS:  # expiration last: a reader that sees the new expiration sees the new keys
            _write_secret(ssm, names[key], creds[key])
    # Last guard: whatever failed, its message must not carry a credential value.
    except RenewError as exc:
        raise type(exc)(redact(exc.reason, secrets)) from None
    except Exception as exc:
        raise RenewError(redact(f"unexpected {type(exc).__name__}: {exc}", secrets)) from None
    log.info(
        "renewed PO.DAAC S3 credentials: wrote %s/{%s} (expiration %s)",
        settings.prefix, ",".join(CREDS_KEYS), creds["expiration"],
    )
    return {"prefix": settings.prefix, "parameters": list(names.values()), "expiration": creds["expiration"]}


def _read_secret(ssm: Any, name: str, what: str) -> str:
    """The decrypted value of SSM parameter ``name`` (clear error naming the parameter, never the value)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        value: str = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "ClientError")
        if code == "ParameterNotFound":
            raise RenewError(f"SSM parameter {name} ({what}) does not exist") from None
        raise RenewError(f"cannot read SSM parameter {name} ({what}): {code}") from None
    except BotoCoreError as exc:
        raise RenewError(f"cannot read SSM parameter {name} ({what}): {type(exc).__name__}: {exc}") from None
    if not value:
        raise RenewError(f"SSM parameter {name} ({what}) is empty")
    return value


def _write_secret(ssm: Any, name: str, value: str) -> None:
    """Write ``value`` as SecureString ``name`` (Overwrite); the error names the parameter and AWS code only.

    AWS validation messages can quote the value, so only the error code is kept.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "ClientError")
        raise RenewError(f"cannot write SSM parameter {name}: {code}") from None
    except BotoCoreError as exc:
        raise RenewError(f"cannot write SSM parameter {name}: {type(exc).__name__}") from None


def _configure_logging() -> None:
    """Log this package at ``$CONFLUENCE_LOG_LEVEL`` (default INFO).

    The Lambda runtime installs its own root handler (at WARNING); only levels are set here.
    """
    level = getattr(logging, os.environ.get("CONFLUENCE_LOG_LEVEL", "INFO").upper(), logging.INFO)
    logging.getLogger("confluence_renew").setLevel(level)
    if not logging.getLogger().handlers:  # outside Lambda (a local call): somewhere to print
        logging.basicConfig(format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
