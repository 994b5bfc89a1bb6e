"""``confluence-renew``: exit codes and one-line messages (moto; no network)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from confluence_renew.cli import main


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_help():
    result = _run("--help")
    assert result.exit_code == 0
    for command in ("enable", "disable", "status", "renew"):
        assert command in result.output


def test_enable_status_disable(aws, fake):
    result = _run("enable", "--lambda-arn", fake.lambda_arn)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"confluence-renew: ENABLED rate(50 minutes) -> {fake.lambda_arn}"
    assert "ENABLED" in _run("status").stdout
    result = _run("disable")
    assert result.exit_code == 0
    assert result.stdout.startswith("confluence-renew: DISABLED")
    assert "DISABLED" in _run("status", "--rule", "confluence-renew", "--region", "us-west-2").stdout


def test_rule_name_from_the_environment(aws, fake, monkeypatch):
    monkeypatch.setenv("CONFLUENCE_RENEW_RULE", "run7-renew")
    monkeypatch.setenv("CONFLUENCE_RENEW_LAMBDA_ARN", fake.lambda_arn)
    assert _run("enable").stdout.startswith("run7-renew: ENABLED")


def test_disable_a_missing_rule(aws):
    line = _one_error_line(_run("disable", "--rule", "nope"))
    assert line.startswith("error: confluence-renew: EventBridge rule nope does not exist (in region us-west-2)")


def test_no_aws_credentials(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    line = _one_error_line(_run("status", "--region", "us-west-2"))
    assert line == (
        "error: confluence-renew: cannot read EventBridge rule confluence-renew: "
        "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID, or run on AWS)"
    )


def test_no_region(monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    line = _one_error_line(_run("disable"))
    assert line == (
        "error: confluence-renew: cannot create an EventBridge client: "
        "no AWS region (give --region or set AWS_DEFAULT_REGION)"
    )


def test_unknown_subcommand_is_a_usage_error():
    assert _run("explode").exit_code == 2


def test_renew_once(ssm, edl, fake):
    result = _run("renew", "--region", "us-west-2", "--verbose")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        "wrote /confluence/creds/accessKeyId, /confluence/creds/secretAccessKey, /confluence/creds/sessionToken, "
        f"/confluence/creds/expiration (expiration {fake.creds['expiration']})"
    )
    fake.assert_no_secret(result.stdout, result.stderr)


@pytest.mark.parametrize("failure", ["refused", "missing"])
def test_renew_failures_are_one_line(ssm, edl, fake, monkeypatch, failure):
    if failure == "refused":
        edl.password = "the password EDL expects"
        expected = (
            "error: confluence-renew: Earthdata Login refused the credentials in SSM parameter /confluence/edl/username"
        )
    else:
        monkeypatch.setenv("CONFLUENCE_EDL_USER_PARAM", "/nope")
        expected = "error: confluence-renew: SSM parameter /nope (the Earthdata Login user name) does not exist"
    result = _run("renew")
    assert _one_error_line(result).startswith(expected)
    verbose = _run("renew", "--verbose")  # debug log and traceback: still no secret
    assert verbose.exit_code == 1
    assert "DEBUG" in verbose.stderr
    fake.assert_no_secret(result.stdout, result.stderr, verbose.stdout, verbose.stderr)
