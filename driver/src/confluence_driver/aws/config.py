"""The deployment file (``--config FILE``, TOML or YAML) and the AWS clients built from it.

Every missing or bad value is one :class:`ConfluenceError` naming the key
(``batch.job_queue``) and the file; every AWS SDK failure is one line naming
what was being done (:func:`aws_errors`).  docs/aws.md explains each key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluence_core import atomic, s3
from confluence_core.config import read_table
from confluence_core.errors import ConfluenceError
from confluence_core.volumes import VOLUMES

from .. import __version__

#: Volumes a step may read that a deployment need not have (user data, an earlier run).
OPTIONAL_VOLUMES = ("source", "previous")
#: Keys of the environment table that must never hold a value in a job definition.
SECRET_WORDS = ("SECRET", "PASSWORD", "TOKEN", "ACCESS_KEY", "CREDENTIAL")

#: section -> allowed keys (a typo is an error, not a silently ignored setting).
_KEYS: dict[str, tuple[str, ...]] = {
    "aws": ("region", "account", "endpoint_url"),
    "batch": ("job_queue", "name_prefix", "job_role_arn", "job_roles", "execution_role_arn", "retry_attempts",
              "log_group", "poll_seconds", "queue_wait_seconds", "platform", "max_vcpus"),
    "images": ("registry", "repository_prefix", "version", "reference"),
    "efs": ("file_system_id", "access_points", "transit_encryption"),
    "host_volumes": ("root", "paths"),
    "s3": ("runs_bucket", "runs_prefix", "sos_bucket", "sos_prefix", "results_bucket", "results_prefix"),
    "resources": (),
    "environment": (),
}
_RESOURCE_KEYS = ("vcpus", "memory_mib", "timeout_s")


@dataclass(frozen=True)
class VolumeSource:
    """Where one named volume comes from: an EFS access point or (moto, one host) a host folder."""

    name: str
    access_point: str = ""
    host_path: str = ""

    def batch_volume(self, file_system_id: str, transit_encryption: bool = True) -> dict[str, Any]:
        """The ``volumes`` entry of a job definition."""
        if self.host_path:
            return {"name": self.name, "host": {"sourcePath": self.host_path}}
        return {
            "name": self.name,
            "efsVolumeConfiguration": {
                "fileSystemId": file_system_id,
                "transitEncryption": "ENABLED" if transit_encryption else "DISABLED",
                "authorizationConfig": {"accessPointId": self.access_point, "iam": "ENABLED"},
            },
        }


@dataclass(frozen=True)
class AwsConfig:
    """A checked deployment file."""

    path: str
    region: str
    job_queue: str
    registry: str
    runs_bucket: str
    account: str = ""
    endpoint_url: str = ""
    name_prefix: str = "confluence"
    job_role_arn: str = ""  # one role for every image (older files; deploy warns): see job_roles
    job_roles: dict[str, str] = field(default_factory=dict)  # image class (aws.iam) -> job role ARN
    execution_role_arn: str = ""
    retry_attempts: int = 3
    log_group: str = "/aws/batch/job"
    poll_seconds: float = 30.0
    queue_wait_seconds: float = 6 * 3600.0
    max_vcpus: int = 256  # vCPUs the compute environment runs at once (its maxvCpus): sizes step deadlines
    platform: str = "EC2"
    repository_prefix: str = "confluence/"
    version: str = __version__
    reference: str = "digest"  # job definitions name images by digest; "tag" only on one Docker host (tests)
    file_system_id: str = ""
    transit_encryption: bool = True
    volumes: dict[str, VolumeSource] = field(default_factory=dict)
    host_root: str = ""
    runs_prefix: str = "confluence/runs"
    sos_bucket: str = ""
    sos_prefix: str = ""
    results_bucket: str = ""
    results_prefix: str = ""
    resources: dict[str, dict[str, int]] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def uses_host_volumes(self) -> bool:
        return bool(self.host_root)

    def repository(self, image: str) -> str:
        """ECR repository of a workflow image, e.g. ``confluence/input``."""
        return f"{self.repository_prefix}{image}"

    def image_uri(self, image: str, digest: str = "") -> str:
        """Full image reference a job definition names: ``registry/repo@sha256:...`` given the digest
        (``images.reference = "digest"``), else ``registry/repo:version``."""
        if digest and self.reference == "digest":
            return f"{self.registry}/{self.repository(image)}@{digest}"
        return f"{self.registry}/{self.repository(image)}:{self.version}"

    def job_role(self, cls: str, where: str) -> str:
        """The job role ARN of image class ``cls`` (:mod:`.iam`); ``""`` when no role is configured.

        With ``[batch.job_roles]`` every class in use must be listed (``where`` names the image);
        with only ``batch.job_role_arn`` (older files) every class gets that one role.
        """
        if self.job_roles:
            if cls not in self.job_roles:
                raise ConfluenceError(f"missing configuration value batch.job_roles.{cls} (the job role of {where})",
                                      self.path)
            return self.job_roles[cls]
        return self.job_role_arn

    @property
    def single_role_warning(self) -> str:
        """Why one shared job role is unsafe, when the file gives only ``batch.job_role_arn``."""
        if self.job_role_arn and not self.job_roles:
            return (f"{self.path}: batch.job_role_arn gives every image the same job role (output could read "
                    "PO.DAAC's credentials, any step could touch the renew rule); give one role per image "
                    "class in [batch.job_roles] (docs/aws.md)")
        return ""

    def volume(self, name: str, where: str) -> VolumeSource | None:
        """The source of volume ``name``; None for an optional volume that is not configured.

        ``where`` names what needs it (a step), for the error message.
        """
        if name in self.volumes:
            return self.volumes[name]
        if name in OPTIONAL_VOLUMES:
            return None
        key = "host_volumes.root" if self.uses_host_volumes else f"efs.access_points.{name}"
        raise ConfluenceError(f"missing configuration value {key} (volume {name!r}, mounted by {where})", self.path)

    def job_environment(self) -> dict[str, str]:
        """Environment every job definition carries (run-wide settings, never a secret)."""
        env = {"MPLCONFIGDIR": "/tmp", "CONFLUENCE_ENGINE": "batch"}
        for key, value in (("CONFLUENCE_SOS_BUCKET", self.sos_bucket), ("CONFLUENCE_SOS_PREFIX", self.sos_prefix),
                           ("CONFLUENCE_RESULTS_BUCKET", self.results_bucket),
                           ("CONFLUENCE_RESULTS_PREFIX", self.results_prefix)):
            if value:
                env[key] = value
        env.update(self.environment)
        return env


def load_config(path: str | Path) -> AwsConfig:
    """Read and check a deployment file (``.toml``, ``.yaml`` or ``.yml``)."""
    path = Path(path)
    return check_table(_read(path), str(path))


def check_table(data: dict[str, Any], where: str) -> AwsConfig:
    """Check a deployment file's table (``where``: the file, for messages) and return it as :class:`AwsConfig`."""
    unknown = [k for k in data if k not in _KEYS]
    if unknown:
        raise ConfluenceError(f"unknown section(s) {', '.join(sorted(unknown))}; known: {', '.join(_KEYS)}", where)
    for section, keys in _KEYS.items():
        value = data.get(section, {})
        if not isinstance(value, Mapping):
            raise ConfluenceError(f"{section} must be a table of settings", where)
        if keys:
            bad = [k for k in value if k not in keys]
            if bad:
                raise ConfluenceError(f"unknown setting(s) {', '.join(f'{section}.{k}' for k in sorted(bad))}", where)

    def get(section: str, key: str, default: Any = None, required: bool = False) -> Any:
        value = data.get(section, {}).get(key, default)
        if required and (value is None or value == ""):
            raise ConfluenceError(f"missing configuration value {section}.{key}", where)
        return value

    region = _text(get("aws", "region", required=True), "aws.region", where)
    account = _text(get("aws", "account", ""), "aws.account", where)
    if account and not re.fullmatch(r"\d{12}", account):
        raise ConfluenceError(f"aws.account {account!r} is not a 12-digit AWS account id", where)
    registry = get("images", "registry", "")
    if not registry:
        if not account:
            raise ConfluenceError("missing configuration value images.registry (or aws.account to derive it)", where)
        registry = f"{account}.dkr.ecr.{region}.amazonaws.com"
    volumes, fs_id, host_root = _volumes(data, where)
    sos_bucket, sos_prefix = _bucket(get("s3", "sos_bucket", ""), get("s3", "sos_prefix", ""), "s3.sos_bucket",
                                     where)
    results_bucket, results_prefix = _bucket(get("s3", "results_bucket", ""), get("s3", "results_prefix", ""),
                                             "s3.results_bucket", where)
    job_roles = _roles(get("batch", "job_roles", {}), where)
    if job_roles and get("batch", "job_role_arn", ""):
        raise ConfluenceError("give either batch.job_role_arn (one role for every image) or [batch.job_roles] "
                              "(one per image class), not both", where)
    config = AwsConfig(
        path=where,
        region=region,
        account=account,
        endpoint_url=_text(get("aws", "endpoint_url", ""), "aws.endpoint_url", where),
        job_queue=_text(get("batch", "job_queue", required=True), "batch.job_queue", where),
        name_prefix=_name(get("batch", "name_prefix", "confluence"), "batch.name_prefix", where),
        job_role_arn=_text(get("batch", "job_role_arn", ""), "batch.job_role_arn", where),
        job_roles=job_roles,
        execution_role_arn=_text(get("batch", "execution_role_arn", ""), "batch.execution_role_arn", where),
        retry_attempts=_number(get("batch", "retry_attempts", 3), "batch.retry_attempts", where, int, 1, 10),
        log_group=_text(get("batch", "log_group", "/aws/batch/job"), "batch.log_group", where),
        poll_seconds=_number(get("batch", "poll_seconds", 30), "batch.poll_seconds", where, float, 0.05, 3600),
        queue_wait_seconds=_number(get("batch", "queue_wait_seconds", 21600), "batch.queue_wait_seconds", where,
                                   float, 0, 7 * 86400),
        platform=_choice(get("batch", "platform", "EC2"), "batch.platform", where, ("EC2", "FARGATE")),
        max_vcpus=_number(get("batch", "max_vcpus", 256), "batch.max_vcpus", where, int, 1, 10**6),
        registry=_text(registry, "images.registry", where).rstrip("/"),
        repository_prefix=_text(get("images", "repository_prefix", "confluence/"), "images.repository_prefix", where),
        version=_text(get("images", "version", __version__), "images.version", where),
        # one Docker host ([host_volumes]) runs the images it built, which have no registry digest
        reference=_choice(get("images", "reference", "tag" if host_root else "digest"), "images.reference", where,
                          ("digest", "tag")),
        file_system_id=fs_id,
        transit_encryption=bool(get("efs", "transit_encryption", True)),
        volumes=volumes,
        host_root=host_root,
        runs_bucket=_text(get("s3", "runs_bucket", required=True), "s3.runs_bucket", where),
        runs_prefix=_text(get("s3", "runs_prefix", "confluence/runs"), "s3.runs_prefix", where).strip("/"),
        sos_bucket=sos_bucket,
        sos_prefix=sos_prefix,
        results_bucket=results_bucket,
        results_prefix=results_prefix,
        resources=_resources(data.get("resources", {}), where),
        environment=_environment(data.get("environment", {}), where),
    )
    return config


