"""End to end, every step: ``confluence run --batch`` on moto, all thirteen stages as containers, on the demo world,
orchestrated in (moto's) AWS while the command that started the run is killed.

``confluence run --batch --wait`` runs in a subprocess: it submits the orchestrator job (the ``driver``
image, :mod:`confluence_driver.aws.orchestrator`) and follows the run's record on S3.  As soon as the
orchestrator's container has taken the run (record RUNNING) the subprocess is killed (SIGKILL): the laptop
closed.  The run must still finish, orchestrated by that container, and ``status`` and ``logs`` read it.

Every ready row of the workflow table (datagen ... output, disable_renew included) runs as containers of
the built images (``confluence/<image>:0.1.0``, tagged with their ECR names as a push would) on moto's
Docker Batch backend, with host folders standing in for EFS.  Before phase 1 the driver enables the renew
rule on moto's EventBridge and invokes moto's (simple) Lambda, as on AWS; the disable_renew container then
disables that rule by calling moto over HTTP: a :class:`moto.server.ThreadedMotoServer` in this process
(the same backends as ``mock_aws``) on 127.0.0.1, reached from the containers through host networking
(``MOTO_DOCKER_NETWORK_MODE=host``) and ``AWS_ENDPOINT_URL``.  Every file the run leaves in the volumes
must equal the one ``confluence run --local --engine process`` writes on the same world, value for value
(:func:`compare_trees`; what is ignored is listed in :data:`IGNORED_ATTRS` and :data:`IGNORED_KEYS`).

The whole demo world (39 reaches, 3 basins, 2 continents) is used: ``run --batch`` has no ``--reaches``
(that option only selects children of a local run) and ``--reach-ids`` subsets only a Hydrocron source.

moto 5.2.5 gaps, patched in this test only (the driver depends on none of them):

- it never sets ``AWS_BATCH_JOB_ARRAY_INDEX`` in array children (patched: each child gets its index);
- a container has no credentials or endpoint for moto (on AWS: the job role and the VPC endpoints), so
  the patch also gives each container ``AWS_ENDPOINT_URL``, a region and fake (non-secret) keys;
- it cannot mount EFS (host volumes in the configuration) and runs no ``--user`` (folders opened to uid 1000).

Gaps seen and not patched: moto ignores the N_TO_N type (the child of a dependent array waits for the
whole previous array: slower, same order), ignores ``retryStrategy`` (a failed child is not retried:
none fails here), and updates an array parent's status only when it is described (the driver describes
the parents it waits for, so dependants start).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from confluence_core import workflow as wf
from confluence_driver import __version__
from confluence_driver.aws import orchestrator
from confluence_driver.cli import main
from confluence_driver.engines.docker_engine import numeric_env
from confluence_driver.runner import image_tag

from .conftest import (
    ACCOUNT,
    BUCKET,
    REGION,
    SECRET,
    demo_volumes,
    ecr_tagged,
    renew_account,
    seed_ecr,
    stop_batch_jobs,
    write_config,
)
from .test_batch_e2e import docker_ready
from .test_renew_run import ENVIRONMENT, PREFIX, RULE, make_rule, put_credentials

FLOW = wf.load()
READY = [s for s in FLOW.steps if s.ready]
IMAGES = [*dict.fromkeys(s.image for s in READY), orchestrator.IMAGE]
#: How long the run may take once the launcher is killed (the demo world: about 10 min on 2 idle cores).
DEADLINE_S = 3600
#: Volumes the steps write (compared); ``source`` and ``previous`` are read-only inputs.
VOLUMES = ["input", "diagnostics", "flpe", "moi", "offline", "validation", "output"]
#: NetCDF attributes (global, group or variable) that name the run, the engine or the time, not the data.
#: ``production_date`` is the wall-clock time a file was written (HiVDI's and MOI's files, as the public
#: modules stamp them); ``history`` holds input's write time.
IGNORED_ATTRS = frozenset({"run_id", "engine", "date_created", "date_modified", "history", "created",
                           "production_date"})
#: JSON keys (at any depth) that name the run, the engine or the time, not the data.
IGNORED_KEYS = frozenset({"run_id", "engine", "created", "updated", "finished", "started", "date_created"})

SKIP = docker_ready([image_tag(image, __version__) for image in IMAGES])
pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.skipif(bool(SKIP), reason=SKIP or "ok")]


@pytest.fixture()
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """moto in-process (Docker Batch, simple Lambda) plus an HTTP server on 127.0.0.1 the containers reach."""
    from moto import mock_aws
    from moto.batch.models import Job
    from moto.server import ThreadedMotoServer

    with mock_aws(config={"lambda": {"use_docker": False}}):
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        monkeypatch.setenv("MOTO_DOCKER_NETWORK_MODE", "host")  # 127.0.0.1 in a container is this machine
        original = Job._get_container_property

        def prop(self: Any, name: str, default: Any) -> Any:
            """Test-only patch of moto 5.2.5 (module docstring): array index, endpoint, region, fake keys."""
            value = original(self, name, default)
            if name != "environment":
                return value
            extra = {"AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": REGION,
                     "AWS_ACCESS_KEY_ID": "AKIACONTAINER", "AWS_SECRET_ACCESS_KEY": "container-fake"}
            # the host's BLAS settings (OPENBLAS_CORETYPE...), as the Docker engine passes them
            # (confluence_driver.engines.docker_engine.numeric_env): without them OpenBLAS picks
            # another kernel in the container, the last digits differ and neoBAM's NUTS turns that
            # into other draws than the local run's (seen: consensus mean_q 2 % apart)
            extra.update(numeric_env())
            index = (self.array_properties or {}).get("index")
            if index is not None:
                extra["AWS_BATCH_JOB_ARRAY_INDEX"] = str(index)
            # the last value of a name wins when moto turns the list into a dict
            return [*value, *({"name": k, "value": v} for k, v in extra.items())]

        monkeypatch.setattr(Job, "_get_container_property", prop)
        clients = renew_account()
        clients["endpoint"] = endpoint
        try:
            yield clients
        finally:
            stop_batch_jobs()
            server.stop()


@pytest.fixture()
def ecr_tags() -> Iterator[list[str]]:
    with ecr_tagged(IMAGES) as made:
        yield made


# -- comparison ---------------------------------------------------------------------------------------

def _written(root: Path) -> list[Path]:
    """Files under ``root`` except hidden folders' (neoBAM's XLA compile cache, ``flpe/neobam/.jax-cache``:
    compiled programs keyed by the machine that compiled them, not results)."""
    return sorted(p.relative_to(root) for p in root.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts[:-1]))


def compare_trees(batch: Path, local: Path) -> dict[str, int]:
    """Assert both run folders' written volumes hold the same files with equal values; files per suffix."""
    counts: dict[str, int] = {}
    for volume in VOLUMES:
        a_root, b_root = batch / volume, local / volume
        files = _written(b_root)
        assert files == _written(a_root), volume
        for rel in files:
            a, b, where = a_root / rel, b_root / rel, f"{volume}/{rel}"
            counts[rel.suffix] = counts.get(rel.suffix, 0) + 1
            if rel.suffix == ".json":
                assert strip(json.loads(a.read_text())) == strip(json.loads(b.read_text())), where
            elif rel.suffix == ".nc":
                import netCDF4

                with netCDF4.Dataset(a) as da, netCDF4.Dataset(b) as db:
                    compare_groups(da, db, where)
            else:  # CSV, text, figures: byte for byte
                assert a.read_bytes() == b.read_bytes(), where
    return counts


