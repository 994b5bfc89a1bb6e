"""The workflow table against what is installed: entry points, FLPE plug-ins, output contracts, lists."""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from confluence_core import flpe, workflow
from confluence_flpe import registry
from confluence_flpe.interface import is_combiner

REPO = Path(__file__).resolve().parents[1]
TABLE = workflow.packaged()
#: Written by the driver itself (``confluence_core.ids.CONTINENTS``) before the first step, not by a step.
DRIVER_LISTS = {"continent.json"}


@pytest.mark.parametrize("step", [s for s in TABLE.steps if s.ready], ids=lambda s: s.name)
def test_row_command_is_its_package_console_script(step: workflow.Step) -> None:
    """The row's command is installed and comes from the package at the row's path.

    An FLPE plug-in's command is the framework's ``confluence-flpe NAME`` (a dependency of the
    plug-in package): its package declares the entry point NAME in ``confluence.flpe`` instead.
    """
    project = tomllib.loads((REPO / step.path / "pyproject.toml").read_text())["project"]
    assert step.command[0] in {ep.name for ep in entry_points(group="console_scripts")}
    if step.flpe is not None:
        assert step.name in project.get("entry-points", {}).get(registry.GROUP, {}), step.path
    else:
        assert step.command[0] in project.get("scripts", {}), f"{step.path} does not define {step.command[0]}"


@pytest.mark.parametrize("step", TABLE.steps, ids=lambda s: s.name)
def test_outputs_are_in_written_volumes(step: workflow.Step) -> None:
    for out in step.outputs:
        assert out.volume in step.writes, f"{step.name}: output {out} is in a volume the step does not write"


def test_fanout_lists_are_written_before_they_are_read() -> None:
    written: set[str] = set(DRIVER_LISTS)
    for step in TABLE.steps:
        if step.list:
            assert step.list in written, f"{step.name} reads {step.list}, which no earlier row declares"
        written |= {o.pattern for o in step.outputs if o.volume == "input" and "{" not in o.pattern}


def test_flpe_rows_and_installed_plugins_agree() -> None:
    """Every ready FLPE row has a plug-in of its name and role; every plug-in has a row."""
    rows = {s.name: s for s in TABLE.flpe_steps()}
    installed = set(registry.names())
    ready = {name for name, s in rows.items() if s.ready}
    assert ready <= installed, f"rows without a plug-in: {sorted(ready - installed)}"
    assert installed <= set(rows), f"plug-ins without a workflow row: {sorted(installed - set(rows))}"
    for name in installed:
        plugin, step = registry.get(name), rows[name]
        assert plugin.name == name
        assert is_combiner(plugin) == (step.flpe is not None and step.flpe.role == "combiner"), name
        assert step.command[:2] == ("confluence-flpe", name), name
        assert step.fanout in ("reach", "reachset")


def test_flpe_contract_is_derived_from_the_rows() -> None:
    specs = {**flpe.algorithms(), "consensus": flpe.consensus()}
    assert set(specs) == {s.name for s in TABLE.flpe_steps()}
    offline = [s.offline for s in specs.values() if s.offline]
    moi = [s.moi for s in specs.values() if s.moi]
    assert len(offline) == len(set(offline)) and len(moi) == len(set(moi))
    for name, spec in specs.items():
        step = TABLE.step(name)
        assert f"flpe:{spec.folder}/{spec.file.replace('{reach_id}', '{river_id}')}" in map(str, step.outputs)


def test_each_flow_law_row_maps_its_laws_parameters() -> None:
    """An FLPE row that names a flow law maps exactly that law's parameters (MOI and offline need all)."""
    from confluence_flpe import flowlaws

    for step in TABLE.flpe_steps():
        assert step.flpe is not None
        if step.flpe.role == "combiner":
            assert not step.flpe.flowlaw
            continue
        assert step.flpe.flowlaw, f"{step.name} declares no flow law"
        assert set(step.flpe.params) == set(flowlaws.get(step.flpe.flowlaw).params), step.name


def test_volumes_come_from_the_table() -> None:
    from confluence_core.volumes import VOLUMES

    assert tuple(TABLE.volumes) == VOLUMES
    for step in TABLE.steps:
        assert set(step.reads) | set(step.writes) <= set(VOLUMES)
