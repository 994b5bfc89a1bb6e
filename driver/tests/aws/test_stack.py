"""infra/confluence.yaml: generated from the tables, cfn-lint and checkov clean (each skip justified), created on
moto's CloudFormation, and ``confluence deploy --stack`` writes the deployment file from its outputs."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from confluence_core import workflow as wf
from confluence_driver.aws import orchestrator
from confluence_driver.aws import stack as st
from confluence_driver.aws.config import OPTIONAL_VOLUMES, load_config
from confluence_driver.aws.iam import CLASSES, image_class, policy

from .conftest import ACCOUNT, REGION, seed_ecr

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "infra" / "confluence.yaml"
DOCS = REPO / "docs" / "aws.md"
STACK = "confluence-test"
#: Resource types moto 5.2.5's CloudFormation does not create (it skips them with a warning): checked
#: structurally below instead.
NOT_IN_MOTO = {"AWS::S3::BucketPolicy", "AWS::EC2::SecurityGroupEgress"}


def test_committed_template_is_the_generated_one() -> None:
    assert TEMPLATE.read_text() == st.render(), "infra/confluence.yaml is stale: run `make infra`"
    out = subprocess.run([sys.executable, "-m", "confluence_driver.aws.stack", "--check", str(TEMPLATE)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_template_comes_from_the_tables() -> None:
    """One access point per [volumes] entry, one repository per image, one job role per class (iam.py)."""
    flow = wf.load()
    res = yaml.safe_load(TEMPLATE.read_text())["Resources"]
    kinds: dict[str, list[str]] = {}
    for logical, body in res.items():
        kinds.setdefault(body["Type"], []).append(logical)
    points = {r["Properties"]["RootDirectory"]["Path"] for r in res.values() if r["Type"] == "AWS::EFS::AccessPoint"}
    assert points == {f"/{v}" for v in flow.volumes}
    repos = {r["Properties"]["RepositoryName"]["Fn::Sub"] for r in res.values() if r["Type"] == "AWS::ECR::Repository"}
    assert repos == {f"${{NamePrefix}}/{s.image}" for s in flow.steps if s.ready} | {"${NamePrefix}/driver"}
    for r in res.values():
        if r["Type"] == "AWS::ECR::Repository":
            assert r["Properties"]["ImageTagMutability"] == "IMMUTABLE"
            assert r["Properties"]["ImageScanningConfiguration"] == {"ScanOnPush": True}
    roles = [k for k in kinds["AWS::IAM::Role"] if k.startswith("JobRole")]
    assert sorted(roles) == sorted(f"JobRole{st.camel(c)}" for c in CLASSES)
    envs = sorted(res[k]["Properties"]["ComputeResources"]["Type"] for k in kinds["AWS::Batch::ComputeEnvironment"])
    assert envs == ["EC2", "FARGATE"]
    rule = res["RenewRule"]["Properties"]
    assert rule["ScheduleExpression"] == "rate(50 minutes)"
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["RenewFunction", "Arn"]}
    assert res["RenewPermission"]["Properties"]["SourceArn"] == {"Fn::GetAtt": ["RenewRule", "Arn"]}
    # what moto does not create or apply, checked here: buckets' versioning, public access block and logging,
    # TLS-only bucket policies, the jobs' NFS egress
    for bucket in ("AccessLogsBucket", "RunsBucket", "SosBucket", "ResultsBucket"):
        props = res[bucket]["Properties"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert list(props["PublicAccessBlockConfiguration"].values()) == [True] * 4
        assert ("LoggingConfiguration" in props) == (bucket != "AccessLogsBucket")
    for bucket in ("AccessLogsBucket", "RunsBucket", "SosBucket", "ResultsBucket"):
        deny = res[f"{bucket}Policy"]["Properties"]["PolicyDocument"]["Statement"][0]
        assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    egress = res["JobsToEfsEgress"]["Properties"]
    assert (egress["FromPort"], egress["ToPort"], egress["DestinationSecurityGroupId"]) == (
        2049, 2049, {"Fn::GetAtt": ["EfsSecurityGroup", "GroupId"]})
    assert {res[k]["Type"] for k in res} >= NOT_IN_MOTO


def test_cfn_lint_is_clean() -> None:
    from cfnlint.api import ManualArgs, lint

    config = ManualArgs(regions=["us-east-1", "us-west-2"])
    assert [str(m) for m in lint(TEMPLATE.read_text(), config=config)] == []
    broken = copy.deepcopy(yaml.safe_load(TEMPLATE.read_text()))
    broken["Resources"]["RunsBucket"]["Properties"]["VersioningConfiguration"] = {"Status": "Sometimes"}
    assert lint(yaml.safe_dump(broken), config=config), "cfn-lint finds nothing wrong in a broken template"


def checkov_binary() -> str:
    """checkov lives in its own virtual environment (its pins clash with ours): build/checkov (make install)."""
    for candidate in (os.environ.get("CHECKOV", ""), str(REPO / "build" / "checkov" / "bin" / "checkov"),
                      shutil.which("checkov") or ""):
        if candidate and Path(candidate).is_file():
            return candidate
    message = "checkov is not installed (make install puts it in build/checkov)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


def checkov(path: Path) -> dict[str, Any]:
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    out = subprocess.run([checkov_binary(), "-f", str(path), "--framework", "cloudformation", "--skip-download",
                          "-o", "json"], capture_output=True, text=True, env=env, timeout=600)
    assert out.stdout.strip(), out.stderr[-2000:]
    report: dict[str, Any] = json.loads(out.stdout)
    return report


def test_checkov_is_clean_and_every_skip_is_justified_needed_and_documented(tmp_path: Path) -> None:
    declared = {(check, logical) for logical, skips in st.SKIPS.items() for check, _ in skips}
    for _, why in [s for skips in st.SKIPS.values() for s in skips]:
        assert len(why) > 40  # a reason, not a placeholder

    report = checkov(TEMPLATE)
    results = report["results"]
    assert [(c["check_id"], c["resource"]) for c in results["failed_checks"]] == []
    assert report["summary"]["parsing_errors"] == 0 and report["summary"]["passed"] > 100
    skipped = {(c["check_id"], c["resource"].split(".")[-1]) for c in results["skipped_checks"]}
    assert skipped == declared

    # without the skips, exactly the skipped findings fail: no suppression is stale
    bare = yaml.safe_load(TEMPLATE.read_text())
    for body in bare["Resources"].values():
        body.get("Metadata", {}).pop("checkov", None)
    (tmp_path / "bare.yaml").write_text(yaml.safe_dump(bare))
    failed = {(c["check_id"], c["resource"].split(".")[-1]) for c in checkov(tmp_path / "bare.yaml")["results"][
        "failed_checks"]}
    assert failed == declared

    docs = DOCS.read_text()
    for check, logical in declared:
        assert re.search(rf"`{check}`[^\n]*`{logical}`", docs), f"docs/aws.md does not list {check} on {logical}"


# -- the stack on moto ---------------------------------------------------------------------------------

def renew_zip(tmp_path: Path) -> bytes:
    """The renew Lambda's zip, built as docs/aws.md says (renew/build_zip.sh)."""
    out = tmp_path / "renew-lambda.zip"
    subprocess.run(["bash", str(REPO / "renew" / "build_zip.sh"), str(out)], check=True, capture_output=True,
                   env={**os.environ, "PYTHON": sys.executable})
    return out.read_bytes()


