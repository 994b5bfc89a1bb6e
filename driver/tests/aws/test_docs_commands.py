"""docs/aws.md, followed as written: its walkthrough takes an empty (moto) account to a finished run, and every
other command it shows parses.

The bash code blocks are read from the markdown (:func:`bash_blocks`); no command is copied here.

**The walkthrough** (the block under "### From an empty account to a run") runs line by line, in order, on moto
in-process (``mock_aws``):

- ``aws ...`` through :class:`AwsCli`, a small stand-in for the AWS CLI (awscli itself pins botocore and is not
  installed): ``aws SERVICE OP --param value`` is boto3's ``client(SERVICE).<op>``, the parameters named by
  botocore's service model as the CLI names them, plus the CLI customizations the block uses (``s3 mb``,
  ``s3 cp``, ``cloudformation deploy``, ``--query``/``--output text``, ``"$(aws ...)"``).  A line it does not
  understand (another customization, a pipe, an unknown option) fails the test: a new command in the docs
  cannot go untested.
- ``bash SCRIPT`` runs with bash in an operator's checkout: a folder of tmp_path linking to every top-level
  entry of the repository except ``build/`` (so ``build/renew-lambda.zip`` and ``deploy.toml`` land in
  tmp_path); ``PYTHON`` is this interpreter, as in test_stack.py.
- ``confluence ...`` through click's CliRunner (``confluence_driver.cli:main``) in that checkout.

Where the test stands in for AWS or for the operator's machine:

- before the block: what "Needed first" names, a VPC with two subnets (two availability zones); and the
  operator's IAM user, which step 4 attaches the policy to ("Needed first" names it; no step creates it);
- ``deploy`` pushes with a fake Docker client whose push puts the image's manifest into moto's ECR, as
  test_deploy.py's ``FakeDocker`` does: no image is built, every image counts as built (``make build``, which
  "Needed first" names);
- moto's simple Batch ends every job SUCCEEDED without a container, so after ``run --batch`` returns, the test
  runs the orchestrator job's own command in-process, as its container would (test_orchestrator.py), with the
  input volume it mounts (``orchestrator.LISTS_PATH``) a folder holding the fan-out lists combine_data writes
  on the demo world (``confluence run --local --engine process --until combine_data``): no step runs here, so
  phase 2's array sizes come from real lists;
- moto's simple Lambda answers without running the function: when the renew Lambda is invoked, the test writes
  the four credential parameters the function would (as test_renew_run.py's ``put_credentials``);
- the driver's poll interval (``batch.poll_seconds``: 30 s in a file written from the stack) is cut to 0.05 s;
- moto 5.2.5's CloudFormation gaps are filled as test_stack.py's ``moto_stack`` does (access point ``Ref``,
  inline role policies as JSON text);
- every line runs with the test's credentials and without IAM enforcement: whether the stack's operator
  policy and the orchestrator's role allow steps 5 and 6 is not checked here (moto evaluates most services'
  actions against Resource ``*`` only; test_iam_stack.py checks the job roles).

**Placeholders** (:data:`PLACEHOLDERS`), replaced where they are a whole word (``vpc-...`` and ``subnet-...``
also inside ``Key=value``): ``USER``, ``PASSWORD`` (test values), ``OPERATOR`` (the operator's user),
``vpc-...`` (the VPC made first), ``subnet-...`` (its first, then its second subnet), ``RUN`` (the id
``run --batch`` printed; a well-formed id where a command is only parsed).  ``us-west-2`` is not replaced: it
is the moto account's region (``AWS_DEFAULT_REGION``), as the CLI's default region must be for the
``aws`` lines, which name none.  Notation: a word ``a|b|c`` (``confluence renew enable|disable|status``)
stands for each alternative, and each is parsed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from confluence_core import workflow as wf
from confluence_core.entries import job_count
from confluence_driver import __version__
from confluence_driver.aws import orchestrator
from confluence_driver.aws.submit import BatchRun
from confluence_driver.cli import main
from confluence_driver.fanout import children

REPO = Path(__file__).resolve().parents[3]
DOCS = REPO / "docs" / "aws.md"
WALKTHROUGH = "From an empty account to a run"
#: The moto account's region: the one docs/aws.md's step 5 names, and the AWS CLI's default region.
REGION = "us-west-2"
#: Placeholders of the docs' commands -> test values (``vpc-...``/``subnet-...``: set when the VPC exists).
PLACEHOLDERS: dict[str, str] = {"USER": "edl-test-user", "PASSWORD": "edl-test-password",
                                "OPERATOR": "confluence-operator", "RUN": "20250101T120000-ab12cd"}
#: Placeholders that stand inside a word (``VpcId=vpc-...``); ``subnet-...`` takes the subnets in turn.
INNER_PLACEHOLDERS = ("vpc-...", "subnet-...")
#: The words that start a command the walkthrough runs; any other first word fails it.
KINDS = ("aws", "bash", "confluence")
#: Shell operators: the walkthrough's lines are single commands.
OPERATORS = frozenset("|;&<>()") | {"&&", "||", ">>", ";;"}


# -- the markdown ---------------------------------------------------------------------------------------

@dataclass
class Block:
    """A fenced ``bash`` block: the heading above it, its first line number (1-based) and its text."""

    heading: str
    line: int
    text: str


def bash_blocks(markdown: str) -> list[Block]:
    """The fenced code blocks whose info string is ``bash``, with the nearest heading above each."""
    blocks: list[Block] = []
    heading, fence, info, start = "", "", "", 0
    body: list[str] = []
    for number, line in enumerate(markdown.splitlines(), 1):
        if fence:
            if line.strip() == fence:
                if info == "bash":
                    blocks.append(Block(heading, start, "\n".join(body) + "\n"))
                fence, body = "", []
            else:
                body.append(line)
            continue
        opening = re.match(r"^(`{3,}|~{3,})\s*([\w+-]*)", line)
        if opening:
            fence, info, start = opening.group(1), opening.group(2).lower(), number + 1
        elif line.startswith("#"):
            heading = line.lstrip("#").strip()
    assert not fence, f"{DOCS}: a code block opened at line {start - 1} is never closed"
    return blocks


@dataclass
class Line:
    """One shell command of a block (continuation lines joined): where it starts and its text."""

    where: str
    text: str


def command_lines(block: Block) -> list[Line]:
    """The block's commands: backslash-newline joined (as bash does), comment-only and blank lines left out."""
    lines: list[Line] = []
    pending, first = "", 0
    for offset, raw in enumerate(block.text.splitlines()):
        if not pending:
            first = block.line + offset
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        lines.append(Line(f"{DOCS.name}:{first}", pending + raw))
        pending = ""
    assert not pending, f"{DOCS.name}:{first}: a line continues past the end of its block"
    return lines


