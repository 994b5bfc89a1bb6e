"""Names, defaults and environment variables of the renew function (one table, read at call time)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from .errors import RenewError

#: The four values PO.DAAC returns and renew stores, one SSM parameter each: ``{prefix}/{key}``.
CREDS_KEYS: tuple[str, ...] = ("accessKeyId", "secretAccessKey", "sessionToken", "expiration")
#: The three of them that are secret (never logged, never in a message).
SECRET_KEYS: tuple[str, ...] = ("accessKeyId", "secretAccessKey", "sessionToken")

#: The EventBridge schedule: PO.DAAC's credentials live one hour, renew every 50 minutes.
SCHEDULE = "rate(50 minutes)"
#: Id of the rule's one target (the Lambda).
TARGET_ID = "confluence-renew"

#: environment variable -> default
DEFAULTS: dict[str, str] = {
    "CONFLUENCE_EDL_USER_PARAM": "/confluence/edl/username",
    "CONFLUENCE_EDL_PASSWORD_PARAM": "/confluence/edl/password",
    "CONFLUENCE_S3CREDS_URL": "https://archive.podaac.earthdata.nasa.gov/s3credentials",
    "CONFLUENCE_EDL_HOST": "urs.earthdata.nasa.gov",
    "CONFLUENCE_CREDS_PREFIX": "/confluence/creds",
    "CONFLUENCE_S3CREDS_TIMEOUT": "15",
    "CONFLUENCE_S3CREDS_ATTEMPTS": "4",
    "CONFLUENCE_S3CREDS_BACKOFF": "2",
    "CONFLUENCE_RENEW_RULE": "confluence-renew",
}


def env(name: str) -> str:
    """The value of environment variable ``name``, else its default from :data:`DEFAULTS`."""
    return os.environ.get(name) or DEFAULTS[name]


def _number(name: str, minimum: float) -> float:
    text = env(name)
    try:
        value = float(text)
    except ValueError:
        raise RenewError(f"environment variable {name} must be a number, not {text!r}") from None
    if value < minimum:
        raise RenewError(f"environment variable {name} must be >= {minimum:g}, not {text!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the handler needs, from the environment (see :data:`DEFAULTS`)."""

    user_param: str
    password_param: str
    url: str
    edl_host: str
    prefix: str
    timeout: float
    attempts: int
    backoff: float

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings now (not at import: tests and the CLI change the environment)."""
        return cls(
            user_param=env("CONFLUENCE_EDL_USER_PARAM"),
            password_param=env("CONFLUENCE_EDL_PASSWORD_PARAM"),
            url=env("CONFLUENCE_S3CREDS_URL"),
            edl_host=env("CONFLUENCE_EDL_HOST"),
            prefix=creds_prefix(),
            timeout=_number("CONFLUENCE_S3CREDS_TIMEOUT", 0.001),
            attempts=int(_number("CONFLUENCE_S3CREDS_ATTEMPTS", 1)),
            backoff=_number("CONFLUENCE_S3CREDS_BACKOFF", 0),
        )


def creds_prefix(prefix: str | None = None) -> str:
    """The SSM prefix of the stored credentials: ``prefix``, else ``$CONFLUENCE_CREDS_PREFIX``, no trailing ``/``."""
    value = (prefix or env("CONFLUENCE_CREDS_PREFIX")).rstrip("/")
    if not value.startswith("/"):
        raise RenewError(f"the SSM prefix must start with '/', not {value!r}")
    return value


def parameter_names(prefix: str) -> dict[str, str]:
    """``{key: "{prefix}/{key}"}`` for the four credential parameters."""
    return {key: f"{prefix}/{key}" for key in CREDS_KEYS}


#: Loggers of the AWS SDK: at DEBUG botocore prints request parameters (the secrets renew writes).
SDK_LOGGERS: tuple[str, ...] = ("botocore", "boto3", "urllib3", "s3transfer")


def quiet_sdk_loggers() -> None:
    """Keep the AWS SDK loggers at WARNING: no request parameters (secrets) at DEBUG, no INFO chatter."""
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