def _read(path: Path) -> dict[str, Any]:
    table: dict[str, Any] = read_table(path)
    return table


def _text(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str):
        raise ConfluenceError(f"{key} must be text, not {type(value).__name__}", where)
    return value.strip()


def _bucket(bucket: Any, prefix: Any, key: str, where: str) -> tuple[str, str]:
    """A bucket given bare (``my-results``) or as ``s3://my-results/top``, and its prefix key: (bucket, prefix).

    A URL's own prefix comes before the prefix key's (``s3://b/top`` + ``results`` -> ``top/results``).
    """
    text = _text(bucket, key, where)
    extra = _text(prefix, key.replace("_bucket", "_prefix"), where).strip("/")
    if not text:
        return "", extra
    try:
        name, url_prefix = s3.parse_location(text)
    except ConfluenceError as exc:
        raise ConfluenceError(f"{key}: {exc}", where) from None
    return name, s3.join_key(url_prefix, extra)


def _roles(table: Any, where: str) -> dict[str, str]:
    """``[batch.job_roles]``: image class -> role ARN (classes of :mod:`.iam`)."""
    from .iam import CLASSES

    if not isinstance(table, Mapping):
        raise ConfluenceError("batch.job_roles must be a table: image class = role ARN", where)
    out = {}
    for cls, arn in table.items():
        if cls not in CLASSES:
            raise ConfluenceError(f"batch.job_roles.{cls}: no such image class (classes: {', '.join(CLASSES)})",
                                  where)
        arn = _text(arn, f"batch.job_roles.{cls}", where)
        if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/.+", arn):
            raise ConfluenceError(f"batch.job_roles.{cls} {arn!r} is not an IAM role ARN", where)
        out[cls] = arn
    return out


