"""``confluence run --batch`` on moto's simple Batch backend: what is submitted, in which order.

The simple backend runs no container (every job ends SUCCEEDED at once), so
these tests check the submitted jobs: phases, array sizes and chunks, the
index offsets, dependencies, the run record, resume.  Real containers run in
tests/test_batch_e2e.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluence_core import workflow as wf
from confluence_core.volumes import VOLUMES
from confluence_driver.aws.submit import phases
from confluence_driver.cli import main

from .conftest import QUEUE, SECRET, seed_ecr, write_config

WORKFLOW = Path(__file__).parent / "data" / "phases_workflow.toml"


@pytest.fixture()
def deployed(tmp_path: Path, moto_simple: dict[str, Any]) -> dict[str, Any]:
    """Host volumes, a deployment file, job definitions registered for the small workflow."""
    root = tmp_path / "volumes"
    for sub in VOLUMES:
        (root / sub).mkdir(parents=True, exist_ok=True)
    config = write_config(tmp_path / "deploy.toml", root, reference="digest")
    seed_ecr(moto_simple["ecr"], ["datagen", "combine_data", "prediagnostics", "flpe-momma", "validation"])
    result = CliRunner().invoke(main, ["deploy", "--config", str(config), "--workflow", str(WORKFLOW), "--skip-push"])
    assert result.exit_code == 0, result.output
    return {**moto_simple, "root": root, "config": config, "records": tmp_path / "records"}


def reaches(root: Path, n: int) -> None:
    (root / "input" / "reaches.json").write_text(json.dumps([{"reach_id": 71000000001 + 10 * i} for i in range(n)]))


def run(deployed: dict[str, Any], *extra: str) -> Any:
    return CliRunner().invoke(main, ["run", "--batch", "--attached", "--config", str(deployed["config"]), "--workflow",
                                     str(WORKFLOW), "--records", str(deployed["records"]), *extra])


def record(deployed: dict[str, Any]) -> dict[str, Any]:
    (path,) = deployed["records"].glob("*.json")
    return json.loads(path.read_text())


def env_of(job: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in job["container"]["environment"]}


def test_packaged_workflow_phases():
    flow = wf.load()
    split = phases([s for s in flow.steps if s.ready])
    assert [s.name for s in split[0]] == ["datagen", "combine_data"]
    assert split[1][0].name == "input" and len(split) == 2


@pytest.mark.slow
def test_25000_reaches_are_chunked_and_chained(deployed: dict[str, Any]):
    reaches(deployed["root"], 25_000)
    result = run(deployed)
    assert result.exit_code == 0, result.output
    rec = record(deployed)
    assert rec["state"] == "SUCCEEDED"
    assert [s["state"] for s in rec["steps"].values()] == ["SUCCEEDED"] * 5
    steps = rec["steps"]
    assert [(j["offset"], j["size"]) for j in steps["per_reach"]["jobs"]] == [(0, 10000), (10000, 10000),
                                                                            (20000, 5000)]
    batch = deployed["batch"]
    ids = [j["job_id"] for s in steps.values() for j in s["jobs"]]
    jobs = {j["jobId"]: j for j in batch.describe_jobs(jobs=ids)["jobs"]}

    make = [jobs[j["job_id"]] for j in steps["make"]["jobs"]]
    assert len(make) == 1 and make[0]["arrayProperties"]["size"] == 6  # continent.json written by the driver
    merge = jobs[steps["merge"]["jobs"][0]["job_id"]]
    assert merge["dependsOn"] == [{"jobId": make[0]["jobId"]}]
    assert env_of(merge)["AWS_BATCH_JOB_ARRAY_INDEX"] == "0"  # a plain job is told its index

    per = [jobs[j["job_id"]] for j in steps["per_reach"]["jobs"]]
    assert [p["arrayProperties"]["size"] for p in per] == [10000, 10000, 5000]
    assert [env_of(p)["CONFLUENCE_INDEX_OFFSET"] for p in per] == ["0", "10000", "20000"]
    assert all(p["dependsOn"] == [] for p in per)  # first of phase 2: submitted once phase 1 succeeded
    assert all(p["container"]["command"] == ["confluence-prediagnostics"] for p in per)

    again = [jobs[j["job_id"]] for j in steps["per_reach_again"]["jobs"]]
    assert [a["dependsOn"] for a in again] == [[{"jobId": p["jobId"], "type": "N_TO_N"}] for p in per]
    assert steps["per_reach_again"]["depends"] == "n_to_n"
    assert again[0]["container"]["command"] == ["confluence-flpe", "momma"]

    summary = jobs[steps["summary"]["jobs"][0]["job_id"]]
    assert sorted(d["jobId"] for d in summary["dependsOn"]) == sorted(a["jobId"] for a in again)
    assert "arrayProperties" not in summary or not summary["arrayProperties"].get("size")
    assert SECRET not in result.output and SECRET not in json.dumps(rec)


def test_dry_run_names_the_phases(deployed: dict[str, Any]):
    result = run(deployed, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "orchestration: this process (--attached)",
        f"renew: {deployed['config']} names no renew rule ([environment] CONFLUENCE_RENEW_RULE, written by "
        "`confluence deploy --stack`): the schedule is not enabled and PO.DAAC's credentials are not checked",
        "phase 1: make (continent, continent.json), merge (once)",
        "phase 2: per_reach (reach, reaches.json), per_reach_again (reach, reaches.json), summary (once)",
    ]


def fail_children(monkeypatch: pytest.MonkeyPatch, step: str, indices: set[int]) -> None:
    """Test-only patch of moto's simple backend: children ``indices`` of ``step`` end FAILED."""
    from moto.batch_simple.models import BatchSimpleBackend

    original = BatchSimpleBackend._mark_job_as_finished

    def finish(self: Any, include_start_attempt: bool, job: Any) -> None:
        original(self, include_start_attempt, job)
        if f"-{step}-" in job.job_name and job.array_properties.get("index") in indices:
            job.job_stopped = False
            job._mark_stopped(success=False)

    monkeypatch.setattr(BatchSimpleBackend, "_mark_job_as_finished", finish)