def substitutions(text: str) -> list[tuple[int, int, str]]:
    """Every top-level ``$(...)`` of a line: (start, end, inner command), quotes inside it respected."""
    found: list[tuple[int, int, str]] = []
    i, single, double = 0, False, False
    while i < len(text):
        char = text[i]
        if char == "'" and not double:
            single = not single
        elif char == '"' and not single:
            double = not double
        elif text.startswith("$(", i) and not single:
            depth, j, inner_single, inner_double = 1, i + 2, False, False
            while j < len(text) and depth:
                c = text[j]
                if c == "'" and not inner_double:
                    inner_single = not inner_single
                elif c == '"' and not inner_single:
                    inner_double = not inner_double
                elif not inner_single and not inner_double:
                    depth += {"(": 1, ")": -1}.get(c, 0)
                j += 1
            assert depth == 0, f"unbalanced $( in {text!r}"
            found.append((i, j, text[i + 2:j - 1]))
            i = j
            continue
        i += 1
    return found


def words(text: str) -> list[str]:
    """The line as the shell splits it (quotes removed, ``# comment`` dropped); operators are their own words."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def alternatives(argv: list[str]) -> list[list[str]]:
    """``a | b | c`` (the docs' notation ``a|b|c``, split by :func:`words`) -> one argv per alternative."""
    groups: list[list[str]] = []
    for word in argv:
        if groups and groups[-1][-1] == "|":
            groups[-1][-1:] = [word]
        elif word == "|" and groups:
            groups[-1].append("|")
        else:
            groups.append([word])
    assert all(g[-1] != "|" for g in groups), f"a '|' ends {' '.join(argv)!r}"
    return [list(choice) for choice in itertools.product(*groups)]


def replace_placeholders(argv: list[str], values: dict[str, str], inner: dict[str, list[str]]) -> list[str]:
    """Whole-word placeholders from ``values``; ``inner`` ones (``vpc-...``) anywhere in a word, in turn."""
    queues = {k: list(v) for k, v in inner.items()}
    out = []
    for word in argv:
        word = values.get(word, word)
        for placeholder, queue in queues.items():
            while placeholder in word:
                assert queue, f"more {placeholder} in {' '.join(argv)!r} than the test has values for"
                word = word.replace(placeholder, queue.pop(0), 1)
        out.append(word)
    return out


def docs_blocks() -> list[Block]:
    blocks = bash_blocks(DOCS.read_text())
    assert blocks, f"{DOCS} has no bash block"
    return blocks


def walkthrough() -> list[Line]:
    found = [b for b in docs_blocks() if b.heading == WALKTHROUGH]
    assert len(found) == 1, f'{DOCS}: expected one bash block under "### {WALKTHROUGH}", found {len(found)}'
    return command_lines(found[0])


# -- the AWS CLI, as far as the docs use it ----------------------------------------------------------------

class NotUnderstoodError(AssertionError):
    """A docs line the test cannot interpret: it fails, so that no command goes unexercised."""


#: The AWS CLI's name of a service -> botocore's (the rest are the same).
CLI_SERVICES = {"s3api": "s3"}
#: Options of the CLI itself (not of an operation).
GLOBAL_OPTIONS = ("--region", "--output", "--query")


def options(argv: list[str], where: str) -> list[tuple[str, list[str]]]:
    """``--name v1 v2 --flag`` -> [(name, [v1, v2]), (flag, [])]; a value before any option is not understood."""
    out: list[tuple[str, list[str]]] = []
    for word in argv:
        if word.startswith("--"):
            out.append((word[2:], []))
        elif not out:
            raise NotUnderstoodError(f"{where}: {word!r} is not an option's value")
        else:
            out[-1][1].append(word)
    return out


def kebab(name: str) -> str:
    from botocore import xform_name

    return str(xform_name(name, "-"))


@dataclass
class Call:
    """A boto3 call an ``aws`` line stands for."""

    service: str
    method: str
    params: dict[str, Any]
    region: str
    query: str = ""
    output: str = "json"


@dataclass
class AwsCli:
    """Interprets ``aws`` command lines with boto3 (module docstring); ``cwd`` resolves local files.

    ``dry``: only map lines to calls (local files are not read, AWS is not asked).
    """

    cwd: Path
    region: str
    dry: bool = False
    calls: list[str] = field(default_factory=list)

    def plan(self, argv: list[str], where: str) -> list[Call]:
        """The boto3 call(s) of ``aws ARGV`` (not made): the generic mapping, or a CLI customization."""
        if not argv or argv[0] != "aws":
            raise NotUnderstoodError(f"{where}: not an aws command: {argv}")
        rest = argv[1:]
        globals_: dict[str, str] = {}
        positional: list[str] = []
        tail: list[str] = []
        i = 0
        while i < len(rest):  # the CLI's own options may stand anywhere
            word = rest[i]
            if word in GLOBAL_OPTIONS:
                if i + 1 >= len(rest):
                    raise NotUnderstoodError(f"{where}: {word} without a value")
                globals_[word[2:]] = rest[i + 1]
                i += 2
                continue
            if word.startswith("--") or tail:
                tail.append(word)
            else:
                positional.append(word)
            i += 1
        region = globals_.get("region", self.region)
        output = globals_.get("output", "json")
        if output not in ("json", "text"):
            raise NotUnderstoodError(f"{where}: --output {output} is not interpreted (json, text)")
        if len(positional) < 2:
            raise NotUnderstoodError(f"{where}: expected `aws SERVICE OPERATION ...`, got {argv}")
        service, op, args = positional[0], positional[1], positional[2:]
        custom = {("s3", "mb"): self._s3_mb, ("s3", "cp"): self._s3_cp,
                  ("cloudformation", "deploy"): self._cfn_deploy}.get((service, op))
        if custom is not None:
            calls = custom(args, options(tail, where), region, where)
        elif service == "s3":  # the CLI's high-level s3 commands (the API is `aws s3api`)
            raise NotUnderstoodError(f"{where}: aws s3 {op}: only the s3 commands mb and cp are interpreted")
        else:
            calls = [self._generic(service, op, options(tail, where), region, where)]
            if args:
                raise NotUnderstoodError(f"{where}: aws {service} {op} takes no positional {args}")
        calls[-1].query, calls[-1].output = globals_.get("query", ""), output
        return calls

    def _generic(self, service: str, op: str, opts: list[tuple[str, list[str]]], region: str, where: str) -> Call:
        import botocore.session
        from botocore import xform_name
        from botocore.exceptions import UnknownServiceError

        name = CLI_SERVICES.get(service, service)
        session = botocore.session.get_session()
        try:
            model = session.get_service_model(name)
        except UnknownServiceError:
            raise NotUnderstoodError(f"{where}: aws {service}: no such service (or a CLI customization the test does "
                                "not interpret)") from None
        found = [o for o in model.operation_names if kebab(o) == op]
        if len(found) != 1:
            raise NotUnderstoodError(f"{where}: aws {service} {op}: not an operation of {name} (a CLI customization "
                                "the test does not interpret?)")
        shape = model.operation_model(found[0]).input_shape
        members = dict(shape.members) if shape is not None else {}
        by_option = {kebab(m): m for m in members}
        params: dict[str, Any] = {}
        for option, values in opts:
            negative = option.startswith("no-") and option[3:] in by_option
            member = by_option.get(option[3:] if negative else option)
            if member is None:
                raise NotUnderstoodError(f"{where}: aws {service} {op} has no option --{option}")
            params[member] = self._value(members[member], values, negative, f"{where}: --{option}")
        return Call(name, xform_name(found[0]), params, region)

    @staticmethod
    def _value(shape: Any, values: list[str], negative: bool, where: str) -> Any:
        kind = shape.type_name
        if kind == "boolean":
            if values:
                raise NotUnderstoodError(f"{where} is a flag and takes no value ({values})")
            return not negative
        if negative:
            raise NotUnderstoodError(f"{where}: --no- only goes with a flag")
        if kind == "list" and shape.member.type_name in ("string", "integer", "long"):
            cast: Callable[[str], Any] = str if shape.member.type_name == "string" else int
            return [cast(v) for v in values]
        if len(values) != 1:
            raise NotUnderstoodError(f"{where} takes one value, got {values}")
        value = values[0]
        if value.startswith(("file://", "fileb://")):
            raise NotUnderstoodError(f"{where}: {value}: file arguments are not interpreted")
        if kind == "string":
            return value
        if kind in ("integer", "long"):
            return int(value)
        if kind in ("list", "structure", "map"):
            try:
                return json.loads(value)
            except ValueError:
                raise NotUnderstoodError(f"{where}: {value!r}: only JSON is interpreted, not the CLI's "
                                    "shorthand syntax") from None
        raise NotUnderstoodError(f"{where}: a {kind} parameter is not interpreted")

    @staticmethod
    def _only(opts: list[tuple[str, list[str]]], allowed: dict[str, bool], where: str) -> dict[str, list[str]]:
        """The customization's options (name -> takes several values); anything else is not understood."""
        out: dict[str, list[str]] = {}
        for option, values in opts:
            if option not in allowed:
                raise NotUnderstoodError(f"{where}: option --{option} is not interpreted")
            if not values or (len(values) > 1 and not allowed[option]):
                raise NotUnderstoodError(f"{where}: --{option} takes {'values' if allowed[option] else 'one value'}")
            out[option] = values
        return out

    def _s3_mb(self, args: list[str], opts: list[tuple[str, list[str]]], region: str, where: str) -> list[Call]:
        self._only(opts, {}, where)
        if len(args) != 1 or not args[0].startswith("s3://") or "/" in args[0][5:].rstrip("/"):
            raise NotUnderstoodError(f"{where}: aws s3 mb takes one s3://BUCKET, got {args}")
        params: dict[str, Any] = {"Bucket": args[0][5:].rstrip("/")}
        if region != "us-east-1":  # as the CLI does: the bucket is made in the command's region
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        return [Call("s3", "create_bucket", params, region)]

    def _s3_cp(self, args: list[str], opts: list[tuple[str, list[str]]], region: str, where: str) -> list[Call]:
        self._only(opts, {}, where)
        if len(args) != 2 or args[0].startswith("s3://") or not args[1].startswith("s3://"):
            raise NotUnderstoodError(f"{where}: only `aws s3 cp LOCAL_FILE s3://BUCKET/KEY` is interpreted, got {args}")
        source = self.cwd / args[0]
        if not self.dry and not source.is_file():
            raise AssertionError(f"{where}: aws s3 cp: {args[0]} does not exist (in {self.cwd})")
        bucket, _, key = args[1][5:].partition("/")
        if not key or key.endswith("/"):
            key = key + source.name  # the CLI keeps the file name for a folder-like destination
        body = b"" if self.dry else source.read_bytes()
        return [Call("s3", "put_object", {"Bucket": bucket, "Key": key, "Body": body}, region)]

    def _cfn_deploy(self, args: list[str], opts: list[tuple[str, list[str]]], region: str,
                    where: str) -> list[Call]:
        """``aws cloudformation deploy``: create the stack, or update it when it exists (the CLI's change set)."""
        import boto3

        given = self._only(opts, {"template-file": False, "stack-name": False, "capabilities": True,
                                  "parameter-overrides": True}, where)
        if args or "template-file" not in given or "stack-name" not in given:
            raise NotUnderstoodError(f"{where}: aws cloudformation deploy needs --template-file and --stack-name")
        template = self.cwd / given["template-file"][0]
        if not template.is_file():  # (also in a dry plan: the docs name a template of the repository)
            raise AssertionError(f"{where}: {given['template-file'][0]} does not exist (in {self.cwd})")
        parameters = []
        for pair in given.get("parameter-overrides", []):
            key, sep, value = pair.partition("=")
            if not sep:
                raise NotUnderstoodError(f"{where}: --parameter-overrides {pair!r} is not Key=Value")
            parameters.append({"ParameterKey": key, "ParameterValue": value})
        stack = given["stack-name"][0]
        exists = not self.dry and any(
            s["StackName"] == stack and s["StackStatus"] != "DELETE_COMPLETE"
            for s in boto3.client("cloudformation", region_name=region).list_stacks()["StackSummaries"])
        params = {"StackName": stack, "TemplateBody": template.read_text(), "Parameters": parameters,
                  "Capabilities": given.get("capabilities", [])}
        return [Call("cloudformation", "update_stack" if exists else "create_stack", params, region)]

    def run(self, argv: list[str], where: str) -> str:
        """Make the call(s) of ``aws ARGV``; returns what the CLI would print (``--output text``, ``--query``)."""
        import boto3
        import jmespath
        from botocore.exceptions import ClientError, ParamValidationError

        answer: Any = None
        calls = self.plan(argv, where)
        for call in calls:
            client = boto3.client(call.service, region_name=call.region)
            try:
                answer = getattr(client, call.method)(**call.params)
            except (ClientError, ParamValidationError) as exc:
                raise AssertionError(f"{where}: {' '.join(argv)}: {exc}") from exc
            self.calls.append(f"{call.service}.{call.method}")
            if call.method in ("create_stack", "update_stack"):
                stack = client.describe_stacks(StackName=call.params["StackName"])["Stacks"][0]
                assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), (where, stack)
        answer = {k: v for k, v in (answer or {}).items() if k != "ResponseMetadata"}
        query, output = calls[-1].query, calls[-1].output
        if query:
            answer = jmespath.search(query, answer)
        if output == "json":
            return json.dumps(answer, default=str)
        if answer is None:
            return "None"
        if isinstance(answer, str | int | float):
            return str(answer)
        if isinstance(answer, list) and all(isinstance(v, str | int | float) for v in answer):
            return "\t".join(str(v) for v in answer)
        raise NotUnderstoodError(f"{where}: --output text of {type(answer).__name__} is not interpreted")


