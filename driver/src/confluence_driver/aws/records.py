"""The run record of a Batch run: job ids and step states, kept locally and on S3.

Layout (JSON)::

    {"run_id": "...", "config": "/abs/deploy.toml", "queue": "...", "version": "0.1.0",
     "created": "...", "updated": "...", "state": "RUNNING|SUCCEEDED|FAILED",
     "steps": {"input": {"state": "SUCCEEDED", "list": "basin.json", "size": 3, "phase": 2,
                         "definition": "arn:...:job-definition/confluence-input:4",
                         "jobs": [{"job_id": "...", "offset": 0, "size": 3, "array": true}],
                         "depends": "after" | "n_to_n" | "",
                         "counts": {"SUCCEEDED": 3, ...}, "failed": [{"index": 2, "job_id": ..., ...}],
                         "reason": ""}}}

Local file: ``<records>/<run_id>.json`` (default ``~/.confluence/runs``); S3
object: ``s3://<s3.runs_bucket>/<s3.runs_prefix>/<run_id>.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

from confluence_core.errors import ConfluenceError
from confluence_core.jsonio import read_json, write_json

from .config import Aws, AwsConfig, aws_errors

RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def default_records_dir() -> Path:
    """``~/.confluence/runs`` (``$CONFLUENCE_RECORDS`` wins)."""
    return Path(os.environ.get("CONFLUENCE_RECORDS") or Path.home() / ".confluence" / "runs")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def check_run_id(run_id: str) -> str:
    if not RUN_ID.fullmatch(run_id):
        raise ConfluenceError(f"run id {run_id!r} must be letters, digits, '-' or '_' (at most 64)")
    return run_id


class RecordStore:
    """Where run records live: a local folder, and S3 when a configuration is given."""

    def __init__(self, folder: Path | None = None, aws: Aws | None = None) -> None:
        self.folder = Path(folder) if folder else default_records_dir()
        self.aws = aws

    def path(self, run_id: str) -> Path:
        return self.folder / f"{check_run_id(run_id)}.json"

    @staticmethod
    def s3_key(config: AwsConfig, run_id: str) -> str:
        return f"{config.runs_prefix}/{run_id}.json" if config.runs_prefix else f"{run_id}.json"

    def save(self, record: dict[str, Any]) -> None:
        """Write the record locally (atomically) and, with AWS, to the runs bucket."""
        record["updated"] = now()
        write_json(self.path(record["run_id"]), record, indent=1)
        if self.aws is not None:
            config = self.aws.config
            key = self.s3_key(config, record["run_id"])
            with aws_errors(f"cannot save the run record to s3://{config.runs_bucket}/{key}"):
                self.aws.client("s3").put_object(Bucket=config.runs_bucket, Key=key, ContentType="application/json",
                                                  Body=json.dumps(record, indent=1).encode())

    def load(self, run_id: str) -> dict[str, Any]:
        """The record of ``run_id``: with AWS the S3 object (the orchestrator job keeps it there), else the
        local file; with AWS and no object, the local file."""
        path = self.path(run_id)
        if self.aws is not None:
            from botocore.exceptions import ClientError

            config = self.aws.config
            key = self.s3_key(config, run_id)
            with aws_errors(f"cannot read the run record s3://{config.runs_bucket}/{key}"):
                try:
                    body = self.aws.client("s3").get_object(Bucket=config.runs_bucket, Key=key)["Body"].read()
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                        raise
                else:
                    loaded: dict[str, Any] = json.loads(body)
                    return loaded
            if path.exists():
                local: dict[str, Any] = read_json(path)
                return local
            raise ConfluenceError(f"no run {run_id}: neither s3://{config.runs_bucket}/{key} nor {path} exists")
        if path.exists():
            record: dict[str, Any] = read_json(path)
            return record
        raise ConfluenceError(f"no run {run_id} (give --config to look on S3 too)", path)