def submitted(batch: Any, step: str) -> int:
    jobs = batch.list_jobs(jobQueue=QUEUE, filters=[{"name": "JOB_NAME", "values": [f"confluence-{step}-*"]}])
    return len([j for j in jobs["jobSummaryList"] if ":" not in j["jobId"]])  # parents, not children


def test_failed_child_stops_the_run_and_resume_redoes_only_that_step(deployed: dict[str, Any],
                                                                     monkeypatch: pytest.MonkeyPatch):
    reaches(deployed["root"], 5)
    with monkeypatch.context() as patch:
        fail_children(patch, "per_reach", {3})
        result = run(deployed)
    assert result.exit_code == 1
    rec = record(deployed)
    run_id = rec["run_id"]
    err = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert len(err) == 1
    job = rec["steps"]["per_reach"]["jobs"][0]["job_id"]
    assert err[0].startswith(f"error: step per_reach failed: 1 of 5 children (indices 3); index 3: job {job}:3: ")
    assert f"log stream confluence-prediagnostics/default/{job}:3" in err[0]
    assert f"--resume {run_id}" in result.output
    assert rec["state"] == "FAILED"
    assert {k: v["state"] for k, v in rec["steps"].items()} == {
        "make": "SUCCEEDED", "merge": "SUCCEEDED", "per_reach": "FAILED", "per_reach_again": "CANCELLED",
        "summary": "CANCELLED"}

    status = CliRunner().invoke(main, ["status", run_id, "--records", str(deployed["records"])])
    assert status.exit_code == 0, status.output
    line = next(ln for ln in status.output.splitlines() if ln.startswith("per_reach "))
    assert line.split() == ["per_reach", "FAILED", "5", "4", "1", "0", "0"]
    assert f"index 3: job {job}:3" in status.output

    result = run(deployed, "--resume", run_id)
    assert result.exit_code == 0, result.output
    assert "make: succeeded in an earlier attempt: not redone" in result.output
    assert (submitted(deployed["batch"], "make"), submitted(deployed["batch"], "merge")) == (1, 1)
    assert submitted(deployed["batch"], "per_reach") == 2
    rec = record(deployed)
    assert rec["run_id"] == run_id and rec["state"] == "SUCCEEDED"
    # the record is on S3 too
    body = deployed["s3"].get_object(Bucket="confluence-runs", Key=f"runs/{run_id}.json")["Body"].read()
    assert json.loads(body)["state"] == "SUCCEEDED"