@pytest.fixture()
def moto_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """infra/confluence.yaml created on moto's CloudFormation (a VPC with two subnets made first)."""
    import boto3
    from moto import mock_aws
    from moto.efs.models import AccessPoint
    from moto.iam.models import Role

    # Two gaps of moto 5.2.5's CloudFormation, filled as AWS behaves: AWS::EFS::AccessPoint has no Ref (AWS:
    # the access point id), and a role's inline policy is kept as a dict where the IAM API keeps JSON text
    # (get_role_policy then answers Python's repr and moto's own permission check fails on it).
    monkeypatch.setattr(AccessPoint, "physical_resource_id", property(lambda self: self.access_point_id),
                        raising=False)
    put_policy = Role.put_policy
    monkeypatch.setattr(Role, "put_policy", lambda self, name, doc: put_policy(
        self, name, doc if isinstance(doc, str) else json.dumps(doc)))
    with mock_aws(config={"batch": {"use_docker": False}}):
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                     AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
                   for i, z in ((1, "a"), (2, "b"))]
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="confluence-artifacts")
        s3.put_object(Bucket="confluence-artifacts", Key="renew/renew-lambda-0.1.0.zip", Body=renew_zip(tmp_path))
        cf = boto3.client("cloudformation", region_name=REGION)
        params = {"VpcId": vpc, "SubnetA": subnets[0], "SubnetB": subnets[1],
                  "RenewCodeBucket": "confluence-artifacts", "RenewCodeKey": "renew/renew-lambda-0.1.0.zip"}
        cf.create_stack(StackName=STACK, TemplateBody=TEMPLATE.read_text(), Capabilities=["CAPABILITY_IAM"],
                        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()])
        described = cf.describe_stacks(StackName=STACK)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
        yield {"status": described["StackStatus"], "outputs": outputs, "subnets": subnets, "cf": cf,
               "clients": {n: boto3.client(n, region_name=REGION) for n in (
                   "batch", "efs", "ecr", "s3", "iam", "lambda", "events", "sts", "ssm")}}


