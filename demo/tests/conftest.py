"""A demo world generated once per test session."""

from __future__ import annotations

import pytest
from confluence_demo import WorldInfo, generate


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> WorldInfo:
    """The default demo world (seed 20240101), generated once; prints its generation time."""
    out = tmp_path_factory.mktemp("demo_world")
    info = generate(out)
    print(f"\ndemo world generated in {info.seconds:.2f} s")
    return info


@pytest.fixture(scope="session")
def truth(world: WorldInfo):
    import netCDF4

    ds = netCDF4.Dataset(world.truth)
    ds.set_auto_mask(False)
    yield ds
    ds.close()