def strip(value: Any) -> Any:
    """A JSON value without the keys of :data:`IGNORED_KEYS` (at any depth)."""
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in IGNORED_KEYS}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def attrs(obj: Any) -> dict[str, Any]:
    out = {}
    for name in obj.ncattrs():
        if name in IGNORED_ATTRS:
            continue
        value = obj.getncattr(name)
        out[name] = value.tolist() if isinstance(value, np.ndarray) else value
    return out


def same_attrs(a: dict[str, Any], b: dict[str, Any], where: str) -> None:
    assert set(a) == set(b), where
    for name in a:
        va, vb = a[name], b[name]
        if isinstance(va, float) and math.isnan(va):
            assert isinstance(vb, float) and math.isnan(vb), f"{where}@{name}"
        else:
            assert np.array_equal(np.asarray(va), np.asarray(vb), equal_nan=np.asarray(va).dtype.kind == "f"), \
                f"{where}@{name}: {va!r} != {vb!r}"


def compare_groups(a: Any, b: Any, where: str) -> None:
    """Dimensions, variables (data, mask, dtype) and attributes of a group and its subgroups."""
    assert {k: len(v) for k, v in a.dimensions.items()} == {k: len(v) for k, v in b.dimensions.items()}, where
    same_attrs(attrs(a), attrs(b), where)
    assert set(a.variables) == set(b.variables), where
    for name in a.variables:
        va, vb = a.variables[name], b.variables[name]
        assert va.dtype == vb.dtype and va.dimensions == vb.dimensions, f"{where}:{name}"
        same_attrs(attrs(va), attrs(vb), f"{where}:{name}")
        xa, xb = va[...], vb[...]
        if va.dtype is str or np.dtype(va.dtype).kind == "O" or getattr(va, "_isvlen", False):
            # variable-length arrays (e.g. SIC4DVar's per-time node lists): element by element
            xa, xb = np.asarray(xa, dtype=object), np.asarray(xb, dtype=object)
            assert xa.shape == xb.shape, f"{where}:{name}"
            for i, (ea, eb) in enumerate(zip(xa.ravel(), xb.ravel(), strict=True)):
                assert np.array_equal(np.asarray(ea), np.asarray(eb),
                                      equal_nan=np.asarray(ea).dtype.kind == "f"), f"{where}:{name}[{i}]"
            continue
        np.testing.assert_array_equal(np.ma.getmaskarray(xa), np.ma.getmaskarray(xb), err_msg=f"{where}:{name} mask")
        np.testing.assert_array_equal(np.ma.getdata(xa), np.ma.getdata(xb), err_msg=f"{where}:{name}")
    assert set(a.groups) == set(b.groups), where
    for name in a.groups:
        compare_groups(a.groups[name], b.groups[name], f"{where}/{name}")