def test_stack_creates_on_moto(moto_stack: dict[str, Any]) -> None:
    flow = wf.load()
    out, c = moto_stack["outputs"], moto_stack["clients"]
    assert moto_stack["status"] == "CREATE_COMPLETE"
    resources = moto_stack["cf"].list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    types = {k: v["Type"] for k, v in yaml.safe_load(TEMPLATE.read_text())["Resources"].items()}
    listed = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"]}
    assert set(listed) == {k for k, t in types.items() if t not in NOT_IN_MOTO}  # moto skips those
    # moto makes ingress rules, permissions and access points without a physical id (each checked below)
    assert {types[k] for k, v in listed.items() if not v} <= {"AWS::EC2::SecurityGroupIngress",
                                                                "AWS::Lambda::Permission", "AWS::EFS::AccessPoint"}
    # Batch: the two compute environments and their queues
    envs = c["batch"].describe_compute_environments()["computeEnvironments"]
    assert sorted(e["computeResources"]["type"] for e in envs) == ["EC2", "FARGATE"]
    assert all(sorted(e["computeResources"]["subnets"]) == sorted(moto_stack["subnets"]) for e in envs)
    queues = {q["jobQueueName"]: q for q in c["batch"].describe_job_queues()["jobQueues"]}
    assert set(queues) == {out["JobQueue"], out["FargateJobQueue"]} == {"confluence", "confluence-fargate"}
    # EFS: encrypted, a mount target per subnet, an access point per volume acting as uid 1000
    fs = c["efs"].describe_file_systems(FileSystemId=out["FileSystemId"])["FileSystems"][0]
    assert fs["Encrypted"]
    assert len(c["efs"].describe_mount_targets(FileSystemId=out["FileSystemId"])["MountTargets"]) == 2
    points = c["efs"].describe_access_points(FileSystemId=out["FileSystemId"])["AccessPoints"]
    by_path = {p["RootDirectory"]["Path"]: p for p in points}
    assert set(by_path) == {f"/{v}" for v in flow.volumes}
    for volume in flow.volumes:
        assert out[f"AccessPoint{st.camel(volume)}"] == by_path[f"/{volume}"]["AccessPointId"]
        assert by_path[f"/{volume}"]["PosixUser"] == {"Uid": 1000, "Gid": 1000}
    # ECR: a repository per image, immutable tags, scanned on push
    repos = c["ecr"].describe_repositories()["repositories"]
    assert {r["repositoryName"] for r in repos} == {f"confluence/{s.image}" for s in flow.steps if s.ready} | {
        "confluence/driver"}  # the orchestrator's image (confluence_driver.aws.orchestrator)
    assert {r["imageTagMutability"] for r in repos} == {"IMMUTABLE"}
    # (scan on push: moto keeps CloudFormation's spelling ScanOnPush, which its API answer then drops;
    # test_template_comes_from_the_tables checks the property)
    # S3: encrypted (moto's AWS::S3::Bucket applies only encryption and tags: versioning, public access
    # block and logging are checked in the template by test_template_comes_from_the_tables)
    for key in ("RunsBucket", "SosBucket", "ResultsBucket"):
        rule = c["s3"].get_bucket_encryption(Bucket=out[key])["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # the renew Lambda, its schedule (created disabled: a run enables it) and invoke permission
    fn = c["lambda"].get_function(FunctionName="confluence-renew")["Configuration"]
    assert (fn["Handler"], fn["Runtime"], fn["Timeout"]) == ("confluence_renew.handler.handler", "python3.11", 300)
    assert fn["Environment"]["Variables"]["CONFLUENCE_CREDS_PREFIX"] == "/confluence/creds"
    rule = c["events"].describe_rule(Name=out["RenewRule"])
    assert (rule["ScheduleExpression"], rule["State"]) == ("rate(50 minutes)", "DISABLED")
    targets = c["events"].list_targets_by_rule(Rule=out["RenewRule"])["Targets"]
    assert [t["Arn"] for t in targets] == [out["RenewFunctionArn"]]
    permission = json.loads(c["lambda"].get_policy(FunctionName="confluence-renew")["Policy"])["Statement"][0]
    assert permission["Principal"] == {"Service": "events.amazonaws.com"}
    assert permission["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["Arn"]
    # each job role's inline policy is iam.policy() of its class with the stack's values
    for cls in CLASSES:
        name = out[f"JobRole{st.camel(cls)}"].rsplit("/", 1)[1]
        doc = c["iam"].get_role_policy(RoleName=name, PolicyName=f"confluence-{cls}")["PolicyDocument"]
        steps = [s for s in [*flow.steps, orchestrator.step()] if s.ready and image_class(s.image) == cls]
        want = policy(cls, steps, region=REGION, account=ACCOUNT, file_system_id=out["FileSystemId"],
                      creds_prefix="/confluence/creds", rule="confluence-renew", sos_bucket=out["SosBucket"],
                      sos_prefix="sos", results_bucket=out["ResultsBucket"], results_prefix="results",
                      runs_bucket=out["RunsBucket"], name_prefix="confluence",
                      renew_function=out["RenewFunctionArn"])
        assert doc == want


def test_deploy_from_the_stack_writes_the_config(moto_stack: dict[str, Any], tmp_path: Path) -> None:
    from confluence_driver.cli import main

    out = moto_stack["outputs"]
    path = tmp_path / "deploy.toml"
    path.write_text('[images]\nversion = "0.1.0"\n\n[environment]\nCONFLUENCE_SWORD_VERSION = "16"\n\n'
                    '[efs.access_points]\nsource = "fsap-old"\n\n[batch]\njob_role_arn = "arn:aws:iam::1:role/x"\n')
    result = CliRunner().invoke(main, ["deploy", "--stack", STACK, "--config", str(path), "--region", REGION,
                                       "--config-only"])
    assert result.exit_code == 0, result.output
    assert f"wrote {path} from stack {STACK}" in result.output
    config = load_config(path)
    assert (config.region, config.account, config.job_queue, config.platform) == (REGION, ACCOUNT, "confluence", "EC2")
    assert config.job_roles == {cls: out[f"JobRole{st.camel(cls)}"] for cls in CLASSES} and not config.job_role_arn
    assert config.file_system_id == out["FileSystemId"]
    assert {v: s.access_point for v, s in config.volumes.items()} == {
        v: out[f"AccessPoint{st.camel(v)}"] for v in wf.load().volumes if v != "previous"}  # source: was configured
    assert (config.runs_bucket, config.sos_bucket, config.results_bucket) == (
        out["RunsBucket"], out["SosBucket"], out["ResultsBucket"])
    assert (config.sos_prefix, config.results_prefix, config.registry, config.repository_prefix) == (
        "sos", "results", f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com", "confluence/")
    assert config.environment == {"CONFLUENCE_SWORD_VERSION": "16", "CONFLUENCE_RENEW_RULE": "confluence-renew",
                                  "CONFLUENCE_CREDS_PREFIX": "/confluence/creds"}  # the file's own key kept
    assert config.execution_role_arn == out["ExecutionRoleArn"] and config.max_vcpus == 256

    # deploy from it: every job definition gets its class's role and the stack's access points
    seed_ecr(moto_stack["clients"]["ecr"], list(dict.fromkeys(s.image for s in wf.load().steps if s.ready)))
    result = CliRunner().invoke(main, ["deploy", "--config", str(path), "--skip-push"])
    assert result.exit_code == 0, result.output
    defs = {d["jobDefinitionName"]: d["containerProperties"]
            for d in moto_stack["clients"]["batch"].describe_job_definitions(status="ACTIVE")["jobDefinitions"]}
    assert defs["confluence-output"]["jobRoleArn"] == out["JobRoleResults"]
    assert defs["confluence-input"]["jobRoleArn"] == out["JobRolePodaac"]
    volumes = {v["name"]: v["efsVolumeConfiguration"] for v in defs["confluence-input"]["volumes"]}
    assert volumes["input"]["authorizationConfig"] == {"accessPointId": out["AccessPointInput"], "iam": "ENABLED"}

    # Fargate, into a YAML file that did not exist; no optional volume unless asked for
    fargate = tmp_path / "fargate.yaml"
    result = CliRunner().invoke(main, ["deploy", "--stack", STACK, "--config", str(fargate), "--platform", "FARGATE",
                                       "--region", REGION, "--config-only"])
    assert result.exit_code == 0, result.output
    config = load_config(fargate)
    assert (config.job_queue, config.platform) == ("confluence-fargate", "FARGATE")
    assert not set(config.volumes) & set(OPTIONAL_VOLUMES)


def test_deploy_from_a_missing_stack_is_one_line(moto_stack: dict[str, Any], tmp_path: Path) -> None:
    from confluence_driver.cli import main

    result = CliRunner().invoke(main, ["deploy", "--stack", "nope", "--config", str(tmp_path / "d.toml"),
                                       "--region", REGION])
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot read CloudFormation stack nope: ValidationError")
    assert not (tmp_path / "d.toml").exists()
    result = CliRunner().invoke(main, ["deploy", "--config", str(tmp_path / "d.toml"), "--config-only"])
    assert result.exit_code == 1 and "go with --stack NAME" in result.output


def test_outputs_missing_a_key_name_it() -> None:
    from confluence_core.errors import ConfluenceError
    from confluence_driver.aws.config import config_from_outputs

    with pytest.raises(ConfluenceError, match=r"stack s has no output .*JobRoleRenew.*AccessPointInput"):
        config_from_outputs({"Region": REGION}, stack="s")