def test_run_without_deploy_and_with_missing_queue(deployed: dict[str, Any], tmp_path: Path):
    other = write_config(tmp_path / "other.toml", deployed["root"], extra='\n[environment]\nX = "1"\n')
    other.write_text(other.read_text().replace('[batch]\n', '[batch]\nname_prefix = "other"\n'))
    result = CliRunner().invoke(main, ["run", "--batch", "--attached", "--config", str(other), "--workflow",
                                       str(WORKFLOW)])
    assert result.exit_code == 1
    assert result.output.strip() == ("error: Batch job definition other-datagen is not registered: run confluence "
                                     f"deploy --config {other}")
    other.write_text(other.read_text().replace(QUEUE, "gone"))
    result = CliRunner().invoke(main, ["run", "--batch", "--attached", "--config", str(other), "--workflow",
                                       str(WORKFLOW)])
    assert result.output.strip() == (f"error: {other}: Batch job queue 'gone' does not exist in us-east-1 "
                                     "(batch.job_queue)")


def test_grouped_step_submits_entries_over_group_children(tmp_path: Path, moto_simple: dict[str, Any]):
    """A row with ``group = 3``: 25 entries -> 9 array children, depending on all of the previous step
    (its children no longer match one to one)."""
    text = WORKFLOW.read_text()
    at = text.index('name = "per_reach_again"')
    grouped = tmp_path / "grouped.toml"
    grouped.write_text(text[:at] + 'group = 3\n' + text[at:])
    root = tmp_path / "volumes"
    for sub in VOLUMES:
        (root / sub).mkdir(parents=True, exist_ok=True)
    config = write_config(tmp_path / "deploy.toml", root)
    seed_ecr(moto_simple["ecr"], ["datagen", "combine_data", "prediagnostics", "flpe-momma", "validation"])
    res = CliRunner().invoke(main, ["deploy", "--config", str(config), "--workflow", str(grouped), "--skip-push"])
    assert res.exit_code == 0, res.output
    reaches(root, 25)
    result = CliRunner().invoke(main, ["run", "--batch", "--attached", "--config", str(config), "--workflow",
                                       str(grouped), "--records", str(tmp_path / "records")])
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "records").glob("*.json")
    steps = json.loads(path.read_text())["steps"]
    assert [(j["offset"], j["size"]) for j in steps["per_reach"]["jobs"]] == [(0, 25)]
    assert [(j["offset"], j["size"]) for j in steps["per_reach_again"]["jobs"]] == [(0, 9)]
    assert steps["per_reach_again"]["depends"] == "after"


def test_flpe_algorithms_are_submitted_side_by_side(tmp_path: Path, moto_simple: dict[str, Any]):
    """The packaged table: every FLPE algorithm depends on the step before FLPE only, consensus on all of them."""
    flow = wf.load()
    root = tmp_path / "volumes"
    for sub in VOLUMES:
        (root / sub).mkdir(parents=True, exist_ok=True)
    ids = [71000000001 + 10 * i for i in range(3)]
    (root / "input" / "reaches.json").write_text(json.dumps([{"reach_id": r} for r in ids]))
    for name in ("metrosets.json", "hivdisets.json", "sicsets.json"):
        (root / "input" / name).write_text(json.dumps([[{"reach_id": r} for r in ids]]))
    config = write_config(tmp_path / "deploy.toml", root, reference="digest")
    seed_ecr(moto_simple["ecr"], list(dict.fromkeys(s.image for s in flow.steps if s.ready)))
    assert CliRunner().invoke(main, ["deploy", "--config", str(config), "--skip-push"]).exit_code == 0
    result = CliRunner().invoke(main, ["run", "--batch", "--attached", "--config", str(config), "--records",
                                       str(tmp_path / "records"), "--from", "priors", "--until",
                                       "postdiagnostics_flpe"])
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "records").glob("*.json")
    steps = json.loads(path.read_text())["steps"]
    ids_of = {name: [j["job_id"] for j in entry["jobs"]] for name, entry in steps.items()}
    jobs = {j["jobId"]: j for j in moto_simple["batch"].describe_jobs(
        jobs=[i for v in ids_of.values() for i in v])["jobs"]}

    def depends(step: str) -> set[str]:
        return {d["jobId"] for i in ids_of[step] for d in jobs[i]["dependsOn"]}

    algorithms = [s.name for s in flow.steps if s.ready and s.flpe is not None and s.flpe.role == "algorithm"]
    assert len(algorithms) >= 2
    for name in algorithms:
        assert depends(name) == set(ids_of["priors"]), name
        assert steps[name]["after"] == ["priors"]
    assert depends("consensus") == {i for name in algorithms for i in ids_of[name]}
    assert steps["consensus"]["after"] == algorithms
    assert depends("postdiagnostics_flpe") == set(ids_of["consensus"])