# -- the test -----------------------------------------------------------------------------------------

def test_every_step_on_moto_batch_equals_the_local_run(tmp_path: Path, moto_server: dict[str, Any],
                                                       ecr_tags: list[str]) -> None:
    from moto.awslambda_simple.models import lambda_simple_backends

    root = demo_volumes(tmp_path / "volumes")
    config = write_config(tmp_path / "deploy.toml", root, poll=0.5, extra=ENVIRONMENT)
    # No s3.sos_bucket: priors then reads the SoS staged in the input volume, as the local run does
    # (with one, it reads {sos_prefix}/{branch}/ of that bucket instead: another source than the local run's).
    config.write_text(config.read_text().replace('sos_bucket = "confluence-sos"\n', ""))
    assert "sos_bucket" not in config.read_text()
    seed_ecr(moto_server["ecr"], IMAGES)
    make_rule(moto_server)  # DISABLED, as the stack creates it, with the renew Lambda as target
    expiration = put_credentials(moto_server, dt.timedelta(minutes=59))
    lambda_simple_backends[ACCOUNT][REGION].lambda_simple_results_queue.append(
        json.dumps({"prefix": PREFIX, "expiration": expiration}))
    runner = CliRunner()
    out = runner.invoke(main, ["deploy", "--config", str(config), "--skip-push"])
    assert out.exit_code == 0, out.output
    records = tmp_path / "records"

    # the launcher, as an operator's terminal: it reaches moto over HTTP like the containers do
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_server["endpoint"], "CONFLUENCE_RECORDS": str(records)}
    out_file, err_file = tmp_path / "launcher.out", tmp_path / "launcher.err"
    with out_file.open("w") as stdout, err_file.open("w") as stderr:
        launcher = subprocess.Popen([str(Path(sys.executable).with_name("confluence")), "run", "--batch", "--config",
                                     str(config), "--records", str(records), "--wait"],
                                    env=env, stdout=stdout, stderr=stderr)
    try:
        s3, key = moto_server["s3"], None
        deadline = time.monotonic() + 600
        record: dict[str, Any] = {}
        while time.monotonic() < deadline and launcher.poll() is None:
            lines = out_file.read_text().split()
            if lines and key is None:
                key = f"runs/{lines[0]}.json"
            if key:
                with contextlib.suppress(s3.exceptions.NoSuchKey):
                    record = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
                if (record.get(orchestrator.NAME) or {}).get("state") == "RUNNING":
                    break
            time.sleep(1)
        assert (record.get(orchestrator.NAME) or {}).get("state") == "RUNNING", (
            out_file.read_text(), err_file.read_text(), record)
        launcher.kill()  # SIGKILL: no handler runs, nothing is saved or cancelled by the launcher
        assert launcher.wait(30) == -9
    finally:
        if launcher.poll() is None:
            launcher.kill()
    run_id = record["run_id"]
    deadline = time.monotonic() + DEADLINE_S
    while record.get("state") not in ("SUCCEEDED", "FAILED") and time.monotonic() < deadline:
        time.sleep(5)
        record = json.loads(s3.get_object(Bucket=BUCKET, Key=f"runs/{run_id}.json")["Body"].read())
    assert record["state"] == "SUCCEEDED", record
    boss = record[orchestrator.NAME]
    assert boss["state"] == "SUCCEEDED" and len(boss["jobs"]) == 1
    (job,) = moto_server["batch"].describe_jobs(jobs=[boss["jobs"][0]["job_id"]])["jobs"]
    assert job["status"] == "SUCCEEDED" and boss["running"] == job["jobId"]
    assert set(record["steps"]) == {s.name for s in READY}
    assert {s.stage for s in READY} == set(range(1, 14))  # all thirteen stages
    assert all(v["state"] == "SUCCEEDED" for v in record["steps"].values()), record["steps"]
    assert record["renew"]["state"] == "ENABLED"  # enabled by the orchestrator before datagen ...
    assert moto_server["events"].describe_rule(Name=RULE)["State"] == "DISABLED"  # ... disabled by the container
    (path,) = records.glob("*.json")
    assert json.loads(path.read_text())["state"] == "SUBMITTED"  # the launcher's copy; S3 holds the run
    status = runner.invoke(main, ["status", run_id, "--config", str(config), "--records", str(records)])
    assert status.exit_code == 0, status.output
    assert f"run {run_id}: SUCCEEDED" in status.output and "output                 SUCCEEDED" in status.output
    boss_log = runner.invoke(main, ["logs", run_id, orchestrator.NAME, "--config", str(config)])
    assert boss_log.exit_code == 0, boss_log.output
    assert "phase 1: datagen, combine_data" in boss_log.output and "phase 2: input" in boss_log.output
    assert f"run {run_id}: succeeded" in boss_log.output
    logs = runner.invoke(main, ["logs", run_id, "disable_renew", "--config", str(config)])
    assert logs.exit_code == 0, logs.output
    assert f"{RULE}: DISABLED rate(50 minutes) -> {moto_server['function']}" in logs.output
    result_texts = [out_file.read_text(), err_file.read_text(), status.output, boss_log.output]

    local = tmp_path / "local"
    done = runner.invoke(main, ["run", "--local", "--engine", "process", "--workdir", str(local), "--source",
                                str(root / "source")])
    assert done.exit_code == 0, done.output
    counts = compare_trees(root, local)
    assert counts.get(".nc", 0) > 200, counts

    texts = [*result_texts, logs.output, path.read_text(), json.dumps(record)]
    streams = moto_server["logs"].describe_log_streams(logGroupName="/aws/batch/job")["logStreams"]
    for stream in streams:
        events = moto_server["logs"].get_log_events(logGroupName="/aws/batch/job",
                                                     logStreamName=stream["logStreamName"])["events"]
        texts += [e["message"] for e in events]
    assert not [t for t in texts if SECRET in t]
