"""CloudWatch log streams of Batch jobs: find a job's stream, read it, pick its error line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from confluence_core.errors import ConfluenceError

from .config import Aws, aws_errors

#: Pages of get_log_events read at most (10,000 events each): a stream is never read forever.
MAX_PAGES = 100


def log_stream(job: dict[str, Any]) -> str:
    """The log stream of a described job (its container, else its last attempt), '' when none yet."""
    stream = (job.get("container") or {}).get("logStreamName") or ""
    for attempt in reversed(job.get("attempts") or []):
        stream = stream or (attempt.get("container") or {}).get("logStreamName") or ""
    return stream


def events(aws: Aws, stream: str, limit_pages: int = MAX_PAGES) -> Iterator[str]:
    """Messages of ``stream`` in the configured log group, oldest first."""
    logs = aws.client("logs")
    group = aws.config.log_group
    kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
    with aws_errors(f"cannot read log stream {stream} of log group {group}"):
        for _ in range(limit_pages):
            page = logs.get_log_events(**kwargs)
            yield from (e.get("message", "") for e in page.get("events", []))
            token = page.get("nextForwardToken")
            if not page.get("events") or not token or token == kwargs.get("nextToken"):
                return
            kwargs["nextToken"] = token


def error_line(aws: Aws, stream: str, limit: int = 300) -> str:
    """The job's own last ``error:`` line, else its last line ('' when the stream cannot be read)."""
    if not stream:
        return ""
    try:
        lines = [m.strip() for m in events(aws, stream, limit_pages=5) if m.strip()]
    except ConfluenceError:
        return ""
    for line in reversed(lines):
        if "error:" in line:
            return line[line.index("error:"):][:limit]
    return lines[-1][:limit] if lines else ""
