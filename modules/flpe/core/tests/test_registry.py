"""The plug-in registry finds installed plug-ins through entry points."""

from __future__ import annotations

import pytest
from confluence_core.errors import ConfluenceError
from confluence_flpe import registry
from confluence_flpe.interface import Algorithm, is_combiner


def test_installed_plugins_are_found() -> None:
    names = registry.names()
    if "momma" not in names:
        pytest.skip("confluence-flpe-momma not installed")
    algo = registry.get("momma")
    assert isinstance(algo, Algorithm)
    assert algo.name == "momma" and registry.fanout(algo) == "reach"
    assert all(not is_combiner(a) for a in registry.algorithms())


def test_consensus_is_a_combiner() -> None:
    if "consensus" not in registry.names():
        pytest.skip("confluence-flpe-consensus not installed")
    assert [a.name for a in registry.combiners()] == ["consensus"]
    assert "consensus" not in [a.name for a in registry.algorithms()]


def test_unknown_name_lists_known_ones() -> None:
    with pytest.raises(ConfluenceError) as err:
        registry.get("no-such-algo")
    msg = str(err.value)
    assert "unknown FLPE algorithm 'no-such-algo'" in msg
    for name in registry.names():
        assert name in msg