def _name(value: Any, key: str, where: str) -> str:
    text = _text(value, key, where)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,40}", text):
        raise ConfluenceError(f"{key} {text!r} must be letters, digits, '-' or '_' (at most 41)", where)
    return text


def _number(value: Any, key: str, where: str, kind: type, low: float, high: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not isinstance(value, int)):
        raise ConfluenceError(f"{key} must be a{'n integer' if kind is int else ' number'}, not {value!r}", where)
    if not low <= value <= high:
        raise ConfluenceError(f"{key} must be between {low:g} and {high:g}, not {value}", where)
    return kind(value)


def _choice(value: Any, key: str, where: str, choices: tuple[str, ...]) -> str:
    text = _text(value, key, where)
    if text not in choices:
        raise ConfluenceError(f"{key} must be one of {', '.join(choices)}, not {text!r}", where)
    return text


def _volumes(data: dict[str, Any], where: str) -> tuple[dict[str, VolumeSource], str, str]:
    efs, host = data.get("efs"), data.get("host_volumes")
    if efs and host:
        raise ConfluenceError("give either [efs] or [host_volumes], not both", where)
    if host:
        root = _text(host.get("root", ""), "host_volumes.root", where)
        if not root:
            raise ConfluenceError("missing configuration value host_volumes.root", where)
        paths = host.get("paths", {}) or {}
        out = {}
        for name in VOLUMES:
            given = paths.get(name)
            path = Path(_text(given, f"host_volumes.paths.{name}", where)) if given else Path(root) / name
            if not path.is_absolute():
                raise ConfluenceError(f"host_volumes path of {name} must be absolute, not {str(path)!r}", where)
            if given is None and name in OPTIONAL_VOLUMES and not path.exists():
                continue
            out[name] = VolumeSource(name, host_path=str(path))
        return out, "", root
    if not efs:
        raise ConfluenceError("missing configuration value efs.file_system_id (or [host_volumes] for tests)", where)
    fs_id = _text(efs.get("file_system_id", ""), "efs.file_system_id", where)
    if not fs_id:
        raise ConfluenceError("missing configuration value efs.file_system_id", where)
    points = efs.get("access_points", {}) or {}
    unknown = [k for k in points if k not in VOLUMES]
    if unknown:
        raise ConfluenceError(f"efs.access_points: unknown volume(s) {', '.join(unknown)}; "
                              f"volumes are {', '.join(VOLUMES)}", where)
    out = {}
    for name, ap in points.items():
        ap = _text(ap, f"efs.access_points.{name}", where)
        if not ap.startswith("fsap-"):
            raise ConfluenceError(f"efs.access_points.{name} {ap!r} is not an access point id (fsap-...)", where)
        out[name] = VolumeSource(name, access_point=ap)
    return out, fs_id, ""


