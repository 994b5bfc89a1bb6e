"""``confluence-renew``: manage the renewal schedule, or renew once.

    confluence-renew enable  [--rule NAME] [--region R] [--lambda-arn ARN]
    confluence-renew disable [--rule NAME] [--region R]
    confluence-renew status  [--rule NAME] [--region R]
    confluence-renew renew   [--region R]

Each subcommand follows the module convention (confluence_core.cli): a failure
is one line ``error: confluence-renew: <reason>`` on stderr and exit status 1.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import click
from confluence_core.cli import module_command

from . import schedule
from .settings import DEFAULTS, SCHEDULE

NAME = "confluence-renew"
log = logging.getLogger(NAME)


def _rule_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--region", default=None, help="AWS region (default: the SDK's, e.g. $AWS_DEFAULT_REGION)."
    )(func)
    return click.option(
        "--rule", envvar="CONFLUENCE_RENEW_RULE", default=DEFAULTS["CONFLUENCE_RENEW_RULE"], show_default=True,
        help="EventBridge rule name [env CONFLUENCE_RENEW_RULE].",
    )(func)


def _show(result: schedule.RuleStatus) -> None:
    targets = ", ".join(result["targets"]) or "no target"
    click.echo(f"{result['rule']}: {result['state']} {result['schedule']} -> {targets}")


@click.group(
    name=NAME,
    help=f"Manage the EventBridge rule ({SCHEDULE}) that runs the renew Lambda, which stores PO.DAAC's "
    "temporary S3 credentials in SSM; or renew them once from here.",
)
def main() -> None:
    """The command group (subcommands below)."""


@module_command(NAME)
@_rule_options
@click.option(
    "--lambda-arn", envvar="CONFLUENCE_RENEW_LAMBDA_ARN", default=None,
    help="ARN of the renew Lambda: creates/updates the rule and its target [env CONFLUENCE_RENEW_LAMBDA_ARN]; "
    "without it the rule must exist.",
)
def enable(rule: str, region: str | None, lambda_arn: str | None) -> None:
    """Enable the schedule (create the rule when --lambda-arn is given)."""
    _show(schedule.enable(schedule.events_client(region), rule, lambda_arn))


@module_command(NAME)
@_rule_options
def disable(rule: str, region: str | None) -> None:
    """Disable the schedule (the rule must exist; it is kept for the next enable)."""
    _show(schedule.disable(schedule.events_client(region), rule))


@module_command(NAME)
@_rule_options
def status(rule: str, region: str | None) -> None:
    """Show the rule's state, schedule and target."""
    _show(schedule.status(schedule.events_client(region), rule))


@module_command(NAME)
@click.option("--region", default=None, help="AWS region of the SSM parameters (default: the SDK's).")
def renew(region: str | None) -> None:
    """Renew the credentials now, here (what the Lambda does; settings from the same environment variables)."""
    import boto3

    from .handler import renew as run
    from .schedule import aws_errors
    from .settings import Settings, quiet_sdk_loggers

    settings = Settings.from_env()
    quiet_sdk_loggers()
    with aws_errors("cannot create an SSM client"):
        ssm = boto3.client("ssm", region_name=region)
    result = run(ssm, settings)
    click.echo(f"wrote {', '.join(result['parameters'])} (expiration {result['expiration']})")


for _name, _command in {"enable": enable, "disable": disable, "status": status, "renew": renew}.items():
    main.add_command(_command, name=_name)