# -- the confluence command tree --------------------------------------------------------------------------

def parse_confluence(argv: list[str]) -> list[str]:
    """Resolve ``confluence ARGV`` in the real click tree and parse its options and arguments (nothing runs).

    Returns the command path; a renamed command or option, a wrong choice or a missing argument raises
    click's UsageError.
    """
    assert argv and argv[0] == "confluence", argv
    ctx = main.make_context("confluence", argv[1:], resilient_parsing=False)
    path, command = ["confluence"], main
    while isinstance(command, click.Group):
        rest = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        if not rest:
            raise click.UsageError(f"{' '.join(path)}: no command given")
        name, sub, rest = command.resolve_command(ctx, rest)
        assert name is not None and sub is not None
        ctx = sub.make_context(name, rest, parent=ctx, resilient_parsing=False)
        path.append(name)
        command = sub
    return path


# -- the operator's side ----------------------------------------------------------------------------------

class FakeImage:
    def __init__(self) -> None:
        self.attrs: dict[str, Any] = {"RepoDigests": []}  # never pushed from here before

    def tag(self, repository: str, tag: str) -> None:
        pass


class FakeDocker:
    """The operator's Docker engine with every image built (``make build``, which the walkthrough assumes):
    ``images.get`` finds any image, and a push puts a manifest for it into moto's ECR under the tag."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.images = self  # docker.DockerClient.images
        self.pushed: list[str] = []

    def get(self, name: str) -> FakeImage:
        return FakeImage()

    def push(self, repository: str, tag: str, auth_config: dict[str, str], stream: bool,
             decode: bool) -> list[dict[str, Any]]:
        import boto3

        assert auth_config["username"] == "AWS" and auth_config["password"]
        name = repository.split("/", 1)[1]
        config_digest = "sha256:" + hashlib.sha256(f"{name}:{tag}".encode()).hexdigest()
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "config": {"digest": config_digest, "size": 1,
                               "mediaType": "application/vnd.docker.container.image.v1+json"}, "layers": []}
        boto3.client("ecr", region_name=self.region).put_image(repositoryName=name, imageTag=tag,
                                                               imageManifest=json.dumps(manifest))
        self.pushed.append(f"{name}:{tag}")
        return [{"status": "Pushed"}]


def checkout(tmp_path: Path) -> Path:
    """An operator's checkout of the repository: links to its top-level entries, ``build/`` its own."""
    root = tmp_path / "checkout"
    root.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in ("build", "deploy.toml"):
            (root / entry.name).symlink_to(entry)
    return root