def _resources(table: Mapping[str, Any], where: str) -> dict[str, dict[str, int]]:
    out = {}
    for cls, spec in table.items():
        if not isinstance(spec, Mapping):
            raise ConfluenceError(f"resources.{cls} must be a table (vcpus, memory_mib, timeout_s)", where)
        bad = [k for k in spec if k not in _RESOURCE_KEYS]
        if bad:
            raise ConfluenceError(f"unknown setting(s) {', '.join(f'resources.{cls}.{k}' for k in bad)}", where)
        out[cls] = {k: _number(v, f"resources.{cls}.{k}", where, int, 1, 10**7) for k, v in spec.items()}
    return out


def _environment(table: Mapping[str, Any], where: str) -> dict[str, str]:
    out = {}
    for key, value in table.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ConfluenceError(f"environment.{key} is not a valid variable name", where)
        if any(word in key.upper() for word in SECRET_WORDS):
            raise ConfluenceError(
                f"environment.{key} looks like a secret: job definitions are readable by anyone who can list "
                "them; keep secrets in SSM Parameter Store (see renew/README.md)", where)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ConfluenceError(f"environment.{key} must be text or a number", where)
        out[key] = str(value)
    return out


# -- AWS clients and errors ---------------------------------------------------------------------------

EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"})
REFUSED_CODES = frozenset({
    "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch",
    "AuthFailure", "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "InvalidAccessKeyId",
})


@contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Turn an AWS SDK failure into one :class:`ConfluenceError` line saying ``what`` was being done.

    Messages name codes, resources and settings; never a credential value.
    """
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    try:
        yield
    except (NoCredentialsError, PartialCredentialsError):
        raise ConfluenceError(f"{what}: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID, "
                              "or run where an instance role is available)") from None
    except NoRegionError:
        raise ConfluenceError(f"{what}: no AWS region (set aws.region in the configuration file)") from None
    except EndpointConnectionError as exc:
        raise ConfluenceError(f"{what}: cannot reach AWS ({exc})") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "ClientError"), error.get("Message", "")
        if code in EXPIRED_CODES:
            raise ConfluenceError(f"{what}: the AWS credentials have expired ({code}): renew them "
                                  "(e.g. `aws sso login`, or a new session token) and retry") from None
        if code in REFUSED_CODES:
            raise ConfluenceError(f"{what}: AWS refused the credentials ({code}): check AWS_PROFILE / the "
                                  "access key and the IAM permissions") from None
        raise ConfluenceError(f"{what}: {code}: {message}".rstrip(": ")) from None
    except BotoCoreError as exc:
        raise ConfluenceError(f"{what}: {exc}") from None


class Aws:
    """boto3 clients for one deployment (region and optional endpoint from the configuration)."""

    def __init__(self, config: AwsConfig) -> None:
        self.config = config
        self._clients: dict[str, Any] = {}
        self._session: Any = None

    def client(self, service: str, **options: Any) -> Any:
        """A cached boto3 client of ``service`` (``batch``, ``ecr``, ``s3``, ``logs``, ``events``...).

        ``options`` are botocore ``Config`` settings (e.g. ``read_timeout``); each set is its own client.
        """
        key = service + (repr(sorted(options.items())) if options else "")
        if key not in self._clients:
            try:
                import boto3
            except ImportError:
                raise ConfluenceError("AWS commands need the package boto3 (pip install boto3)") from None
            import logging

            for name in ("boto3", "botocore", "urllib3"):  # at DEBUG they print request parameters
                logging.getLogger(name).setLevel(logging.WARNING)
            kwargs: dict[str, Any] = {"region_name": self.config.region}
            if self.config.endpoint_url:
                kwargs["endpoint_url"] = self.config.endpoint_url
            if options:
                from botocore.config import Config

                kwargs["config"] = Config(**options)
            with aws_errors(f"cannot create an AWS {service} client"):
                if self._session is None:  # our own session: credentials are looked up afresh
                    self._session = boto3.session.Session()
                self._clients[key] = self._session.client(service, **kwargs)
        return self._clients[key]

    def check_queue(self) -> str:
        """Return the job queue's ARN, or one error when it does not exist or is not usable."""
        name = self.config.job_queue
        with aws_errors(f"cannot read Batch job queue {name}"):
            queues = self.client("batch").describe_job_queues(jobQueues=[name]).get("jobQueues", [])
        if not queues:
            raise ConfluenceError(
                f"Batch job queue {name!r} does not exist in {self.config.region} (batch.job_queue)", self.config.path
            )
        queue = queues[0]
        if queue.get("state") != "ENABLED" or queue.get("status") not in (None, "VALID", "UPDATING", "CREATING"):
            raise ConfluenceError(
                f"Batch job queue {name!r} is not usable (state {queue.get('state')}, status {queue.get('status')})",
                self.config.path,
            )
        arn: str = queue["jobQueueArn"]
        return arn