def test_a_failure_between_submissions_marks_the_run_failed(deployed: dict[str, Any]):
    """Phase 1 succeeds, then the driver cannot size phase 2 (no reaches.json): the record says FAILED, why."""
    result = run(deployed)
    assert result.exit_code == 1
    rec = record(deployed)
    assert rec["state"] == "FAILED"
    assert rec["reason"].startswith("the driver failed outside a step: ")
    assert "reaches.json" in rec["reason"]
    assert rec["steps"]["make"]["state"] == "SUCCEEDED"
    body = deployed["s3"].get_object(Bucket="confluence-runs", Key=f"runs/{rec['run_id']}.json")["Body"].read()
    assert json.loads(body)["state"] == "FAILED"


def test_an_unexpected_error_marks_the_run_failed(deployed: dict[str, Any], monkeypatch: pytest.MonkeyPatch):
    from confluence_driver.aws.submit import BatchRun

    reaches(deployed["root"], 3)
    original = BatchRun.submit

    def submit(self: BatchRun, step: Any, previous: Any, phase: int) -> None:
        if step.name == "per_reach_again":
            raise RuntimeError("boom")
        original(self, step, previous, phase)

    monkeypatch.setattr(BatchRun, "submit", submit)
    result = run(deployed)
    assert result.exit_code != 0
    rec = record(deployed)
    assert rec["state"] == "FAILED" and rec["reason"] == "the driver failed outside a step: RuntimeError('boom')"


def test_definitions_name_images_by_digest(deployed: dict[str, Any]):
    batch = deployed["batch"]
    (latest,) = [d for d in batch.describe_job_definitions(jobDefinitionName="confluence-datagen",
                                                           status="ACTIVE")["jobDefinitions"]]
    digest = deployed["ecr"].describe_images(repositoryName="confluence/datagen",
                                             imageIds=[{"imageTag": "0.1.0"}])["imageDetails"][0]["imageDigest"]
    assert latest["containerProperties"]["image"].endswith(f"/confluence/datagen@{digest}")
    # the tag now names another image (a mutable tag moved): the run refuses the stale definition
    deployed["ecr"].batch_delete_image(repositoryName="confluence/datagen", imageIds=[{"imageTag": "0.1.0"}])
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"digest": "sha256:" + "1" * 64, "size": 2,
                           "mediaType": "application/vnd.docker.container.image.v1+json"}, "layers": []}
    deployed["ecr"].put_image(repositoryName="confluence/datagen", imageManifest=json.dumps(manifest),
                              imageTag="0.1.0", imageDigest="sha256:" + "1" * 64)
    result = run(deployed)
    assert result.exit_code == 1
    assert "Batch job definition confluence-datagen runs " in result.output and "run confluence deploy" in result.output


def test_the_branch_reaches_every_job(deployed: dict[str, Any]):
    """``--branch constrained`` on Batch: CONFLUENCE_BRANCH in every job's environment and in the run record."""
    reaches(deployed["root"], 3)
    result = run(deployed, "--branch", "constrained")
    assert result.exit_code == 0, result.output
    rec = record(deployed)
    assert rec["branch"] == "constrained"
    ids = [j["job_id"] for s in rec["steps"].values() for j in s["jobs"]]
    jobs = deployed["batch"].describe_jobs(jobs=ids)["jobs"]
    assert jobs and {env_of(j).get("CONFLUENCE_BRANCH") for j in jobs} == {"constrained"}