def demo_lists(tmp_path: Path) -> Path:
    """The fan-out lists combine_data writes on the demo world (the input volume after phase 1)."""
    from confluence_demo import generate

    generate(tmp_path / "demo-source")
    done = CliRunner().invoke(main, ["run", "--local", "--engine", "process", "--workdir", str(tmp_path / "demo-run"),
                                     "--source", str(tmp_path / "demo-source"), "--until", "combine_data"])
    assert done.exit_code == 0, done.output
    return tmp_path / "demo-run" / "input"


@pytest.fixture()
def moto_account(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """An empty moto account in :data:`REGION` (simple Batch and Lambda) with test_stack.py's CloudFormation fills."""
    from moto import mock_aws
    from moto.efs.models import AccessPoint
    from moto.iam.models import Role

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    # moto 5.2.5's CloudFormation, filled as AWS behaves (test_stack.py's moto_stack): AWS::EFS::AccessPoint's
    # Ref is the access point id; a role's inline policy is stored as JSON text
    monkeypatch.setattr(AccessPoint, "physical_resource_id", property(lambda self: self.access_point_id),
                        raising=False)
    put_policy = Role.put_policy
    monkeypatch.setattr(Role, "put_policy", lambda self, name, doc: put_policy(
        self, name, doc if isinstance(doc, str) else json.dumps(doc)))
    with mock_aws(config={"batch": {"use_docker": False}, "lambda": {"use_docker": False}}):
        yield {}


def renew_lambda_writes_credentials(monkeypatch: pytest.MonkeyPatch, prefix: str) -> list[str]:
    """moto's simple Lambda runs nothing: on an invocation, write the parameters the renew Lambda writes.

    Returns the list the invoked function names are appended to.
    """
    import boto3
    from moto.awslambda_simple.models import LambdaSimpleBackend

    invoked: list[str] = []
    original = LambdaSimpleBackend.invoke

    def invoke(self: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any) -> Any:
        invoked.append(function_name)
        expiration = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=59)).replace(microsecond=0).isoformat(sep=" ")
        ssm = boto3.client("ssm", region_name=REGION)
        for key, value in (("accessKeyId", "ASIATESTKEY"), ("secretAccessKey", "test-secret"),
                           ("sessionToken", "test-token"), ("expiration", expiration)):
            ssm.put_parameter(Name=f"{prefix}/{key}", Value=value, Type="SecureString", Overwrite=True)
        self.lambda_simple_results_queue.append(json.dumps({"prefix": prefix, "expiration": expiration}))
        return original(self, function_name, qualifier, body, headers, response_headers)

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    return invoked


