"""The deployment file: every missing or bad value is one clear line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from confluence_core.errors import ConfluenceError
from confluence_driver.aws.config import load_config

from .conftest import REGISTRY, write_config


def test_toml_with_efs_gives_access_points_and_a_derived_registry(tmp_path: Path):
    config = load_config(write_config(tmp_path / "deploy.toml", efs=True))
    assert config.registry == REGISTRY
    assert config.image_uri("input") == f"{REGISTRY}/confluence/input:0.1.0"
    assert config.volumes["input"].access_point == "fsap-0000"
    assert config.volume("previous", "step x") is None  # optional and not configured
    assert not config.uses_host_volumes


def test_yaml_is_read_too(tmp_path: Path):
    path = tmp_path / "deploy.yaml"
    path.write_text(
        "aws: {region: us-west-2}\nbatch: {job_queue: q}\nimages: {registry: reg.example/x}\n"
        "s3: {runs_bucket: b}\nefs: {file_system_id: fs-1, access_points: {input: fsap-1}}\n"
        "resources: {medium: {memory_mib: 8192}}\nenvironment: {CONFLUENCE_SWORD_VERSION: 16}\n")
    config = load_config(path)
    assert config.region == "us-west-2" and config.registry == "reg.example/x"
    assert config.resources == {"medium": {"memory_mib": 8192}}
    assert config.environment == {"CONFLUENCE_SWORD_VERSION": "16"}


@pytest.mark.parametrize("key", ["aws.region", "batch.job_queue", "s3.runs_bucket"])
def test_missing_value_names_the_key(tmp_path: Path, key: str):
    path = write_config(tmp_path / "deploy.toml", efs=True, drop=key)
    with pytest.raises(ConfluenceError, match=f"missing configuration value {key}") as err:
        load_config(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_missing_registry_and_account(tmp_path: Path):
    path = write_config(tmp_path / "deploy.toml", efs=True, drop="aws.account")
    with pytest.raises(ConfluenceError, match=r"missing configuration value images.registry \(or aws.account"):
        load_config(path)


def test_missing_access_point_is_named_when_a_step_needs_it(tmp_path: Path):
    path = write_config(tmp_path / "deploy.toml", efs=True)
    path.write_text(path.read_text().replace('moi = "fsap-0003"\n', ""))
    config = load_config(path)
    with pytest.raises(ConfluenceError, match=r"missing configuration value efs.access_points.moi .*step moi"):
        config.volume("moi", "step moi")


@pytest.mark.parametrize(("extra", "message"), [
    ('\n[batch2]\nx = 1\n', "unknown section"),
    ('\n[environment]\nEDL_PASSWORD = "x"\n', "environment.EDL_PASSWORD looks like a secret"),
    ('\n[resources.medium]\nmemory = 4\n', "unknown setting.*resources.medium.memory"),
])
def test_bad_values(tmp_path: Path, extra: str, message: str):
    with pytest.raises(ConfluenceError, match=message):
        load_config(write_config(tmp_path / "deploy.toml", efs=True, extra=extra))


def test_unreadable_and_typo(tmp_path: Path):
    with pytest.raises(ConfluenceError, match=r"absent\.toml: config file not found"):
        load_config(tmp_path / "absent.toml")
    path = write_config(tmp_path / "deploy.toml", efs=True)
    path.write_text(path.read_text().replace("job_queue", "job_queu"))
    with pytest.raises(ConfluenceError, match=r"unknown setting.*batch\.job_queu"):
        load_config(path)