# -- the deployment file from a CloudFormation stack's outputs (infra/confluence.yaml) ----------------------

#: output key -> (section, key) of the deployment file; every one is required.
STACK_KEYS: dict[str, tuple[str, str]] = {
    "Region": ("aws", "region"),
    "Account": ("aws", "account"),
    "NamePrefix": ("batch", "name_prefix"),
    "MaxVcpus": ("batch", "max_vcpus"),
    "Registry": ("images", "registry"),
    "FileSystemId": ("efs", "file_system_id"),
    "RunsBucket": ("s3", "runs_bucket"),
    "SosBucket": ("s3", "sos_bucket"),
    "SosPrefix": ("s3", "sos_prefix"),
    "ResultsBucket": ("s3", "results_bucket"),
    "ResultsPrefix": ("s3", "results_prefix"),
    "RenewRule": ("environment", "CONFLUENCE_RENEW_RULE"),
    "CredsPrefix": ("environment", "CONFLUENCE_CREDS_PREFIX"),
}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def stack_outputs(stack: str, region: str | None = None, endpoint_url: str = "") -> dict[str, str]:
    """The outputs of CloudFormation stack ``stack`` (``describe_stacks``) as key -> value."""
    try:
        import boto3
    except ImportError:
        raise ConfluenceError("AWS commands need the package boto3 (pip install boto3)") from None
    kwargs: dict[str, Any] = {"region_name": region} if region else {}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    with aws_errors(f"cannot read CloudFormation stack {stack}"):
        stacks = boto3.session.Session().client("cloudformation", **kwargs).describe_stacks(StackName=stack)["Stacks"]
    found = stacks[0]
    state = found.get("StackStatus", "")
    if not state.endswith("_COMPLETE") or "ROLLBACK" in state or state.startswith("DELETE"):
        raise ConfluenceError(f"CloudFormation stack {stack} is {state}, not created or updated "
                              f"({found.get('StackStatusReason') or 'see its events'})")
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def config_from_outputs(outputs: Mapping[str, str], *, stack: str, platform: str = "EC2",
                        existing: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The deployment file's table from a stack's outputs (``infra/confluence.yaml``).

    Every value the stack knows is taken from it (region, account, queue, roles, file system and access
    points, buckets, registry, the renew rule); the rest of ``existing`` (an earlier file: images.version,
    [resources], [environment], prefixes...) is kept.  The optional volumes (source, previous) are written
    only when ``existing`` configures them: a configured ``source`` replaces datagen's search.
    """
    from .iam import CLASSES

    where = f"stack {stack}"
    missing = [key for key in (*STACK_KEYS, "JobQueue", "FargateJobQueue", "ExecutionRoleArn",
                               *(f"JobRole{_camel(c)}" for c in CLASSES),
                               *(f"AccessPoint{_camel(v)}" for v in VOLUMES if v not in OPTIONAL_VOLUMES))
               if not outputs.get(key)]
    if missing:
        raise ConfluenceError(f"{where} has no output {', '.join(missing)}: is it made from infra/confluence.yaml?")
    if platform not in ("EC2", "FARGATE"):
        raise ConfluenceError(f"platform must be EC2 or FARGATE, not {platform!r}")
    table: dict[str, Any] = {k: dict(v) if isinstance(v, Mapping) else v for k, v in (existing or {}).items()}
    table.pop("host_volumes", None)  # the stack's volumes are EFS access points
    for output, (section, key) in STACK_KEYS.items():
        value: Any = outputs[output]
        table.setdefault(section, {})[key] = int(value) if key == "max_vcpus" else value
    batch = table["batch"]
    batch.pop("job_role_arn", None)  # one role per class now
    batch["platform"] = platform
    batch["job_queue"] = outputs["FargateJobQueue" if platform == "FARGATE" else "JobQueue"]
    batch["execution_role_arn"] = outputs["ExecutionRoleArn"]
    batch["job_roles"] = {cls: outputs[f"JobRole{_camel(cls)}"] for cls in CLASSES}
    table.setdefault("images", {})["repository_prefix"] = f"{outputs['NamePrefix']}/"
    efs = table.setdefault("efs", {})
    efs.setdefault("transit_encryption", True)
    earlier = dict(efs.get("access_points") or {})
    efs["access_points"] = {v: outputs[f"AccessPoint{_camel(v)}"] for v in VOLUMES
                            if v not in OPTIONAL_VOLUMES or (v in earlier and outputs.get(f"AccessPoint{_camel(v)}"))}
    ordered = {section: table[section] for section in _KEYS if section in table}
    check_table(ordered, where)
    return ordered


def render_table(table: Mapping[str, Any], suffix: str, header: str = "") -> str:
    """A deployment file's text: YAML for ``.yaml``/``.yml``, else TOML (tables of text, numbers and booleans)."""
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    if suffix.lower() in (".yaml", ".yml"):
        import yaml

        body: str = yaml.safe_dump(dict(table), sort_keys=False)
        return comment + body
    lines: list[str] = []

    def emit(name: str, section: Mapping[str, Any]) -> None:
        lines.append(f"\n[{name}]")
        lines.extend(f"{_toml_key(k)} = {_toml_value(v, f'{name}.{k}')}" for k, v in section.items()
                     if not isinstance(v, Mapping))
        for key, value in section.items():
            if isinstance(value, Mapping):
                emit(f"{name}.{_toml_key(key)}", value)

    for name, section in table.items():
        if not isinstance(section, Mapping):
            raise ConfluenceError(f"{name} must be a table of settings")
        emit(name, section)
    return comment + "\n".join(lines).lstrip("\n") + "\n"


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml_value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are TOML basic-string escapes
    raise ConfluenceError(f"{where}: cannot write a {type(value).__name__} into the deployment file")


def write_from_stack(path: str | Path, stack: str, *, region: str | None = None, platform: str = "EC2",
                     outputs: Mapping[str, str] | None = None) -> AwsConfig:
    """Write (or update) deployment file ``path`` from stack ``stack``'s outputs; return the checked file.

    An existing file gives the region (unless ``region``), the endpoint and every key the stack does not own.
    """
    path = Path(path)
    existing = _read(path) if path.exists() else {}
    endpoint = str((existing.get("aws") or {}).get("endpoint_url", ""))
    region = region or (existing.get("aws") or {}).get("region") or None
    if outputs is None:
        outputs = stack_outputs(stack, region, endpoint)
    table = config_from_outputs(outputs, stack=stack, platform=platform, existing=existing)
    header = (f"Written by `confluence deploy --stack {stack}` from the stack's outputs: run it again after a stack "
              "update.\nKeys the stack does not own (images.version, [resources], [environment]...) are kept.")
    atomic.write_text(path, render_table(table, path.suffix, header))
    return check_table(_read(path), str(path))