def run_orchestrator_job(run_id: str, monkeypatch: pytest.MonkeyPatch) -> Result:
    """What Batch does with the orchestrator job ``run --batch`` submitted: run its command (in-process)."""
    import boto3

    batch = boto3.client("batch", region_name=REGION)
    (job,) = [j for q in batch.describe_job_queues()["jobQueues"]
              for state in ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
              for j in batch.list_jobs(jobQueue=q["jobQueueName"], jobStatus=state)["jobSummaryList"]
              if j["jobName"].startswith(f"confluence-{orchestrator.NAME}-{run_id}-")]
    (described,) = batch.describe_jobs(jobs=[job["jobId"]])["jobs"]
    command = described["container"]["command"]
    assert command[:5] == ["confluence", "run", "--batch", "--attached", "--config"], command
    monkeypatch.setenv(orchestrator.JOB_ID_ENV, job["jobId"])
    try:
        return CliRunner().invoke(main, command[1:])
    finally:
        monkeypatch.delenv(orchestrator.JOB_ID_ENV)


# -- the tests --------------------------------------------------------------------------------------------

@pytest.mark.slow  # about 15 s of CPU, most of it datagen and combine_data on the demo world (the lists)
def test_the_walkthrough_takes_an_empty_account_to_a_finished_run(tmp_path: Path, moto_account: dict[str, Any],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    lines = walkthrough()
    lists = demo_lists(tmp_path)
    root = checkout(tmp_path)
    monkeypatch.chdir(root)
    monkeypatch.setenv("PYTHON", sys.executable)
    monkeypatch.setattr(orchestrator, "LISTS_PATH", str(lists))  # the input volume the orchestrator job mounts
    monkeypatch.setattr(orchestrator, "CONTAINER_RECORDS", str(tmp_path / "container-records"))
    monkeypatch.setattr(BatchRun, "sleep", staticmethod(lambda seconds: time.sleep(0.05)))
    docker = FakeDocker(REGION)
    monkeypatch.setattr("confluence_driver.engines.docker_engine.docker_client", lambda: docker)
    invoked = renew_lambda_writes_credentials(monkeypatch, "/confluence/creds")

    # "Needed first": a VPC with two subnets in two availability zones; the operator's IAM user (step 4)
    ec2 = boto3.client("ec2", region_name=REGION)
    assert not boto3.client("cloudformation", region_name=REGION).list_stacks()["StackSummaries"]  # empty
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"][
        "SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName=PLACEHOLDERS["OPERATOR"])

    aws = AwsCli(root, REGION)
    values = {k: v for k, v in PLACEHOLDERS.items() if k != "RUN"}  # RUN: the id `run --batch` prints, below
    inner = {"vpc-...": [vpc], "subnet-...": subnets}
    run_ids: list[str] = []
    done: list[str] = []
    statuses: list[str] = []
    for line in lines:
        text = line.text
        for start, end, inner_command in reversed(substitutions(text)):
            argv = replace_placeholders(words(inner_command), values, inner)
            if not argv or argv[0] != "aws":
                raise NotUnderstoodError(f"{line.where}: only $(aws ...) is interpreted, not $({inner_command})")
            text = text[:start] + aws.run(argv, line.where) + text[end:]
        argv = replace_placeholders(words(text), values, inner)
        if not argv:
            continue
        bad = [w for w in argv if w in OPERATORS]
        if bad:
            raise NotUnderstoodError(f"{line.where}: shell operator {bad[0]!r} is not interpreted: {line.text}")
        if argv[0] not in KINDS:
            raise NotUnderstoodError(f"{line.where}: {argv[0]!r} is not a command the walkthrough interprets {KINDS}")
        if argv[0] == "aws":
            aws.run(argv, line.where)
        elif argv[0] == "bash":
            script = root / argv[1] if len(argv) > 1 else None
            assert script is not None and script.is_file(), f"{line.where}: no script {argv[1:]} in the checkout"
            out = subprocess.run(argv, cwd=root, capture_output=True, text=True, env=dict(os.environ))
            assert out.returncode == 0, f"{line.where}: {line.text}\n{out.stderr}"
        else:
            if "RUN" in argv:
                assert run_ids, f"{line.where}: {line.text} names RUN before `confluence run --batch` printed one"
                argv = [run_ids[-1] if w == "RUN" else w for w in argv]
            result = CliRunner().invoke(main, argv[1:])
            assert result.exit_code == 0, f"{line.where}: {' '.join(argv)}\n{result.output}"
            path = parse_confluence(argv)
            if path == ["confluence", "run"] and "--batch" in argv and not {"--attached", "--dry-run"} & set(argv):
                run_id = result.stdout.strip().splitlines()[-1]
                run_ids.append(run_id)
                # the run lives in AWS: Batch runs the orchestrator job (here: its command, in-process)
                job = run_orchestrator_job(run_id, monkeypatch)
                assert job.exit_code == 0, job.output
            if path == ["confluence", "status"]:
                statuses.append(result.output)
        done.append(argv[0] if argv[0] != "confluence" else " ".join(parse_confluence(argv)))

    # every kind of command was exercised, the block ended in a finished run
    assert {"aws", "bash", "confluence deploy", "confluence run", "confluence status"} <= set(done), done
    assert {"s3.create_bucket", "s3.put_object", "cloudformation.create_stack", "iam.attach_user_policy"} <= set(
        aws.calls), aws.calls
    (run_id,) = run_ids
    assert statuses and f"run {run_id}: SUCCEEDED" in statuses[-1], statuses
    # what the steps left in the account: the stack, the operator's rights, the images, the run
    cf = boto3.client("cloudformation", region_name=REGION)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cf.describe_stacks(StackName="confluence")["Stacks"][0][
        "Outputs"]}
    attached = iam.list_attached_user_policies(UserName=PLACEHOLDERS["OPERATOR"])["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [outputs["OperatorPolicyArn"]]
    fn = boto3.client("lambda", region_name=REGION).get_function(FunctionName=outputs["RenewFunctionArn"])
    ssm = boto3.client("ssm", region_name=REGION)
    env = fn["Configuration"]["Environment"]["Variables"]
    for name in (env["CONFLUENCE_EDL_USER_PARAM"], env["CONFLUENCE_EDL_PASSWORD_PARAM"]):  # step 1 wrote them
        assert ssm.get_parameter(Name=name)["Parameter"]["Type"] == "SecureString"
    images = {*(s.image for s in wf.load().steps if s.ready), orchestrator.IMAGE}
    assert sorted(docker.pushed) == sorted(f"confluence/{i}:{__version__}" for i in images)
    assert len(invoked) == 1 and invoked[0].rsplit(":", 1)[-1] == "confluence-renew", invoked  # once, before datagen
    record = json.loads(boto3.client("s3", region_name=REGION).get_object(
        Bucket=outputs["RunsBucket"], Key=f"confluence/runs/{run_id}.json")["Body"].read())
    assert record["state"] == "SUCCEEDED"
    assert {name: entry["state"] for name, entry in record["steps"].items()} == dict.fromkeys(
        [s.name for s in wf.load().steps if s.ready], "SUCCEEDED")
    assert record["renew"]["state"] == "ENABLED"
    # every step sized from the lists combine_data wrote (phase 2), read where the orchestrator mounts them
    # (a row with group = N: one child per N entries, confluence_core.entries)
    sizes = {s.name: 1 if s.fanout == "once" else job_count(len(children(s, lists)), s.group)
             for s in wf.load().steps if s.ready}
    assert {name: entry["size"] for name, entry in record["steps"].items()} == sizes
    assert sizes["input"] > 1 and sizes["output"] > 1


def test_every_command_in_the_docs_is_understood() -> None:
    """Every ``confluence`` line of every bash block parses in the real click tree; every ``aws`` line maps to
    a boto3 call with valid parameters (made in the walkthrough only); every ``bash`` line names a script."""
    from botocore.validate import ParamValidator

    seen: dict[str, int] = {"confluence": 0, "aws": 0, "bash": 0}
    values = dict(PLACEHOLDERS)
    inner = {"vpc-...": ["vpc-0123456789abcdef0"] * 10, "subnet-...": ["subnet-0123456789abcdef0"] * 10}
    for block in docs_blocks():
        for line in command_lines(block):
            text = line.text
            for start, end, inner_command in reversed(substitutions(text)):
                argv = replace_placeholders(words(inner_command), values, inner)
                AwsCli(REPO, REGION, dry=True).plan(argv, line.where)
                seen["aws"] += 1
                text = text[:start] + "arn:aws:iam::123456789012:policy/substituted" + text[end:]
            argv = replace_placeholders(words(text), values, inner)
            if not argv or argv[0] not in KINDS:
                continue  # not a command of ours (the docs' blocks hold none today)
            seen[argv[0]] += 1
            for choice in alternatives(argv):
                if choice[0] == "confluence":
                    try:
                        parse_confluence(choice)
                    except click.UsageError as exc:
                        pytest.fail(f"{line.where}: {' '.join(choice)}: {exc.format_message()}")
                elif choice[0] == "aws":
                    import botocore.session

                    for call in AwsCli(REPO, REGION, dry=True).plan(choice, line.where):
                        model = botocore.session.get_session().get_service_model(call.service)
                        op = next(o for o in model.operation_names if kebab(o).replace("-", "_") == call.method)
                        report = ParamValidator().validate(call.params, model.operation_model(op).input_shape)
                        assert not report.has_errors(), f"{line.where}: {report.generate_report()}"
                else:
                    assert (REPO / choice[1]).is_file(), f"{line.where}: no script {choice[1]}"
    assert min(seen.values()) > 0, seen


@pytest.mark.parametrize(("line", "message"), [
    ("confluence deploy --stak confluence --config deploy.toml", "No such option '--stak'"),
    ("confluence status", "Missing argument 'RUN_ID'"),
    ("confluence renew pause", "No such command 'pause'"),
    ("confluence deploy --stack confluence --config deploy.toml --platform ARM", "Invalid value for '--platform'"),
])
def test_a_renamed_command_or_option_fails_the_parse(line: str, message: str) -> None:
    with pytest.raises(click.UsageError) as err:
        parse_confluence(words(line))
    assert message in err.value.format_message()


@pytest.mark.parametrize(("line", "message"), [
    ("aws s3 sync build s3://my-artifacts", "only the s3 commands mb and cp"),
    ("aws s3api list-buckets extra", "takes no positional"),
    ("aws iam attach-user-policy-now --user-name u", "not an operation of iam"),
    ("aws ssm put-parameter --name /x --value y --kind SecureString", "has no option --kind"),
    ("aws ssm put-parameter --name /x --value y --overwrite yes", "is a flag and takes no value"),
    ("aws cloudformation deploy --template-file infra/confluence.yaml --stack-name c --no-execute-changeset",
     "option --no-execute-changeset is not interpreted"),
    ("aws iam attach-user-policy --user-name u --policy-arn a --output table", "--output table is not interpreted"),
    ("aws lightsail-ish do-thing", "no such service"),
])
def test_an_aws_line_the_translator_does_not_know_fails(line: str, message: str) -> None:
    with pytest.raises(NotUnderstoodError, match=re.escape(message)):
        AwsCli(REPO, REGION, dry=True).plan(words(line), "test")


def test_the_markdown_parser_finds_blocks_joins_lines_and_expands_notation() -> None:
    text = ("# Top\n\n```bash\nconfluence a|b  # c\n# only a comment\naws x y \\\n  --z \"$(aws q r --s 't)' )\"\n"
            "```\n\n## Other\n\n```toml\n[x]\n```\n")
    (block,) = bash_blocks(text)
    assert (block.heading, block.line) == ("Top", 4)
    first, second = command_lines(block)
    assert alternatives(words(first.text)) == [["confluence", "a"], ["confluence", "b"]]
    assert second.where.endswith(":6") and second.text == "aws x y   --z \"$(aws q r --s 't)' )\""
    ((start, end, inner),) = substitutions(second.text)
    assert inner == "aws q r --s 't)' " and second.text[start:end].endswith(")")
    assert replace_placeholders(["A=subnet-...", "subnet-...", "RUN"], {"RUN": "r1"},
                                {"subnet-...": ["s1", "s2"]}) == ["A=s1", "s2", "r1"]
